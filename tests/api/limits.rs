//! Every request and connection limit, answered in the envelope with its status; nothing is
//! stored by a refused request.

use std::time::Duration;

use pipestack::api::limits::Limits;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::TestApp;

async fn with_limits(limits: Limits) -> TestApp {
    TestApp::spawn_with(|o| o.limits = limits).await
}

/// Sends raw bytes on a new connection and reads until the server closes it or `wait` passes.
async fn raw_exchange(app: &TestApp, request: &[u8], wait: Duration) -> String {
    let mut stream = TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap();
    stream.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(wait, stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

fn envelope_of(response: &str) -> Value {
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).unwrap_or_else(|_| panic!("not an envelope: {response}"))
}

#[tokio::test]
async fn a_body_over_the_configured_limit_is_a_413() {
    let app = with_limits(Limits {
        max_body_bytes: 1000,
        ..Limits::default()
    })
    .await;
    let body = json!({"name": "x".repeat(2000)});
    let r = app.post("/api/v2/persons", &body).await;
    r.assert_error(413, "the limit is 1000 bytes");
    let form = format!("name={}", "y".repeat(1500)).into_bytes();
    let r = app
        .raw(
            Method::POST,
            "/v1/persons",
            "application/x-www-form-urlencoded",
            form,
        )
        .await;
    r.assert_error(413, "the limit is 1000 bytes");
    assert_eq!(app.count_rows("persons").await, 0);
}

#[tokio::test]
async fn headers_over_the_size_limit_are_a_431() {
    let app = TestApp::spawn().await;
    let r = reqwest::Client::new()
        .get(format!("{}/api/v2/persons", app.base))
        .header("x-api-token", &app.token)
        .header("x-padding", "p".repeat(20 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 431);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["success"], false);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("the limit is 16384 bytes"),
        "{body}"
    );
}

#[tokio::test]
async fn too_many_headers_are_a_431() {
    let app = TestApp::spawn().await;
    let mut req = reqwest::Client::new()
        .get(format!("{}/api/v2/persons", app.base))
        .header("x-api-token", &app.token);
    for i in 0..110 {
        req = req.header(format!("x-h{i}"), "1");
    }
    let r = req.send().await.unwrap();
    assert_eq!(r.status(), 431);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("Too many request headers"),
        "{body}"
    );
}

#[tokio::test]
async fn json_nested_past_the_depth_limit_is_a_400() {
    let app = TestApp::spawn().await;
    let mut deep = json!(1);
    for _ in 0..40 {
        deep = json!([deep]);
    }
    let r = app
        .post(
            "/api/v2/persons",
            &json!({"name": "Deep", "custom_fields": {"x": deep}}),
        )
        .await;
    r.assert_error(400, "nested deeper than 32 levels");
    // Deeper than serde_json's own recursion limit: still a 400, never a stack overflow.
    let body = format!("{}1{}", "[".repeat(5000), "]".repeat(5000)).into_bytes();
    let r = app
        .raw(
            Method::POST,
            "/api/v2/personFields/x/options",
            "application/json",
            body,
        )
        .await;
    r.assert_error(400, "Malformed JSON");
    // A form key of 10,000 brackets.
    let form = format!("name=a&x{}=1", "[a]".repeat(10_000)).into_bytes();
    let r = app
        .raw(
            Method::POST,
            "/v1/persons",
            "application/x-www-form-urlencoded",
            form,
        )
        .await;
    r.assert_error(400, "nested deeper than 32 levels");
    assert_eq!(app.count_rows("persons").await, 0);
}

