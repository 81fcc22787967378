//! Sort orders of names: accent- and case-insensitive (`Ångström` with the A's, `émile` with
//! the E's, `Zoë` beside `zoe`), ties by id, missing values first, and the same on SQLite and
//! PostgreSQL (this suite runs on both).

use serde_json::{Value, json};

use crate::helpers::TestApp;

/// Added in this order: `zoe` and `Zoë` sort alike, so their ids decide.
const NAMES: [&str; 6] = [
    "zoe",
    "Zoë",
    "émile Été",
    "Ångström Öberg",
    "Bob Ant",
    "eve East",
];

fn column(data: &Value, key: &str) -> Vec<Value> {
    data.as_array()
        .unwrap()
        .iter()
        .map(|p| p[key].clone())
        .collect()
}

async fn app_with_names() -> TestApp {
    let app = TestApp::spawn().await;
    for name in NAMES {
        let email = format!("{}@example.com", name.to_lowercase().replace(' ', "."));
        app.add_person(json!({"name": name, "email": email})).await;
    }
    app
}

#[tokio::test]
async fn names_sort_without_regard_to_accents_or_case_ties_by_id() {
    let app = app_with_names().await;
    let r = app.get("/v1/persons?sort=name%20ASC").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let ascending = [
        "Ångström Öberg",
        "Bob Ant",
        "émile Été",
        "eve East",
        "zoe",
        "Zoë",
    ];
    assert_eq!(column(r.data(), "name"), ascending.map(Value::from));
    let r = app.get("/v1/persons?sort=name%20DESC").await;
    let mut descending = ascending;
    descending.reverse();
    assert_eq!(column(r.data(), "name"), descending.map(Value::from));
}

#[tokio::test]
async fn name_parts_and_emails_sort_the_same_way_with_missing_parts_first() {
    let app = app_with_names().await;
    let r = app.get("/v1/persons?sort=last_name%20ASC").await;
    assert_eq!(
        column(r.data(), "last_name"),
        [
            json!(null),
            json!(null),
            json!("Ant"),
            json!("East"),
            json!("Été"),
            json!("Öberg")
        ]
    );
    let r = app.get("/v1/persons?sort=last_name%20DESC").await;
    assert_eq!(
        column(r.data(), "last_name"),
        [
            json!("Öberg"),
            json!("Été"),
            json!("East"),
            json!("Ant"),
            json!(null),
            json!(null)
        ]
    );
    let r = app
        .get("/v1/persons?sort=first_name%20ASC,%20id%20DESC")
        .await;
    assert_eq!(
        column(r.data(), "first_name"),
        ["Ångström", "Bob", "émile", "eve", "Zoë", "zoe"].map(Value::from)
    );
    let r = app.get("/v1/persons?sort=primary_email%20ASC").await;
    assert_eq!(
        column(r.data(), "primary_email"),
        [
            "ångström.öberg@example.com",
            "bob.ant@example.com",
            "émile.été@example.com",
            "eve.east@example.com",
            "zoe@example.com",
            "zoë@example.com",
        ]
        .map(Value::from)
    );
}

#[tokio::test]
async fn a_renamed_person_moves_to_its_new_place() {
    let app = app_with_names().await;
    let bob = app.get("/v1/persons?sort=name%20ASC").await.data()[1]["id"]
        .as_i64()
        .unwrap();
    let r = app
        .put(&format!("/v1/persons/{bob}"), &json!({"name": "Ödön Zzz"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.get("/v1/persons?sort=name%20ASC").await;
    assert_eq!(
        column(r.data(), "name"),
        [
            "Ångström Öberg",
            "émile Été",
            "eve East",
            "Ödön Zzz",
            "zoe",
            "Zoë"
        ]
        .map(Value::from)
    );
}

#[tokio::test]
async fn organization_names_sort_the_same_way() {
    let app = TestApp::spawn().await;
    for name in ["zoe GmbH", "Zoë AG", "Émile SA", "Ångström AB", "Bob Ltd"] {
        app.add_org(name).await;
    }
    let r = app.get("/v1/organizations?sort=name%20ASC").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        column(r.data(), "name"),
        ["Ångström AB", "Bob Ltd", "Émile SA", "Zoë AG", "zoe GmbH"].map(Value::from)
    );
}
