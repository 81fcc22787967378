//! `POST /v1/persons`: the seed's request and every input form it documents.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// The seed document's response, whose every key a created person must carry.
const SEED_RESPONSE: &str = include_str!("seed_response.json");

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_i64() => "int",
        Value::Number(_) => "float",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[tokio::test]
async fn the_seed_request_with_real_ids_returns_201_and_every_key_of_the_seed_response() {
    let app = TestApp::spawn().await;
    let org_id = app.add_org("Org Name").await;
    let labels = app
        .labels_of(app.company.id, pipestack::domain::Kind::Person)
        .await;
    let (l1, l2) = (labels[0].id, labels[1].id);
    let owner = app.admin.id;

    let r = app
        .post(
            "/v1/persons",
            &json!({
                "name": "Will Smith",
                "owner_id": owner,
                "org_id": org_id,
                "email": [
                    {"value": "12345@email.com", "primary": true, "label": "work"},
                    {"value": "will@home.example", "primary": false, "label": "home"}
                ],
                "phone": [
                    {"value": "12345", "primary": true, "label": "work"},
                    {"value": "67890", "primary": false, "label": "mobile"}
                ],
                "label_ids": [l1, l2],
                "visible_to": "3",
                "marketing_status": "subscribed",
                "add_time": "2017-10-18 13:23:07"
            }),
        )
        .await;

    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let seed: Value = serde_json::from_str(SEED_RESPONSE).unwrap();
    assert_eq!(r.body["success"], true);
    let data = r.data();
    // Every key of the seed's data, with the seed's JSON type. `picture_id` is null: pipestack
    // stores no pictures, and Pipedrive itself returns null for a person without one.
    for (key, seed_value) in seed["data"].as_object().unwrap() {
        let ours = data.get(key).unwrap_or_else(|| panic!("missing key {key}"));
        let nullable_here = [
            "picture_id",
            "next_activity_date",
            "next_activity_time",
            "next_activity_id",
            "last_activity_id",
            "last_activity_date",
            "last_incoming_mail_time",
            "last_outgoing_mail_time",
        ];
        if nullable_here.contains(&key.as_str()) {
            assert!(ours.is_null(), "{key} should be null, got {ours}");
        } else {
            assert_eq!(
                json_type(ours),
                json_type(seed_value),
                "type of {key}: {ours}"
            );
        }
    }
    for (key, seed_value) in seed["data"]["owner_id"].as_object().unwrap() {
        let ours = &data["owner_id"][key];
        if key != "pic_hash" {
            assert_eq!(json_type(ours), json_type(seed_value), "owner_id.{key}");
        }
    }
    for key in seed["data"]["org_id"].as_object().unwrap().keys() {
        assert!(data["org_id"].get(key).is_some(), "org_id.{key}");
    }

    // Derived values.
    let id = data["id"].as_i64().unwrap();
    assert!(id > 0);
    assert_eq!(data["company_id"], app.company.id);
    assert_eq!(data["owner_id"]["id"], owner);
    assert_eq!(data["owner_id"]["value"], owner);
    assert_eq!(data["owner_id"]["name"], app.admin.name);
    assert_eq!(data["owner_id"]["email"], app.admin.email);
    assert_eq!(data["owner_id"]["active_flag"], true);
    assert_eq!(data["org_id"]["value"], org_id);
    assert_eq!(data["org_id"]["name"], "Org Name");
    assert_eq!(data["org_id"]["people_count"], 1);
    assert_eq!(data["org_id"]["owner_id"], owner);
    assert_eq!(data["org_id"]["active_flag"], true);
    assert_eq!(data["name"], "Will Smith");
    assert_eq!(data["first_name"], "Will");
    assert_eq!(data["last_name"], "Smith");
    assert_eq!(data["followers_count"], 1, "the owner follows a new person");
    for key in [
        "open_deals_count",
        "activities_count",
        "notes_count",
        "files_count",
    ] {
        assert_eq!(data[key], 0, "{key}");
    }
    assert_eq!(data["active_flag"], true);
    assert_eq!(
        data["email"][0],
        json!({"value": "12345@email.com", "primary": true, "label": "work"})
    );
    assert_eq!(data["email"][1]["label"], "home");
    assert_eq!(
        data["phone"][1],
        json!({"value": "67890", "primary": false, "label": "mobile"})
    );
    assert_eq!(data["primary_email"], "12345@email.com");
    assert_eq!(data["first_char"], "w");
    assert_eq!(data["add_time"], "2017-10-18 13:23:07");
    let update_time = data["update_time"].as_str().unwrap();
    assert_eq!(update_time.len(), 19);
    assert!(
        update_time > "2026-01-01 00:00:00",
        "update_time is now: {update_time}"
    );
    assert_eq!(data["visible_to"], "3");
    assert_eq!(data["marketing_status"], "subscribed");
    assert_eq!(data["label"], l1);
    assert_eq!(data["label_ids"], json!([l1, l2]));
    assert_eq!(data["org_name"], "Org Name");
    assert_eq!(data["owner_name"], app.admin.name);
    let cc = data["cc_email"].as_str().unwrap();
    assert!(cc.ends_with("@pipedrivemail.com") && cc.starts_with(&app.company.domain));

    let related = &r.body["related_objects"];
    let user = &related["user"][owner.to_string()];
    assert_eq!(user["id"], owner);
    assert_eq!(user["name"], app.admin.name);
    for key in seed["related_objects"]["user"]["123"]
        .as_object()
        .unwrap()
        .keys()
    {
        assert!(user.get(key).is_some(), "related user.{key}");
    }
    let org = &related["organization"][org_id.to_string()];
    assert_eq!(org["id"], org_id);
    assert_eq!(org["people_count"], 1);
}

