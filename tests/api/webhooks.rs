//! Webhooks: the `/v1/webhooks` API, and events delivered to a real receiver on 127.0.0.1:0
//! in both payload versions, with retries, bans, permissions and order.

use std::collections::BTreeMap;
use std::time::Duration;

use pipestack::webhooks::Allow;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::receiver::Receiver;

const WAIT: Duration = Duration::from_secs(20);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A server whose retries come after 50, 100 and 150 ms and whose dispatcher looks at the
/// outbox every 20 ms.
async fn spawn() -> TestApp {
    TestApp::spawn_with(|o| {
        o.webhooks.retry_delays = vec![ms(50), ms(100), ms(150)];
        o.webhooks.poll = ms(20);
    })
    .await
}

/// Subscribes `url` to `action.object` in `version`; the webhook's id.
async fn subscribe(app: &TestApp, url: &str, action: &str, object: &str, version: &str) -> i64 {
    let r = app
        .post(
            "/v1/webhooks",
            &json!({"subscription_url": url, "event_action": action, "event_object": object,
                    "version": version, "name": format!("{action}.{object}")}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.data()["id"].as_i64().unwrap()
}

fn id(v: &Value) -> i64 {
    v["data"]["id"].as_i64().unwrap()
}

#[tokio::test]
async fn add_webhook_answers_201_in_pipedrives_shape_with_version_2_by_default() {
    let app = spawn().await;
    let r = app
        .post(
            "/v1/webhooks",
            &json!({"subscription_url": "https://example.org/hook", "event_action": "create",
                    "event_object": "person", "http_auth_user": "u",
                    "http_auth_password": "secret"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["status"], "ok");
    assert_eq!(r.body["success"], true);
    let w = r.data();
    let keys: Vec<&str> = w.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "id",
            "company_id",
            "owner_id",
            "user_id",
            "event_action",
            "event_object",
            "subscription_url",
            "version",
            "is_active",
            "add_time",
            "remove_time",
            "type",
            "http_auth_user",
            "http_auth_password",
            "remove_reason",
            "last_delivery_time",
            "last_http_status",
            "admin_id",
            "name"
        ]
    );
    assert_eq!(w["version"], "2.0");
    assert_eq!(w["is_active"], 1);
    assert_eq!(w["user_id"], app.admin.id);
    assert_eq!(w["owner_id"], app.admin.id);
    assert_eq!(w["type"], "general");
    assert_eq!(
        w["name"], "create.person",
        "a missing name defaults to the event"
    );
    assert_eq!(
        w["http_auth_password"], "********",
        "a password is not shown again"
    );
    assert!(w["add_time"].as_str().unwrap().ends_with('Z'));
    let list = app.get("/v1/webhooks").await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body["status"], "ok");
    assert_eq!(list.data().as_array().unwrap().len(), 1);
    assert_eq!(list.data()[0], *w);
}

#[tokio::test]
async fn add_webhook_refuses_bad_bodies_naming_the_field() {
    let app = spawn().await;
    let url = "http://127.0.0.1:9/hook";
    let cases = [
        (
            json!({"event_action": "*", "event_object": "*"}),
            "subscription_url",
        ),
        (
            json!({"subscription_url": "ftp://x/y", "event_action": "*", "event_object": "*"}),
            "subscription_url",
        ),
        (
            json!({"subscription_url": "http://", "event_action": "*", "event_object": "*"}),
            "subscription_url",
        ),
        (
            json!({"subscription_url": url, "event_object": "*"}),
            "event_action",
        ),
        (
            json!({"subscription_url": url, "event_action": "updated", "event_object": "*"}),
            "event_action",
        ),
        (
            json!({"subscription_url": url, "event_action": "added", "event_object": "*",
                   "version": "2.0"}),
            "event_action",
        ),
        (
            json!({"subscription_url": url, "event_action": "*", "event_object": "persons"}),
            "event_object",
        ),
        (
            json!({"subscription_url": url, "event_action": "*", "event_object": "activityType"}),
            "event_object",
        ),
        (
            json!({"subscription_url": url, "event_action": "*", "event_object": "*",
                   "version": "3.0"}),
            "version",
        ),
        (
            json!({"subscription_url": url, "event_action": "*", "event_object": "*",
                   "user_id": 999_999}),
            "user_id",
        ),
        (
            json!({"subscription_url": url, "event_action": "*", "event_object": "*",
                   "colour": "red"}),
            "colour",
        ),
        (
            json!({"subscription_url": 5, "event_action": "*", "event_object": "*"}),
            "subscription_url",
        ),
    ];
    for (body, field) in cases {
        let r = app.post("/v1/webhooks", &body).await;
        r.assert_error(400, field);
        assert_eq!(r.body["status"], "error", "{body}: {}", r.body);
    }
    let r = app
        .post(
            "/v1/webhooks",
            &json!({"subscription_url": "ftp://x", "event_action": "*", "event_object": "*"}),
        )
        .await;
    assert_eq!(
        r.body["errors"],
        json!({"subscription_url": ["invalid or non-reachable URL"]})
    );
    assert_eq!(app.get("/v1/webhooks").await.data(), &json!([]));
}

#[tokio::test]
async fn a_user_may_have_40_webhooks_and_the_41st_is_refused_with_422() {
    let app = spawn().await;
    for _ in 0..40 {
        subscribe(&app, "http://127.0.0.1:9/h", "*", "*", "2.0").await;
    }
    let r = app
        .post(
            "/v1/webhooks",
            &json!({"subscription_url": "http://127.0.0.1:9/h", "event_action": "*",
                    "event_object": "*"}),
        )
        .await;
    r.assert_error(422, "Webhooks limit reached");
    assert_eq!(
        r.body["errors"],
        json!({"subscription_url": ["Webhooks limit reached"]})
    );
    // The limit is per user: another user still may.
    let user = app.add_user("Una").await;
    let r = app
        .post_as(
            &user.api_token,
            "/v1/webhooks",
            &json!({"subscription_url": "http://127.0.0.1:9/h", "event_action": "*",
                    "event_object": "*"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

#[tokio::test]
async fn users_manage_their_own_webhooks_and_admins_every_one_of_the_company() {
    let app = spawn().await;
    let una = app.add_user("Una").await;
    let body = |user_id: Option<i64>| {
        let mut b = json!({"subscription_url": "http://127.0.0.1:9/h", "event_action": "*",
                           "event_object": "*"});
        if let Some(u) = user_id {
            b["user_id"] = json!(u);
        }
        b
    };
    // A user may not subscribe in another's name; an admin may.
    let r = app
        .post_as(&una.api_token, "/v1/webhooks", &body(Some(app.admin.id)))
        .await;
    r.assert_error(403, "admins");
    let for_una = app.post("/v1/webhooks", &body(Some(una.user.id))).await;
    assert_eq!(for_una.status, 201, "{}", for_una.body);
    assert_eq!(for_una.data()["user_id"], una.user.id);
    let admins = id(&app.post("/v1/webhooks", &body(None)).await.body);
    // Una sees the one for her, the admin both.
    let mine = app.get_as(&una.api_token, "/v1/webhooks").await;
    assert_eq!(mine.data().as_array().unwrap().len(), 1);
    assert_eq!(
        app.get("/v1/webhooks")
            .await
            .data()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Una may not delete the admin's.
    let r = app
        .call(
            reqwest::Method::DELETE,
            &format!("/v1/webhooks/{admins}"),
            Some(&una.api_token),
            None,
        )
        .await;
    r.assert_error(403, "Forbidden");
    assert_eq!(r.body["message"], "Forbidden");
    // Deleting: ok without data; again: 404 naming the id.
    let r = app.delete(&format!("/v1/webhooks/{admins}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, json!({"status": "ok", "success": true}));
    let r = app.delete(&format!("/v1/webhooks/{admins}")).await;
    r.assert_error(404, "not found");
    assert_eq!(r.body["errors"], json!({"id": ["not found"]}));
    // Another company's token does not see this company's webhooks.
    let (_, other) = app.other_company("Other").await;
    assert_eq!(
        app.get_as(&other.api_token, "/v1/webhooks").await.data(),
        &json!([])
    );
    let una_hook = id(&for_una.body);
    let r = app
        .get_as(
            &other.api_token,
            &format!("/v1/webhooks/{una_hook}/deliveries"),
        )
        .await;
    r.assert_error(404, "not found");
}

#[tokio::test]
async fn a_webhook_target_outside_webhook_allow_is_refused() {
    let app = TestApp::spawn_with(|o| o.webhooks.allow = Allow::parse("10.0.0.0/8").unwrap()).await;
    let r = app
        .post(
            "/v1/webhooks",
            &json!({"subscription_url": "http://127.0.0.1:8080/internal", "event_action": "*",
                    "event_object": "*"}),
        )
        .await;
    r.assert_error(400, "subscription_url: 127.0.0.1 is not in --webhook-allow");
    let r = app
        .post(
            "/v1/webhooks",
            &json!({"subscription_url": "http://10.1.2.3/hook", "event_action": "*",
                    "event_object": "*"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

/// Does one of everything to every object: the events, per object, each version's webhook
/// must get, in order.
async fn every_action(app: &TestApp) -> Ids {
    let org = id(&app
        .post("/api/v2/organizations", &json!({"name": "Acme"}))
        .await
        .body);
    let ann = id(&app
        .post(
            "/api/v2/persons",
            &json!({"name": "Ann Lee", "org_id": org}),
        )
        .await
        .body);
    let bob = id(&app
        .post("/api/v2/persons", &json!({"name": "Bob"}))
        .await
        .body);
    let r = app
        .patch(
            &format!("/api/v2/persons/{ann}"),
            &json!({"name": "Ann Smith"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.patch(
        &format!("/api/v2/organizations/{org}"),
        &json!({"name": "Acme Inc"}),
    )
    .await;
    let deal = id(&app
        .post("/api/v2/deals", &json!({"title": "Big", "person_id": ann}))
        .await
        .body);
    app.patch(&format!("/api/v2/deals/{deal}"), &json!({"value": 100}))
        .await;
    let activity = id(&app
        .post(
            "/api/v2/activities",
            &json!({"subject": "Call Ann", "participants": [{"person_id": ann, "primary": true}]}),
        )
        .await
        .body);
    app.patch(
        &format!("/api/v2/activities/{activity}"),
        &json!({"done": true}),
    )
    .await;
    let note = id(&app
        .post("/v1/notes", &json!({"content": "hi", "person_id": ann}))
        .await
        .body);
    app.put(&format!("/v1/notes/{note}"), &json!({"content": "hello"}))
        .await;
    let r = app
        .put(
            &format!("/v1/persons/{bob}/merge"),
            &json!({"merge_with_id": ann}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    for path in [
        format!("/v1/notes/{note}"),
        format!("/api/v2/activities/{activity}"),
        format!("/api/v2/deals/{deal}"),
        format!("/api/v2/persons/{ann}"),
        format!("/api/v2/organizations/{org}"),
    ] {
        let r = app.delete(&path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
    }
    Ids {
        org,
        ann,
        bob,
        deal,
        activity,
        note,
    }
}

/// What [`every_action`] made.
struct Ids {
    org: i64,
    ann: i64,
    bob: i64,
    deal: i64,
    activity: i64,
    note: i64,
}

/// How many events [`every_action`] makes.
const EVENTS: usize = 18;

/// The actions each object got, in order of arrival.
fn by_object(
    events: &[Value],
    entity: &str,
    id_key: &str,
    action: &str,
) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in events {
        let meta = &e["meta"];
        out.entry(format!(
            "{}:{}",
            meta[entity].as_str().unwrap(),
            meta[id_key]
        ))
        .or_default()
        .push(meta[action].as_str().unwrap().to_owned());
    }
    out
}

#[tokio::test]
async fn every_action_of_every_object_arrives_once_in_v2_with_the_documented_payload() {
    let app = spawn().await;
    let rx = Receiver::start().await;
    let hook = subscribe(&app, &format!("{}/v2", rx.url), "*", "*", "2.0").await;
    let Ids {
        org,
        ann,
        bob,
        deal,
        activity,
        note,
    } = every_action(&app).await;
    let n = EVENTS;
    let events = rx.wait_for("/v2", n, WAIT).await;
    assert_eq!(events.len(), n, "each event once: {events:#?}");
    let s = |id: i64| format!("\"{id}\"");
    let expected: BTreeMap<String, Vec<String>> = [
        (
            format!("organization:{}", s(org)),
            vec!["create", "change", "delete"],
        ),
        (
            format!("person:{}", s(ann)),
            vec!["create", "change", "change", "delete"],
        ),
        (format!("person:{}", s(bob)), vec!["create", "delete"]),
        (
            format!("deal:{}", s(deal)),
            vec!["create", "change", "delete"],
        ),
        (
            format!("activity:{}", s(activity)),
            vec!["create", "change", "delete"],
        ),
        (
            format!("note:{}", s(note)),
            vec!["create", "change", "delete"],
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(
        by_object(&events, "entity", "entity_id", "action"),
        expected
    );

    let find = |entity: &str, id: i64, action: &str| -> Vec<&Value> {
        events
            .iter()
            .filter(|e| {
                e["meta"]["entity"] == entity
                    && e["meta"]["entity_id"] == json!(id.to_string())
                    && e["meta"]["action"] == action
            })
            .collect()
    };
    // The meta block, as documented (ids as strings).
    let created = find("person", ann, "create")[0];
    let meta = &created["meta"];
    for key in [
        "action",
        "entity",
        "company_id",
        "correlation_id",
        "entity_id",
        "id",
        "is_bulk_edit",
        "timestamp",
        "type",
        "user_id",
        "version",
        "webhook_id",
        "webhook_owner_id",
        "change_source",
        "attempt",
        "host",
        "permitted_user_ids",
    ] {
        assert!(meta.get(key).is_some(), "meta lacks {key}: {meta}");
    }
    assert_eq!(meta["version"], "2.0");
    assert_eq!(meta["attempt"], 1);
    assert_eq!(meta["webhook_id"], hook.to_string());
    assert_eq!(meta["company_id"], app.company.id.to_string());
    assert_eq!(meta["user_id"], app.admin.id.to_string());
    assert_eq!(meta["change_source"], "api");
    assert_eq!(
        meta["permitted_user_ids"],
        json!([app.admin.id.to_string()])
    );
    let ts = meta["timestamp"].as_str().unwrap();
    assert!(ts.ends_with('Z') && ts.len() == 24, "{ts}");
    // The person in v2 webhooks' own shape.
    let data = &created["data"];
    assert_eq!(created["previous"], Value::Null);
    assert_eq!(data["name"], "Ann Lee");
    assert_eq!(data["org_id"], org);
    assert_eq!(
        data["visible_to"], "3",
        "visible_to is a string in webhooks"
    );
    assert_eq!(data["label"], Value::Null);
    assert_eq!(data["custom_fields"], json!({}));
    assert!(data.get("is_deleted").is_none() && data.get("marketing_status").is_none());
    // A change: `previous` holds only what changed.
    let changed = find("person", ann, "change");
    let renamed = changed
        .iter()
        .find(|e| e["meta"].get("merged_from_id").is_none())
        .unwrap();
    assert_eq!(renamed["data"]["name"], "Ann Smith");
    let previous = renamed["previous"].as_object().unwrap();
    assert_eq!(previous["name"], "Ann Lee");
    assert_eq!(previous["last_name"], "Lee");
    assert!(
        !previous.contains_key("first_name"),
        "unchanged keys are left out"
    );
    // A merge: a delete naming the person kept, a change naming the one merged.
    let merged = changed
        .iter()
        .find(|e| e["meta"].get("merged_from_id").is_some())
        .unwrap();
    assert_eq!(merged["meta"]["merged_from_id"], bob.to_string());
    let gone = find("person", bob, "delete")[0];
    assert_eq!(gone["meta"]["merged_to_id"], ann.to_string());
    assert_eq!(gone["data"], Value::Null);
    assert_eq!(gone["previous"]["name"], "Bob");
    // A delete: no data, the last state in previous.
    let deleted = find("note", note, "delete")[0];
    assert_eq!(deleted["data"], Value::Null);
    assert_eq!(deleted["previous"]["content"], "hello");
    assert_eq!(deleted["previous"]["active_flag"], false);
    // The other objects' shapes.
    let d = &find("deal", deal, "create")[0]["data"];
    assert_eq!(
        (d["title"].as_str(), d["person_id"].as_i64()),
        (Some("Big"), Some(ann))
    );
    assert_eq!(d["status"], "open");
    assert_eq!(find("deal", deal, "change")[0]["previous"]["value"], 0);
    let a = &find("activity", activity, "change")[0];
    assert_eq!(a["data"]["done"], true);
    assert_eq!(a["previous"]["done"], false);
    assert_eq!(
        find("organization", org, "change")[0]["previous"]["name"],
        "Acme"
    );
    // Every request: JSON, Pipedrive's user agent, no auth when none is set.
    for r in rx.received() {
        assert_eq!(r.headers["content-type"], "application/json");
        assert_eq!(r.headers["user-agent"], "Pipedrive-Webhook");
        assert!(r.headers.get("authorization").is_none());
    }
    // Delivered events leave nothing behind in the outbox.
    emptied(&app, "webhook_events").await;
    emptied(&app, "webhook_deliveries").await;
}

/// Waits until a table is empty (the dispatcher records an attempt after its receiver
/// answered).
async fn emptied(app: &TestApp, table: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while app.count_rows(table).await > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{table} never emptied"
        );
        tokio::time::sleep(ms(20)).await;
    }
}

#[tokio::test]
async fn every_action_of_every_object_arrives_once_in_v1_with_the_documented_payload() {
    let app = spawn().await;
    let rx = Receiver::start().await;
    let r = app
        .post(
            "/v1/webhooks",
            &json!({"subscription_url": format!("{}/v1", rx.url), "event_action": "*",
                    "event_object": "*", "version": "1.0", "http_auth_user": "hook",
                    "http_auth_password": "s3cret"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let Ids {
        org,
        ann,
        bob,
        deal,
        activity,
        note,
    } = every_action(&app).await;
    let n = EVENTS;
    let events = rx.wait_for("/v1", n, WAIT).await;
    assert_eq!(events.len(), n, "each event once: {events:#?}");
    let expected: BTreeMap<String, Vec<String>> = [
        (
            format!("organization:{org}"),
            vec!["added", "updated", "deleted"],
        ),
        (
            format!("person:{ann}"),
            vec!["added", "updated", "merged", "deleted"],
        ),
        (format!("person:{bob}"), vec!["added", "deleted"]),
        (format!("deal:{deal}"), vec!["added", "updated", "deleted"]),
        (
            format!("activity:{activity}"),
            vec!["added", "updated", "deleted"],
        ),
        (format!("note:{note}"), vec!["added", "updated", "deleted"]),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(by_object(&events, "object", "id", "action"), expected);
    for e in &events {
        let meta = &e["meta"];
        assert_eq!(e["v"], 1);
        assert_eq!(meta["v"], 1);
        assert_eq!(e["retry"], 0);
        assert_eq!(
            e["event"],
            format!(
                "{}.{}",
                meta["action"].as_str().unwrap(),
                meta["object"].as_str().unwrap()
            )
        );
        assert!(meta["timestamp"].is_i64() && meta["timestamp_micro"].is_i64());
        assert_eq!(meta["company_id"], app.company.id);
        assert_eq!(meta["permitted_user_ids"], json!([app.admin.id]));
        assert!(e["matches_filters"].is_object());
    }
    let find = |object: &str, id: i64, action: &str| {
        events
            .iter()
            .find(|e| {
                e["meta"]["object"] == object
                    && e["meta"]["id"] == id
                    && e["meta"]["action"] == action
            })
            .unwrap()
    };
    // v1's person: the v1 object with plain ids, and the whole object before a change.
    let added = find("person", ann, "added");
    assert_eq!(
        added["current"]["owner_id"], app.admin.id,
        "owner_id is a plain id"
    );
    assert_eq!(added["current"]["org_id"], org, "org_id is a plain id");
    // Names of what it refers to are read when the event is sent (the organization may have
    // been renamed since).
    assert!(added["current"]["org_name"].is_string());
    assert_eq!(added["current"]["visible_to"], "3");
    assert!(added["current"].get("open_deals_count").is_some());
    assert_eq!(added["previous"], Value::Null);
    let updated = find("person", ann, "updated");
    assert_eq!(updated["current"]["name"], "Ann Smith");
    assert_eq!(updated["previous"]["name"], "Ann Lee");
    assert_eq!(
        updated["previous"]["first_name"], "Ann",
        "v1's previous is the whole object"
    );
    let merged = find("person", ann, "merged");
    assert_eq!(merged["current"]["id"], ann);
    let gone = find("person", bob, "deleted");
    assert_eq!(gone["current"], Value::Null);
    assert_eq!(gone["previous"]["name"], "Bob");
    assert_eq!(find("deal", deal, "added")["current"]["title"], "Big");
    assert_eq!(
        find("activity", activity, "updated")["current"]["done"],
        true
    );
    assert_eq!(find("note", note, "updated")["previous"]["content"], "hi");
    // Basic auth on every request.
    for r in rx.received() {
        assert_eq!(r.headers["authorization"], "Basic aG9vazpzM2NyZXQ=");
    }
}

#[tokio::test]
async fn a_receiver_that_fails_twice_gets_the_event_on_the_third_attempt() {
    let app = spawn().await;
    let rx = Receiver::start().await;
    let hook = subscribe(&app, &format!("{}/h", rx.url), "create", "person", "2.0").await;
    rx.fail_next(2);
    let ann = id(&app
        .post("/api/v2/persons", &json!({"name": "Ann"}))
        .await
        .body);
    let got = rx.wait_for("/h", 1, WAIT).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["meta"]["attempt"], 3);
    assert_eq!(got[0]["meta"]["entity_id"], ann.to_string());
    let tries: Vec<u16> = rx.received().iter().map(|r| r.answered).collect();
    assert_eq!(tries, [500, 500, 200]);
    let attempts: Vec<i64> = rx
        .received()
        .iter()
        .map(|r| r.body["meta"]["attempt"].as_i64().unwrap())
        .collect();
    assert_eq!(attempts, [1, 2, 3]);
    // The log, newest first (once the last attempt is recorded); the webhook shows the last
    // attempt.
    let log = logged(&app, hook, 3).await;
    let statuses: Vec<Value> = log.iter().map(|a| a["http_status"].clone()).collect();
    assert_eq!(statuses, [json!(200), json!(500), json!(500)]);
    assert_eq!(log[0]["attempt"], 3);
    assert_eq!(log[0]["event"], "added.person");
    assert_eq!(log[0]["success"], true);
    assert_eq!(log[2]["success"], false);
    let w = app.get("/v1/webhooks").await.data()[0].clone();
    assert_eq!(w["last_http_status"], 200);
    assert!(w["last_delivery_time"].is_string());
}

/// The webhook's log once it holds `n` attempts.
async fn logged(app: &TestApp, hook: i64, n: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let log = app.get(&format!("/v1/webhooks/{hook}/deliveries")).await;
        assert_eq!(log.status, 200, "{}", log.body);
        let log = log.data().as_array().unwrap().clone();
        if log.len() >= n || tokio::time::Instant::now() > deadline {
            assert_eq!(log.len(), n, "{log:#?}");
            return log;
        }
        tokio::time::sleep(ms(20)).await;
    }
}

#[tokio::test]
async fn a_v1_retry_counts_from_zero() {
    let app = spawn().await;
    let rx = Receiver::start().await;
    subscribe(&app, &format!("{}/h", rx.url), "added", "person", "1.0").await;
    rx.fail_next(1);
    app.post("/api/v2/persons", &json!({"name": "Ann"})).await;
    let got = rx.wait_for("/h", 1, WAIT).await;
    assert_eq!(got[0]["retry"], 1);
}

#[tokio::test]
async fn a_delivery_that_always_fails_is_tried_four_times_and_then_given_up() {
    let app = spawn().await;
    let rx = Receiver::start().await;
    let hook = subscribe(&app, &format!("{}/h", rx.url), "*", "person", "2.0").await;
    rx.fail_next(1_000);
    app.post("/api/v2/persons", &json!({"name": "Ann"})).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while rx.received().len() < 4 || app.count_rows("webhook_deliveries").await > 0 {
        assert!(tokio::time::Instant::now() < deadline, "never given up");
        tokio::time::sleep(ms(20)).await;
    }
    tokio::time::sleep(ms(300)).await;
    assert_eq!(rx.received().len(), 4, "no fifth attempt");
    logged(&app, hook, 4).await;
}

#[tokio::test]
async fn events_of_one_object_arrive_in_order_even_when_the_first_is_retried() {
    let app = spawn().await;
    let rx = Receiver::start().await;
    subscribe(&app, &format!("{}/h", rx.url), "*", "person", "2.0").await;
    rx.fail_next(1);
    let ann = id(&app
        .post("/api/v2/persons", &json!({"name": "Ann"}))
        .await
        .body);
    app.patch(
        &format!("/api/v2/persons/{ann}"),
        &json!({"name": "Ann Two"}),
    )
    .await;
    app.delete(&format!("/api/v2/persons/{ann}")).await;
    let got = rx.wait_for("/h", 3, WAIT).await;
    let actions: Vec<&str> = got
        .iter()
        .map(|e| e["meta"]["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "change", "delete"]);
    assert_eq!(got[0]["meta"]["attempt"], 2);
}

#[tokio::test]
async fn an_event_goes_only_to_webhooks_whose_user_may_see_the_object() {
    let app = spawn().await;
    let rx = Receiver::start().await;
    let una = app.add_user("Una").await;
    let r = app
        .post(
            "/v1/webhooks",
            &json!({"subscription_url": format!("{}/una", rx.url), "event_action": "create",
                    "event_object": "person", "user_id": una.user.id}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    subscribe(
        &app,
        &format!("{}/admin", rx.url),
        "create",
        "person",
        "2.0",
    )
    .await;
    // Private to the admin (owner and followers only), then one the whole company sees.
    let hidden = id(&app
        .post(
            "/api/v2/persons",
            &json!({"name": "Secret", "visible_to": 1}),
        )
        .await
        .body);
    let shared = id(&app
        .post("/api/v2/persons", &json!({"name": "Open"}))
        .await
        .body);
    let admin = rx.wait_for("/admin", 2, WAIT).await;
    let una_got = rx.wait_for("/una", 1, WAIT).await;
    // The admin's webhook got both (it was sent after Una's, so hers had its chance).
    assert_eq!(admin.len(), 2);
    assert_eq!(una_got.len(), 1);
    assert_eq!(una_got[0]["meta"]["entity_id"], shared.to_string());
    let secret = admin
        .iter()
        .find(|e| e["meta"]["entity_id"] == json!(hidden.to_string()))
        .unwrap();
    assert_eq!(
        secret["meta"]["permitted_user_ids"],
        json!([app.admin.id.to_string()]),
        "only the admin may see the private person"
    );
    let open = admin
        .iter()
        .find(|e| e["meta"]["entity_id"] == json!(shared.to_string()))
        .unwrap();
    assert_eq!(
        open["meta"]["permitted_user_ids"].as_array().unwrap().len(),
        2
    );
}

#[tokio::test]
async fn webhooks_get_only_the_actions_and_objects_they_subscribed_to() {
    let app = spawn().await;
    let rx = Receiver::start().await;
    subscribe(
        &app,
        &format!("{}/deal-create", rx.url),
        "create",
        "deal",
        "2.0",
    )
    .await;
    subscribe(&app, &format!("{}/updated", rx.url), "updated", "*", "1.0").await;
    // The SDKs list only v2's words: a v1 webhook subscribed with them gets v1's events.
    subscribe(
        &app,
        &format!("{}/v1-create", rx.url),
        "create",
        "person",
        "1.0",
    )
    .await;
    let ann = id(&app
        .post("/api/v2/persons", &json!({"name": "Ann"}))
        .await
        .body);
    let deal = id(&app.post("/api/v2/deals", &json!({"title": "D"})).await.body);
    app.patch(&format!("/api/v2/deals/{deal}"), &json!({"title": "E"}))
        .await;
    app.patch(&format!("/api/v2/persons/{ann}"), &json!({"name": "Ann B"}))
        .await;
    // A change that changes nothing sends nothing.
    app.patch(&format!("/api/v2/persons/{ann}"), &json!({"name": "Ann B"}))
        .await;
    let created = rx.wait_for("/deal-create", 1, WAIT).await;
    let v1_created = rx.wait_for("/v1-create", 1, WAIT).await;
    assert_eq!(v1_created[0]["event"], "added.person");
    let updated = rx.wait_for("/updated", 2, WAIT).await;
    // Wait for anything else that might come (a poll or two), then count.
    tokio::time::sleep(ms(300)).await;
    assert_eq!(rx.delivered("/deal-create").len(), 1, "{created:#?}");
    assert_eq!(rx.delivered("/updated").len(), 2, "{updated:#?}");
    assert_eq!(rx.delivered("/v1-create").len(), 1);
    let mut events: Vec<&str> = updated
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    events.sort_unstable();
    assert_eq!(events, ["updated.deal", "updated.person"]);
}

#[tokio::test]
async fn ten_failed_first_attempts_ban_a_webhook_and_events_meanwhile_are_not_sent() {
    let app = TestApp::spawn_with(|o| {
        o.webhooks.retry_delays = vec![];
        o.webhooks.poll = ms(20);
    })
    .await;
    let rx = Receiver::start().await;
    let hook = subscribe(&app, &format!("{}/h", rx.url), "create", "person", "2.0").await;
    rx.fail_next(10);
    for i in 0..10 {
        app.post("/api/v2/persons", &json!({"name": format!("P{i}")}))
            .await;
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    while rx.received().len() < 10 || app.count_rows("webhook_deliveries").await > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "got {}",
            rx.received().len()
        );
        tokio::time::sleep(ms(20)).await;
    }
    let w = app.get("/v1/webhooks").await.data()[0].clone();
    assert_eq!(w["is_active"], 0, "banned: {w}");
    assert_eq!(w["id"], hook);
    // While banned, events are dropped, not kept for later.
    app.post("/api/v2/persons", &json!({"name": "During the ban"}))
        .await;
    tokio::time::sleep(ms(300)).await;
    assert_eq!(rx.received().len(), 10);
    assert_eq!(app.count_rows("webhook_events").await, 0);
    assert_eq!(app.count_rows("webhook_deliveries").await, 0);
}

#[tokio::test]
async fn deleting_a_webhook_stops_its_deliveries() {
    let app = TestApp::spawn_with(|o| {
        o.webhooks.retry_delays = vec![Duration::from_secs(60)];
        o.webhooks.poll = ms(20);
    })
    .await;
    let rx = Receiver::start().await;
    let hook = subscribe(&app, &format!("{}/h", rx.url), "*", "*", "2.0").await;
    rx.fail_next(1);
    app.post("/api/v2/persons", &json!({"name": "Ann"})).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while rx.received().is_empty() {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(ms(20)).await;
    }
    assert_eq!(
        app.count_rows("webhook_deliveries").await,
        1,
        "a retry is due in a minute"
    );
    assert_eq!(
        app.delete(&format!("/v1/webhooks/{hook}")).await.status,
        200
    );
    assert_eq!(app.count_rows("webhook_deliveries").await, 0);
    assert_eq!(app.count_rows("webhook_attempts").await, 0);
}

#[tokio::test]
async fn a_company_without_webhooks_writes_no_events() {
    let app = spawn().await;
    let ann = id(&app
        .post("/api/v2/persons", &json!({"name": "Ann"}))
        .await
        .body);
    app.patch(&format!("/api/v2/persons/{ann}"), &json!({"name": "B"}))
        .await;
    app.delete(&format!("/api/v2/persons/{ann}")).await;
    // Another company's webhook does not make this company's changes events.
    let (_, other) = app.other_company("Other").await;
    let r = app
        .post_as(
            &other.api_token,
            "/v1/webhooks",
            &json!({"subscription_url": "http://127.0.0.1:9/h", "event_action": "*",
                    "event_object": "*"}),
        )
        .await;
    assert_eq!(r.status, 201);
    app.post("/api/v2/persons", &json!({"name": "Bob"})).await;
    assert_eq!(app.count_rows("webhook_events").await, 0);
    assert_eq!(app.count_rows("webhook_deliveries").await, 0);
}

#[tokio::test]
async fn two_webhooks_added_together_at_39_leave_the_user_at_40() {
    let app = spawn().await;
    for _ in 0..39 {
        subscribe(&app, "http://127.0.0.1:9/h", "*", "*", "2.0").await;
    }
    let body = json!({"subscription_url": "http://127.0.0.1:9/h", "event_action": "*",
                      "event_object": "*"});
    let add = || {
        (
            reqwest::Method::POST,
            "/v1/webhooks".to_owned(),
            Some(body.clone()),
        )
    };
    for round in 0..10 {
        let (a, b) = app.race(add(), add()).await;
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(
            statuses,
            [201, 422],
            "round {round}: {} / {}",
            a.body,
            b.body
        );
        let list = app.get("/v1/webhooks").await;
        let list = list.data().as_array().unwrap();
        assert_eq!(list.len(), 40, "round {round}");
        let added = [a, b].into_iter().find(|r| r.status == 201).unwrap();
        app.delete(&format!("/v1/webhooks/{}", id(&added.body)))
            .await;
    }
}

#[tokio::test]
async fn a_slow_receiver_holds_up_neither_writes_nor_other_webhooks() {
    let app = spawn().await;
    let slow = Receiver::start().await;
    slow.delay(Duration::from_secs(3));
    let fast = Receiver::start().await;
    subscribe(&app, &format!("{}/slow", slow.url), "*", "person", "2.0").await;
    subscribe(&app, &format!("{}/fast", fast.url), "*", "person", "2.0").await;
    for i in 0..5 {
        let r = app
            .post("/api/v2/persons", &json!({"name": format!("P{i}")}))
            .await;
        assert_eq!(r.status, 200);
    }
    // The fast receiver has every event while the slow one is still answering its first.
    fast.wait_for("/fast", 5, WAIT).await;
    assert!(
        slow.received().is_empty(),
        "the slow receiver answers only after 3 s"
    );
    slow.wait_for("/slow", 5, WAIT).await;
}

#[tokio::test]
async fn person_fields_and_users_send_their_events_too() {
    let app = spawn().await;
    let rx = Receiver::start().await;
    subscribe(
        &app,
        &format!("{}/fields", rx.url),
        "*",
        "personField",
        "2.0",
    )
    .await;
    subscribe(&app, &format!("{}/users", rx.url), "*", "user", "1.0").await;
    let field = app
        .post(
            "/v1/personFields",
            &json!({"name": "Shoe size", "field_type": "double"}),
        )
        .await;
    assert_eq!(field.status, 200, "{}", field.body);
    let field_id = field.data()["id"].as_i64().unwrap();
    let r = app
        .put(
            &format!("/v1/personFields/{field_id}"),
            &json!({"name": "Shoe size (EU)"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        app.delete(&format!("/v1/personFields/{field_id}"))
            .await
            .status,
        200
    );
    let got = rx.wait_for("/fields", 3, WAIT).await;
    let actions: Vec<&str> = got
        .iter()
        .map(|e| e["meta"]["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "change", "delete"]);
    assert_eq!(got[0]["meta"]["entity"], "personField");
    assert_eq!(got[0]["data"]["field_name"], "Shoe size");
    assert_eq!(got[0]["data"]["id"], field_id);
    assert_eq!(got[1]["previous"]["field_name"], "Shoe size");
    assert_eq!(got[2]["data"], Value::Null);
    // A user added, then deactivated: v1 sends users as a list of one.
    let una = app.add_user("Una").await;
    app.store.set_user_active(una.user.id, false).await.unwrap();
    let got = rx.wait_for("/users", 2, WAIT).await;
    assert_eq!(got[0]["event"], "added.user");
    assert_eq!(got[0]["current"][0]["name"], "Una");
    assert_eq!(got[1]["event"], "updated.user");
    assert_eq!(got[1]["current"][0]["active_flag"], false);
    assert_eq!(got[1]["previous"][0]["active_flag"], true);
}

#[tokio::test]
async fn pipelines_stages_and_activity_types_send_their_events_and_v2_has_no_activity_types() {
    let app = spawn().await;
    let rx = Receiver::start().await;
    subscribe(&app, &format!("{}/v1", rx.url), "*", "*", "1.0").await;
    subscribe(&app, &format!("{}/v2", rx.url), "*", "*", "2.0").await;
    let pipeline = id(&app
        .post("/api/v2/pipelines", &json!({"name": "Sales 2"}))
        .await
        .body);
    let stage = id(&app
        .post(
            "/api/v2/stages",
            &json!({"name": "Lead", "pipeline_id": pipeline}),
        )
        .await
        .body);
    let r = app
        .patch(
            &format!("/api/v2/stages/{stage}"),
            &json!({"name": "Qualified"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        app.delete(&format!("/api/v2/stages/{stage}")).await.status,
        200
    );
    let r = app
        .post(
            "/v1/activityTypes",
            &json!({"name": "Video call", "icon_key": "camera"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v1 = rx.wait_for("/v1", 5, WAIT).await;
    let mut events: Vec<&str> = v1.iter().map(|e| e["event"].as_str().unwrap()).collect();
    events.sort_unstable();
    assert_eq!(
        events,
        [
            "added.activityType",
            "added.pipeline",
            "added.stage",
            "deleted.stage",
            "updated.stage"
        ]
    );
    let v2 = rx.wait_for("/v2", 4, WAIT).await;
    tokio::time::sleep(ms(300)).await;
    assert_eq!(
        rx.delivered("/v2").len(),
        4,
        "v2 has no activity types: {v2:#?}"
    );
    let renamed = v2
        .iter()
        .find(|e| e["meta"]["entity"] == "stage" && e["meta"]["action"] == "change")
        .unwrap();
    assert_eq!(renamed["data"]["name"], "Qualified");
    assert_eq!(renamed["data"]["pipeline_id"], pipeline);
    assert_eq!(renamed["previous"]["name"], "Lead");
}

#[tokio::test]
async fn two_changes_released_together_send_events_that_chain_one_after_the_other() {
    let app = spawn().await;
    let rx = Receiver::start().await;
    subscribe(&app, &format!("{}/h", rx.url), "change", "person", "2.0").await;
    let rounds = 10;
    for round in 0..rounds {
        let ann = id(&app
            .post("/api/v2/persons", &json!({"name": "Ann"}))
            .await
            .body);
        let patch = |name: &str| {
            let body = json!({"name": name});
            (
                reqwest::Method::PATCH,
                format!("/api/v2/persons/{ann}"),
                Some(body),
            )
        };
        let (a, b) = app
            .race(patch(&format!("A{round}")), patch(&format!("B{round}")))
            .await;
        assert_eq!((a.status.as_u16(), b.status.as_u16()), (200, 200));
        let got = rx.wait_for("/h", 2 * (round + 1), WAIT).await;
        let mine: Vec<&Value> = got
            .iter()
            .filter(|e| e["meta"]["entity_id"] == json!(ann.to_string()))
            .collect();
        assert_eq!(mine.len(), 2, "round {round}: {mine:#?}");
        // Each change's previous is what the one before left: neither saw a stale person.
        assert_eq!(mine[0]["previous"]["name"], "Ann", "round {round}");
        assert_eq!(
            mine[1]["previous"]["name"], mine[0]["data"]["name"],
            "round {round}: the second change builds on the first"
        );
        let now = app.get(&format!("/api/v2/persons/{ann}")).await;
        assert_eq!(now.data()["name"], mine[1]["data"]["name"], "round {round}");
    }
}

#[tokio::test]
async fn add_webhook_answers_malformed_bodies_in_the_envelope() {
    let app = spawn().await;
    for (body, needle) in [
        ("{\"subscription_url\":", "JSON"),
        ("[1, 2]", "object"),
        ("\"text\"", "object"),
    ] {
        let r = app
            .raw(
                reqwest::Method::POST,
                "/v1/webhooks",
                "application/json",
                body.into(),
            )
            .await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert_eq!(r.body["success"], false, "{body}: {}", r.body);
        assert!(
            r.body["error"]
                .as_str()
                .unwrap_or_default()
                .contains(needle),
            "{body}: {}",
            r.body
        );
    }
    let big = format!("{{\"name\":\"{}\"}}", "x".repeat(2 << 20));
    let r = app
        .raw(
            reqwest::Method::POST,
            "/v1/webhooks",
            "application/json",
            big.into(),
        )
        .await;
    r.assert_error(413, "too large");
    app.delete("/v1/webhooks/abc")
        .await
        .assert_error(404, "Unknown route");
    app.get("/v1/webhooks/999/deliveries")
        .await
        .assert_error(404, "Webhook not found");
    assert_eq!(app.get("/v1/webhooks").await.data(), &json!([]));
}
