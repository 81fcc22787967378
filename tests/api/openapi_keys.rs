//! The document tells the truth about answers: the keys each answer's `data` has are exactly
//! the ones its schema lists (none written but undocumented, none documented but never
//! written), and what a body must hold is what the server asks for.

use std::collections::BTreeSet;

use pipestack::api::openapi;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// What one call answered, beside the documented operation it answers for.
struct Answer {
    method: &'static str,
    /// The path as the document lists it, placeholders and all.
    path: &'static str,
    status: u16,
    data: Value,
}

/// Calls `method url` (with `body` as JSON) and keeps its `data`, asserting a success.
async fn answer(
    app: &TestApp,
    method: &'static str,
    path: &'static str,
    url: &str,
    body: Option<Value>,
) -> Answer {
    let m = Method::from_bytes(method.as_bytes()).unwrap();
    let r = app.call(m, url, Some(&app.token), body.as_ref()).await;
    assert!(r.status.is_success(), "{method} {url}: {}", r.body);
    Answer {
        method,
        path,
        status: r.status.as_u16(),
        data: r.body["data"].clone(),
    }
}

/// The schema `doc` names for `data` of an operation's answer with `status`, `$ref`s followed;
/// a list's items' schema where `data` is a list.
fn data_schema<'a>(doc: &'a Value, a: &Answer) -> &'a Value {
    let ok =
        &doc["paths"][a.path][a.method.to_ascii_lowercase()]["responses"][a.status.to_string()];
    assert!(
        ok.is_object(),
        "{} {} answered {}, which the document does not list",
        a.method,
        a.path,
        a.status
    );
    let data = resolve(
        doc,
        &ok["content"]["application/json"]["schema"]["properties"]["data"],
    );
    if data["type"] == "array" {
        resolve(doc, &data["items"])
    } else {
        data
    }
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(to) => {
            let name = to.strip_prefix("#/components/schemas/").unwrap();
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// The pattern of the v1 custom keys written at an item's root: a field key (40 hex digits),
/// alone or with a part (`_currency`, `_until`, `_locality`, …).
const CUSTOM_KEY_PATTERN: &str = "^[0-9a-f]{40}(_[a-z0-9_]+)?$";

/// Whether `schema` documents custom keys at the root and `key` is one.
fn is_documented_custom_key(schema: &Value, key: &str) -> bool {
    let documented = schema["patternProperties"]
        .get(CUSTOM_KEY_PATTERN)
        .is_some();
    let (field_key, part) = key.split_at_checked(40).unwrap_or((key, "not a part"));
    let hex = |s: &str| s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let word = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_'))
    };
    documented && hex(field_key) && (part.is_empty() || part.strip_prefix('_').is_some_and(word))
}

/// Which part of an answer is held against the schema the document names for it.
#[derive(Clone, Copy)]
enum Part {
    /// `data`, or each of its items where it is a list.
    Data,
    /// The `item` of each of a search's `data.items`.
    SearchItem,
}

/// The schema of `part` of `a`, and the objects of that part `a` answered.
fn part_of<'a>(doc: &'a Value, a: &'a Answer, part: Part) -> (&'a Value, Vec<&'a Value>) {
    let schema = data_schema(doc, a);
    match part {
        Part::Data => match &a.data {
            Value::Array(items) => (schema, items.iter().collect()),
            one => (schema, vec![one]),
        },
        Part::SearchItem => {
            let item = &schema["properties"]["items"]["items"]["properties"]["item"];
            let found = a.data["items"].as_array().unwrap();
            (
                resolve(doc, item),
                found.iter().map(|i| &i["item"]).collect(),
            )
        }
    }
}

/// Asserts that `answers` together write exactly the keys of `data` the document lists.
#[track_caller]
fn assert_written_keys_are_the_documented_ones(doc: &Value, answers: &[Answer]) {
    assert_part_keys_are_the_documented_ones(doc, answers, Part::Data);
}

/// Asserts that the items `answers` (searches) found have exactly the keys the document lists.
#[track_caller]
fn assert_search_item_keys_are_the_documented_ones(doc: &Value, answers: &[Answer]) {
    assert_part_keys_are_the_documented_ones(doc, answers, Part::SearchItem);
}

