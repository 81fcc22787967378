//! Search in both dialects: term rules, fields, exact match, ranking, organization filter,
//! paging.

use serde_json::{Value, json};

use crate::helpers::TestApp;

fn item_ids(r: &Value) -> Vec<i64> {
    r["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["item"]["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn search_ranks_exact_over_prefix_over_substring() {
    let app = TestApp::spawn().await;
    let sub = app.add_person(json!({"name": "Johnny Wills"})).await["id"]
        .as_i64()
        .unwrap();
    let exact = app.add_person(json!({"name": "Will"})).await["id"]
        .as_i64()
        .unwrap();
    let prefix = app.add_person(json!({"name": "William Smith"})).await["id"]
        .as_i64()
        .unwrap();
    app.add_person(json!({"name": "Nobody"})).await;
    let r = app.get("/api/v2/persons/search?term=will").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(item_ids(&r.body), vec![exact, prefix, sub]);
    let scores: Vec<f64> = r.data()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["result_score"].as_f64().unwrap())
        .collect();
    assert!(scores[0] > scores[1] && scores[1] > scores[2], "{scores:?}");
}

#[tokio::test]
async fn search_items_have_pipedrives_shape() {
    let app = TestApp::spawn().await;
    let org = app
        .post(
            "/v1/organizations",
            &json!({"name": "Acme", "address": "Main St 1"}),
        )
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    let id = app
        .add_person(json!({"name": "Jane Doe", "org_id": org, "email": "jane@pipedrive.com", "phone": "+372 555555555"}))
        .await["id"]
        .as_i64()
        .unwrap();
    let r = app.get("/api/v2/persons/search?term=jane").await;
    assert_eq!(
        r.data()["items"][0],
        json!({"result_score": 0.8, "item": {
            "id": id, "type": "person", "name": "Jane Doe",
            "phones": ["+372 555555555"], "emails": ["jane@pipedrive.com"],
            "visible_to": 3, "owner": {"id": app.admin.id},
            "organization": {"id": org, "name": "Acme", "address": "Main St 1"},
            "custom_fields": [], "notes": []
        }})
    );
    let r = app
        .get("/api/v2/persons/search?term=doe&include_fields=person.picture")
        .await;
    assert_eq!(r.data()["items"][0]["item"]["picture"], Value::Null);
}

#[tokio::test]
async fn exact_match_is_whole_value_and_case_insensitive_unlike_substring() {
    let app = TestApp::spawn().await;
    let exact = app
        .add_person(json!({"name": "A", "email": "john@example.com"}))
        .await["id"]
        .as_i64()
        .unwrap();
    app.add_person(json!({"name": "B", "email": "big.john@example.com.au"}))
        .await;
    let r = app
        .get("/api/v2/persons/search?term=JOHN@example.com&fields=email&exact_match=true")
        .await;
    assert_eq!(
        item_ids(&r.body),
        vec![exact],
        "client-nodejs#108: no partial matches"
    );
    let r = app
        .get("/api/v2/persons/search?term=john@example.com&fields=email")
        .await;
    assert_eq!(item_ids(&r.body).len(), 2);
    let r = app
        .get("/api/v2/persons/search?term=a&exact_match=true&fields=name")
        .await;
    assert_eq!(
        item_ids(&r.body),
        vec![exact],
        "one character is enough with exact_match"
    );
}

#[tokio::test]
async fn fields_limit_where_the_term_is_looked_for() {
    let app = TestApp::spawn().await;
    let by_name = app.add_person(json!({"name": "Anna Phone"})).await["id"]
        .as_i64()
        .unwrap();
    let by_phone = app
        .add_person(json!({"name": "Zed", "phone": "+1 (555) 010-9999"}))
        .await["id"]
        .as_i64()
        .unwrap();
    let by_email = app
        .add_person(json!({"name": "Yan", "email": "anna@example.com"}))
        .await["id"]
        .as_i64()
        .unwrap();
    let r = app
        .get("/api/v2/persons/search?term=anna&fields=name")
        .await;
    assert_eq!(item_ids(&r.body), vec![by_name]);
    let r = app
        .get("/api/v2/persons/search?term=anna&fields=email")
        .await;
    assert_eq!(item_ids(&r.body), vec![by_email]);
    let r = app
        .get("/api/v2/persons/search?term=5550109999&fields=phone")
        .await;
    assert_eq!(item_ids(&r.body), vec![by_phone], "phones match on digits");
    let r = app
        .get("/api/v2/persons/search?term=anna&fields=name,email")
        .await;
    assert_eq!(item_ids(&r.body).len(), 2);
    let r = app
        .get("/api/v2/persons/search?term=work&fields=email")
        .await;
    assert_eq!(
        item_ids(&r.body),
        Vec::<i64>::new(),
        "labels are not searched"
    );
}

#[tokio::test]
async fn search_filters_by_organization_and_skips_deleted_persons() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Acme").await;
    let inside = app
        .add_person(json!({"name": "Sam In", "org_id": org}))
        .await["id"]
        .as_i64()
        .unwrap();
    app.add_person(json!({"name": "Sam Out"})).await;
    let deleted = app
        .add_person(json!({"name": "Sam Gone", "org_id": org}))
        .await["id"]
        .as_i64()
        .unwrap();
    app.delete(&format!("/v1/persons/{deleted}")).await;
    let r = app
        .get(&format!(
            "/api/v2/persons/search?term=sam&organization_id={org}"
        ))
        .await;
    assert_eq!(item_ids(&r.body), vec![inside]);
}