#[tokio::test]
async fn a_person_is_served_under_api_v1_as_well() {
    let app = TestApp::spawn().await;
    let r = app.post("/api/v1/persons", &json!({"name": "Jane"})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let id = r.data()["id"].as_i64().unwrap();
    let r = app.get(&format!("/api/v1/persons/{id}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.data()["name"], "Jane");
}

#[tokio::test]
async fn a_one_word_name_has_a_null_last_name_and_longer_names_split_after_the_first_word() {
    let app = TestApp::spawn().await;
    let p = app.add_person(json!({"name": "Jack"})).await;
    assert_eq!(
        (p["first_name"].clone(), p["last_name"].clone()),
        (json!("Jack"), Value::Null)
    );
    let p = app
        .add_person(json!({"name": "  Anna Maria van Dijk "}))
        .await;
    assert_eq!(p["name"], "Anna Maria van Dijk");
    assert_eq!(p["first_name"], "Anna");
    assert_eq!(p["last_name"], "Maria van Dijk");
    assert_eq!(p["first_char"], "a");
}

#[tokio::test]
async fn first_and_last_name_alone_make_the_name() {
    let app = TestApp::spawn().await;
    let p = app
        .add_person(json!({"first_name": "Will", "last_name": "Smith"}))
        .await;
    assert_eq!(p["name"], "Will Smith");
    assert_eq!(p["first_name"], "Will");
}

#[tokio::test]
async fn owner_defaults_to_the_tokens_user_and_org_to_null() {
    let app = TestApp::spawn().await;
    let p = app.add_person(json!({"name": "Jack"})).await;
    assert_eq!(p["owner_id"]["id"], app.admin.id);
    assert_eq!(p["org_id"], Value::Null);
    assert_eq!(p["org_name"], Value::Null);
    assert_eq!(p["label"], Value::Null);
    assert_eq!(p["label_ids"], json!([]));
}

#[tokio::test]
async fn without_email_or_phone_both_read_as_one_empty_primary_value() {
    let app = TestApp::spawn().await;
    let p = app.add_person(json!({"name": "Jack"})).await;
    assert_eq!(p["email"], json!([{"value": "", "primary": true}]));
    assert_eq!(p["phone"], json!([{"value": "", "primary": true}]));
    assert_eq!(p["primary_email"], Value::Null);
}

#[tokio::test]
async fn email_as_a_plain_string_is_one_primary_email_with_an_empty_label() {
    let app = TestApp::spawn().await;
    let p = app
        .add_person(json!({"name": "Jack", "email": "jack@example.com", "phone": "+3725555"}))
        .await;
    assert_eq!(
        p["email"],
        json!([{"value": "jack@example.com", "primary": true, "label": ""}])
    );
    assert_eq!(
        p["phone"],
        json!([{"value": "+3725555", "primary": true, "label": ""}])
    );
    assert_eq!(p["primary_email"], "jack@example.com");
}

#[tokio::test]
async fn email_as_an_array_of_strings_makes_the_first_primary() {
    let app = TestApp::spawn().await;
    let p = app
        .add_person(json!({"name": "Jack", "email": ["a@example.com", "b@example.com"]}))
        .await;
    assert_eq!(
        p["email"],
        json!([
            {"value": "a@example.com", "primary": true, "label": ""},
            {"value": "b@example.com", "primary": false, "label": ""}
        ])
    );
}

#[tokio::test]
async fn email_objects_keep_the_one_marked_primary_and_default_the_label_to_empty() {
    let app = TestApp::spawn().await;
    let p = app
        .add_person(json!({"name": "Jack", "email": [
            {"value": "a@example.com"},
            {"value": "b@example.com", "primary": "true", "label": "home"}
        ]}))
        .await;
    assert_eq!(
        p["email"][0],
        json!({"value": "a@example.com", "primary": false, "label": ""})
    );
    assert_eq!(
        p["email"][1],
        json!({"value": "b@example.com", "primary": true, "label": "home"})
    );
    assert_eq!(p["primary_email"], "b@example.com");
}

#[tokio::test]
async fn two_primary_emails_are_a_400() {
    let app = TestApp::spawn().await;
    let r = app
        .post(
            "/v1/persons",
            &json!({"name": "Jack", "email": [
                {"value": "a@example.com", "primary": true},
                {"value": "b@example.com", "primary": true}
            ]}),
        )
        .await;
    r.assert_error(400, "email: at most one value can be marked as primary");
}

#[tokio::test]
async fn phone_objects_without_value_or_with_a_wrong_type_are_400s_naming_the_item() {
    let app = TestApp::spawn().await;
    let r = app
        .post(
            "/v1/persons",
            &json!({"name": "Jack", "phone": [{"label": "work"}]}),
        )
        .await;
    r.assert_error(400, "phone[0].value: is required");
    let r = app
        .post(
            "/v1/persons",
            &json!({"name": "Jack", "phone": [{"value": "1", "primary": "maybe"}]}),
        )
        .await;
    r.assert_error(400, "phone[0].primary: must be a boolean");
    let r = app
        .post("/v1/persons", &json!({"name": "Jack", "phone": 12}))
        .await;
    r.assert_error(400, "phone: must be a string or an array");
    let r = app
        .post("/v1/persons", &json!({"name": "Jack", "email": [true]}))
        .await;
    r.assert_error(400, "email[0]: must be a string or an object");
}

#[tokio::test]
async fn a_form_encoded_body_is_accepted_with_nested_contacts() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Acme").await;
    let body = format!(
        "name=Will+Smith&org_id={org}&visible_to=1&email[0][value]=will%40example.com&email[0][label]=work&phone[]=111&phone[]=222&label_ids[]=&add_time=2020-01-02+03%3A04%3A05"
    );
    let r = app
        .raw(
            Method::POST,
            "/v1/persons",
            "application/x-www-form-urlencoded",
            body.into_bytes(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let p = r.data();
    assert_eq!(p["name"], "Will Smith");
    assert_eq!(p["org_id"]["value"], org);
    assert_eq!(p["visible_to"], "1");
    assert_eq!(
        p["email"],
        json!([{"value": "will@example.com", "primary": true, "label": "work"}])
    );
    assert_eq!(
        p["phone"][1],
        json!({"value": "222", "primary": false, "label": ""})
    );
    assert_eq!(p["add_time"], "2020-01-02 03:04:05");
}

#[tokio::test]
async fn label_sets_label_ids_and_label_ids_set_label_to_their_first() {
    let app = TestApp::spawn().await;
    let labels = app
        .labels_of(app.company.id, pipestack::domain::Kind::Person)
        .await;
    assert!(labels.len() >= 3, "a new company has default labels");
    let p = app
        .add_person(json!({"name": "A", "label": labels[2].id}))
        .await;
    assert_eq!(p["label"], labels[2].id);
    assert_eq!(p["label_ids"], json!([labels[2].id]));
    let p = app
        .add_person(json!({"name": "B", "label_ids": [labels[1].id, labels[0].id]}))
        .await;
    assert_eq!(p["label"], labels[1].id);
    assert_eq!(p["label_ids"], json!([labels[1].id, labels[0].id]));
}

#[tokio::test]
async fn a_label_that_is_no_option_of_the_label_field_is_a_400() {
    let app = TestApp::spawn().await;
    let r = app
        .post("/v1/persons", &json!({"name": "A", "label": 99999}))
        .await;
    r.assert_error(400, "label_ids: label 99999 is not an option");
    let r = app
        .post("/v1/persons", &json!({"name": "A", "label_ids": [1, "x"]}))
        .await;
    r.assert_error(400, "label_ids: must be a positive integer id");
}

#[tokio::test]
async fn another_companys_label_is_not_an_option() {
    let app = TestApp::spawn().await;
    let (other, _) = app.other_company("Other").await;
    let theirs = app
        .labels_of(other.id, pipestack::domain::Kind::Person)
        .await[0]
        .id;
    let r = app
        .post("/v1/persons", &json!({"name": "A", "label": theirs}))
        .await;
    r.assert_error(400, "is not an option of the person label field");
}

#[tokio::test]
async fn label_and_label_ids_that_disagree_are_a_400() {
    let app = TestApp::spawn().await;
    let labels = app
        .labels_of(app.company.id, pipestack::domain::Kind::Person)
        .await;
    let r = app
        .post(
            "/v1/persons",
            &json!({"name": "A", "label": labels[1].id, "label_ids": [labels[0].id]}),
        )
        .await;
    r.assert_error(400, "label: disagrees with label_ids");
}

#[tokio::test]
async fn visible_to_defaults_to_3_and_accepts_numbers_and_strings_of_its_set() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.add_person(json!({"name": "A"})).await["visible_to"],
        "3"
    );
    assert_eq!(
        app.add_person(json!({"name": "B", "visible_to": 7})).await["visible_to"],
        "7"
    );
    assert_eq!(
        app.add_person(json!({"name": "C", "visible_to": "1"}))
            .await["visible_to"],
        "1"
    );
    assert_eq!(
        app.add_person(json!({"name": "D", "visible_to": "5"}))
            .await["visible_to"],
        "5"
    );
    for bad in [json!("2"), json!(4), json!("everyone"), json!(true)] {
        let r = app
            .post("/v1/persons", &json!({"name": "E", "visible_to": bad}))
            .await;
        r.assert_error(400, "visible_to: must be one of");
    }
}

#[tokio::test]
async fn marketing_status_is_kept_for_a_person_with_a_valid_email() {
    let app = TestApp::spawn().await;
    for status in ["no_consent", "unsubscribed", "subscribed", "archived"] {
        let p = app
            .add_person(json!({"name": "A", "email": "a@example.com", "marketing_status": status}))
            .await;
        assert_eq!(p["marketing_status"], status);
    }
}

#[tokio::test]
async fn marketing_status_is_no_consent_without_a_valid_email() {
    let app = TestApp::spawn().await;
    let p = app
        .add_person(json!({"name": "A", "marketing_status": "subscribed"}))
        .await;
    assert_eq!(p["marketing_status"], "no_consent");
    let p = app
        .add_person(
            json!({"name": "B", "email": "not-an-address", "marketing_status": "subscribed"}),
        )
        .await;
    assert_eq!(p["marketing_status"], "no_consent");
    let p = app
        .add_person(json!({"name": "C", "email": "c@example.com"}))
        .await;
    assert_eq!(p["marketing_status"], "no_consent");
}

#[tokio::test]
async fn marketing_status_outside_its_set_is_a_400() {
    let app = TestApp::spawn().await;
    let r = app
        .post(
            "/v1/persons",
            &json!({"name": "A", "marketing_status": "spam_me"}),
        )
        .await;
    r.assert_error(400, "marketing_status: must be one of");
}

#[tokio::test]
async fn without_campaigns_marketing_status_is_neither_returned_nor_accepted() {
    let app = TestApp::spawn().await;
    assert!(
        app.store
            .set_campaigns(app.company.id, false)
            .await
            .unwrap()
    );
    let p = app
        .add_person(json!({"name": "A", "email": "a@example.com"}))
        .await;
    assert!(p.get("marketing_status").is_none(), "{p}");
    let r = app
        .post(
            "/v1/persons",
            &json!({"name": "B", "email": "b@example.com", "marketing_status": "subscribed"}),
        )
        .await;
    r.assert_error(
        400,
        "marketing_status: the Campaigns product is not enabled",
    );
    let id = p["id"].as_i64().unwrap();
    assert!(
        app.get(&format!("/v1/persons/{id}"))
            .await
            .data()
            .get("marketing_status")
            .is_none()
    );
}

#[tokio::test]
async fn add_time_is_kept_as_given_in_utc() {
    let app = TestApp::spawn().await;
    let p = app
        .add_person(json!({"name": "A", "add_time": "2001-02-03 04:05:06"}))
        .await;
    assert_eq!(p["add_time"], "2001-02-03 04:05:06");
}

#[tokio::test]
async fn org_people_count_follows_the_persons_added_to_it() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Acme").await;
    app.add_person(json!({"name": "A", "org_id": org})).await;
    let p = app
        .add_person(json!({"name": "B", "org_id": org.to_string()}))
        .await;
    assert_eq!(p["org_id"]["people_count"], 2);
    let r = app.get(&format!("/v1/organizations/{org}")).await;
    assert_eq!(r.data()["people_count"], 2);
}

/// Pipedrive's clients see keys in the seed's order (some integrations diff raw bodies): every
/// key of the seed's person and envelope comes in the same relative order in ours, in both the
/// single-person answers and a list page.
#[tokio::test]
async fn keys_come_in_the_seed_responses_order() {
    let app = TestApp::spawn().await;
    let seed: Value = serde_json::from_str(SEED_RESPONSE).unwrap();
    let org_id = app.add_org("Org Name").await;
    let created = app
        .post(
            "/v1/persons",
            &json!({"name": "Ordered", "org_id": org_id, "email": ["o@example.com"]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.data()["id"].as_i64().unwrap();
    let got = app.get(&format!("/v1/persons/{id}")).await;
    let listed = app.get("/v1/persons").await;
    let in_seed_order = |ours: &Value, theirs: &Value, what: &str| {
        let ours: Vec<&String> = ours.as_object().unwrap().keys().collect();
        let theirs: Vec<&String> = theirs.as_object().unwrap().keys().collect();
        let positions: Vec<usize> = theirs
            .iter()
            .map(|k| {
                ours.iter()
                    .position(|o| o == k)
                    .unwrap_or_else(|| panic!("{what}: no {k}"))
            })
            .collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "{what}: keys out of the seed's order: {ours:?}"
        );
    };
    for (what, body, person) in [
        ("POST", &created.body, &created.body["data"]),
        ("GET", &got.body, &got.body["data"]),
        ("list", &listed.body, &listed.body["data"][0]),
    ] {
        in_seed_order(person, &seed["data"], what);
        in_seed_order(&person["owner_id"], &seed["data"]["owner_id"], what);
        in_seed_order(&person["org_id"], &seed["data"]["org_id"], what);
        let envelope = json!({"success": true, "data": null, "related_objects": null});
        in_seed_order(body, &envelope, what);
    }
}

/// Without Campaigns, the `marketing_status` field is absent from the field lists and a 404 by
/// id or code, in both dialects.
#[tokio::test]
async fn without_campaigns_the_marketing_status_field_is_not_found_by_id_either() {
    let app = TestApp::spawn().await;
    let fields = app.get("/v1/personFields").await;
    let id = fields
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "marketing_status")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(app.get(&format!("/v1/personFields/{id}")).await.status, 200);
    assert!(
        app.store
            .set_campaigns(app.company.id, false)
            .await
            .unwrap()
    );
    app.get(&format!("/v1/personFields/{id}"))
        .await
        .assert_error(404, "not found");
    app.get("/api/v2/personFields/marketing_status")
        .await
        .assert_error(404, "not found");
    let listed = app.get("/v1/personFields").await;
    assert!(!listed.body.to_string().contains("\"marketing_status\""));
}