/// Asserts that `answers`, which all name one schema for `part`, together write exactly the
/// keys that schema documents: none it lacks (custom keys aside, where it documents them), and
/// none it lists that no answer writes.
#[track_caller]
fn assert_part_keys_are_the_documented_ones(doc: &Value, answers: &[Answer], part: Part) {
    let first = &answers[0];
    let what = format!("{} {}", first.method, first.path);
    let (schema, _) = part_of(doc, first, part);
    let documented: BTreeSet<&str> = schema["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("{what}: no properties"))
        .keys()
        .map(String::as_str)
        .collect();
    let mut written = BTreeSet::new();
    for a in answers {
        let (named, items) = part_of(doc, a, part);
        assert_eq!(
            named, schema,
            "{} {} names another schema than {what}",
            a.method, a.path
        );
        assert!(
            !items.is_empty(),
            "{} {} answered no item",
            a.method,
            a.path
        );
        for item in items {
            let keys = item.as_object().unwrap().keys();
            written.extend(
                keys.filter(|k| !is_documented_custom_key(schema, k))
                    .cloned(),
            );
        }
    }
    let undocumented: Vec<&String> = written
        .iter()
        .filter(|k| !documented.contains(k.as_str()))
        .collect();
    let unwritten: Vec<&&str> = documented
        .iter()
        .filter(|k| !written.contains(**k))
        .collect();
    assert!(
        undocumented.is_empty(),
        "{what}: written but not documented: {undocumented:?}"
    );
    assert!(
        unwritten.is_empty(),
        "{what}: documented but never written: {unwritten:?}"
    );
}

fn id_of(a: &Answer) -> i64 {
    a.data["id"].as_i64().unwrap()
}

#[tokio::test]
async fn every_key_the_v1_person_answers_have_is_documented_and_no_other() {
    let app = TestApp::spawn().await;
    // A field with a part, so that custom keys (`<key>`, `<key>_currency`) are at the root.
    let field = app
        .post(
            "/v1/personFields",
            &json!({"name": "Budget", "field_type": "monetary"}),
        )
        .await;
    let key = field.data()["key"].as_str().unwrap().to_owned();
    let org = app.add_org("Acme").await;
    let body =
        json!({"name": "Will Smith", "org_id": org, "email": "will@example.com", key.clone(): 100});
    let added = answer(&app, "POST", "/v1/persons", "/v1/persons", Some(body)).await;
    let id = id_of(&added);
    let url = format!("/v1/persons/{id}");
    let got = answer(&app, "GET", "/v1/persons/{id}", &url, None).await;
    assert_eq!(got.data[&key], 100);
    assert!(got.data.get(format!("{key}_currency")).is_some());
    let body = json!({"first_name": "William"});
    let updated = answer(&app, "PUT", "/v1/persons/{id}", &url, Some(body)).await;
    let listed = answer(&app, "GET", "/v1/persons", "/v1/persons", None).await;
    let url = format!("/v1/organizations/{org}/persons");
    let of_org = answer(&app, "GET", "/v1/organizations/{id}/persons", &url, None).await;
    let doc = openapi::document();
    assert_written_keys_are_the_documented_ones(&doc, &[added, got, updated, listed, of_org]);
}

#[tokio::test]
async fn every_key_the_v1_merge_answer_has_is_documented_and_no_other() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Acme").await;
    let kept = app.add_person(json!({"name": "Kept", "org_id": org})).await;
    let gone = app.add_person(json!({"name": "Gone"})).await;
    let url = format!("/v1/persons/{}/merge", gone["id"]);
    let body = json!({"merge_with_id": kept["id"]});
    let merged = answer(&app, "PUT", "/v1/persons/{id}/merge", &url, Some(body)).await;
    assert_written_keys_are_the_documented_ones(&openapi::document(), &[merged]);
}

#[tokio::test]
async fn every_key_the_v2_person_answers_have_is_documented_and_no_other() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Acme").await;
    let body =
        json!({"name": "Will Smith", "org_id": org, "emails": [{"value": "will@example.com"}]});
    let added = answer(
        &app,
        "POST",
        "/api/v2/persons",
        "/api/v2/persons",
        Some(body),
    )
    .await;
    let id = id_of(&added);
    // Every optional key the renderer can add, and the labels.
    let optional = format!(
        "include_fields={}&include_labels=true",
        pipestack::api::v2::render::INCLUDABLE.join(",")
    );
    let url = format!("/api/v2/persons/{id}?{optional}");
    let got = answer(&app, "GET", "/api/v2/persons/{id}", &url, None).await;
    let url = format!("/api/v2/persons/{id}");
    let body = json!({"first_name": "William"});
    let updated = answer(&app, "PATCH", "/api/v2/persons/{id}", &url, Some(body)).await;
    let url = format!("/api/v2/persons?{optional}");
    let listed = answer(&app, "GET", "/api/v2/persons", &url, None).await;
    let doc = openapi::document();
    assert_written_keys_are_the_documented_ones(&doc, &[added, got, updated, listed]);
}

