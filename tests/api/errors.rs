//! Bad input: every error case of `POST /v1/persons`, in Pipedrive's envelope, storing nothing.

use reqwest::Method;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn a_missing_name_is_400_name_must_be_given() {
    let app = TestApp::spawn().await;
    let r = app
        .post("/v1/persons", &json!({"email": "a@example.com"}))
        .await;
    r.assert_error(400, "Name must be given.");
    assert_eq!(r.body["error"], "Name must be given.");
    assert_eq!(
        r.body["error_info"],
        "Please check developers.pipedrive.com for more information about Pipedrive API."
    );
    assert_eq!(r.body["additional_data"], serde_json::Value::Null);
    assert_eq!(app.count_rows("persons").await, 0);
}

#[tokio::test]
async fn an_empty_or_blank_or_null_name_is_400_name_must_be_given() {
    let app = TestApp::spawn().await;
    for name in [json!(""), json!("   "), json!(null)] {
        let r = app.post("/v1/persons", &json!({"name": name})).await;
        r.assert_error(400, "Name must be given.");
    }
    let r = app.post("/v1/persons", &json!({})).await;
    r.assert_error(400, "Name must be given.");
    let r = app
        .raw(Method::POST, "/v1/persons", "application/json", vec![])
        .await;
    r.assert_error(400, "Name must be given.");
}

#[tokio::test]
async fn a_name_of_the_wrong_type_or_too_long_is_a_400_naming_it() {
    let app = TestApp::spawn().await;
    let r = app.post("/v1/persons", &json!({"name": 42})).await;
    r.assert_error(400, "name: must be a string, got an integer");
    let r = app
        .post("/v1/persons", &json!({"name": "x".repeat(256)}))
        .await;
    r.assert_error(400, "name: must be at most 255 characters");
}

#[tokio::test]
async fn an_owner_that_does_not_exist_is_a_400() {
    let app = TestApp::spawn().await;
    let r = app
        .post("/v1/persons", &json!({"name": "A", "owner_id": 9999}))
        .await;
    r.assert_error(400, "owner_id: user 9999 not found");
    let r = app
        .post("/v1/persons", &json!({"name": "A", "owner_id": "abc"}))
        .await;
    r.assert_error(400, "owner_id: must be a positive integer id, got a string");
    let r = app
        .post("/v1/persons", &json!({"name": "A", "owner_id": [1]}))
        .await;
    r.assert_error(400, "owner_id: must be a positive integer id, got an array");
    assert_eq!(app.count_rows("persons").await, 0);
}

#[tokio::test]
async fn an_owner_or_org_of_another_company_is_a_400() {
    let app = TestApp::spawn().await;
    let (_, other_admin) = app.other_company("Other").await;
    let r = app
        .post(
            "/v1/persons",
            &json!({"name": "A", "owner_id": other_admin.id}),
        )
        .await;
    r.assert_error(400, "owner_id: user");
    let their_org = app
        .post_as(
            &other_admin.api_token,
            "/v1/organizations",
            &json!({"name": "Theirs"}),
        )
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    let r = app
        .post("/v1/persons", &json!({"name": "A", "org_id": their_org}))
        .await;
    r.assert_error(400, &format!("org_id: organization {their_org} not found"));
    assert!(!r.body.to_string().contains("Theirs"));
    assert_eq!(app.count_rows("persons").await, 0);
}

#[tokio::test]
async fn an_org_that_does_not_exist_or_has_the_wrong_type_is_a_400() {
    let app = TestApp::spawn().await;
    let r = app
        .post("/v1/persons", &json!({"name": "A", "org_id": 77}))
        .await;
    r.assert_error(400, "org_id: organization 77 not found");
    let r = app
        .post("/v1/persons", &json!({"name": "A", "org_id": 1.5}))
        .await;
    r.assert_error(400, "org_id: must be a positive integer id, got a number");
    let r = app
        .post("/v1/persons", &json!({"name": "A", "org_id": {"id": 1}}))
        .await;
    r.assert_error(400, "org_id: must be a positive integer id, got an object");
}

#[tokio::test]
async fn a_malformed_add_time_is_a_400() {
    let app = TestApp::spawn().await;
    for bad in [
        json!("2017-10-18"),
        json!("2017-10-18T13:23:07Z"),
        json!("2017-02-30 00:00:00"),
        json!(12),
    ] {
        let r = app
            .post("/v1/persons", &json!({"name": "A", "add_time": bad}))
            .await;
        r.assert_error(400, "add_time: must be");
    }
}

