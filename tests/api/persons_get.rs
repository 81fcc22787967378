//! `GET /v1/persons/{id}`, and persons surviving a restart.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn a_person_reads_back_exactly_as_created_with_related_objects() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Acme").await;
    let created = app
        .post(
            "/v1/persons",
            &json!({"name": "Will Smith", "org_id": org, "email": "will@example.com", "phone": ["1", "2"]}),
        )
        .await;
    let id = created.data()["id"].as_i64().unwrap();
    let got = app.get(&format!("/v1/persons/{id}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.data(), created.data());
    assert_eq!(got.body["related_objects"], created.body["related_objects"]);
    assert_eq!(
        got.body["additional_data"]["dropbox_email"],
        created.data()["cc_email"]
    );
}

#[tokio::test]
async fn an_unknown_person_is_404_person_not_found() {
    let app = TestApp::spawn().await;
    let r = app.get("/v1/persons/123456").await;
    r.assert_error(404, "Person not found");
    assert_eq!(r.body["error"], "Person not found");
}

#[tokio::test]
async fn a_person_survives_a_restart_on_the_same_file_identical() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Acme").await;
    let labels = app
        .labels_of(app.company.id, pipestack::domain::Kind::Person)
        .await;
    let created = app
        .post(
            "/v1/persons",
            &json!({
                "name": "Durable Dora",
                "org_id": org,
                "email": [{"value": "dora@example.com", "label": "work"}],
                "phone": "+1 555",
                "label_ids": [labels[0].id],
                "visible_to": 1,
                "marketing_status": "subscribed",
                "add_time": "2019-05-06 07:08:09"
            }),
        )
        .await;
    assert_eq!(created.status, 201);
    let id = created.data()["id"].as_i64().unwrap();
    let url = app.db_url.clone();
    let token = app.token.clone();
    let app_admin = app.admin.id;
    let dir = app.stop().await;

    let again = TestApp::restart(url, &token).await;
    assert_eq!(again.admin.id, app_admin, "the admin and its token persist");
    let got = again.get(&format!("/v1/persons/{id}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.data(), created.data());
    assert_eq!(got.body["related_objects"], created.body["related_objects"]);
    drop(dir);
}
