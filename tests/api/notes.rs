//! Notes (`/v1/notes`): add, get, update, delete, list with filters, HTML sanitized on write,
//! pins, and who may see them.

use serde_json::{Value, json};

use crate::helpers::TestApp;

async fn add(app: &TestApp, body: Value) -> Value {
    let r = app.post("/v1/notes", &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.data().clone()
}

#[tokio::test]
async fn add_note_sanitizes_its_html_and_returns_the_v1_shape() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Acme").await;
    let p = app.add_person(json!({"name": "Ann"})).await["id"]
        .as_i64()
        .unwrap();
    let deal = app
        .post("/api/v2/deals", &json!({"title": "D"}))
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    let n = add(
        &app,
        json!({
            "content": "<b>Called</b><script>steal()</script><img src=x onerror=alert(1)>",
            "person_id": p, "org_id": org, "deal_id": deal,
            "pinned_to_person_flag": 1, "pinned_to_deal_flag": "0",
            "add_time": "2025-01-02 03:04:05"
        }),
    )
    .await;
    assert_eq!(n["content"], "<b>Called</b><img src=\"x\">");
    assert_eq!(n["person_id"], p);
    assert_eq!(n["person"], json!({"name": "Ann"}));
    assert_eq!(n["organization"], json!({"name": "Acme"}));
    assert_eq!(n["deal"], json!({"title": "D"}));
    assert_eq!(n["pinned_to_person_flag"], true);
    assert_eq!(n["pinned_to_deal_flag"], false);
    assert_eq!(n["pinned_to_organization_flag"], false);
    assert_eq!(n["add_time"], "2025-01-02 03:04:05");
    assert_eq!(n["user_id"], app.admin.id);
    assert_eq!(n["user"]["is_you"], true);
    assert_eq!(n["active_flag"], true);
    let id = n["id"].as_i64().unwrap();
    let got = app.get(&format!("/v1/notes/{id}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.data(), &n);
}

#[tokio::test]
async fn bad_note_input_gets_the_envelope_naming_the_problem() {
    let app = TestApp::spawn().await;
    let p = app.add_person(json!({"name": "Ann"})).await["id"]
        .as_i64()
        .unwrap();
    for (body, needle) in [
        (json!({"person_id": p}), "content"),
        (json!({"content": "x"}), "deal_id, person_id or org_id"),
        (
            json!({"content": "<script>x</script>", "person_id": p}),
            "content",
        ),
        (json!({"content": 5, "person_id": p}), "content"),
        (json!({"content": "x", "person_id": 999_999}), "person_id"),
        (json!({"content": "x", "org_id": 999_999}), "org_id"),
        (json!({"content": "x", "deal_id": 999_999}), "deal_id"),
        (
            json!({"content": "x", "person_id": p, "pinned_to_deal_flag": 1}),
            "pinned_to_deal_flag",
        ),
        (
            json!({"content": "x", "person_id": p, "pinned_to_person_flag": 7}),
            "pinned_to_person_flag",
        ),
        (
            json!({"content": "x", "person_id": p, "add_time": "yesterday"}),
            "add_time",
        ),
        (
            json!({"content": "x", "person_id": p, "lead_id": "abc"}),
            "lead_id",
        ),
        (
            json!({"content": "x", "person_id": p, "user_id": 999_999}),
            "user_id",
        ),
        (
            json!({"content": "x".repeat(100_001), "person_id": p}),
            "content",
        ),
    ] {
        let r = app.post("/v1/notes", &body).await;
        r.assert_error(400, needle);
    }
    assert_eq!(app.count_rows("notes").await, 0);
}

#[tokio::test]
async fn update_and_delete_a_note() {
    let app = TestApp::spawn().await;
    let p = app.add_person(json!({"name": "Ann"})).await["id"]
        .as_i64()
        .unwrap();
    let org = app.add_org("Acme").await;
    let id = add(&app, json!({"content": "first", "person_id": p})).await["id"]
        .as_i64()
        .unwrap();
    let r = app
        .put(&format!("/v1/notes/{id}"), &json!({"content": "<i>second</i>", "org_id": org, "pinned_to_organization_flag": true}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["content"], "<i>second</i>");
    assert_eq!(r.data()["person_id"], p, "kept");
    assert_eq!(r.data()["org_id"], org);
    assert_eq!(r.data()["pinned_to_organization_flag"], true);
    // Detached from everything is refused, the note untouched.
    app.put(
        &format!("/v1/notes/{id}"),
        &json!({"person_id": null, "org_id": null}),
    )
    .await
    .assert_error(400, "attached");
    let d = app.delete(&format!("/v1/notes/{id}")).await;
    assert_eq!(d.status, 200, "{}", d.body);
    assert_eq!(d.body["data"], true);
    app.get(&format!("/v1/notes/{id}"))
        .await
        .assert_error(404, "Note not found");
    app.delete(&format!("/v1/notes/{id}"))
        .await
        .assert_error(404, "Note not found");
    app.put(&format!("/v1/notes/{id}"), &json!({"content": "x"}))
        .await
        .assert_error(404, "Note not found");
}

#[tokio::test]
async fn list_notes_by_item_pin_date_and_sort() {
    let app = TestApp::spawn().await;
    let ann = app.add_person(json!({"name": "Ann"})).await["id"]
        .as_i64()
        .unwrap();
    let bob = app.add_person(json!({"name": "Bob"})).await["id"]
        .as_i64()
        .unwrap();
    let n1 = add(
        &app,
        json!({"content": "b", "person_id": ann, "add_time": "2025-01-01 10:00:00"}),
    )
    .await["id"]
        .clone();
    let n2 = add(&app, json!({"content": "a", "person_id": ann, "pinned_to_person_flag": 1, "add_time": "2025-02-01 10:00:00"})).await["id"].clone();
    let n3 = add(&app, json!({"content": "c", "person_id": bob})).await["id"].clone();
    let ids = |r: &crate::helpers::Resp| -> Vec<Value> {
        r.data()
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].clone())
            .collect()
    };
    let r = app.get(&format!("/v1/notes?person_id={ann}")).await;
    assert_eq!(ids(&r), vec![n1.clone(), n2.clone()]);
    let r = app
        .get(&format!(
            "/v1/notes?person_id={ann}&pinned_to_person_flag=1"
        ))
        .await;
    assert_eq!(ids(&r), vec![n2.clone()]);
    let r = app.get("/v1/notes?sort=content DESC").await;
    assert_eq!(ids(&r), vec![n3.clone(), n1.clone(), n2.clone()]);
    let r = app
        .get("/v1/notes?start_date=2025-01-15&end_date=2025-02-01")
        .await;
    assert_eq!(ids(&r), vec![n2.clone()]);
    let r = app.get("/v1/notes?limit=2").await;
    assert_eq!(
        r.body["additional_data"]["pagination"]["more_items_in_collection"],
        true
    );
    assert_eq!(r.body["additional_data"]["pagination"]["next_start"], 2);
    app.get("/v1/notes?sort=title")
        .await
        .assert_error(400, "sort");
    app.get("/v1/notes?pinned_to_deal_flag=2")
        .await
        .assert_error(400, "pinned_to_deal_flag");
    app.get("/v1/notes?start_date=soon")
        .await
        .assert_error(400, "start_date");
}

#[tokio::test]
async fn notes_on_a_private_person_are_hidden_and_only_admins_write_for_others() {
    let app = TestApp::spawn().await;
    let user = app.add_user("Other").await;
    let private = app
        .add_person(json!({"name": "Secret", "visible_to": 1}))
        .await["id"]
        .as_i64()
        .unwrap();
    let id = add(&app, json!({"content": "secret", "person_id": private})).await["id"]
        .as_i64()
        .unwrap();
    app.get_as(&user.api_token, &format!("/v1/notes/{id}"))
        .await
        .assert_error(404, "Note not found");
    let r = app.get_as(&user.api_token, "/v1/notes").await;
    assert_eq!(r.data(), &json!([]), "{}", r.body);
    let public = app.add_person(json!({"name": "Public"})).await["id"]
        .as_i64()
        .unwrap();
    let r = app
        .post_as(
            &user.api_token,
            "/v1/notes",
            &json!({"content": "x", "person_id": public, "user_id": app.admin.id}),
        )
        .await;
    r.assert_error(403, "admin");
    let r = app
        .post(
            "/v1/notes",
            &json!({"content": "for you", "person_id": public, "user_id": user.user.id}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["user_id"], user.user.id);
    assert_eq!(r.data()["user"]["is_you"], false);
}

#[tokio::test]
async fn note_fields_list_content_and_the_pin_flags() {
    let app = TestApp::spawn().await;
    let r = app.get("/v1/noteFields").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let fields = r.data().as_array().unwrap();
    assert_eq!(fields[0]["key"], "content");
    assert_eq!(fields[0]["mandatory_flag"], true);
    let pin = fields
        .iter()
        .find(|f| f["key"] == "pinned_to_deal_flag")
        .unwrap();
    assert_eq!(pin["field_type"], "enum");
    assert_eq!(
        pin["options"],
        json!([{"id": 1, "label": "Yes"}, {"id": 0, "label": "No"}])
    );
    assert_eq!(r.body["additional_data"]["more_items_in_collection"], false);
}

#[tokio::test]
async fn searches_find_persons_organizations_and_deals_by_their_notes() {
    let app = TestApp::spawn().await;
    let p = app.add_person(json!({"name": "Ann"})).await["id"]
        .as_i64()
        .unwrap();
    let org = app.add_org("Acme").await;
    let deal = app
        .post("/api/v2/deals", &json!({"title": "Big"}))
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    add(
        &app,
        json!({"content": "<p>Loves <b>golf</b> &amp; tennis</p>", "person_id": p}),
    )
    .await;
    add(
        &app,
        json!({"content": "Golfing retreat budget", "org_id": org}),
    )
    .await;
    add(
        &app,
        json!({"content": "Golf sponsorship", "deal_id": deal}),
    )
    .await;

    let r = app
        .get("/api/v2/persons/search?term=golf&fields=notes")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let items = r.data()["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", r.body);
    assert_eq!(items[0]["item"]["id"], p);
    assert_eq!(items[0]["item"]["notes"], json!(["Loves golf & tennis"]));
    // All fields by default; and the legacy search too.
    let r = app.get("/api/v2/persons/search?term=tennis").await;
    assert_eq!(r.data()["items"][0]["item"]["id"], p, "{}", r.body);
    let r = app.get("/v1/persons/search?term=golf&fields=notes").await;
    assert_eq!(r.data()["items"][0]["item"]["id"], p, "{}", r.body);
    // Markup is not text, and names alone do not look at notes.
    let r = app
        .get("/api/v2/persons/search?term=<b>&fields=notes")
        .await;
    assert_eq!(r.data()["items"], json!([]), "{}", r.body);
    let r = app
        .get("/api/v2/persons/search?term=golf&fields=name")
        .await;
    assert_eq!(r.data()["items"], json!([]));

    let r = app
        .get("/api/v2/organizations/search?term=golf&fields=notes")
        .await;
    assert_eq!(r.data()["items"][0]["item"]["id"], org, "{}", r.body);
    let r = app.get("/api/v2/deals/search?term=golf&fields=notes").await;
    assert_eq!(r.data()["items"][0]["item"]["id"], deal, "{}", r.body);
    let r = app.get("/api/v2/itemSearch?term=golf&fields=notes").await;
    assert_eq!(r.data()["items"].as_array().unwrap().len(), 3, "{}", r.body);

    // A deleted note finds nothing any more.
    let notes = app.get(&format!("/v1/notes?deal_id={deal}")).await;
    let id = notes.data()[0]["id"].as_i64().unwrap();
    app.delete(&format!("/v1/notes/{id}")).await;
    let r = app.get("/api/v2/deals/search?term=golf&fields=notes").await;
    assert_eq!(r.data()["items"], json!([]), "{}", r.body);
}

#[tokio::test]
async fn a_note_on_a_private_person_finds_nothing_for_a_user_who_may_not_see_it() {
    let app = TestApp::spawn().await;
    let user = app.add_user("Other").await;
    let private = app
        .add_person(json!({"name": "Secret", "visible_to": 1}))
        .await["id"]
        .as_i64()
        .unwrap();
    add(
        &app,
        json!({"content": "Whispered plans", "person_id": private}),
    )
    .await;
    let admin = app.get("/api/v2/persons/search?term=whispered").await;
    assert_eq!(
        admin.data()["items"][0]["item"]["id"],
        private,
        "{}",
        admin.body
    );
    let other = app
        .get_as(&user.api_token, "/api/v2/persons/search?term=whispered")
        .await;
    assert_eq!(other.data()["items"], json!([]), "{}", other.body);
}