#[tokio::test]
async fn every_key_the_v1_organization_answers_have_is_documented_and_no_other() {
    let app = TestApp::spawn().await;
    let body = json!({"name": "Acme", "address": "Mustamäe tee 3a, Tallinn"});
    let path = "/v1/organizations";
    let added = answer(&app, "POST", path, path, Some(body)).await;
    let url = format!("/v1/organizations/{}", id_of(&added));
    let got = answer(&app, "GET", "/v1/organizations/{id}", &url, None).await;
    let body = json!({"name": "Acme Ltd"});
    let updated = answer(&app, "PUT", "/v1/organizations/{id}", &url, Some(body)).await;
    let listed = answer(&app, "GET", path, path, None).await;
    let doc = openapi::document();
    assert_written_keys_are_the_documented_ones(&doc, &[added, got, updated, listed]);
}

/// What v2 organizations' `include_fields` may name (the handler's list is private).
const V2_ORGANIZATION_INCLUDABLE: &str = "next_activity_id,last_activity_id,open_deals_count,\
    related_open_deals_count,closed_deals_count,related_closed_deals_count,email_messages_count,\
    people_count,activities_count,done_activities_count,undone_activities_count,files_count,\
    notes_count,followers_count,won_deals_count,related_won_deals_count,lost_deals_count,\
    related_lost_deals_count,smart_bcc_email";

#[tokio::test]
async fn every_key_the_v2_organization_answers_have_is_documented_and_no_other() {
    let app = TestApp::spawn().await;
    let body = json!({"name": "Acme", "address": {"value": "Tallinn", "locality": "Tallinn"}});
    let path = "/api/v2/organizations";
    let added = answer(&app, "POST", path, path, Some(body)).await;
    let id = id_of(&added);
    let optional = format!("include_fields={V2_ORGANIZATION_INCLUDABLE}&include_labels=true");
    let url = format!("/api/v2/organizations/{id}?{optional}");
    let got = answer(&app, "GET", "/api/v2/organizations/{id}", &url, None).await;
    let url = format!("/api/v2/organizations/{id}");
    let body = json!({"website": "https://acme.example"});
    let updated = answer(
        &app,
        "PATCH",
        "/api/v2/organizations/{id}",
        &url,
        Some(body),
    )
    .await;
    let url = format!("{path}?{optional}");
    let listed = answer(&app, "GET", path, &url, None).await;
    let doc = openapi::document();
    assert_written_keys_are_the_documented_ones(&doc, &[added, got, updated, listed]);
}

#[tokio::test]
async fn every_key_the_v1_person_field_answers_have_is_documented_and_no_other() {
    let app = TestApp::spawn().await;
    let path = "/v1/personFields";
    // Options, some deleted (`options_deleted`), and a field with parts (`subfields`).
    let body = json!({"name": "Tier", "field_type": "enum", "options": ["gold", "silver"]});
    let added = answer(&app, "POST", path, path, Some(body)).await;
    let gold = &added.data["options"][0];
    let url = format!("{path}/{}", id_of(&added));
    let body = json!({"options": [gold]});
    let updated = answer(&app, "PUT", "/v1/personFields/{id}", &url, Some(body)).await;
    let got = answer(&app, "GET", "/v1/personFields/{id}", &url, None).await;
    assert!(got.data.get("options_deleted").is_some(), "{}", got.data);
    let body = json!({"name": "Budget", "field_type": "monetary"});
    let with_parts = answer(&app, "POST", path, path, Some(body)).await;
    let listed = answer(&app, "GET", path, path, None).await;
    let doc = openapi::document();
    assert_written_keys_are_the_documented_ones(&doc, &[added, updated, got, with_parts, listed]);
}

#[tokio::test]
async fn every_key_the_v2_person_field_answers_have_is_documented_and_no_other() {
    let app = TestApp::spawn().await;
    let path = "/api/v2/personFields";
    let body = json!({"field_name": "Tier", "field_type": "enum", "options": [{"label": "gold"}]});
    let added = answer(&app, "POST", path, path, Some(body)).await;
    let code = added.data["field_code"].as_str().unwrap().to_owned();
    let optional = "include_fields=ui_visibility,important_fields,required_fields";
    let url = format!("{path}/{code}?{optional}");
    let got = answer(&app, "GET", "/api/v2/personFields/{field_code}", &url, None).await;
    let url = format!("{path}/{code}");
    let body = json!({"field_name": "Level"});
    let updated = answer(
        &app,
        "PATCH",
        "/api/v2/personFields/{field_code}",
        &url,
        Some(body),
    )
    .await;
    let body = json!({"field_name": "Budget", "field_type": "monetary"});
    let with_parts = answer(&app, "POST", path, path, Some(body)).await;
    let url = format!("{path}?{optional}");
    let listed = answer(&app, "GET", path, &url, None).await;
    let url = format!("{path}/{code}");
    let deleted = answer(
        &app,
        "DELETE",
        "/api/v2/personFields/{field_code}",
        &url,
        None,
    )
    .await;
    let doc = openapi::document();
    assert_written_keys_are_the_documented_ones(
        &doc,
        &[added, got, updated, with_parts, listed, deleted],
    );
}