#[tokio::test]
async fn search_rejects_bad_terms_and_parameters() {
    let app = TestApp::spawn().await;
    app.get("/api/v2/persons/search")
        .await
        .assert_error(400, "term: is required");
    // v1 answers a missing term in the shape Pipedrive's v1 search has (API-NOTES §4): `error`
    // is an object naming the failed field.
    let blank = app.get("/v1/persons/search?term=%20").await;
    assert_eq!(blank.body["error"]["failed_fields"], json!(["term"]));
    let r = app.get("/v1/persons/search").await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body["error"],
        json!({"message": "ServerError [ERR_INVALID_INPUT]: Invalid input: \"term\" is required",
               "code": 400, "failed_fields": ["term"]})
    );
    assert_eq!(
        (&r.body["success"], &r.body["data"]),
        (&json!(false), &Value::Null)
    );
    for base in ["/api/v2/persons/search", "/v1/persons/search"] {
        app.get(&format!("{base}?term=a"))
            .await
            .assert_error(400, "term: must be at least 2 characters");
        app.get(&format!("{base}?term=ab&fields=address"))
            .await
            .assert_error(400, "fields");
        app.get(&format!("{base}?term=ab&exact_match=perhaps"))
            .await
            .assert_error(400, "exact_match");
        app.get(&format!("{base}?term=ab&limit=501"))
            .await
            .assert_error(400, "limit");
        app.get(&format!("{base}?term=ab&organization_id=x"))
            .await
            .assert_error(400, "organization_id");
    }
    app.get("/api/v2/persons/search?term=ab&cursor=zzz")
        .await
        .assert_error(400, "cursor");
}

#[tokio::test]
async fn search_pages_by_cursor_in_v2_and_by_start_in_v1() {
    let app = TestApp::spawn().await;
    for i in 0..5 {
        app.add_person(json!({"name": format!("Page Person {i}")}))
            .await;
    }
    let mut seen = Vec::new();
    let mut url = "/api/v2/persons/search?term=page&limit=2".to_owned();
    loop {
        let r = app.get(&url).await;
        seen.extend(item_ids(&r.body));
        match r.body["additional_data"]["next_cursor"].as_str() {
            Some(c) => url = format!("/api/v2/persons/search?term=page&limit=2&cursor={c}"),
            None => break,
        }
    }
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 5);

    let r = app
        .get("/v1/persons/search?term=page&start=4&limit=2")
        .await;
    assert_eq!(item_ids(&r.body).len(), 1);
    assert_eq!(
        r.body["additional_data"]["pagination"],
        json!({"start": 4, "limit": 2, "more_items_in_collection": false})
    );
    let r = app.get("/v1/persons/search?term=page&limit=2").await;
    assert_eq!(r.body["additional_data"]["pagination"]["next_start"], 2);
    assert_eq!(
        r.data()["items"][0]["item"]["visible_to"],
        3,
        "an integer in v1 too"
    );
}

#[tokio::test]
async fn search_follows_changes_of_name_email_and_custom_values() {
    let app = TestApp::spawn().await;
    let id = app
        .add_person(json!({"name": "Oldname Person", "email": "old.address@example.com"}))
        .await["id"]
        .as_i64()
        .unwrap();
    app.put(
        &format!("/v1/persons/{id}"),
        &json!({"name": "Newname Person", "email": "new.address@example.com"}),
    )
    .await;
    for (term, hits) in [
        ("oldname", 0),
        ("old.address", 0),
        ("newname", 1),
        ("new.address", 1),
    ] {
        let r = app
            .get(&format!("/api/v2/persons/search?term={term}"))
            .await;
        assert_eq!(item_ids(&r.body).len(), hits, "{term}");
    }
    let merged_into = app.add_person(json!({"name": "Keeper"})).await["id"]
        .as_i64()
        .unwrap();
    app.put(
        &format!("/v1/persons/{id}/merge"),
        &json!({"merge_with_id": merged_into}),
    )
    .await;
    let r = app.get("/api/v2/persons/search?term=new.address").await;
    assert_eq!(
        item_ids(&r.body),
        vec![merged_into],
        "merged emails are found on the kept person"
    );
}