#[tokio::test]
async fn long_arrays_are_a_400_naming_the_field() {
    let app = TestApp::spawn().await;
    // The body-wide limit.
    let many: Vec<Value> = (0..1001).map(|i| json!(format!("{i}@x.io"))).collect();
    let r = app
        .post("/v1/persons", &json!({"name": "A", "email": many}))
        .await;
    r.assert_error(400, "email: too many items (1001; the limit is 1000)");
    // The per-field limits of the domain.
    let emails: Vec<Value> = (0..101)
        .map(|i| json!({"value": format!("{i}@x.io")}))
        .collect();
    let r = app
        .post("/api/v2/persons", &json!({"name": "A", "emails": emails}))
        .await;
    r.assert_error(400, "email: at most 100 items are allowed, got 101");
    let phones: Vec<Value> = (0..101).map(|i| json!(format!("+1 555 {i:04}"))).collect();
    let r = app
        .post("/v1/persons", &json!({"name": "A", "phone": phones}))
        .await;
    r.assert_error(400, "phone: at most 100 items are allowed, got 101");
    let labels: Vec<i64> = (1..=101).collect();
    let r = app
        .post(
            "/api/v2/persons",
            &json!({"name": "A", "label_ids": labels}),
        )
        .await;
    r.assert_error(400, "label_ids: at most 100 items are allowed, got 101");
    assert_eq!(app.count_rows("persons").await, 0);

    let options: Vec<String> = (0..1001).map(|i| format!("o{i}")).collect();
    let r = app
        .post(
            "/v1/personFields",
            &json!({"name": "Big", "field_type": "enum", "options": options}),
        )
        .await;
    r.assert_error(400, "too many items (1001; the limit is 1000)");
    let fields_before = app.get("/api/v2/personFields").await.data().clone();
    // Options added one request at a time still stop at 1,000 per field.
    let r = app
        .post(
            "/api/v2/personFields",
            &json!({"field_name": "Many", "field_type": "set",
                    "options": (0..1000).map(|i| json!({"label": format!("o{i}")})).collect::<Vec<_>>()}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let code = r.data()["field_code"].as_str().unwrap().to_owned();
    let r = app
        .post(
            &format!("/api/v2/personFields/{code}/options"),
            &json!([{"label": "one too many"}]),
        )
        .await;
    r.assert_error(400, "options: at most 1000 items are allowed, got 1001");
    let field = app.get(&format!("/api/v2/personFields/{code}")).await;
    assert_eq!(field.data()["options"].as_array().unwrap().len(), 1000);
    assert_eq!(
        app.get("/api/v2/personFields")
            .await
            .data()
            .as_array()
            .unwrap()
            .len(),
        fields_before.as_array().unwrap().len() + 1
    );
}

#[tokio::test]
async fn long_strings_are_a_400_naming_the_field() {
    let app = TestApp::spawn().await;
    let long = "x".repeat(256);
    let cases = [
        ("/v1/persons", json!({"name": long})),
        (
            "/api/v2/persons",
            json!({"name": "A", "emails": [{"value": format!("{long}@x.io")}]}),
        ),
        (
            "/api/v2/persons",
            json!({"name": "A", "phones": [{"value": "1", "label": long}]}),
        ),
        ("/v1/organizations", json!({"name": long})),
        (
            "/v1/personFields",
            json!({"name": long, "field_type": "varchar"}),
        ),
    ];
    for (path, body) in cases {
        let r = app.post(path, &body).await;
        r.assert_error(400, "must be at most 255 characters");
    }
    assert_eq!(app.count_rows("persons").await, 0);
    assert_eq!(app.count_rows("organizations").await, 0);

    // First and last names of 200 characters each are each fine, but make a name of 401.
    let (first, last) = ("f".repeat(200), "l".repeat(200));
    app.post(
        "/api/v2/persons",
        &json!({"first_name": first, "last_name": last}),
    )
    .await
    .assert_error(
        400,
        "name: first_name and last_name make the name, which must be at most 255",
    );
    assert_eq!(app.count_rows("persons").await, 0);
    let p = app
        .add_person_v2(json!({"first_name": first, "last_name": "L"}))
        .await;
    let id = p["id"].as_i64().unwrap();
    app.patch(
        &format!("/api/v2/persons/{id}"),
        &json!({"last_name": last}),
    )
    .await
    .assert_error(400, "must be at most 255");
    app.put(&format!("/v1/persons/{id}"), &json!({"last_name": last}))
        .await
        .assert_error(400, "must be at most 255");
    let r = app.get(&format!("/api/v2/persons/{id}")).await;
    assert_eq!(r.data()["last_name"], "L", "nothing changed");
}

#[tokio::test]
async fn a_client_that_stops_sending_its_body_gets_a_408() {
    let app = with_limits(Limits {
        request_timeout: Duration::from_secs(1),
        ..Limits::default()
    })
    .await;
    let request = format!(
        "POST /api/v2/persons HTTP/1.1\r\nhost: x\r\nx-api-token: {}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"name\"",
        app.token
    );
    let response = raw_exchange(&app, request.as_bytes(), Duration::from_secs(10)).await;
    assert!(response.starts_with("HTTP/1.1 408"), "response: {response}");
    assert!(response.to_ascii_lowercase().contains("connection: close"));
    let body = envelope_of(&response);
    assert_eq!(body["success"], false);
    assert!(body["error"].as_str().unwrap().contains("Request timeout"));
    assert_eq!(app.count_rows("persons").await, 0);
}

#[tokio::test]
async fn slow_headers_and_idle_connections_are_closed() {
    let app = with_limits(Limits {
        idle_timeout: Duration::from_secs(1),
        ..Limits::default()
    })
    .await;
    let started = std::time::Instant::now();
    // Half a request line, then nothing.
    let out = raw_exchange(&app, b"GET /api/v2/per", Duration::from_secs(10)).await;
    assert!(started.elapsed() < Duration::from_secs(5), "{out}");
    // An idle keep-alive connection after one answered request.
    let started = std::time::Instant::now();
    let request = format!(
        "GET /healthz HTTP/1.1\r\nhost: x\r\nx-api-token: {}\r\n\r\n",
        app.token
    );
    let out = raw_exchange(&app, request.as_bytes(), Duration::from_secs(10)).await;
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn past_the_cap_with_none_to_close_a_connection_gets_a_503_but_health_is_answered() {
    let app = with_limits(Limits {
        max_connections: 2,
        // Nothing has waited long enough to be closed in this test.
        evict_after: Duration::from_secs(3600),
        ..Limits::default()
    })
    .await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let held = [
        TcpStream::connect(&addr).await.unwrap(),
        TcpStream::connect(&addr).await.unwrap(),
    ];
    let out = raw_exchange(
        &app,
        b"GET /v1/users/me HTTP/1.1\r\nhost: x\r\n\r\n",
        Duration::from_secs(10),
    )
    .await;
    assert!(out.starts_with("HTTP/1.1 503"), "{out}");
    assert!(out.to_ascii_lowercase().contains("retry-after: 1"), "{out}");
    assert!(
        out.to_ascii_lowercase().contains("connection: close"),
        "{out}"
    );
    let body = envelope_of(&out);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("Too many connections")
    );
    for health in ["/healthz", "/readyz"] {
        let request = format!("GET {health} HTTP/1.1\r\nhost: x\r\n\r\n");
        let out = raw_exchange(&app, request.as_bytes(), Duration::from_secs(10)).await;
        assert!(out.starts_with("HTTP/1.1 200"), "{health}: {out}");
    }
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_client_is_served_within_a_second_while_1100_connections_keep_the_server_waiting() {
    pipestack::server::raise_open_files_limit();
    let app = TestApp::spawn().await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut held = Vec::new();
    for i in 0..1100 {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        // Idle sockets, request heads never finished (slowloris), and bodies never finished.
        let start: &[u8] = match i % 3 {
            0 => b"",
            1 => b"GET /v1/users/me HTTP/1.1\r\nhost: x\r\nx-slow: ",
            _ => b"POST /v1/persons HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"name\":",
        };
        let _ = stream.write_all(start).await;
        held.push(stream);
    }
    // The clients above keep the server waiting a while, as such clients do.
    tokio::time::sleep(Limits::default().evict_after + Duration::from_millis(100)).await;
    let served = tokio::time::timeout(Duration::from_secs(1), app.get("/v1/users/me"))
        .await
        .expect("answered within a second");
    assert_eq!(served.status, 200, "{}", served.body);
    let health = tokio::time::timeout(
        Duration::from_secs(1),
        app.call(Method::GET, "/healthz", None, None),
    )
    .await
    .expect("answered within a second");
    assert_eq!(health.status, 200);
    drop(held);
}

#[tokio::test]
async fn an_over_long_uri_is_a_414_in_the_envelope() {
    let app = TestApp::spawn().await;
    let long = format!("/v1/persons?term={}", "a".repeat(9 * 1024));
    let r = app.get(&long).await;
    r.assert_error(414, "Request URI is too long");
}

#[tokio::test]
async fn a_body_announced_over_the_limit_is_a_413_before_any_of_it_is_sent() {
    let app = TestApp::spawn().await;
    let head = format!(
        "POST /v1/persons HTTP/1.1\r\nhost: x\r\nx-api-token: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        app.token,
        10 * 1024 * 1024
    );
    // Only the head is sent: the answer must come without the body.
    let out = raw_exchange(&app, head.as_bytes(), Duration::from_secs(10)).await;
    assert!(out.starts_with("HTTP/1.1 413"), "{out}");
    assert!(
        envelope_of(&out)["error"]
            .as_str()
            .unwrap()
            .contains("too large")
    );
}