#[tokio::test]
async fn every_key_the_v1_user_answers_have_is_documented_and_no_other() {
    let app = TestApp::spawn().await;
    let url = format!("/v1/users/{}", app.admin.id);
    let got = answer(&app, "GET", "/v1/users/{id}", &url, None).await;
    let listed = answer(&app, "GET", "/v1/users", "/v1/users", None).await;
    let url = format!("/v1/users/find?term={}", app.admin.name);
    let found = answer(&app, "GET", "/v1/users/find", &url, None).await;
    let me = answer(&app, "GET", "/v1/users/me", "/v1/users/me", None).await;
    let doc = openapi::document();
    assert_written_keys_are_the_documented_ones(&doc, &[got, listed, found]);
    assert_written_keys_are_the_documented_ones(&doc, &[me]);
}

#[tokio::test]
async fn every_key_the_v1_follower_answers_have_is_documented_and_no_other() {
    let app = TestApp::spawn().await;
    let jane = app.add_user("Jane").await;
    let doc = openapi::document();
    let person = app.add_person(json!({"name": "Followed"})).await["id"].clone();
    let org = app.add_org("Acme").await;
    let by_item = [
        (
            "/v1/persons/{id}/followers",
            format!("/v1/persons/{person}/followers"),
        ),
        (
            "/v1/organizations/{id}/followers",
            format!("/v1/organizations/{org}/followers"),
        ),
    ];
    for (path, url) in by_item {
        let body = json!({"user_id": jane.id});
        let added = answer(&app, "POST", path, &url, Some(body)).await;
        let listed = answer(&app, "GET", path, &url, None).await;
        assert_written_keys_are_the_documented_ones(&doc, &[added, listed]);
    }
}

#[tokio::test]
async fn every_key_the_v2_follower_answers_have_is_documented_and_no_other() {
    let app = TestApp::spawn().await;
    let jane = app.add_user("Jane").await;
    let doc = openapi::document();
    let person = app.add_person(json!({"name": "Followed"})).await["id"].clone();
    let url = format!("/api/v2/persons/{person}/followers");
    let path = "/api/v2/persons/{id}/followers";
    let added = answer(&app, "POST", path, &url, Some(json!({"user_id": jane.id}))).await;
    let listed = answer(&app, "GET", path, &url, None).await;
    assert_written_keys_are_the_documented_ones(&doc, &[added, listed]);
    let removed_url = format!("{url}/{}", jane.id);
    let removed_path = "/api/v2/persons/{id}/followers/{follower_id}";
    let removed = answer(&app, "DELETE", removed_path, &removed_url, None).await;
    assert_written_keys_are_the_documented_ones(&doc, &[removed]);
    let log_url = format!("{url}/changelog");
    let log_path = "/api/v2/persons/{id}/followers/changelog";
    let changes = answer(&app, "GET", log_path, &log_url, None).await;
    assert_written_keys_are_the_documented_ones(&doc, &[changes]);
}

#[tokio::test]
async fn every_key_a_search_item_has_is_documented_and_no_other() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Acme Searchable").await;
    let body = json!({"name": "Will Searchable", "org_id": org, "email": "will@example.com"});
    app.add_person(body).await;
    let doc = openapi::document();
    let url = "/v1/persons/search?term=Searchable&include_fields=person.picture";
    let v1 = answer(&app, "GET", "/v1/persons/search", url, None).await;
    let url = "/api/v2/persons/search?term=Searchable";
    let v2 = answer(&app, "GET", "/api/v2/persons/search", url, None).await;
    assert_search_item_keys_are_the_documented_ones(&doc, &[v1, v2]);
    let url = "/api/v2/organizations/search?term=Searchable";
    let orgs = answer(&app, "GET", "/api/v2/organizations/search", url, None).await;
    assert_search_item_keys_are_the_documented_ones(&doc, &[orgs]);
}

