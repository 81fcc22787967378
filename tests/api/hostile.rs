//! Input meant to break things: NUL characters, keys given twice, deep nesting, floods of
//! unknown keys. Each gets a 400 in the envelope naming the problem, on both backends, and
//! nothing is stored.

use reqwest::Method;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn text_with_a_nul_character_is_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    app.post("/v1/persons", &json!({"name": "Ada\u{0}Lovelace"}))
        .await
        .assert_error(400, "name: must not contain NUL characters");
    app.post(
        "/api/v2/persons",
        &json!({"name": "A", "emails": [{"value": "a\u{0}@x.io"}]}),
    )
    .await
    .assert_error(400, "emails[0].value: must not contain NUL characters");
    app.raw(
        Method::POST,
        "/v1/persons",
        "application/x-www-form-urlencoded",
        b"name=Ada%00".to_vec(),
    )
    .await
    .assert_error(400, "name: must not contain NUL characters");
    app.post("/v1/persons", &json!({"name": "A", "x\u{0}y": 1}))
        .await
        .assert_error(400, "x\\0y: must not contain NUL characters");
    assert_eq!(app.count_rows("persons").await, 0);
}

#[tokio::test]
async fn parameters_with_a_nul_character_are_refused_naming_them() {
    let app = TestApp::spawn().await;
    app.get("/api/v2/persons/search?term=ab%00cd")
        .await
        .assert_error(400, "term: must not contain NUL characters");
    app.get("/v1/persons/search?term=abc%00")
        .await
        .assert_error(400, "term: must not contain NUL characters");
    let r = app
        .call(Method::GET, "/v1/users/me?api_token=%00", None, None)
        .await;
    r.assert_error(400, "api_token: must not contain NUL characters");
    app.get("/api/v2/personFields/na%00me")
        .await
        .assert_error(400, "field_code: must not contain NUL characters");
}

#[tokio::test]
async fn a_key_given_twice_is_refused_naming_it() {
    let app = TestApp::spawn().await;
    let r = app
        .raw(
            Method::POST,
            "/v1/persons",
            "application/json",
            br#"{"name": "A", "email": "a@x.io", "name": "B"}"#.to_vec(),
        )
        .await;
    r.assert_error(400, "the key \"name\" is given twice");
    let r = app
        .raw(
            Method::POST,
            "/api/v2/persons",
            "application/json",
            br#"{"name": "A", "custom_fields": {"k": 1, "k": 2}}"#.to_vec(),
        )
        .await;
    r.assert_error(400, "the key \"k\" is given twice");
    assert_eq!(app.count_rows("persons").await, 0);
}

#[tokio::test]
async fn a_deeply_nested_body_is_refused_at_its_first_level_too_many() {
    let app = TestApp::spawn().await;
    let body = format!(
        "{{\"name\":\"A\",\"x\":{}1{}}}",
        "[".repeat(300_000),
        "]".repeat(300_000)
    );
    app.raw(
        Method::POST,
        "/v1/persons",
        "application/json",
        body.into_bytes(),
    )
    .await
    .assert_error(400, "nested deeper than 32 levels");
}

#[tokio::test]
async fn a_flood_of_unknown_keys_gets_a_short_answer() {
    let app = TestApp::spawn().await;
    let mut body = serde_json::Map::new();
    body.insert("name".into(), json!("A"));
    for i in 0..30_000 {
        body.insert(format!("unknown_key_{i}"), json!(1));
    }
    let r = app.post("/v1/persons", &body.into()).await;
    r.assert_error(
        400,
        "Invalid field(s) in the payload: unknown_key_0 (unknown field)",
    );
    let error = r.body["error"].as_str().unwrap();
    assert!(error.ends_with("and 29980 more"), "{error}");
    assert!(error.len() < 2_000, "{} bytes", error.len());
}

#[tokio::test]
async fn what_one_may_not_see_is_a_404_before_the_body_is_read() {
    let app = TestApp::spawn().await;
    let user = app.add_user("Jane").await;
    let person = app
        .add_person(json!({"name": "Private", "visible_to": "1"}))
        .await["id"]
        .as_i64()
        .unwrap();
    let org = app
        .post(
            "/v1/organizations",
            &json!({"name": "Private Org", "visible_to": 1}),
        )
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    let bad = b"{not json".to_vec();
    for (method, path) in [
        (Method::PUT, format!("/v1/persons/{person}")),
        (Method::PATCH, format!("/api/v2/persons/{person}")),
        (Method::PUT, format!("/v1/persons/{person}/merge")),
        (Method::PUT, format!("/v1/organizations/{org}")),
        (Method::PATCH, format!("/api/v2/organizations/{org}")),
        (Method::POST, format!("/v1/persons/{person}/followers")),
        (
            Method::POST,
            format!("/api/v2/organizations/{org}/followers"),
        ),
    ] {
        let r = app
            .raw_as(
                &user.api_token,
                method.clone(),
                &path,
                "application/json",
                bad.clone(),
            )
            .await;
        assert_eq!(r.status, 404, "{method} {path}: {}", r.body);
    }
}
