//! Companies are isolated: a token never reads another company's persons or organizations.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn a_token_of_another_company_cannot_read_a_person() {
    let app = TestApp::spawn().await;
    let (_, other) = app.other_company("Other").await;
    let p = app
        .add_person(json!({"name": "Secret Person", "email": "secret@example.com"}))
        .await;
    let id = p["id"].as_i64().unwrap();
    let r = app
        .get_as(&other.api_token, &format!("/v1/persons/{id}"))
        .await;
    r.assert_error(404, "Person not found");
    let text = r.body.to_string();
    assert!(!text.contains("Secret") && !text.contains("secret@"));
    // The owner still reads it.
    assert_eq!(app.get(&format!("/v1/persons/{id}")).await.status, 200);
}

#[tokio::test]
async fn a_token_of_another_company_cannot_read_an_organization() {
    let app = TestApp::spawn().await;
    let (_, other) = app.other_company("Other").await;
    let org = app.add_org("Hidden Org").await;
    let r = app
        .get_as(&other.api_token, &format!("/v1/organizations/{org}"))
        .await;
    r.assert_error(404, "Organization not found");
    assert!(!r.body.to_string().contains("Hidden"));
}

#[tokio::test]
async fn each_company_sees_only_its_own_users_and_company() {
    let app = TestApp::spawn().await;
    let (company, other) = app.other_company("Other Ltd").await;
    let r = app.get_as(&other.api_token, "/v1/users").await;
    let users = r.data().as_array().unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["id"], other.id);
    let me = app.get_as(&other.api_token, "/v1/users/me").await;
    assert_eq!(me.data()["company_id"], company.id);
    assert_eq!(me.data()["company_name"], "Other Ltd");
    assert_ne!(company.id, app.company.id);
}

#[tokio::test]
async fn a_person_created_by_another_company_gets_that_companys_id_and_defaults() {
    let app = TestApp::spawn().await;
    let (company, other) = app.other_company("Other").await;
    let r = app
        .post_as(&other.api_token, "/v1/persons", &json!({"name": "Theirs"}))
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.data()["company_id"], company.id);
    assert_eq!(r.data()["owner_id"]["id"], other.id);
}
