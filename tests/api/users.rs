//! `GET /v1/users/me` and `GET /v1/users` in Pipedrive's v1 shape.

use pipestack::setup;

use crate::helpers::TestApp;

#[tokio::test]
async fn users_me_describes_the_tokens_user_and_company() {
    let app = TestApp::spawn().await;
    let r = app.get("/v1/users/me").await;
    assert_eq!(r.status, 200);
    let me = r.data();
    assert_eq!(me["id"], app.admin.id);
    assert_eq!(me["name"], app.admin.name);
    assert_eq!(me["email"], app.admin.email);
    assert_eq!(me["active_flag"], true);
    assert_eq!(me["is_you"], true);
    assert_eq!(me["is_deleted"], false);
    assert_eq!(me["company_id"], app.company.id);
    assert_eq!(me["company_domain"], app.company.domain);
    assert_eq!(me["access"][0]["admin"], true);
    assert!(me["created"].as_str().unwrap().len() == 19);
    // Pipedrive's v1 contract: strings, not nulls.
    assert_eq!(me["company_country"], "US");
    assert_eq!(me["company_industry"], "Other");
    for access in me["access"].as_array().unwrap() {
        let id = access["permission_set_id"].as_str().unwrap();
        let groups: Vec<usize> = id.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12], "a UUID: {id}");
        assert!(
            id.chars().all(|c| c == '-' || c.is_ascii_hexdigit()),
            "{id}"
        );
    }
}

#[tokio::test]
async fn last_login_is_the_creation_time_until_the_token_is_used_then_that_time() {
    let app = TestApp::spawn().await;
    let jane = app.add_user("Jane").await;
    let r = app.get(&format!("/v1/users/{}", jane.id)).await;
    assert_eq!(r.data()["last_login"], r.data()["created"]);
    assert_eq!(
        app.get_as(&jane.api_token, "/v1/users/me").await.status,
        200
    );
    let user = app
        .store
        .user(app.company.id, jane.id)
        .await
        .unwrap()
        .unwrap();
    let noted = user.last_login.expect("the login was noted");
    assert!(noted.0 >= jane.add_time.0);
    let r = app.get(&format!("/v1/users/{}", jane.id)).await;
    assert_eq!(r.data()["last_login"], noted.v1());
}

#[tokio::test]
async fn users_lists_every_user_of_the_company_and_marks_the_caller() {
    let app = TestApp::spawn().await;
    let jane = setup::add_user(
        app.store.as_ref(),
        app.company.id,
        "Jane Doe",
        "jane@example.com",
    )
    .await
    .unwrap();
    let r = app.get("/v1/users").await;
    assert_eq!(r.status, 200);
    let users = r.data().as_array().unwrap();
    assert_eq!(users.len(), 2);
    assert_eq!(users[0]["id"], app.admin.id);
    assert_eq!(users[0]["is_you"], true);
    assert_eq!(users[1]["id"], jane.id);
    assert_eq!(users[1]["name"], "Jane Doe");
    assert_eq!(users[1]["is_you"], false);
    assert_eq!(users[1]["access"][0]["admin"], false);
    assert!(users[1].get("company_id").is_none());

    // The new user's token works, and it can own persons.
    let r = app.get_as(&jane.api_token, "/v1/users/me").await;
    assert_eq!(r.data()["id"], jane.id);
    let p = app
        .add_person(serde_json::json!({"name": "Owned", "owner_id": jane.id}))
        .await;
    assert_eq!(p["owner_id"]["name"], "Jane Doe");
    assert_eq!(p["owner_name"], "Jane Doe");
}