#[tokio::test]
async fn read_only_fields_are_a_400_naming_each() {
    let app = TestApp::spawn().await;
    for field in [
        "id",
        "primary_email",
        "first_char",
        "followers_count",
        "open_deals_count",
        "company_id",
        "cc_email",
        "update_time",
    ] {
        let r = app
            .post("/v1/persons", &json!({"name": "A", field: "x"}))
            .await;
        r.assert_error(
            400,
            &format!("Invalid field(s) in the payload: {field} (read-only)"),
        );
    }
    let r = app
        .post(
            "/v1/persons",
            &json!({"name": "A", "primary_email": "a@b.c", "id": 3}),
        )
        .await;
    r.assert_error(400, "primary_email (read-only)");
    r.assert_error(400, "id (read-only)");
    assert_eq!(app.count_rows("persons").await, 0);
}

#[tokio::test]
async fn unknown_fields_are_a_400_naming_them() {
    let app = TestApp::spawn().await;
    let r = app
        .post("/v1/persons", &json!({"name": "A", "nmae": "typo"}))
        .await;
    r.assert_error(400, "Invalid field(s) in the payload: nmae (unknown field)");
}

#[tokio::test]
async fn a_custom_field_key_that_names_no_field_is_a_400_naming_the_key() {
    let app = TestApp::spawn().await;
    let key = "dcf558aac1ae4e8c4f849ba5e668430d8df9be12";
    let r = app
        .post("/v1/persons", &json!({"name": "A", key: "value"}))
        .await;
    r.assert_error(400, &format!("{key}: no custom person field has this key"));
    assert_eq!(app.count_rows("persons").await, 0);
}

#[tokio::test]
async fn malformed_json_is_a_400() {
    let app = TestApp::spawn().await;
    let r = app
        .raw(
            Method::POST,
            "/v1/persons",
            "application/json",
            b"{\"name\": \"A\",".to_vec(),
        )
        .await;
    r.assert_error(400, "Malformed JSON in request body");
    let r = app
        .raw(
            Method::POST,
            "/v1/persons",
            "application/json",
            b"[\"A\"]".to_vec(),
        )
        .await;
    r.assert_error(400, "expected a JSON object");
    let r = app
        .raw(
            Method::POST,
            "/v1/persons",
            "application/json",
            vec![0xff, 0xfe],
        )
        .await;
    r.assert_error(400, "Malformed JSON");
    assert_eq!(app.count_rows("persons").await, 0);
}

