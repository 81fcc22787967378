//! v2 persons: add, get, patch, delete, list parameters, and one model shared with v1.

use serde_json::{Value, json};

use crate::helpers::TestApp;

#[tokio::test]
async fn add_returns_200_with_the_v2_shape() {
    let app = TestApp::spawn().await;
    let labels = app
        .labels_of(app.company.id, pipestack::domain::Kind::Person)
        .await;
    let org = app.add_org("Acme").await;
    let r = app
        .post(
            "/api/v2/persons",
            &json!({
                "name": "Will Smith",
                "owner_id": app.admin.id,
                "org_id": org,
                "emails": [{"value": "will@example.com", "primary": true, "label": "work"}, {"value": "w@home.example"}],
                "phones": [{"value": "12345"}],
                "visible_to": 7,
                "label_ids": [labels[0].id],
                "add_time": "2024-07-01T05:46:33Z"
            }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let p = r.data();
    assert_eq!(p["name"], "Will Smith");
    assert_eq!(p["first_name"], "Will");
    assert_eq!(p["last_name"], "Smith");
    assert_eq!(p["owner_id"], app.admin.id);
    assert_eq!(p["org_id"], org);
    assert_eq!(p["add_time"], "2024-07-01T05:46:33Z");
    assert!(p["update_time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        p["emails"][1],
        json!({"value": "w@home.example", "primary": false, "label": "work"})
    );
    assert_eq!(
        p["phones"],
        json!([{"value": "12345", "primary": true, "label": "work"}])
    );
    assert_eq!(p["is_deleted"], false);
    assert_eq!(p["visible_to"], 7);
    assert_eq!(p["label_ids"], json!([labels[0].id]));
    assert_eq!(p["custom_fields"], json!({}));
    for v1_only in [
        "company_id",
        "active_flag",
        "first_char",
        "primary_email",
        "org_name",
        "owner_name",
        "email",
        "phone",
    ] {
        assert!(p.get(v1_only).is_none(), "{v1_only} is not in v2");
    }
    assert!(r.body.get("related_objects").is_none());
    // Writes "accept and return" marketing_status (v2 spec); reads have it on request only.
    assert_eq!(p["marketing_status"], "no_consent");
    let id = p["id"].as_i64().unwrap();
    let got = app.get(&format!("/api/v2/persons/{id}")).await;
    assert!(
        got.data().get("marketing_status").is_none(),
        "opt-in on reads"
    );
}

#[tokio::test]
async fn add_accepts_first_and_last_name_instead_of_name() {
    let app = TestApp::spawn().await;
    let p = app
        .add_person_v2(json!({"first_name": "Ada", "last_name": "Lovelace"}))
        .await;
    assert_eq!(p["name"], "Ada Lovelace");
    let p = app
        .add_person_v2(json!({"first_name": "", "last_name": "Cher"}))
        .await;
    assert_eq!(p["name"], "Cher");
}

#[tokio::test]
async fn add_rejects_bad_bodies_with_the_envelope() {
    let app = TestApp::spawn().await;
    let cases = [
        (json!({}), "Name must be given."),
        (
            json!({"first_name": "", "last_name": ""}),
            "Name must be given.",
        ),
        (json!({"name": null}), "Name must be given."),
        (
            json!({"name": "A", "emails": "a@b.c"}),
            "emails: must be an array of objects",
        ),
        (
            json!({"name": "A", "emails": ["a@b.c"]}),
            "emails[0]: must be an object",
        ),
        (
            json!({"name": "A", "phones": [{"primary": true}]}),
            "phones[0].value: is required",
        ),
        (
            json!({"name": "A", "owner_id": 424242}),
            "owner_id: user 424242 not found",
        ),
        (
            json!({"name": "A", "owner_id": null}),
            "owner_id: must be a positive integer id",
        ),
        (
            json!({"name": "A", "org_id": 424242}),
            "org_id: organization 424242 not found",
        ),
        (json!({"name": "A", "visible_to": 2}), "visible_to"),
        (
            json!({"name": "A", "label_ids": [424242]}),
            "label_ids: label 424242",
        ),
        (
            json!({"name": "A", "add_time": "2024-07-01 05:46:33"}),
            "add_time: must be an RFC 3339 time",
        ),
        (
            json!({"name": "A", "marketing_status": "maybe"}),
            "marketing_status",
        ),
        (
            json!({"name": "A", "custom_fields": []}),
            "custom_fields: must be an object",
        ),
        (
            json!({"name": "A", "custom_fields": {"0123456789abcdef0123456789abcdef01234567": 1}}),
            "no custom person field has this key",
        ),
        (
            json!({"name": "A", "is_deleted": true}),
            "is_deleted (read-only)",
        ),
        (
            json!({"name": "A", "notes": "hi"}),
            "notes (a contact sync field",
        ),
        (
            json!({"name": "A", "email": "a@b.c"}),
            "email (unknown field)",
        ),
    ];
    for (body, needle) in cases {
        app.post("/api/v2/persons", &body)
            .await
            .assert_error(400, needle);
    }
    assert_eq!(app.count_rows("persons").await, 0);
}

#[tokio::test]
async fn get_reads_a_person_with_optional_fields_on_request() {
    let app = TestApp::spawn().await;
    let labels = app
        .labels_of(app.company.id, pipestack::domain::Kind::Person)
        .await;
    let id = app
        .add_person_v2(json!({"name": "A", "emails": [{"value": "a@example.com"}], "marketing_status": "subscribed", "label_ids": [labels[1].id]}))
        .await["id"]
        .as_i64()
        .unwrap();
    let r = app
        .get(&format!("/api/v2/persons/{id}?include_fields=followers_count,marketing_status,open_deals_count,smart_bcc_email&include_labels=true"))
        .await;
    assert_eq!(r.status, 200);
    let p = r.data();
    assert_eq!(p["followers_count"], 1);
    assert_eq!(p["open_deals_count"], 0);
    assert_eq!(p["marketing_status"], "subscribed");
    assert!(
        p["smart_bcc_email"]
            .as_str()
            .unwrap()
            .ends_with("@pipedrivemail.com")
    );
    assert_eq!(
        p["labels"],
        json!([{"id": labels[1].id, "label": labels[1].label}])
    );
    app.get(&format!("/api/v2/persons/{id}?include_fields=shoe_size"))
        .await
        .assert_error(400, "include_fields");
    app.get("/api/v2/persons/424242")
        .await
        .assert_error(404, "Person not found");
    app.get("/api/v2/persons/0").await.assert_error(400, "id");
    app.get("/api/v2/persons/x")
        .await
        .assert_error(404, "Unknown route");
}

#[tokio::test]
async fn patch_leaves_absent_fields_and_null_clears() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Acme").await;
    let labels = app
        .labels_of(app.company.id, pipestack::domain::Kind::Person)
        .await;
    let p = app
        .add_person_v2(json!({"name": "Will Smith", "org_id": org, "emails": [{"value": "w@example.com"}], "phones": [{"value": "1"}], "label_ids": [labels[0].id]}))
        .await;
    let id = p["id"].as_i64().unwrap();
    let r = app
        .patch(
            &format!("/api/v2/persons/{id}"),
            &json!({"org_id": null, "phones": null, "label_ids": null, "last_name": "Jones"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let u = r.data();
    assert_eq!(u["org_id"], Value::Null);
    assert_eq!(u["phones"], json!([]));
    assert_eq!(u["label_ids"], json!([]));
    assert_eq!(u["emails"], p["emails"], "absent fields stay");
    assert_eq!(u["name"], "Will Jones");
    assert_eq!(u["first_name"], "Will");
    assert_eq!(u["add_time"], p["add_time"]);
    app.patch(&format!("/api/v2/persons/{id}"), &json!({"name": null}))
        .await
        .assert_error(400, "Name must be given.");
    app.patch(
        &format!("/api/v2/persons/{id}"),
        &json!({"add_time": "2020-01-01T00:00:00Z"}),
    )
    .await
    .assert_error(400, "add_time: can only be set when the person is added");
    app.patch("/api/v2/persons/424242", &json!({"name": "X"}))
        .await
        .assert_error(404, "Person not found");
}

#[tokio::test]
async fn delete_is_soft_and_readable_with_is_deleted() {
    let app = TestApp::spawn().await;
    let id = app.add_person_v2(json!({"name": "A"})).await["id"]
        .as_i64()
        .unwrap();
    let r = app.delete(&format!("/api/v2/persons/{id}")).await;
    assert_eq!(r.body, json!({"success": true, "data": {"id": id}}));
    let got = app.get(&format!("/api/v2/persons/{id}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.data()["is_deleted"], true);
    assert_eq!(got.data()["update_time"], got.data()["update_time"]);
    assert_eq!(app.get("/api/v2/persons").await.data(), &json!([]));
    app.delete(&format!("/api/v2/persons/{id}"))
        .await
        .assert_error(404, "Person not found");
    app.patch(&format!("/api/v2/persons/{id}"), &json!({"name": "B"}))
        .await
        .assert_error(404, "Person not found");
}

#[tokio::test]
async fn a_person_written_in_one_dialect_reads_the_same_in_the_other() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Acme").await;
    let v1 = app
        .add_person(json!({"name": "Cross Over", "org_id": org, "email": [{"value": "c@example.com", "label": "home"}], "visible_to": "1"}))
        .await;
    let id = v1["id"].as_i64().unwrap();
    let v2 = app.get(&format!("/api/v2/persons/{id}")).await;
    let v2 = v2.data();
    assert_eq!(v2["name"], "Cross Over");
    assert_eq!(v2["org_id"], org);
    assert_eq!(v2["visible_to"], 1);
    assert_eq!(
        v2["emails"],
        json!([{"value": "c@example.com", "primary": true, "label": "home"}])
    );

    // Change it in v2, read it in v1.
    app.patch(
        &format!("/api/v2/persons/{id}"),
        &json!({"emails": [{"value": "new@example.com"}], "visible_to": 3}),
    )
    .await;
    let back = app.get(&format!("/v1/persons/{id}")).await;
    assert_eq!(back.data()["primary_email"], "new@example.com");
    assert_eq!(back.data()["email"][0]["label"], "work");
    assert_eq!(back.data()["visible_to"], "3");

    // Created in v2, changed in v1, read in v2.
    let id2 = app.add_person_v2(json!({"name": "Two Way"})).await["id"]
        .as_i64()
        .unwrap();
    app.put(
        &format!("/v1/persons/{id2}"),
        &json!({"phone": "999", "org_id": org}),
    )
    .await;
    let r = app.get(&format!("/api/v2/persons/{id2}")).await;
    assert_eq!(
        r.data()["phones"],
        json!([{"value": "999", "primary": true, "label": ""}])
    );
    assert_eq!(r.data()["org_id"], org);
    assert_eq!(
        app.get(&format!("/v1/organizations/{org}")).await.data()["people_count"],
        2
    );
}

fn ids(v: &Value) -> Vec<i64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn list_filters_by_ids_owner_org_and_update_time() {
    let app = TestApp::spawn().await;
    let jane = pipestack::setup::add_user(
        app.store.as_ref(),
        app.company.id,
        "Jane",
        "jane@example.com",
    )
    .await
    .unwrap();
    let org = app.add_org("Acme").await;
    let a = app.add_person_v2(json!({"name": "A", "org_id": org})).await["id"]
        .as_i64()
        .unwrap();
    let b = app
        .add_person_v2(json!({"name": "B", "owner_id": jane.id}))
        .await["id"]
        .as_i64()
        .unwrap();
    let c = app.add_person_v2(json!({"name": "C"})).await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        ids(app
            .get(&format!("/api/v2/persons?ids={c},{a},424242"))
            .await
            .data()),
        vec![a, c]
    );
    assert_eq!(
        ids(app
            .get(&format!("/api/v2/persons?owner_id={}", jane.id))
            .await
            .data()),
        vec![b]
    );
    assert_eq!(
        ids(app
            .get(&format!("/api/v2/persons?org_id={org}"))
            .await
            .data()),
        vec![a]
    );
    assert_eq!(
        ids(app
            .get("/api/v2/persons?updated_since=2000-01-01T00:00:00Z")
            .await
            .data())
        .len(),
        3
    );
    assert_eq!(
        ids(app
            .get("/api/v2/persons?updated_until=2000-01-01T00:00:00Z")
            .await
            .data()),
        Vec::<i64>::new()
    );
    assert_eq!(
        ids(app
            .get("/api/v2/persons?updated_since=2999-01-01T00:00:00Z")
            .await
            .data()),
        Vec::<i64>::new()
    );
}

#[tokio::test]
async fn list_sorts_by_id_add_time_and_update_time_in_both_directions() {
    let app = TestApp::spawn().await;
    let a = app
        .add_person_v2(json!({"name": "A", "add_time": "2022-01-01T00:00:00Z"}))
        .await["id"]
        .as_i64()
        .unwrap();
    let b = app
        .add_person_v2(json!({"name": "B", "add_time": "2020-01-01T00:00:00Z"}))
        .await["id"]
        .as_i64()
        .unwrap();
    let c = app
        .add_person_v2(json!({"name": "C", "add_time": "2021-01-01T00:00:00Z"}))
        .await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(ids(app.get("/api/v2/persons").await.data()), vec![a, b, c]);
    assert_eq!(
        ids(app.get("/api/v2/persons?sort_direction=desc").await.data()),
        vec![c, b, a]
    );
    assert_eq!(
        ids(app.get("/api/v2/persons?sort_by=add_time").await.data()),
        vec![b, c, a]
    );
    assert_eq!(
        ids(app
            .get("/api/v2/persons?sort_by=add_time&sort_direction=desc")
            .await
            .data()),
        vec![a, c, b]
    );
    // Paging by cursor follows the same order.
    let r = app.get("/api/v2/persons?sort_by=add_time&limit=2").await;
    assert_eq!(ids(r.data()), vec![b, c]);
    let cursor = r.body["additional_data"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .get(&format!(
            "/api/v2/persons?sort_by=add_time&limit=2&cursor={cursor}"
        ))
        .await;
    assert_eq!(ids(r.data()), vec![a]);
    assert_eq!(r.body["additional_data"]["next_cursor"], Value::Null);
    let r = app
        .get("/api/v2/persons?sort_by=update_time&sort_direction=desc")
        .await;
    assert_eq!(ids(r.data()).len(), 3);
}

#[tokio::test]
async fn list_rejects_bad_parameters() {
    let app = TestApp::spawn().await;
    let cases = [
        ("limit=501", "limit: must be between 1 and 500"),
        ("limit=-3", "limit"),
        (
            "sort_by=name",
            "sort_by: must be one of id, update_time, add_time",
        ),
        ("sort_direction=up", "sort_direction: must be asc or desc"),
        (
            "cursor=garbage!!",
            "cursor: is not a cursor this server issued",
        ),
        ("cursor=eyJhIjoxfQ", "cursor: is not a list cursor"),
        (
            "updated_since=yesterday",
            "updated_since: must be an RFC 3339 time",
        ),
        ("owner_id=abc", "owner_id: must be an integer"),
        ("ids=1,x", "ids"),
        (
            "custom_fields=a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p",
            "custom_fields: at most 15 keys",
        ),
        ("include_fields=secret", "include_fields"),
        ("filter_id=1", "filter_id"),
    ];
    for (query, needle) in cases {
        app.get(&format!("/api/v2/persons?{query}"))
            .await
            .assert_error(400, needle);
    }
    let r = app.get("/api/v2/persons?limit=1").await;
    assert_eq!(r.body["additional_data"]["next_cursor"], Value::Null);
    app.add_person_v2(json!({"name": "A"})).await;
    app.add_person_v2(json!({"name": "B"})).await;
    let r = app.get("/api/v2/persons?limit=1").await;
    let cursor = r.body["additional_data"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    app.get(&format!("/api/v2/persons?cursor={cursor}&sort_by=add_time"))
        .await
        .assert_error(400, "cursor: was issued for another sort_by");
}

#[tokio::test]
async fn v2_marketing_status_is_opt_in_and_hidden_without_campaigns() {
    let app = TestApp::spawn().await;
    let id = app
        .add_person_v2(json!({"name": "A", "emails": [{"value": "a@example.com"}]}))
        .await["id"]
        .as_i64()
        .unwrap();
    let r = app
        .get(&format!(
            "/api/v2/persons/{id}?include_fields=marketing_status"
        ))
        .await;
    assert_eq!(r.data()["marketing_status"], "no_consent");
    let r = app
        .patch(
            &format!("/api/v2/persons/{id}"),
            &json!({"marketing_status": "subscribed"}),
        )
        .await;
    assert_eq!(
        r.data()["marketing_status"],
        "subscribed",
        "a write returns it"
    );
    app.store
        .set_campaigns(app.company.id, false)
        .await
        .unwrap();
    let r = app
        .get(&format!(
            "/api/v2/persons/{id}?include_fields=marketing_status"
        ))
        .await;
    assert!(r.data().get("marketing_status").is_none());
    app.patch(
        &format!("/api/v2/persons/{id}"),
        &json!({"marketing_status": "subscribed"}),
    )
    .await
    .assert_error(400, "Campaigns product is not enabled");
    let p = app.add_person_v2(json!({"name": "B"})).await;
    assert!(
        p.get("marketing_status").is_none(),
        "no Campaigns, no status"
    );
}

#[tokio::test]
async fn another_companys_persons_are_invisible_in_v2() {
    let app = TestApp::spawn().await;
    let (_, other) = app.other_company("Other").await;
    let id = app.add_person_v2(json!({"name": "Mine Only"})).await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v2/persons/{id}");
    app.get_as(&other.api_token, &path)
        .await
        .assert_error(404, "Person not found");
    let r = app.get_as(&other.api_token, "/api/v2/persons").await;
    assert_eq!(r.data(), &json!([]));
    let r = app
        .get_as(&other.api_token, &format!("/api/v2/persons?ids={id}"))
        .await;
    assert_eq!(r.data(), &json!([]));
    let r = app
        .get_as(&other.api_token, "/api/v2/persons/search?term=Mine")
        .await;
    assert_eq!(r.data()["items"], json!([]));
    let r = app
        .call(
            reqwest::Method::PATCH,
            &path,
            Some(&other.api_token),
            Some(&json!({"name": "Hacked"})),
        )
        .await;
    r.assert_error(404, "Person not found");
    let r = app
        .call(reqwest::Method::DELETE, &path, Some(&other.api_token), None)
        .await;
    r.assert_error(404, "Person not found");
    assert_eq!(app.get(&path).await.data()["name"], "Mine Only");
}

/// An update with nothing in it changes nothing, not even `update_time`, in both dialects.
#[tokio::test]
async fn an_empty_update_writes_nothing() {
    let app = TestApp::spawn().await;
    let p = app
        .add_person_v2(json!({"name": "Still", "add_time": "2001-01-01T00:00:00Z"}))
        .await;
    let id = p["id"].as_i64().unwrap();
    let before = app
        .get(&format!("/api/v2/persons/{id}"))
        .await
        .data()
        .clone();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = app
        .patch(&format!("/api/v2/persons/{id}"), &json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["update_time"], before["update_time"]);
    let r = app.put(&format!("/v1/persons/{id}"), &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        app.get(&format!("/api/v2/persons/{id}")).await.data(),
        &before
    );
    // A deleted person is still a 404, empty body or not.
    app.delete(&format!("/api/v2/persons/{id}")).await;
    app.patch(&format!("/api/v2/persons/{id}"), &json!({}))
        .await
        .assert_error(404, "Person not found");
}

/// `null` clears a first or last name (the name is rebuilt from what is left); a missing part
/// reads `null` however the person was made; `name: null` is refused as on create.
#[tokio::test]
async fn null_clears_a_name_part_and_missing_parts_are_null() {
    let app = TestApp::spawn().await;
    let p = app.add_person_v2(json!({"first_name": "Jack"})).await;
    assert_eq!(
        (&p["name"], &p["last_name"]),
        (&json!("Jack"), &Value::Null)
    );
    let p = app.add_person_v2(json!({"last_name": "Smith"})).await;
    assert_eq!(p["first_name"], Value::Null);
    let p = app
        .add_person_v2(json!({"first_name": "Jack", "last_name": "Smith"}))
        .await;
    let id = p["id"].as_i64().unwrap();
    let r = app
        .patch(
            &format!("/api/v2/persons/{id}"),
            &json!({"last_name": null}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["name"], "Jack");
    assert_eq!(r.data()["last_name"], Value::Null);
    app.put(&format!("/v1/persons/{id}"), &json!({"name": null}))
        .await
        .assert_error(400, "Name must be given.");
    app.patch(
        &format!("/api/v2/persons/{id}"),
        &json!({"first_name": null, "last_name": null}),
    )
    .await
    .assert_error(400, "Name must be given.");
    assert_eq!(
        app.get(&format!("/api/v2/persons/{id}")).await.data()["name"],
        "Jack"
    );
}

/// SDKs send `null` for every unset key: a name with null parts is split as usual (the parts
/// are not wiped), and v1's `name: null` beside a first name builds the name from the parts.
#[tokio::test]
async fn null_parts_beside_a_name_keep_the_split() {
    let app = TestApp::spawn().await;
    let p = app
        .add_person_v2(json!({"name": "John Smith", "first_name": null, "last_name": null}))
        .await;
    assert_eq!(
        (&p["first_name"], &p["last_name"]),
        (&json!("John"), &json!("Smith"))
    );
    let id = p["id"].as_i64().unwrap();
    let r = app
        .patch(
            &format!("/api/v2/persons/{id}"),
            &json!({"last_name": "Doe"}),
        )
        .await;
    assert_eq!(r.data()["name"], "John Doe");
    let r = app
        .post(
            "/v1/persons",
            &json!({"name": null, "first_name": "Ann", "last_name": "Lee"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.data()["name"], "Ann Lee");
}

/// Sending back what a person already holds writes nothing: `update_time` stays, and a
/// custom value naming a since-deactivated user is not checked again.
#[tokio::test]
async fn sending_a_person_back_unchanged_writes_nothing() {
    let app = TestApp::spawn().await;
    let user_field = app
        .post(
            "/api/v2/personFields",
            &json!({"field_name": "Buddy", "field_type": "user"}),
        )
        .await;
    let k = user_field.data()["field_code"].as_str().unwrap().to_owned();
    let bob = app.add_user("Bob").await;
    let p = app
        .add_person_v2(
            json!({"name": "Same", "visible_to": 3, "custom_fields": {&k: bob.id},
                              "add_time": "2001-01-01T00:00:00Z"}),
        )
        .await;
    let id = p["id"].as_i64().unwrap();
    assert!(app.store.set_user_active(bob.id, false).await.unwrap());
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = app
        .patch(
            &format!("/api/v2/persons/{id}"),
            &json!({"name": "Same", "visible_to": 3, "custom_fields": {&k: bob.id}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["update_time"], p["update_time"]);
    // A real change still writes.
    let r = app
        .patch(&format!("/api/v2/persons/{id}"), &json!({"visible_to": 7}))
        .await;
    assert_ne!(r.data()["update_time"], p["update_time"]);
}
