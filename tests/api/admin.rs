//! The admin API for tests (`/_pipestack/`): off by default, admin tokens only, one company at a
//! time; reset, snapshots, the journal, faults, the clock and fixtures.

use std::sync::Arc;
use std::time::{Duration, Instant};

use pipestack::api::admin::{Config, fixtures::Fixtures};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp};

async fn spawn() -> TestApp {
    TestApp::spawn_with(|o| o.admin = Some(Config::default())).await
}

/// The ids of the company's persons, by v2's list.
async fn person_ids(app: &TestApp, token: &str) -> Vec<i64> {
    let r = app.get_as(token, "/api/v2/persons?limit=500").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.data()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect()
}

fn names(list: &Value, key: &str) -> Vec<String> {
    let mut v: Vec<String> = list
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|x| x[key].as_str().unwrap_or_default().to_owned())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn the_admin_api_is_off_by_default_with_a_hint() {
    let app = TestApp::spawn().await;
    for (method, path) in [
        (Method::GET, "/_pipestack/"),
        (Method::GET, "/_pipestack"),
        (Method::POST, "/_pipestack/reset"),
        (Method::GET, "/_pipestack/requests"),
    ] {
        let r = app.call(method, path, Some(&app.token), None).await;
        r.assert_error(404, "--admin-api");
    }
    let root = app.call(Method::GET, "/", None, None).await;
    assert_eq!(root.data()["admin_api"], Value::Null);
    // Nothing was reset.
    app.add_person_v2(json!({"name": "Kept"})).await;
    let r = app.post("/_pipestack/reset", &json!({})).await;
    r.assert_error(404, "admin API is off");
    assert_eq!(person_ids(&app, &app.token).await.len(), 1);
}

#[tokio::test]
async fn the_admin_api_takes_an_admin_token_only() {
    let app = spawn().await;
    let r = app.call(Method::GET, "/_pipestack/", None, None).await;
    r.assert_error(401, "unauthorized");
    let r = app.get_as("not-a-token", "/_pipestack/").await;
    r.assert_error(401, "unauthorized");
    let user = app.add_user("Ulla").await;
    for (method, path) in [
        (Method::GET, "/_pipestack/"),
        (Method::POST, "/_pipestack/reset"),
        (Method::GET, "/_pipestack/requests"),
        (Method::POST, "/_pipestack/snapshots"),
        (Method::PUT, "/_pipestack/clock"),
    ] {
        let r = app
            .call(method, path, Some(&user.api_token), Some(&json!({})))
            .await;
        r.assert_error(403, "admin user's API token");
    }
    let root = app.call(Method::GET, "/", None, None).await;
    assert_eq!(root.data()["admin_api"], "/_pipestack/");
    let r = app.get("/_pipestack/").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["success"], true);
    assert_eq!(r.data()["company_id"], app.company.id);
    let endpoints = r.data()["endpoints"].as_array().unwrap();
    assert!(endpoints.len() >= 15);
    assert!(
        endpoints
            .iter()
            .any(|e| e["path"] == "/_pipestack/faults/{id}")
    );
    assert_eq!(r.data()["journal"]["size"], 1000);
    assert_eq!(r.data()["clock"]["real_time"], true);
    // A wrong method is a 405 in the envelope, an unknown path a 404.
    app.delete("/_pipestack/reset")
        .await
        .assert_error(405, "Method not allowed");
    app.get("/_pipestack/nope")
        .await
        .assert_error(404, "Unknown route");
}

/// What a company's setup looks like through the API: fields, labels, pipelines, stages,
/// activity types.
async fn setup_of(app: &TestApp, token: &str) -> Value {
    let mut out = json!({});
    for path in [
        "/v1/personFields",
        "/v1/organizationFields",
        "/v1/dealFields",
        "/v1/activityTypes",
        "/api/v2/pipelines",
        "/api/v2/stages",
    ] {
        let r = app.get_as(token, path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        out[path] = json!(names(r.data(), "name"));
    }
    let labels = app.get_as(token, "/v1/personFields").await;
    let label = labels
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "label_ids" || f["key"] == "label")
        .cloned()
        .unwrap_or_default();
    out["labels"] = json!(names(&label["options"], "label"));
    out
}