#[tokio::test]
async fn an_unsupported_content_type_is_a_415() {
    let app = TestApp::spawn().await;
    let r = app
        .raw(
            Method::POST,
            "/v1/persons",
            "text/plain",
            b"name=A".to_vec(),
        )
        .await;
    r.assert_error(415, "Unsupported content type \"text/plain\"");
    let r = app
        .raw(
            Method::POST,
            "/v1/persons",
            "multipart/form-data; boundary=x",
            b"--x--".to_vec(),
        )
        .await;
    r.assert_error(415, "Unsupported content type");
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_a_413() {
    let app = TestApp::spawn().await;
    let body = format!("{{\"name\":\"{}\"}}", "a".repeat(1024 * 1024));
    let r = app
        .raw(
            Method::POST,
            "/v1/persons",
            "application/json",
            body.into_bytes(),
        )
        .await;
    r.assert_error(413, "Request body is too large");
    assert_eq!(app.count_rows("persons").await, 0);
}

#[tokio::test]
async fn an_unknown_route_is_a_404_in_the_envelope() {
    let app = TestApp::spawn().await;
    app.get("/v1/nothing-here")
        .await
        .assert_error(404, "Unknown route: GET /v1/nothing-here");
    let r = app.call(Method::GET, "/v1/whatever", None, None).await;
    r.assert_error(404, "Unknown route");
}

#[tokio::test]
async fn a_route_under_the_wrong_prefix_is_a_404_naming_the_right_one() {
    let app = TestApp::spawn().await;
    app.get("/v2/persons")
        .await
        .assert_error(404, "(did you mean /v1/persons or /api/v2/persons?)");
    app.get("/persons/7")
        .await
        .assert_error(404, "did you mean /v1/persons/7 or /api/v2/persons/7?");
    app.get("/api/v2/notes")
        .await
        .assert_error(404, "(did you mean /v1/notes?)");
    // A trailing '/' names its route under the same prefix only.
    let r = app.get("/api/v2/persons/").await;
    r.assert_error(404, "(did you mean /api/v2/persons?)");
    app.get("/api/v1/persons/")
        .await
        .assert_error(404, "(did you mean /api/v1/persons?)");
    let r = app.get("/api/v2/nothing-here").await;
    r.assert_error(404, "Unknown route: GET /api/v2/nothing-here");
    assert!(!r.body["error"].as_str().unwrap().contains("did you mean"));
}

#[tokio::test]
async fn the_root_says_what_the_server_is_as_json_or_as_a_page_for_a_browser() {
    let app = TestApp::spawn().await;
    let r = app.call(Method::GET, "/", None, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["name"], "pipestack");
    assert_eq!(r.data()["base_urls"]["api_v2"], "/api/v2");
    assert_eq!(r.data()["docs"], "/docs");
    let page = reqwest::Client::new()
        .get(format!("{}/", app.base))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    for needle in [
        "href=\"/docs\"",
        "href=\"/openapi.json\"",
        "/api/v2",
        "x-api-token",
    ] {
        assert!(html.contains(needle), "the page lacks {needle}");
    }
}

#[tokio::test]
async fn a_wrong_method_is_a_405_in_the_envelope() {
    let app = TestApp::spawn().await;
    let r = app
        .call(Method::PATCH, "/v1/persons", Some(&app.token), None)
        .await;
    r.assert_error(405, "Method not allowed");
    let r = app
        .call(Method::PUT, "/v1/organizations", Some(&app.token), None)
        .await;
    r.assert_error(405, "Method not allowed");
}

#[tokio::test]
async fn a_path_id_that_is_not_a_positive_integer_is_a_400() {
    let app = TestApp::spawn().await;
    app.get("/v1/persons/-3")
        .await
        .assert_error(400, "id: must be a positive integer");
    app.get("/v1/persons/0")
        .await
        .assert_error(400, "id: must be a positive integer");
    app.get("/v1/persons/99999999999999999999")
        .await
        .assert_error(400, "id: must be a positive integer");
}

#[tokio::test]
async fn a_word_where_an_id_goes_names_no_route_a_404() {
    let app = TestApp::spawn().await;
    for path in [
        "/v1/persons/collection",
        "/v1/persons/abc",
        "/v1/organizations/find",
        "/api/v2/persons/collection",
        "/api/v2/organizations/abc/followers",
    ] {
        app.get(path)
            .await
            .assert_error(404, &format!("Unknown route: GET {path}"));
    }
    app.put("/v1/persons/collection", &serde_json::json!({"name": "A"}))
        .await
        .assert_error(404, "Unknown route: PUT /v1/persons/collection");
}

#[tokio::test]
async fn path_parameters_that_are_not_utf8_get_the_envelope_naming_them() {
    let app = TestApp::spawn().await;
    app.get("/api/v2/persons/%FF")
        .await
        .assert_error(400, "Invalid UTF-8 in `id`");
    app.get("/api/v2/personFields/%FF%FE")
        .await
        .assert_error(400, "Invalid UTF-8 in `field_code`");
    let r = app.delete("/v1/persons/1/followers/%FF").await;
    r.assert_error(400, "Invalid UTF-8 in `follower_id`");
    let r = app.delete("/v1/persons/1/followers/0").await;
    r.assert_error(400, "follower_id: must be a positive integer");
}

#[tokio::test]
async fn a_failed_request_leaves_no_partial_row_behind() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Acme").await;
    // Valid everywhere but the last check (an unknown label): nothing at all may be stored.
    let r = app
        .post(
            "/v1/persons",
            &json!({"name": "A", "org_id": org, "email": "a@example.com", "label": 123456}),
        )
        .await;
    r.assert_error(400, "label_ids");
    assert_eq!(app.count_rows("persons").await, 0);
    assert_eq!(app.count_rows("followers WHERE kind = 'person'").await, 0);
    assert_eq!(
        app.get(&format!("/v1/organizations/{org}")).await.data()["people_count"],
        0
    );
}