#[tokio::test]
async fn a_new_person_needs_a_name_or_a_part_of_one_as_documented_in_both_dialects() {
    let app = TestApp::spawn().await;
    let doc = openapi::document();
    for path in ["/v1/persons", "/api/v2/persons"] {
        let body = &doc["paths"][path]["post"]["requestBody"]["content"]["application/json"];
        let schema = &body["schema"];
        assert_eq!(schema["required"], json!([]), "{path}");
        // Each way the document allows is one the server takes…
        for way in schema["anyOf"].as_array().unwrap() {
            let keys = way["required"].as_array().unwrap();
            let person: serde_json::Map<String, Value> = keys
                .iter()
                .map(|k| (k.as_str().unwrap().to_owned(), json!("Ada")))
                .collect();
            let r = app.post(path, &Value::Object(person)).await;
            assert!(r.status.is_success(), "{path} with {keys:?}: {}", r.body);
        }
        // …and a body that takes none is refused.
        app.post(path, &json!({"owner_id": app.admin.id}))
            .await
            .assert_error(400, "Name must be given");
    }
}

#[tokio::test]
async fn every_key_the_activity_answers_have_is_documented_and_no_other() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Acme").await;
    let p = app.add_person(json!({"name": "Ann", "org_id": org})).await["id"].clone();
    let deal = app
        .post("/api/v2/deals", &json!({"title": "D"}))
        .await
        .data()["id"]
        .clone();
    let path = "/api/v2/activities";
    let body = json!({"person_id": p, "org_id": org, "deal_id": deal, "due_date": "2026-01-01",
        "location": {"value": "Main St"}, "attendees": [{"email": "a@example.com"}]});
    let added = answer(&app, "POST", path, path, Some(body)).await;
    let id = id_of(&added);
    let url = format!("{path}/{id}?include_fields=attendees");
    let got = answer(&app, "GET", "/api/v2/activities/{id}", &url, None).await;
    let url = format!("{path}/{id}");
    let body = json!({"done": true});
    let updated = answer(&app, "PATCH", "/api/v2/activities/{id}", &url, Some(body)).await;
    let url = format!("{path}?include_fields=attendees");
    let listed = answer(&app, "GET", path, &url, None).await;
    let doc = openapi::document();
    assert_written_keys_are_the_documented_ones(&doc, &[added, got, updated, listed]);

    let url = format!("/v1/activities/{id}");
    let got = answer(&app, "GET", "/v1/activities/{id}", &url, None).await;
    let listed = answer(&app, "GET", "/v1/activities", "/v1/activities", None).await;
    assert_written_keys_are_the_documented_ones(&doc, &[got, listed]);
}

#[tokio::test]
async fn every_key_the_activity_type_and_note_answers_have_is_documented_and_no_other() {
    let app = TestApp::spawn().await;
    let path = "/v1/activityTypes";
    let body = json!({"name": "Video call", "icon_key": "camera", "color": "FFFFFF"});
    let added = answer(&app, "POST", path, path, Some(body)).await;
    let listed = answer(&app, "GET", path, path, None).await;
    let doc = openapi::document();
    assert_written_keys_are_the_documented_ones(&doc, &[added, listed]);

    let p = app.add_person(json!({"name": "Ann"})).await["id"].clone();
    let path = "/v1/notes";
    let added = answer(
        &app,
        "POST",
        path,
        path,
        Some(json!({"content": "x", "person_id": p})),
    )
    .await;
    let url = format!("{path}/{}", id_of(&added));
    let got = answer(&app, "GET", "/v1/notes/{id}", &url, None).await;
    let listed = answer(&app, "GET", path, path, None).await;
    assert_written_keys_are_the_documented_ones(&doc, &[added, got, listed]);
}

#[tokio::test]
async fn every_key_the_activity_and_note_field_answers_have_is_documented_and_no_other() {
    let app = TestApp::spawn().await;
    let path = "/api/v2/activityFields";
    let listed = answer(
        &app,
        "GET",
        path,
        &format!("{path}?include_fields=ui_visibility"),
        None,
    )
    .await;
    let url = format!("{path}/type?include_fields=ui_visibility");
    let got = answer(
        &app,
        "GET",
        "/api/v2/activityFields/{field_code}",
        &url,
        None,
    )
    .await;
    let doc = openapi::document();
    assert_written_keys_are_the_documented_ones(&doc, &[listed, got]);
    let notes = answer(&app, "GET", "/v1/noteFields", "/v1/noteFields", None).await;
    assert_written_keys_are_the_documented_ones(&doc, &[notes]);
}
