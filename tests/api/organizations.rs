//! `POST` and `GET /v1/organizations`: enough for persons' `org_id`.

use serde_json::{Value, json};

use crate::helpers::TestApp;

#[tokio::test]
async fn an_organization_is_added_with_201_and_read_back() {
    let app = TestApp::spawn().await;
    let r = app
        .post(
            "/v1/organizations",
            &json!({"name": "Bolt", "address": "Mustamäe tee 3a, 10615 Tallinn", "visible_to": "1"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let org = r.data().clone();
    assert_eq!(org["name"], "Bolt");
    assert_eq!(org["company_id"], app.company.id);
    assert_eq!(org["owner_id"]["id"], app.admin.id);
    assert_eq!(org["owner_id"]["value"], app.admin.id);
    assert_eq!(org["people_count"], 0);
    assert_eq!(org["address"], "Mustamäe tee 3a, 10615 Tallinn");
    assert_eq!(org["visible_to"], "1");
    assert_eq!(org["first_char"], "b");
    assert_eq!(org["active_flag"], true);
    assert!(
        org["cc_email"]
            .as_str()
            .unwrap()
            .ends_with("@pipedrivemail.com")
    );
    assert_eq!(
        r.body["related_objects"]["user"][app.admin.id.to_string()]["id"],
        app.admin.id
    );

    let id = org["id"].as_i64().unwrap();
    let got = app.get(&format!("/v1/organizations/{id}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.data(), &org);
}

#[tokio::test]
async fn an_organization_without_a_name_is_a_400() {
    let app = TestApp::spawn().await;
    app.post("/v1/organizations", &json!({"address": "x"}))
        .await
        .assert_error(400, "Name must be given.");
    app.post("/v1/organizations", &json!({"name": " "}))
        .await
        .assert_error(400, "Name must be given.");
}

#[tokio::test]
async fn an_organization_with_bad_fields_is_a_400_naming_them() {
    let app = TestApp::spawn().await;
    app.post("/v1/organizations", &json!({"name": "A", "owner_id": 999}))
        .await
        .assert_error(400, "owner_id: user 999 not found");
    app.post(
        "/v1/organizations",
        &json!({"name": "A", "visible_to": "9"}),
    )
    .await
    .assert_error(400, "visible_to");
    app.post("/v1/organizations", &json!({"name": "A", "address": 5}))
        .await
        .assert_error(400, "address: must be a string");
    app.post(
        "/v1/organizations",
        &json!({"name": "A", "people_count": 5}),
    )
    .await
    .assert_error(400, "Invalid field(s) in the payload: people_count");
    assert_eq!(app.count_rows("organizations").await, 0);
}

#[tokio::test]
async fn an_unknown_organization_is_a_404() {
    let app = TestApp::spawn().await;
    app.get("/v1/organizations/424242")
        .await
        .assert_error(404, "Organization not found");
}

#[tokio::test]
async fn an_organization_without_an_address_has_a_null_address() {
    let app = TestApp::spawn().await;
    let id = app.add_org("Plain").await;
    let r = app.get(&format!("/v1/organizations/{id}")).await;
    assert_eq!(r.data()["address"], Value::Null);
}

/// v2's organization facts (website, linkedin, industry, annual_revenue, employee_count) are
/// kept, shown back, changed one by one and cleared by `null`; a wrong type names the key; an
/// empty `custom_fields` is accepted (organization custom fields are not kept).
#[tokio::test]
async fn v2_organization_facts_are_kept_and_changed_one_by_one() {
    let app = TestApp::spawn().await;
    let r = app
        .post(
            "/api/v2/organizations",
            &json!({"name": "Acme", "website": "https://acme.example", "industry": 2,
                    "employee_count": 10, "annual_revenue": 0,
                    "linkedin": "https://linkedin.com/company/acme", "custom_fields": {}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.data()["id"].as_i64().unwrap();
    let facts = |d: &serde_json::Value| {
        json!([
            d["website"],
            d["linkedin"],
            d["industry"],
            d["annual_revenue"],
            d["employee_count"]
        ])
    };
    assert_eq!(
        facts(r.data()),
        json!([
            "https://acme.example",
            "https://linkedin.com/company/acme",
            2,
            0,
            10
        ])
    );
    let r = app
        .patch(
            &format!("/api/v2/organizations/{id}"),
            &json!({"employee_count": 12, "website": null}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let got = app.get(&format!("/api/v2/organizations/{id}")).await;
    assert_eq!(
        facts(got.data()),
        json!([null, "https://linkedin.com/company/acme", 2, 0, 12])
    );
    for (body, needle) in [
        (
            json!({"industry": "tech"}),
            "industry: must be a non-negative integer or null",
        ),
        (
            json!({"employee_count": -1}),
            "employee_count: must be a non-negative integer",
        ),
        (json!({"website": 5}), "website"),
        (
            json!({"linkedin": "x".repeat(256)}),
            "linkedin: must be at most 255 characters",
        ),
        (
            json!({"custom_fields": {"abc": 1}}),
            "abc: no custom organization field has this key (see GET /v1/organizationFields)",
        ),
    ] {
        app.patch(&format!("/api/v2/organizations/{id}"), &body)
            .await
            .assert_error(400, needle);
    }
    assert_eq!(
        facts(app.get(&format!("/api/v2/organizations/{id}")).await.data()),
        json!([null, "https://linkedin.com/company/acme", 2, 0, 12]),
        "a refused change changes nothing"
    );
    // A new organization without them shows nulls.
    let r = app
        .post("/api/v2/organizations", &json!({"name": "Plain"}))
        .await;
    assert_eq!(facts(r.data()), json!([null, null, null, null, null]));
}