#[tokio::test]
async fn a_second_user_with_the_same_email_is_refused() {
    let app = TestApp::spawn().await;
    setup::add_user(
        app.store.as_ref(),
        app.company.id,
        "Jane",
        "jane@example.com",
    )
    .await
    .unwrap();
    let err = setup::add_user(
        app.store.as_ref(),
        app.company.id,
        "Jane 2",
        "jane@example.com",
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
}

#[tokio::test]
async fn a_user_is_read_by_id_and_found_by_name_or_email() {
    let app = TestApp::spawn().await;
    let jane = setup::add_user(
        app.store.as_ref(),
        app.company.id,
        "Jane Doe",
        "jane@example.com",
    )
    .await
    .unwrap();
    let r = app.get(&format!("/v1/users/{}", jane.id)).await;
    assert_eq!(r.data()["name"], "Jane Doe");
    assert_eq!(r.data()["is_you"], false);
    app.get("/v1/users/999999")
        .await
        .assert_error(404, "User not found");
    let r = app.get("/v1/users/find?term=jan").await;
    assert_eq!(r.data().as_array().unwrap().len(), 1);
    let r = app
        .get("/v1/users/find?term=example.com&search_by_email=1")
        .await;
    assert_eq!(r.data()[0]["id"], jane.id);
    app.get("/v1/users/find")
        .await
        .assert_error(400, "term: is required");
    let (_, other) = app.other_company("Other").await;
    app.get_as(&other.api_token, &format!("/v1/users/{}", jane.id))
        .await
        .assert_error(404, "User not found");
}

#[tokio::test]
async fn a_deactivated_users_token_stops_working_and_it_cannot_be_given_persons() {
    let app = TestApp::spawn().await;
    let jane = setup::add_user(
        app.store.as_ref(),
        app.company.id,
        "Jane",
        "jane@example.com",
    )
    .await
    .unwrap();
    let owned = app
        .add_person(serde_json::json!({"name": "Owned", "owner_id": jane.id}))
        .await["id"]
        .as_i64()
        .unwrap();
    assert!(app.store.set_user_active(jane.id, false).await.unwrap());
    app.get_as(&jane.api_token, "/v1/users/me")
        .await
        .assert_error(401, "unauthorized access");
    app.post(
        "/v1/persons",
        &serde_json::json!({"name": "X", "owner_id": jane.id}),
    )
    .await
    .assert_error(400, "owner_id");
    app.post(
        &format!("/v1/persons/{owned}/followers"),
        &serde_json::json!({"user_id": jane.id}),
    )
    .await
    .assert_error(400, "user_id");
    let r = app.get(&format!("/v1/users/{}", jane.id)).await;
    assert_eq!(r.data()["active_flag"], false);
    assert_eq!(
        app.get(&format!("/v1/persons/{owned}")).await.data()["owner_id"]["active_flag"],
        false
    );
    // Sending back the current (deactivated) owner with other changes is not making her one.
    let r = app
        .patch(
            &format!("/api/v2/persons/{owned}"),
            &serde_json::json!({"owner_id": jane.id, "name": "Owned Still"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["owner_id"], jane.id);
    assert!(app.store.set_user_active(jane.id, true).await.unwrap());
    assert_eq!(
        app.get_as(&jane.api_token, "/v1/users/me").await.status,
        200
    );
}

/// A user another process added (`pipestack users add` while the server runs) is an owner at
/// once, though the company's users are cached: one not among them is read.
#[tokio::test]
async fn a_user_another_process_added_is_an_owner_at_once() {
    let app = TestApp::spawn().await;
    app.add_person(serde_json::json!({"name": "Fills the cache", "owner_id": app.admin.id}))
        .await;
    app.execute_sql(&format!(
        "INSERT INTO users (id, company_id, name, email, api_token_sha256, add_time, \
         update_time) VALUES (900001, {}, 'Late', 'late@example.com', 'digest-900001', 0, 0)",
        app.company.id
    ))
    .await;
    let r = app
        .post(
            "/v1/persons",
            &serde_json::json!({"name": "Owned late", "owner_id": 900001}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.data()["id"].as_i64().unwrap();
    let r = app.get(&format!("/api/v2/persons/{id}")).await;
    assert_eq!(r.data()["owner_id"], 900001);
    app.post(
        "/v1/persons",
        &serde_json::json!({"name": "Nobody's", "owner_id": 900002}),
    )
    .await
    .assert_error(400, "owner_id");
}