#[tokio::test]
async fn reset_brings_the_company_back_to_its_first_start_and_leaves_others_alone() {
    let app = spawn().await;
    let fresh = setup_of(&app, &app.token).await;
    let (_, other) = app.other_company("Other").await;
    let theirs = app
        .post_as(
            &other.api_token,
            "/api/v2/persons",
            &json!({"name": "Theirs"}),
        )
        .await;
    assert_eq!(theirs.status, StatusCode::OK);
    let user = app.add_user("Ulla").await;

    // Data of every kind, and changes to the defaults.
    let org = app.add_org("Acme").await;
    let field = app
        .post(
            "/v1/personFields",
            &json!({"name": "Tier", "field_type": "varchar"}),
        )
        .await;
    assert!(field.status.is_success(), "{}", field.body);
    let p = app
        .add_person_v2(json!({"name": "Pat Searchable", "org_id": org, "emails": [{"value": "pat@x.example"}]}))
        .await;
    let deal = app
        .post(
            "/api/v2/deals",
            &json!({"title": "Big", "person_id": p["id"]}),
        )
        .await;
    assert!(deal.status.is_success(), "{}", deal.body);
    let act = app
        .post(
            "/api/v2/activities",
            &json!({"subject": "Call", "type": "call", "person_id": p["id"]}),
        )
        .await;
    assert!(act.status.is_success(), "{}", act.body);
    let note = app
        .post(
            "/v1/notes",
            &json!({"content": "hello", "person_id": p["id"]}),
        )
        .await;
    assert!(note.status.is_success(), "{}", note.body);
    let hook = app
        .post(
            "/v1/webhooks",
            &json!({"subscription_url": "http://127.0.0.1:9/h", "event_action": "*", "event_object": "*"}),
        )
        .await;
    assert!(hook.status.is_success(), "{}", hook.body);
    let pipeline = app
        .post("/api/v2/pipelines", &json!({"name": "Extra"}))
        .await;
    assert!(pipeline.status.is_success(), "{}", pipeline.body);
    let t = app
        .post(
            "/v1/activityTypes",
            &json!({"name": "Demo", "icon_key": "task"}),
        )
        .await;
    assert!(t.status.is_success(), "{}", t.body);
    assert_ne!(setup_of(&app, &app.token).await, fresh);
    app.put("/_pipestack/clock", &json!({"offset_seconds": 3600}))
        .await;
    app.post(
        "/_pipestack/faults",
        &json!({"path": "/v1/deals", "status": 500}),
    )
    .await;

    let r = app.post("/_pipestack/reset", &json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["success"], true);
    assert!(r.data()["took_ms"].as_f64().unwrap() >= 0.0);
    // The journal, faults and clock are cleared.
    let index = app.get("/_pipestack/").await;
    assert_eq!(index.data()["clock"]["real_time"], true);
    assert_eq!(index.data()["faults"], json!([]));
    assert_eq!(index.data()["journal"]["entries"], 0);

    assert!(person_ids(&app, &app.token).await.is_empty());
    assert_eq!(setup_of(&app, &app.token).await, fresh);
    for path in [
        "/api/v2/organizations",
        "/api/v2/deals",
        "/api/v2/activities",
        "/v1/notes",
        "/v1/webhooks",
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        assert!(
            r.data().is_null() || r.data().as_array().is_some_and(Vec::is_empty),
            "{path}: {}",
            r.body
        );
    }
    let found = app.get("/api/v2/persons/search?term=Searchable").await;
    assert_eq!(found.data()["items"], json!([]), "{}", found.body);
    assert_eq!(app.count_rows("webhook_events").await, 0);
    // Users and their tokens stay.
    assert_eq!(
        app.get_as(&user.api_token, "/v1/users/me").await.status,
        StatusCode::OK
    );
    assert_eq!(app.get("/v1/deals").await.status, StatusCode::OK);
    // The other company is untouched.
    assert_eq!(person_ids(&app, &other.api_token).await.len(), 1);
    // And the company works as new: a person, searched.
    app.add_person_v2(json!({"name": "After Reset"})).await;
    let found = app.get("/api/v2/persons/search?term=After").await;
    assert_eq!(found.data()["items"].as_array().unwrap().len(), 1);
}

