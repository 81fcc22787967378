//! Organization fields (v1 `/organizationFields`, v2 `/api/v2/organizationFields`) and
//! organizations' custom values in both dialects: the same machinery as person fields.

use serde_json::{Value, json};

use crate::helpers::TestApp;

fn keys_of(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap().to_owned())
        .collect()
}

/// Adds an organization custom field through v2; its key.
async fn org_field(app: &TestApp, body: Value) -> String {
    let r = app.post("/api/v2/organizationFields", &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.data()["field_code"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn every_company_has_the_built_in_organization_fields_and_labels() {
    let app = TestApp::spawn().await;
    let r = app.get("/v1/organizationFields").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let keys = keys_of(r.data());
    for key in [
        "name",
        "owner_id",
        "address",
        "label",
        "visible_to",
        "people_count",
    ] {
        assert!(keys.contains(&key.to_owned()), "{key} in {keys:?}");
    }
    let label = r
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "label")
        .unwrap()
        .clone();
    let names: Vec<&str> = label["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["label"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Customer", "Hot lead", "Warm lead", "Cold lead"]);
    assert_eq!(label["edit_flag"], false);

    let v2 = app.get("/api/v2/organizationFields").await;
    assert_eq!(v2.status, 200, "{}", v2.body);
    assert!(
        v2.data()
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["field_code"] == "label_ids" && f["is_custom_field"] == false)
    );
    // Organization fields are not person fields: ids and lists are their own.
    let person_keys = keys_of(app.get("/v1/personFields").await.data());
    assert!(person_keys.contains(&"first_name".to_owned()));
    assert!(!keys.contains(&"first_name".to_owned()));
}

