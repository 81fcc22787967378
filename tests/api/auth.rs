//! Tokens: header, query parameter and bearer, and the 401 without one.

use reqwest::Method;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn the_x_api_token_header_authenticates() {
    let app = TestApp::spawn().await;
    let r = app.get("/v1/users/me").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.data()["id"], app.admin.id);
}

#[tokio::test]
async fn the_api_token_query_parameter_authenticates() {
    let app = TestApp::spawn().await;
    let r = app
        .call(
            Method::GET,
            &format!("/v1/users/me?api_token={}", app.token),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.data()["id"], app.admin.id);
}

#[tokio::test]
async fn an_authorization_bearer_header_authenticates() {
    let app = TestApp::spawn().await;
    let res = reqwest::Client::new()
        .post(format!("{}/v1/persons", app.base))
        .bearer_auth(&app.token)
        .json(&json!({"name": "Via Bearer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn no_token_is_401_unauthorized_access() {
    let app = TestApp::spawn().await;
    let r = app.call(Method::GET, "/v1/users/me", None, None).await;
    r.assert_error(401, "unauthorized access");
    assert_eq!(r.body["error"], "unauthorized access");
    assert_eq!(r.body["errorCode"], 401);
    let r = app
        .call(
            Method::POST,
            "/v1/persons",
            None,
            Some(&json!({"name": "A"})),
        )
        .await;
    r.assert_error(401, "unauthorized access");
    assert_eq!(app.count_rows("persons").await, 0);
}

#[tokio::test]
async fn an_unknown_or_empty_token_is_401() {
    let app = TestApp::spawn().await;
    let r = app
        .call(
            Method::GET,
            "/v1/users/me",
            Some("0123456789abcdef0123456789abcdef01234567"),
            None,
        )
        .await;
    r.assert_error(401, "unauthorized access");
    let r = app
        .call(Method::GET, "/v1/users/me?api_token=", None, None)
        .await;
    r.assert_error(401, "unauthorized access");
    let r = app
        .call(
            Method::GET,
            &format!("/v1/users/me?api_token={}x", app.token),
            None,
            None,
        )
        .await;
    r.assert_error(401, "unauthorized access");
}

#[tokio::test]
async fn a_generated_token_is_forty_lowercase_hex_characters() {
    let app = TestApp::spawn().await;
    assert_eq!(app.token.len(), 40);
    assert!(
        app.token
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
}

#[tokio::test]
async fn health_and_readiness_answer_without_a_token_and_show_no_data() {
    let app = TestApp::spawn().await;
    let r = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"success": true, "data": {"status": "ok"}}));
    let r = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        json!({"success": true, "data": {"status": "ready"}})
    );
    let r = app.call(Method::POST, "/healthz", None, None).await;
    r.assert_error(405, "Method not allowed");
}