/// A snapshot is refused after an upgrade that changed the data's tables (409 naming its
/// version), and restored after one that changed only an engine's own structures (migration
/// 12, SQLite's search queue).
#[tokio::test]
async fn a_snapshot_outlives_upgrades_of_an_engines_own_structures_only() {
    let app = spawn().await;
    app.add_person_v2(json!({"name": "Kept Person"})).await;
    let r = app
        .post("/_pipestack/snapshots", &json!({"name": "at-11"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    app.add_person_v2(json!({"name": "Later Person"})).await;
    let r = app
        .post("/_pipestack/snapshots/at-11/restore", &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(person_ids(&app, &app.token).await.len(), 1);

    // The same snapshot as a build before migration 11 would have saved it.
    app.execute_sql(
        "UPDATE company_snapshots SET data = replace(data, '\"schema\":11', '\"schema\":10') \
         WHERE name = 'at-11'",
    )
    .await;
    let r = app
        .post("/_pipestack/snapshots/at-11/restore", &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body["error"]
            .as_str()
            .unwrap()
            .contains("schema version 10"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn a_snapshot_puts_back_exactly_what_it_saved_and_survives_a_restart() {
    let app = spawn().await;
    let org = app.add_org("Acme").await;
    app.post(
        "/v1/personFields",
        &json!({"name": "Tier", "field_type": "varchar"}),
    )
    .await;
    let a = app
        .add_person_v2(json!({"name": "Alice Original", "org_id": org}))
        .await;
    let b = app.add_person_v2(json!({"name": "Bob Original"})).await;
    let before_persons = app.get("/api/v2/persons?limit=500").await.body;
    let before_setup = setup_of(&app, &app.token).await;

    let r = app
        .post("/_pipestack/snapshots", &json!({"name": "base-1"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.data()["name"], "base-1");
    assert!(r.data()["size_bytes"].as_i64().unwrap() > 100);

    // Changes of every sort after it.
    app.add_person_v2(json!({"name": "Carol Later"})).await;
    app.patch(
        &format!("/api/v2/persons/{}", a["id"]),
        &json!({"name": "Alice Renamed"}),
    )
    .await;
    app.delete(&format!("/api/v2/persons/{}", b["id"])).await;
    app.post(
        "/v1/personFields",
        &json!({"name": "Later", "field_type": "text"}),
    )
    .await;

    let url = app.db_url.clone();
    let token = app.token.clone();
    let _dir = app.stop().await;
    let app = TestApp::start_with(url, &token, |o| o.admin = Some(Config::default())).await;

    let r = app.get("/_pipestack/snapshots").await;
    assert_eq!(names(r.data(), "name"), ["base-1"]);
    let r = app
        .post("/_pipestack/snapshots/base-1/restore", &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.data()["restored"], true);
    assert_eq!(
        app.get("/api/v2/persons?limit=500").await.body,
        before_persons
    );
    assert_eq!(setup_of(&app, &app.token).await, before_setup);
    // The search index follows: the restored names are found, the later ones not.
    let found = app.get("/api/v2/persons/search?term=Original").await;
    assert_eq!(
        found.data()["items"].as_array().unwrap().len(),
        2,
        "{}",
        found.body
    );
    for gone in ["Later", "Renamed"] {
        let found = app
            .get(&format!("/api/v2/persons/search?term={gone}"))
            .await;
        assert_eq!(found.data()["items"], json!([]), "{gone}: {}", found.body);
    }
    // Restored twice gives the same; new writes after a restore work.
    app.post("/_pipestack/snapshots/base-1/restore", &json!({}))
        .await;
    assert_eq!(
        app.get("/api/v2/persons?limit=500").await.body,
        before_persons
    );
    app.add_person_v2(json!({"name": "Dan New"})).await;
    assert_eq!(person_ids(&app, &app.token).await.len(), 3);

    // Numbers come back exactly (SQLite's JSON prints 15 digits of a REAL; the copy keeps 17).
    let deal = app
        .post(
            "/api/v2/deals",
            &json!({"title": "Exact", "value": 1234567.1234567891}),
        )
        .await;
    let value = deal.data()["value"].clone();
    app.post("/_pipestack/snapshots", &json!({"name": "numbers"}))
        .await;
    app.delete(&format!("/api/v2/deals/{}", deal.data()["id"]))
        .await;
    app.post("/_pipestack/snapshots/numbers/restore", &json!({}))
        .await;
    let back = app
        .get(&format!("/api/v2/deals/{}", deal.data()["id"]))
        .await;
    assert_eq!(back.data()["value"], value, "{}", back.body);
    assert_eq!(value, json!(1234567.1234567891));
    app.delete("/_pipestack/snapshots/numbers").await;

    // Saving a name again replaces it; deleting it makes it unknown.
    let r = app
        .post("/_pipestack/snapshots", &json!({"name": "base-1"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(
        app.get("/_pipestack/snapshots")
            .await
            .data()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let r = app.delete("/_pipestack/snapshots/base-1").await;
    assert_eq!(r.status, StatusCode::OK);
    app.post("/_pipestack/snapshots/base-1/restore", &json!({}))
        .await
        .assert_error(404, "Snapshot \"base-1\" not found");
    app.delete("/_pipestack/snapshots/base-1")
        .await
        .assert_error(404, "not found");
}

#[tokio::test]
async fn snapshots_are_the_companys_own_and_bad_names_are_refused() {
    let app = spawn().await;
    app.add_person_v2(json!({"name": "Mine"})).await;
    app.post("/_pipestack/snapshots", &json!({"name": "s"}))
        .await;
    let (_, other) = app.other_company("Other").await;
    let r = app.get_as(&other.api_token, "/_pipestack/snapshots").await;
    assert_eq!(r.data(), &json!([]));
    let r = app
        .post_as(
            &other.api_token,
            "/_pipestack/snapshots/s/restore",
            &json!({}),
        )
        .await;
    r.assert_error(404, "not found");
    assert!(person_ids(&app, &other.api_token).await.is_empty());
    // Restoring another company's name of the same snapshot never moves data across.
    app.post_as(
        &other.api_token,
        "/_pipestack/snapshots",
        &json!({"name": "s"}),
    )
    .await;
    app.post_as(
        &other.api_token,
        "/_pipestack/snapshots/s/restore",
        &json!({}),
    )
    .await;
    assert_eq!(person_ids(&app, &app.token).await.len(), 1);
    assert!(person_ids(&app, &other.api_token).await.is_empty());

    for (body, needle) in [
        (json!({}), "name: is required"),
        (json!({"name": ""}), "name: must be 1 to 100"),
        (json!({"name": "a b"}), "name: must be"),
        (json!({"name": 5}), "name: must be a string"),
        (json!({"name": "x".repeat(101)}), "name: must be"),
        (json!({"name": "ok", "extra": 1}), "extra: is not"),
    ] {
        app.post("/_pipestack/snapshots", &body)
            .await
            .assert_error(400, needle);
    }
    let r = app
        .raw(
            Method::POST,
            "/_pipestack/snapshots",
            "application/json",
            b"{nope".to_vec(),
        )
        .await;
    r.assert_error(400, "Malformed JSON");
}

#[tokio::test]
async fn the_journal_keeps_each_companys_requests_newest_first() {
    let app = spawn().await;
    let p = app.add_person_v2(json!({"name": "Jo"})).await;
    app.get(&format!(
        "/api/v2/persons/{}?api_token={}",
        p["id"], app.token
    ))
    .await;
    app.get("/api/v2/persons/999999").await;
    let form = app
        .raw(
            Method::POST,
            "/v1/persons",
            "application/x-www-form-urlencoded",
            b"name=Form".to_vec(),
        )
        .await;
    assert_eq!(form.status, StatusCode::CREATED);
    let (_, other) = app.other_company("Other").await;
    app.get_as(&other.api_token, "/v1/persons").await;
    // Admin API requests are not journaled.
    app.get("/_pipestack/").await;

    let r = app.get("/_pipestack/requests").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let list = r.data().as_array().unwrap();
    assert_eq!(list.len(), 4, "{}", r.body);
    assert_eq!(list[0]["method"], "POST");
    assert_eq!(list[0]["path"], "/v1/persons");
    assert_eq!(list[0]["request_body"], "name=Form");
    assert_eq!(list[0]["status"], 201);
    assert_eq!(list[0]["response_body"]["data"]["name"], "Form");
    assert_eq!(list[1]["status"], 404);
    assert_eq!(list[1]["route"], "/api/v2/persons/{id}");
    assert_eq!(list[2]["query"], "api_token=REDACTED");
    assert!(!r.body.to_string().contains(&app.token), "a token leaked");
    assert_eq!(list[3]["request_body"], json!({"name": "Jo"}));
    assert_eq!(list[3]["user_id"], app.admin.id);
    assert!(list[3]["duration_ms"].as_f64().unwrap() >= 0.0);
    assert!(list[3]["time"].as_str().unwrap().ends_with('Z'));
    let ids: Vec<i64> = list.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");

    // Filters.
    let only = |q: &str| {
        let app = &app;
        let q = q.to_owned();
        async move {
            app.get(&format!("/_pipestack/requests?{q}"))
                .await
                .data()
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(only("method=post").await, 2);
    assert_eq!(only("status=404").await, 1);
    assert_eq!(only("path=/v1/").await, 1);
    assert_eq!(only("path=/api/v2/persons/").await, 2);
    assert_eq!(only("limit=1").await, 1);
    app.get("/_pipestack/requests?limit=0")
        .await
        .assert_error(400, "limit:");
    app.get("/_pipestack/requests?status=abc")
        .await
        .assert_error(400, "status");

    // The other company sees its own only; a DELETE empties this one's.
    let theirs = app.get_as(&other.api_token, "/_pipestack/requests").await;
    assert_eq!(theirs.data().as_array().unwrap().len(), 1);
    let r = app.delete("/_pipestack/requests").await;
    assert_eq!(r.data()["deleted"], 4);
    assert_eq!(only("").await, 0);
    let theirs = app.get_as(&other.api_token, "/_pipestack/requests").await;
    assert_eq!(theirs.data().as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_journal_is_a_bounded_ring_and_cuts_large_bodies() {
    let app = TestApp::spawn_with(|o| {
        o.admin = Some(Config {
            journal_size: 3,
            ..Config::default()
        })
    })
    .await;
    for n in 0..5 {
        app.add_person_v2(json!({"name": format!("P{n}")})).await;
    }
    let r = app.get("/_pipestack/requests").await;
    let list = r.data().as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[0]["request_body"]["name"], "P4");
    assert_eq!(list[2]["request_body"]["name"], "P2");
    assert_eq!(r.body["additional_data"]["journal_size"], 3);

    let big = "x".repeat(70 * 1024);
    let r = app.post("/v1/notes", &json!({"content": big})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app.get("/_pipestack/requests?limit=1").await;
    let e = &r.data()[0];
    assert_eq!(e["request_body_truncated"], true);
    assert!(e["request_body"].as_str().unwrap().len() <= 64 * 1024);
    assert_eq!(e["response_body_truncated"], false);
}

#[tokio::test]
async fn faults_answer_delay_and_drop_matching_requests_of_their_company_only() {
    let app = spawn().await;
    let p = app.add_person_v2(json!({"name": "Fay"})).await;
    let path = format!("/api/v2/persons/{}", p["id"]);

    // An answer of its own, by route pattern and method, twice.
    let r = app
        .post(
            "/_pipestack/faults",
            &json!({"method": "get", "path": "/api/v2/persons/{id}", "status": 503, "times": 2}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.data()["id"].as_u64().unwrap();
    assert_eq!(r.data()["method"], "GET");
    let (_, other) = app.other_company("Other").await;
    let theirs = app.get_as(&other.api_token, "/api/v2/persons/1").await;
    assert_ne!(theirs.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(app.get("/api/v2/persons").await.status, StatusCode::OK);
    assert_eq!(
        app.patch(&path, &json!({"name": "Fay 2"})).await.status,
        StatusCode::OK
    );
    for _ in 0..2 {
        let r = app.get(&path).await;
        r.assert_error(503, &format!("Injected fault {id}"));
        assert_eq!(r.headers["x-pipestack-fault"], id.to_string().as_str());
        assert_eq!(r.headers["retry-after"], "1");
    }
    assert_eq!(app.get(&path).await.status, StatusCode::OK);
    assert_eq!(app.get("/_pipestack/faults").await.data(), &json!([]));
    let journal = app.get("/_pipestack/requests?status=503").await;
    assert_eq!(journal.data().as_array().unwrap().len(), 2);
    assert_eq!(journal.data()[0]["fault_id"], id);

    // A body of its own, on an exact path.
    app.post(
        "/_pipestack/faults",
        &json!({"path": "/v1/persons", "method": "POST", "status": 429, "body": {"success": false, "error": "Slow down"}}),
    )
    .await;
    let r = app.post("/v1/persons", &json!({"name": "No"})).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.body, json!({"success": false, "error": "Slow down"}));
    assert_eq!(
        person_ids(&app, &app.token).await.len(),
        1,
        "nothing stored"
    );
    let r = app.delete("/_pipestack/faults").await;
    assert_eq!(r.data()["deleted"], 1);

    // A delay, then the usual answer.
    app.post(
        "/_pipestack/faults",
        &json!({"path": path, "delay_ms": 300, "times": 1}),
    )
    .await;
    let start = Instant::now();
    let r = app.get(&path).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(start.elapsed() >= Duration::from_millis(300));

    // A dropped connection: the client gets no answer at all.
    app.post(
        "/_pipestack/faults",
        &json!({"path": path, "close_connection": true, "times": 1}),
    )
    .await;
    let sent = reqwest::Client::new()
        .get(format!("{}{path}", app.base))
        .header("x-api-token", &app.token)
        .send()
        .await;
    assert!(sent.is_err(), "{sent:?}");
    let e = app.get("/_pipestack/requests?limit=1").await;
    assert_eq!(e.data()[0]["status"], Value::Null);
    assert_eq!(app.get(&path).await.status, StatusCode::OK);

    // Probability 0 never fires; a fault is deleted by id.
    let r = app
        .post(
            "/_pipestack/faults",
            &json!({"path": path, "status": 500, "probability": 0}),
        )
        .await;
    let id = r.data()["id"].as_u64().unwrap();
    for _ in 0..5 {
        assert_eq!(app.get(&path).await.status, StatusCode::OK);
    }
    assert_eq!(app.get("/_pipestack/faults").await.data()[0]["hits"], 0);
    let r = app.delete(&format!("/_pipestack/faults/{id}")).await;
    assert_eq!(r.status, StatusCode::OK);
    app.delete(&format!("/_pipestack/faults/{id}"))
        .await
        .assert_error(404, "not found");
    app.delete("/_pipestack/faults/abc")
        .await
        .assert_error(400, "id:");

    // Bad faults name their field.
    for (body, needle) in [
        (json!({"status": 500}), "path: is required"),
        (json!({"path": "/x", "status": 700}), "status:"),
        (json!({"path": "/x"}), "must do something"),
        (json!({"path": "/x", "status": 500, "times": 0}), "times:"),
        (json!([1]), "expected a JSON object"),
    ] {
        app.post("/_pipestack/faults", &body)
            .await
            .assert_error(400, needle);
    }
}

#[tokio::test]
async fn the_clock_moves_a_companys_stamps_and_nothing_else() {
    let app = spawn().await;
    let (_, other) = app.other_company("Other").await;
    let r = app
        .put(
            "/_pipestack/clock",
            &json!({"time": "2020-02-03T04:05:06Z", "frozen": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.data()["now"], "2020-02-03T04:05:06.000Z");
    assert_eq!(r.data()["frozen"], true);
    let p = app.add_person_v2(json!({"name": "Then"})).await;
    assert_eq!(p["add_time"], "2020-02-03T04:05:06Z");
    let v1 = app.add_person(json!({"name": "Then v1"})).await;
    assert_eq!(v1["add_time"], "2020-02-03 04:05:06");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let u = app
        .patch(
            &format!("/api/v2/persons/{}", p["id"]),
            &json!({"name": "Then 2"}),
        )
        .await;
    assert_eq!(u.data()["update_time"], "2020-02-03T04:05:06Z", "frozen");
    let d = app
        .post("/api/v2/deals", &json!({"title": "Old deal"}))
        .await;
    assert_eq!(d.data()["add_time"], "2020-02-03T04:05:06Z");
    let theirs = app
        .post_as(&other.api_token, "/api/v2/persons", &json!({"name": "Now"}))
        .await;
    assert!(theirs.data()["add_time"].as_str().unwrap() > "2026");

    // An offset moves real time; GET shows it; DELETE brings it back.
    let r = app
        .put(
            "/_pipestack/clock",
            &json!({"offset_seconds": -86400 * 365}),
        )
        .await;
    assert_eq!(r.data()["frozen"], false);
    let p = app.add_person_v2(json!({"name": "Last year"})).await;
    let year_ago = time::OffsetDateTime::now_utc() - time::Duration::days(365);
    assert!(
        p["add_time"]
            .as_str()
            .unwrap()
            .starts_with(&year_ago.year().to_string()),
        "{}",
        p["add_time"]
    );
    assert_eq!(
        app.get("/_pipestack/clock").await.data()["offset_seconds"],
        -31536000.0
    );
    let r = app.delete("/_pipestack/clock").await;
    assert_eq!(r.data()["real_time"], true);
    let p = app.add_person_v2(json!({"name": "Now"})).await;
    let this_year = time::OffsetDateTime::now_utc().year().to_string();
    assert!(p["add_time"].as_str().unwrap().starts_with(&this_year));

    for (body, needle) in [
        (json!({}), "Give time"),
        (json!({"time": "yesterday"}), "time: must be an RFC 3339"),
        (json!({"time": 5}), "time: must be an RFC 3339 string"),
        (
            json!({"time": "2020-01-01T00:00:00Z", "offset_seconds": 1}),
            "not both",
        ),
        (json!({"offset_seconds": "1"}), "offset_seconds:"),
        (json!({"offset_seconds": 1e12}), "offset_seconds:"),
        (json!({"offset_seconds": 1, "frozen": "yes"}), "frozen:"),
        (json!({"offset_seconds": 1, "speed": 2}), "speed: is not"),
    ] {
        app.put("/_pipestack/clock", &body)
            .await
            .assert_error(400, needle);
    }
}

#[tokio::test]
async fn fixtures_are_applied_at_reset_with_references_resolved() {
    let text = json!({
        "users": [{"$id": "ann", "name": "Ann", "email": "ann@fixture.example", "api_token": "ann-fixture-token"}],
        "person_fields": [{"$id": "tier", "field_name": "Tier", "field_type": "varchar"}],
        "organizations": [{"$id": "acme", "name": "Acme", "owner_id": "$ann"}],
        "persons": [{"$id": "bob", "name": "Bob", "org_id": "$acme", "custom_fields": {"$tier": "Gold"}}],
        "deals": [{"title": "Big", "person_id": "$bob", "org_id": "$acme"}],
        "activities": [{"subject": "Call Bob", "type": "call", "person_id": "$bob"}],
        "notes": [{"content": "Met Bob", "person_id": "$bob"}]
    })
    .to_string();
    let fixtures = Arc::new(Fixtures::parse("fixtures.json", &text).unwrap());
    let app = TestApp::spawn_with(|o| {
        o.admin = Some(Config {
            fixtures: Some(fixtures),
            ..Config::default()
        })
    })
    .await;
    app.add_person_v2(json!({"name": "Before"})).await;
    let r = app.post("/_pipestack/reset", &json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.data()["fixtures"]["persons"], 1);
    // Twice: the user is found again, not added twice.
    let r = app.post("/_pipestack/reset", &json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let persons = app.get("/api/v2/persons").await;
    let bob = &persons.data()[0];
    assert_eq!(persons.data().as_array().unwrap().len(), 1);
    assert_eq!(bob["name"], "Bob");
    let orgs = app.get("/api/v2/organizations").await;
    assert_eq!(bob["org_id"], orgs.data()[0]["id"]);
    let ann = app.get_as("ann-fixture-token", "/v1/users/me").await;
    assert_eq!(ann.status, StatusCode::OK, "{}", ann.body);
    assert_eq!(orgs.data()[0]["owner_id"], ann.data()["id"]);
    let users = app.get("/v1/users").await;
    assert_eq!(users.data().as_array().unwrap().len(), 2, "{}", users.body);
    let fields = app.get("/api/v2/personFields").await;
    let tier = fields
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field_name"] == "Tier")
        .unwrap();
    let code = tier["field_code"].as_str().unwrap();
    assert_eq!(bob["custom_fields"][code], "Gold");
    let deals = app.get("/api/v2/deals").await;
    assert_eq!(deals.data()[0]["person_id"], bob["id"]);
    let acts = app.get("/api/v2/activities").await;
    assert_eq!(acts.data()[0]["person_id"], bob["id"]);
    let notes = app.get("/v1/notes").await;
    assert_eq!(notes.data()[0]["content"], "Met Bob");

    // Another company's reset gets no fixtures.
    let (_, other) = app.other_company("Other").await;
    let r = app
        .post_as(&other.api_token, "/_pipestack/reset", &json!({}))
        .await;
    assert_eq!(r.data()["fixtures"], Value::Null);
    assert!(person_ids(&app, &other.api_token).await.is_empty());
}

#[tokio::test]
async fn a_fixture_the_api_refuses_is_named_in_the_answer() {
    let text =
        json!({"persons": [{"name": "Ok"}, {"name": "Bad", "emails": "not-a-list"}]}).to_string();
    let fixtures = Arc::new(Fixtures::parse("f.json", &text).unwrap());
    let app = TestApp::spawn_with(|o| {
        o.admin = Some(Config {
            fixtures: Some(fixtures),
            ..Config::default()
        })
    })
    .await;
    let r = app.post("/_pipestack/reset", &json!({})).await;
    r.assert_error(400, "fixtures: persons[1]: emails");
    let text = json!({"persons": [{"org_id": "$nobody", "name": "X"}]}).to_string();
    let fixtures = Arc::new(Fixtures::parse("f.json", &text).unwrap());
    let app = TestApp::spawn_with(|o| {
        o.admin = Some(Config {
            fixtures: Some(fixtures),
            ..Config::default()
        })
    })
    .await;
    let r = app.post("/_pipestack/reset", &json!({})).await;
    r.assert_error(
        400,
        "fixtures: persons[0]: no earlier object has \"$id\": \"nobody\"",
    );
}

#[tokio::test]
async fn requests_no_route_takes_are_journaled_and_faultable_too() {
    let app = spawn().await;
    app.get("/api/v2/nothing")
        .await
        .assert_error(404, "Unknown route");
    app.put("/api/v2/persons", &json!({}))
        .await
        .assert_error(405, "Method not allowed");
    // Without a valid token nothing is journaled (no company to journal it for).
    app.get_as("wrong-token", "/api/v2/nothing").await;
    let r = app.get("/_pipestack/requests").await;
    let list = r.data().as_array().unwrap();
    assert_eq!(list.len(), 2, "{}", r.body);
    assert_eq!(list[0]["method"], "PUT");
    assert_eq!(list[0]["status"], 405);
    assert_eq!(list[1]["path"], "/api/v2/nothing");
    assert_eq!(list[1]["status"], 404);

    app.post(
        "/_pipestack/faults",
        &json!({"path": "/api/v2/nothing", "status": 503}),
    )
    .await;
    app.get("/api/v2/nothing")
        .await
        .assert_error(503, "Injected fault");
    app.delete("/_pipestack/faults").await;

    // A delay marks the usual answer; a text body is sent as text.
    let r = app
        .post(
            "/_pipestack/faults",
            &json!({"path": "/v1/users/me", "delay_ms": 1}),
        )
        .await;
    let id = r.data()["id"].as_u64().unwrap();
    let me = app.get("/v1/users/me").await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.headers["x-pipestack-fault"], id.to_string().as_str());
    app.post(
        "/_pipestack/faults",
        &json!({"path": "/v1/persons", "status": 502, "body": "Bad gateway"}),
    )
    .await;
    let raw = reqwest::Client::new()
        .get(format!("{}/v1/persons", app.base))
        .header("x-api-token", &app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), StatusCode::BAD_GATEWAY);
    assert!(
        raw.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(raw.text().await.unwrap(), "Bad gateway");

    for (body, needle) in [
        (
            json!({"path": "/x", "status": 500, "method": "FOO"}),
            "method: must be one of",
        ),
        (
            json!({"path": "/_pipestack/reset", "status": 500}),
            "path: the admin API itself",
        ),
    ] {
        app.post("/_pipestack/faults", &body)
            .await
            .assert_error(400, needle);
    }
}

#[tokio::test]
async fn tokens_are_redacted_wherever_the_journal_would_show_them() {
    let app = spawn().await;
    app.get(&format!("/v1/persons?api%5Ftoken={}", app.token))
        .await;
    app.get(&format!("/v1/persons?API_TOKEN={}", app.token))
        .await;
    app.raw(
        Method::POST,
        "/v1/persons",
        "application/x-www-form-urlencoded",
        format!("name=Form&api_token={}", app.token).into_bytes(),
    )
    .await;
    app.post(
        "/api/v2/persons",
        &json!({"name": "J", "api_token": app.token}),
    )
    .await;
    let r = app.get("/_pipestack/requests").await;
    assert!(!r.body.to_string().contains(&app.token), "{}", r.body);
    assert_eq!(r.data()[2]["query"], "API_TOKEN=REDACTED");
    assert_eq!(r.data()[3]["query"], "api%5Ftoken=REDACTED");
    assert_eq!(r.data()[1]["request_body"], "name=Form&api_token=REDACTED");
    assert_eq!(r.data()[0]["request_body"]["api_token"], "REDACTED");
}

#[tokio::test]
async fn the_clock_stays_within_the_years_pipedrive_can_write() {
    let app = spawn().await;
    for (body, needle) in [
        (
            json!({"time": "1969-12-31T23:59:59Z"}),
            "time: must bring the clock between 1970 and 9999",
        ),
        (
            json!({"offset_seconds": -3_000_000_000i64}),
            "offset_seconds: must bring",
        ),
        (
            json!({"offset_seconds": "5"}),
            "offset_seconds: must be a number",
        ),
    ] {
        app.put("/_pipestack/clock", &body)
            .await
            .assert_error(400, needle);
    }
    // A clock running at the last second of 9999 stops there instead of wrapping to 1970.
    let r = app
        .put(
            "/_pipestack/clock",
            &json!({"time": "9999-12-31T23:59:59Z"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let now = app.get("/_pipestack/clock").await;
    assert_eq!(now.data()["now"], "9999-12-31T23:59:59.999Z");
    let p = app.add_person_v2(json!({"name": "Late"})).await;
    assert_eq!(p["add_time"], "9999-12-31T23:59:59Z");
    for name in [".", "..", "-x"] {
        app.post("/_pipestack/snapshots", &json!({"name": name}))
            .await
            .assert_error(400, "starting with a letter or digit");
    }
}

/// The company's counts of what a reset or a restore rewrites, through the API.
async fn counts(app: &TestApp) -> (usize, usize, usize) {
    let len = |r: crate::helpers::Resp| r.data().as_array().map_or(0, Vec::len);
    (
        len(app.get("/api/v2/persons?limit=500").await),
        len(app.get("/api/v2/pipelines").await),
        len(app.get("/v1/activityTypes").await),
    )
}

fn both_ok(a: &Resp, b: &Resp, round: usize) {
    assert_eq!(
        (a.status, b.status),
        (StatusCode::OK, StatusCode::OK),
        "round {round}: {} {}",
        a.body,
        b.body
    );
}

#[tokio::test]
async fn resets_and_restores_released_together_follow_each_other() {
    let app = spawn().await;
    for n in 0..3 {
        app.add_person_v2(json!({"name": format!("Saved {n}")}))
            .await;
    }
    app.post("/_pipestack/snapshots", &json!({"name": "three"}))
        .await;
    let saved = counts(&app).await;
    assert_eq!(saved, (3, 1, 6));
    let restore = || {
        (
            Method::POST,
            "/_pipestack/snapshots/three/restore".to_owned(),
            Some(json!({})),
        )
    };
    let reset = || {
        (
            Method::POST,
            "/_pipestack/reset".to_owned(),
            Some(json!({})),
        )
    };
    for round in 0..10 {
        // Two restores: the data once, never twice (no duplicate key, no second pipeline).
        let (a, b) = app.race(restore(), restore()).await;
        both_ok(&a, &b, round);
        assert_eq!(counts(&app).await, saved, "round {round}");
        // Two resets: the defaults once.
        let (a, b) = app.race(reset(), reset()).await;
        both_ok(&a, &b, round);
        assert_eq!(counts(&app).await, (0, 1, 6), "round {round}");
        // A reset and a restore: one of the two states, whole.
        let (a, b) = app.race(reset(), restore()).await;
        both_ok(&a, &b, round);
        let now = counts(&app).await;
        assert!(now == saved || now == (0, 1, 6), "round {round}: {now:?}");
    }
}

#[tokio::test]
async fn admin_bodies_over_the_limit_or_of_the_wrong_shape_get_the_envelope() {
    let app = TestApp::spawn_with(|o| {
        o.admin = Some(Config::default());
        o.limits.max_body_bytes = 1024;
    })
    .await;
    let big = json!({"name": "x".repeat(2048)});
    for path in ["/_pipestack/snapshots", "/_pipestack/faults"] {
        app.post(path, &big)
            .await
            .assert_error(413, "Request body is too large");
    }
    app.put("/_pipestack/clock", &big)
        .await
        .assert_error(413, "Request body is too large");
    app.put("/_pipestack/clock", &json!([1]))
        .await
        .assert_error(400, "Send");
    app.post("/_pipestack/snapshots", &json!("base"))
        .await
        .assert_error(400, "name: is required");
    app.delete("/_pipestack/faults/99")
        .await
        .assert_error(404, "Fault 99 not found");
    app.delete("/_pipestack/snapshots/nope")
        .await
        .assert_error(404, "not found");
}