/// v2 cursors name the last item returned, not an offset: deleting an item of an earlier page
/// between two requests skips nothing, and a better match added meanwhile repeats nothing
/// (persons search, organization search, followers, person fields).
#[tokio::test]
async fn v2_cursors_neither_skip_nor_repeat_when_items_change_between_pages() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let p = app
            .add_person(json!({"name": format!("Cursor Person {i}")}))
            .await;
        ids.push(p["id"].as_i64().unwrap());
    }
    let r = app
        .get("/api/v2/persons/search?term=cursor%20person&limit=2")
        .await;
    assert_eq!(item_ids(&r.body), ids[..2]);
    let c = r.body["additional_data"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    // The first hit goes, and an exact (better ranked) match arrives.
    app.delete(&format!("/api/v2/persons/{}", ids[0])).await;
    app.add_person(json!({"name": "Cursor Person"})).await;
    let r = app
        .get(&format!(
            "/api/v2/persons/search?term=cursor%20person&limit=2&cursor={c}"
        ))
        .await;
    assert_eq!(item_ids(&r.body), ids[2..4], "{}", r.body);

    // Organization search.
    let mut orgs = Vec::new();
    for i in 0..3 {
        let o = app
            .post(
                "/api/v2/organizations",
                &json!({"name": format!("Cursor Org {i}")}),
            )
            .await;
        orgs.push(o.data()["id"].as_i64().unwrap());
    }
    let r = app
        .get("/api/v2/organizations/search?term=cursor%20org&limit=1")
        .await;
    assert_eq!(item_ids(&r.body), [orgs[0]]);
    let c = r.body["additional_data"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    app.delete(&format!("/api/v2/organizations/{}", orgs[0]))
        .await;
    let r = app
        .get(&format!(
            "/api/v2/organizations/search?term=cursor%20org&limit=1&cursor={c}"
        ))
        .await;
    assert_eq!(item_ids(&r.body), [orgs[1]]);

    // Followers: the first follower leaves between pages.
    let p = ids[1];
    let mut users = vec![app.admin.id];
    for name in ["Ann", "Ben"] {
        let u = app.add_user(name).await;
        app.post(
            &format!("/api/v2/persons/{p}/followers"),
            &json!({"user_id": u.id}),
        )
        .await;
        users.push(u.id);
    }
    let r = app
        .get(&format!("/api/v2/persons/{p}/followers?limit=1"))
        .await;
    assert_eq!(r.data()[0]["user_id"], users[0]);
    let c = r.body["additional_data"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    app.delete(&format!("/api/v2/persons/{p}/followers/{}", users[0]))
        .await;
    let r = app
        .get(&format!("/api/v2/persons/{p}/followers?limit=1&cursor={c}"))
        .await;
    assert_eq!(r.data()[0]["user_id"], users[1], "{}", r.body);

    // Person fields: the last field of the first page is deleted between pages.
    let all = app.get("/api/v2/personFields?limit=500").await;
    let total = all.data().as_array().unwrap().len();
    for name in ["CF A", "CF B"] {
        app.post(
            "/api/v2/personFields",
            &json!({"field_name": name, "field_type": "varchar"}),
        )
        .await;
    }
    let r = app
        .get(&format!("/api/v2/personFields?limit={}", total + 1))
        .await;
    let page = r.data().as_array().unwrap().clone();
    assert_eq!(page.last().unwrap()["field_name"], "CF A");
    let c = r.body["additional_data"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let code = page.last().unwrap()["field_code"]
        .as_str()
        .unwrap()
        .to_owned();
    app.delete(&format!("/api/v2/personFields/{code}")).await;
    let r = app
        .get(&format!("/api/v2/personFields?limit=5&cursor={c}"))
        .await;
    assert_eq!(r.data()[0]["field_name"], "CF B", "{}", r.body);
    // Someone else's cursor shape is a 400, and so is another list's cursor.
    app.get("/api/v2/personFields?cursor=eyJvZmZzZXQiOjJ9")
        .await
        .assert_error(400, "cursor");
    app.get(&format!(
        "/api/v2/persons/search?term=cursor%20person&cursor={c}"
    ))
    .await
    .assert_error(400, "is not a search cursor");
}
