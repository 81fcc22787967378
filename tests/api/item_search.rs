//! `itemSearch` (v1, v2), `itemSearch/field` and v1's organization search: one ranking over
//! persons, organizations and deals, with visibility and company scope.

use serde_json::{Value, json};

use crate::helpers::TestApp;

/// `(type, id)` of each item, in order.
fn found(r: &Value) -> Vec<(String, i64)> {
    r["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {r}"))
        .iter()
        .map(|i| {
            (
                i["item"]["type"].as_str().unwrap().to_owned(),
                i["item"]["id"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn pair(t: &str, id: i64) -> (String, i64) {
    (t.to_owned(), id)
}

async fn world(app: &TestApp) -> (i64, i64, i64) {
    let org = app.add_org("Harbor Logistics").await;
    let person = app
        .add_person(json!({"name": "Harbor Smith", "email": "hs@x.io", "org_id": org}))
        .await["id"]
        .as_i64()
        .unwrap();
    let deal = app
        .post(
            "/api/v2/deals",
            &json!({"title": "Harbor", "person_id": person, "org_id": org}),
        )
        .await;
    assert_eq!(deal.status, 200, "{}", deal.body);
    (org, person, deal.data()["id"].as_i64().unwrap())
}

#[tokio::test]
async fn item_search_ranks_persons_organizations_and_deals_together() {
    let app = TestApp::spawn().await;
    let (org, person, deal) = world(&app).await;
    app.add_person(json!({"name": "Unrelated"})).await;
    let r = app.get("/api/v2/itemSearch?term=harbor").await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The deal's title is the term itself (1.0); the others begin with it (0.8).
    assert_eq!(
        found(r.data()),
        [
            pair("deal", deal),
            pair("organization", org),
            pair("person", person)
        ]
    );
    let items = r.data()["items"].as_array().unwrap();
    assert_eq!(items[0]["result_score"], 1.0);
    assert_eq!(items[0]["item"]["stage"]["name"], "Qualified");
    assert_eq!(items[0]["item"]["person"]["name"], "Harbor Smith");
    assert_eq!(items[2]["item"]["organization"]["name"], "Harbor Logistics");
    assert_eq!(r.body["additional_data"]["next_cursor"], Value::Null);

    // item_types and fields narrow it.
    let r = app
        .get("/api/v2/itemSearch?term=harbor&item_types=person,organization")
        .await;
    assert_eq!(
        found(r.data()),
        [pair("organization", org), pair("person", person)]
    );
    let r = app
        .get("/api/v2/itemSearch?term=hs@x.io&fields=email")
        .await;
    assert_eq!(found(r.data()), [pair("person", person)]);
    let r = app.get("/api/v2/itemSearch?term=harbor&fields=title").await;
    assert_eq!(found(r.data()), [pair("deal", deal)]);
    // Types pipestack does not have are accepted and find nothing.
    let r = app
        .get("/api/v2/itemSearch?term=harbor&item_types=product")
        .await;
    assert_eq!(found(r.data()), []);
    // exact_match
    let r = app
        .get("/api/v2/itemSearch?term=HARBOR&exact_match=true")
        .await;
    assert_eq!(found(r.data()), [pair("deal", deal)]);

    // Paging: one at a time by cursor, the same order.
    let mut seen = Vec::new();
    let mut url = "/api/v2/itemSearch?term=harbor&limit=1".to_owned();
    loop {
        let r = app.get(&url).await;
        assert_eq!(r.status, 200, "{}", r.body);
        seen.extend(found(r.data()));
        match r.body["additional_data"]["next_cursor"].as_str() {
            Some(c) => url = format!("/api/v2/itemSearch?term=harbor&limit=1&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0], pair("deal", deal));

    // v1: the same items, paged by start/limit.
    let r = app.get("/v1/itemSearch?term=harbor&start=1&limit=1").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(found(r.data()), [pair("organization", org)]);
    let p = &r.body["additional_data"]["pagination"];
    assert_eq!(p["more_items_in_collection"], true);
    assert_eq!(p["next_start"], 2);
}

#[tokio::test]
async fn related_items_are_the_deals_and_persons_of_what_was_found() {
    let app = TestApp::spawn().await;
    let (org, person, deal) = world(&app).await;
    let r = app
        .get("/api/v2/itemSearch?term=logistics&search_for_related_items=true")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(found(r.data()), [pair("organization", org)]);
    let related: Vec<(String, i64)> = r.data()["related_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["item"]["type"].as_str().unwrap().to_owned(),
                i["item"]["id"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(related, [pair("deal", deal), pair("person", person)]);
    let plain = app.get("/api/v2/itemSearch?term=logistics").await;
    assert!(plain.data().get("related_items").is_none());
}

#[tokio::test]
async fn bad_item_search_parameters_are_400s_naming_them() {
    let app = TestApp::spawn().await;
    for (url, needle) in [
        ("/api/v2/itemSearch", "term"),
        ("/api/v2/itemSearch?term=a", "term"),
        ("/api/v2/itemSearch?term=ab&item_types=planet", "item_types"),
        ("/api/v2/itemSearch?term=ab&fields=colour", "fields"),
        ("/api/v2/itemSearch?term=ab&limit=101", "limit"),
        ("/api/v2/itemSearch?term=ab&cursor=nope", "cursor"),
        (
            "/api/v2/itemSearch?term=ab&include_fields=x.y",
            "include_fields",
        ),
        (
            "/api/v2/itemSearch?term=ab&exact_match=maybe",
            "exact_match",
        ),
        ("/v1/itemSearch?term=ab&start=-1", "start"),
        ("/v1/organizations/search?term=ab&fields=email", "fields"),
        (
            "/api/v2/itemSearch/field?term=ab&entity_type=person",
            "field",
        ),
        ("/api/v2/itemSearch/field?term=ab&field=name", "entity_type"),
        (
            "/api/v2/itemSearch/field?term=ab&field=name&entity_type=ship",
            "entity_type",
        ),
        (
            "/api/v2/itemSearch/field?term=ab&field=owner_id&entity_type=person",
            "not searchable",
        ),
        (
            "/api/v2/itemSearch/field?term=ab&field=nope&entity_type=deal",
            "field_key",
        ),
        (
            "/api/v2/itemSearch/field?term=ab&field=name&entity_type=person&match=fuzzy",
            "match",
        ),
        ("/v1/itemSearch/field?term=ab&field_key=name", "field_type"),
    ] {
        let r = app.get(url).await;
        r.assert_error(400, needle);
    }
}

#[tokio::test]
async fn field_search_matches_case_sensitively_by_exact_beginning_or_middle() {
    let app = TestApp::spawn().await;
    let f = app
        .post(
            "/api/v2/personFields",
            &json!({"field_name": "Nickname", "field_type": "varchar"}),
        )
        .await;
    let code = f.data()["field_code"].as_str().unwrap().to_owned();
    let a = app
        .add_person_v2(json!({"name": "Jane Doe", "custom_fields": {code.clone(): "Janie"}}))
        .await["id"]
        .as_i64()
        .unwrap();
    let b = app.add_person_v2(json!({"name": "John Doe"})).await["id"]
        .as_i64()
        .unwrap();
    let ids = |r: &Value| -> Vec<i64> {
        r.as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_i64().unwrap())
            .collect()
    };
    let base = "/api/v2/itemSearch/field?entity_type=person&field=name";
    let r = app.get(&format!("{base}&term=Jane Doe")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data(), &json!([{"id": a, "name": "Jane Doe"}]));
    assert_eq!(
        ids(app.get(&format!("{base}&term=jane doe")).await.data()),
        Vec::<i64>::new()
    );
    assert_eq!(
        ids(app
            .get(&format!("{base}&term=Ja&match=beginning"))
            .await
            .data()),
        [a]
    );
    assert_eq!(
        ids(app
            .get(&format!("{base}&term=Doe&match=middle"))
            .await
            .data()),
        [a, b]
    );
    assert_eq!(
        ids(app
            .get(&format!("{base}&term=Doe&match=beginning"))
            .await
            .data()),
        Vec::<i64>::new()
    );
    let custom = format!(
        "/api/v2/itemSearch/field?entity_type=person&field={code}&term=Jan&match=beginning"
    );
    assert_eq!(
        app.get(&custom).await.data(),
        &json!([{"id": a, code.clone(): "Janie"}])
    );
    // v1: distinct values, or the items with return_item_ids.
    let v1 = "/v1/itemSearch/field?field_type=personField&field_key=name&term=Doe";
    let r = app.get(v1).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.data(),
        &json!([{"name": "Jane Doe"}, {"name": "John Doe"}])
    );
    let r = app.get(&format!("{v1}&return_item_ids=true&limit=1")).await;
    assert_eq!(r.data(), &json!([{"id": a, "name": "Jane Doe"}]));
    assert_eq!(
        r.body["additional_data"]["pagination"]["more_items_in_collection"],
        true
    );
}

#[tokio::test]
async fn item_search_never_shows_what_the_user_may_not_see_or_another_company_has() {
    let app = TestApp::spawn().await;
    world(&app).await;
    app.add_person(json!({"name": "Harbor Private", "visible_to": "1"}))
        .await;
    app.post(
        "/api/v2/deals",
        &json!({"title": "Harbor private deal", "visible_to": 1}),
    )
    .await;
    let user = app.add_user("Plain").await;
    let r = app
        .get_as(&user.api_token, "/api/v2/itemSearch?term=harbor")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let text = r.body.to_string();
    assert!(
        !text.contains("Private") && !text.contains("private deal"),
        "{text}"
    );
    assert_eq!(found(r.data()).len(), 3);
    let field = app
        .get_as(
            &user.api_token,
            "/api/v2/itemSearch/field?entity_type=person&field=name&term=Harbor&match=beginning",
        )
        .await;
    assert_eq!(field.data().as_array().unwrap().len(), 1, "{}", field.body);
    let (_, stranger) = app.other_company("Elsewhere").await;
    for url in [
        "/api/v2/itemSearch?term=harbor",
        "/v1/itemSearch?term=harbor",
        "/v1/organizations/search?term=harbor",
    ] {
        let r = app.get_as(&stranger.api_token, url).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(found(r.data()), [], "{url}");
    }
}

#[tokio::test]
async fn v1_organization_search_finds_organizations_only() {
    let app = TestApp::spawn().await;
    let (org, _, _) = world(&app).await;
    let r = app.get("/v1/organizations/search?term=harbor").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(found(r.data()), [pair("organization", org)]);
    assert_eq!(r.data()["items"][0]["item"]["name"], "Harbor Logistics");
    let r = app
        .get("/v1/organizations/search?term=harbor&fields=address")
        .await;
    assert_eq!(found(r.data()), []);
}
