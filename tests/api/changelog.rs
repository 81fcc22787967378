//! `GET /v1/persons/{id}/changelog`: what each change did to each field, newest first,
//! cursor-paged, in both dialects' writes and a merge; the bad paths.

use serde_json::{Value, json};

use crate::helpers::TestApp;

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

/// `(field_key, old_value, new_value)` of each entry, in the order listed.
fn entries(data: &Value) -> Vec<(String, Value, Value)> {
    data.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field_key"].as_str().unwrap().to_owned(),
                e["old_value"].clone(),
                e["new_value"].clone(),
            )
        })
        .collect()
}

fn entry(key: &str, old: Value, new: Value) -> (String, Value, Value) {
    (key.to_owned(), old, new)
}

#[tokio::test]
async fn every_change_of_both_dialects_is_listed_newest_first_with_who_when_and_where() {
    let app = TestApp::spawn().await;
    let key = app
        .post(
            "/v1/personFields",
            &json!({"name": "Tier", "field_type": "varchar"}),
        )
        .await
        .data()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let org = app.add_org("Acme").await;
    let p = id(&app
        .add_person(json!({"name": "Ann Lee", "email": "ann@x.example"}))
        .await);
    let path = format!("/v1/persons/{p}/changelog");

    // A new person has no changes; a change to what it holds is none.
    let r = app.get(&path).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.data(), &json!([]));
    assert_eq!(r.body["additional_data"], json!({"next_cursor": null}));
    let r = app
        .put(&format!("/v1/persons/{p}"), &json!({"name": "Ann Lee"}))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(app.get(&path).await.data(), &json!([]));

    let r = app
        .put(
            &format!("/v1/persons/{p}"),
            &json!({"name": "Ann Berg", "org_id": org, key.as_str(): "gold"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .patch(
            &format!("/api/v2/persons/{p}"),
            &json!({"emails": [{"value": "ann@y.example", "primary": true}], "custom_fields": {key.as_str(): null}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let r = app.get(&path).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        entries(r.data()),
        [
            // The newest change first; its fields in one order.
            entry("email", json!("ann@x.example"), json!("ann@y.example")),
            entry(&key, json!("gold"), json!(null)),
            entry("name", json!("Ann Lee"), json!("Ann Berg")),
            entry("last_name", json!("Lee"), json!("Berg")),
            entry("org_id", json!(null), json!(org.to_string())),
            entry(&key, json!(null), json!("gold")),
        ]
    );
    let me = app.get("/v1/users/me").await.data()["id"].clone();
    for e in r.data().as_array().unwrap() {
        assert_eq!(e["actor_user_id"], me);
        assert_eq!(e["change_source"], "api");
        assert_eq!(e["change_source_user_agent"], json!(null));
        assert_eq!(e["is_bulk_update_flag"], false);
        let time = e["time"].as_str().unwrap();
        assert_eq!(time.len(), 19, "{time}: YYYY-MM-DD HH:MM:SS");
    }

    // Pages of two, by cursor, end to end; each entry once.
    let mut seen = Vec::new();
    let mut next = format!("{path}?limit=2");
    loop {
        let r = app.get(&next).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.data().as_array().unwrap().len() <= 2);
        seen.extend(entries(r.data()));
        match r.body["additional_data"]["next_cursor"].as_str() {
            Some(c) => next = format!("{path}?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, entries(app.get(&path).await.data()));

    // A deleted person's history stays readable, as the person does.
    assert_eq!(app.delete(&format!("/v1/persons/{p}")).await.status, 200);
    assert_eq!(app.get(&path).await.data().as_array().unwrap().len(), 6);
}

#[tokio::test]
async fn a_merge_lists_what_it_changed_on_the_person_kept() {
    let app = TestApp::spawn().await;
    let kept = id(&app.add_person(json!({"name": "Ann"})).await);
    let gone = id(&app
        .add_person(json!({"name": "Ann B", "phone": "+372 555"}))
        .await);
    let r = app
        .put(
            &format!("/v1/persons/{gone}/merge"),
            &json!({"merge_with_id": kept}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let log = app.get(&format!("/v1/persons/{kept}/changelog")).await;
    assert!(
        entries(log.data()).contains(&entry("phone", json!(null), json!("+372 555"))),
        "{}",
        log.body
    );
}

#[tokio::test]
async fn bad_ids_cursors_limits_and_other_companies_are_refused() {
    let app = TestApp::spawn().await;
    let p = id(&app.add_person(json!({"name": "Ann"})).await);
    app.put(&format!("/v1/persons/{p}"), &json!({"name": "Bea"}))
        .await;
    let path = format!("/v1/persons/{p}/changelog");
    app.get("/v1/persons/999999/changelog")
        .await
        .assert_error(404, "Person not found");
    app.get("/v1/persons/0/changelog")
        .await
        .assert_error(400, "id: must be a positive integer");
    // A word where an id goes names no route, as everywhere.
    app.get("/v1/persons/abc/changelog")
        .await
        .assert_error(404, "Unknown route");
    app.get(&format!("{path}?cursor=nonsense"))
        .await
        .assert_error(400, "cursor");
    // A cursor of another list is not this one's.
    let other = pipestack_cursor(&json!({"list": "followers changelog", "after": 1}));
    app.get(&format!("{path}?cursor={other}"))
        .await
        .assert_error(400, "cursor");
    for limit in ["0", "501", "x"] {
        app.get(&format!("{path}?limit={limit}"))
            .await
            .assert_error(400, "limit");
    }
    let (_, stranger) = app.other_company("Elsewhere").await;
    app.get_as(&stranger.api_token, &path)
        .await
        .assert_error(404, "Person not found");
    // A private person of another user of the company is not found either.
    let private = id(&app
        .add_person(json!({"name": "Secret", "visible_to": 1}))
        .await);
    let colleague = app.add_user("Colleague").await;
    app.get_as(
        &colleague.api_token,
        &format!("/v1/persons/{private}/changelog"),
    )
    .await
    .assert_error(404, "Person not found");
}

/// A cursor as the server encodes them (base64url of JSON, no padding).
fn pipestack_cursor(v: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}