#[tokio::test]
async fn organization_custom_values_are_written_and_read_in_both_dialects() {
    let app = TestApp::spawn().await;
    let tier = org_field(
        &app,
        json!({"field_name": "Tier", "field_type": "enum", "options": [{"label": "Gold"}, {"label": "Silver"}]}),
    )
    .await;
    let revenue = org_field(
        &app,
        json!({"field_name": "Revenue", "field_type": "monetary"}),
    )
    .await;
    let options = app
        .get(&format!("/api/v2/organizationFields/{tier}"))
        .await
        .data()["options"]
        .clone();
    let gold = options[0]["id"].as_i64().unwrap();

    let r = app
        .post(
            "/api/v2/organizations",
            &json!({"name": "Acme", "custom_fields": {
                tier.as_str(): gold,
                revenue.as_str(): {"value": 1000, "currency": "EUR"},
            }}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.data()["id"].as_i64().unwrap();
    assert_eq!(r.data()["custom_fields"][&tier], gold);
    assert_eq!(
        r.data()["custom_fields"][&revenue],
        json!({"value": 1000, "currency": "EUR"})
    );

    // v1 shows them at the organization's root, with their parts.
    let v1 = app.get(&format!("/v1/organizations/{id}")).await;
    assert_eq!(v1.data()[&tier], gold.to_string());
    assert_eq!(v1.data()[&revenue], 1000);
    assert_eq!(v1.data()[format!("{revenue}_currency")], "EUR");

    // v1 writes them at the root too; a part alone keeps the rest of the value.
    let r = app
        .put(
            &format!("/v1/organizations/{id}"),
            &json!({format!("{revenue}_currency"): "USD"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()[&revenue], 1000);
    assert_eq!(r.data()[format!("{revenue}_currency")], "USD");

    // v2 with option labels, then cleared with null.
    let r = app
        .get(&format!(
            "/api/v2/organizations/{id}?include_option_labels=true&custom_fields={tier}"
        ))
        .await;
    assert_eq!(
        r.data()["custom_fields"],
        json!({tier.as_str(): {"id": gold, "label": "Gold"}})
    );
    let r = app
        .patch(
            &format!("/api/v2/organizations/{id}"),
            &json!({"custom_fields": {tier.as_str(): null}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["custom_fields"][&tier], Value::Null);
    assert_eq!(r.data()["custom_fields"][&revenue]["currency"], "USD");
}

#[tokio::test]
async fn bad_organization_custom_values_and_labels_are_400s_naming_them() {
    let app = TestApp::spawn().await;
    let size = org_field(&app, json!({"field_name": "Size", "field_type": "double"})).await;
    let person_field = app
        .post(
            "/api/v2/personFields",
            &json!({"field_name": "Shoe size", "field_type": "double"}),
        )
        .await
        .data()["field_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let org = app.add_org("Acme").await;
    let path = format!("/api/v2/organizations/{org}");
    app.patch(&path, &json!({"custom_fields": {size.as_str(): "big"}}))
        .await
        .assert_error(400, &format!("{size} (Size)"));
    app.patch(&path, &json!({"custom_fields": {person_field.as_str(): 3}}))
        .await
        .assert_error(
            400,
            "no custom organization field has this key (see GET /v1/organizationFields)",
        );
    app.patch(&path, &json!({"custom_fields": [1]}))
        .await
        .assert_error(400, "custom_fields: must be an object");
    let person_label = app
        .labels_of(app.company.id, pipestack::domain::Kind::Person)
        .await[0]
        .id;
    app.patch(&path, &json!({"label_ids": [person_label]}))
        .await
        .assert_error(
            400,
            &format!(
                "label_ids: label {person_label} is not an option of the organization label field"
            ),
        );
    let r = app.get(&path).await;
    assert_eq!(
        r.data()["custom_fields"][&size],
        Value::Null,
        "nothing was written"
    );
    assert_eq!(r.data()["label_ids"], json!([]));
}

#[tokio::test]
async fn a_deleted_organization_label_leaves_every_organization() {
    let app = TestApp::spawn().await;
    let labels = app
        .labels_of(app.company.id, pipestack::domain::Kind::Organization)
        .await;
    let (hot, cold) = (labels[1].id, labels[3].id);
    let r = app
        .post(
            "/api/v2/organizations",
            &json!({"name": "Acme", "label_ids": [hot, cold]}),
        )
        .await;
    assert_eq!(r.data()["label_ids"], json!([hot, cold]));
    let id = r.data()["id"].as_i64().unwrap();
    let r = app
        .call(
            reqwest::Method::DELETE,
            "/api/v2/organizationFields/label_ids/options",
            Some(&app.token),
            Some(&json!([{"id": hot}])),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        app.get(&format!("/api/v2/organizations/{id}?include_labels=true"))
            .await
            .data()["labels"],
        json!([{"id": cold, "label": "Cold lead"}])
    );
    assert_eq!(
        app.get(&format!("/v1/organizations/{id}")).await.data()["label_ids"],
        json!([cold])
    );
    // The person labels are untouched.
    assert_eq!(
        app.labels_of(app.company.id, pipestack::domain::Kind::Person)
            .await
            .len(),
        4
    );
}

#[tokio::test]
async fn organization_search_finds_searchable_custom_values() {
    let app = TestApp::spawn().await;
    let motto = org_field(
        &app,
        json!({"field_name": "Motto", "field_type": "varchar"}),
    )
    .await;
    app.post(
        "/api/v2/organizations",
        &json!({"name": "Acme", "custom_fields": {motto.as_str(): "Quality before quantity"}}),
    )
    .await;
    app.post("/api/v2/organizations", &json!({"name": "Other"}))
        .await;
    let r = app
        .get("/api/v2/organizations/search?term=quantity&fields=custom_fields")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let items = r.data()["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["item"]["name"], "Acme");
    let r = app
        .get("/api/v2/organizations/search?term=quantity&fields=name")
        .await;
    assert_eq!(r.data()["items"], json!([]));
}

#[tokio::test]
async fn only_admins_change_organization_fields() {
    let app = TestApp::spawn().await;
    let user = app.add_user("Plain").await;
    assert_eq!(
        app.get_as(&user.api_token, "/api/v2/organizationFields")
            .await
            .status,
        200
    );
    app.post_as(
        &user.api_token,
        "/api/v2/organizationFields",
        &json!({"field_name": "X", "field_type": "varchar"}),
    )
    .await
    .assert_error(403, "You do not have permissions");
    app.post_as(
        &user.api_token,
        "/v1/organizationFields",
        &json!({"name": "X", "field_type": "varchar"}),
    )
    .await
    .assert_error(403, "You do not have permissions");
}

#[tokio::test]
async fn v1_organization_fields_are_added_changed_and_deleted() {
    let app = TestApp::spawn().await;
    let r = app
        .post(
            "/v1/organizationFields",
            &json!({"name": "Region", "field_type": "set", "options": ["North", "South"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.data()["id"].as_i64().unwrap();
    let key = r.data()["key"].as_str().unwrap().to_owned();
    let org = app
        .post(
            "/v1/organizations",
            &json!({"name": "Acme", key.as_str(): r.data()["options"][1]["id"]}),
        )
        .await;
    assert_eq!(org.status, 201, "{}", org.body);
    let south = r.data()["options"][1]["id"].as_i64().unwrap();
    assert_eq!(org.data()[&key], south.to_string());
    let r = app
        .put(
            &format!("/v1/organizationFields/{id}"),
            &json!({"name": "Area"}),
        )
        .await;
    assert_eq!(r.data()["name"], "Area");
    let r = app.delete(&format!("/v1/organizationFields/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let org_id = org.data()["id"].as_i64().unwrap();
    let got = app.get(&format!("/v1/organizations/{org_id}")).await;
    assert!(
        got.data().get(&key).is_none(),
        "a deleted field's value leaves the organization"
    );
    let builtin = app
        .get("/v1/organizationFields")
        .await
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "name")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    app.delete(&format!("/v1/organizationFields/{builtin}"))
        .await
        .assert_error(400, "name is a built-in field and cannot be deleted");
}
