//! v1's legacy deal reads: `GET /v1/deals`, `/v1/deals/{id}`, `/v1/persons/{id}/deals`,
//! `/v1/organizations/{id}/deals`, in Pipedrive's v1 shape.

use serde_json::{Value, json};

use crate::helpers::TestApp;

async fn add_deal(app: &TestApp, body: Value) -> i64 {
    let r = app.post("/api/v2/deals", &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.data()["id"].as_i64().unwrap()
}

fn titles(r: &Value) -> Vec<&str> {
    r.as_array()
        .map(|a| a.iter().map(|d| d["title"].as_str().unwrap()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_v1_deal_expands_its_people_and_names_its_stage_and_pipeline() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Acme").await;
    let p = app
        .add_person(json!({"name": "Ann", "email": "ann@x.io", "org_id": org}))
        .await["id"]
        .as_i64()
        .unwrap();
    let id = add_deal(
        &app,
        json!({"title": "Big", "value": 5000, "currency": "EUR", "person_id": p,
               "org_id": org, "probability": 40, "expected_close_date": "2027-01-31"}),
    )
    .await;
    let r = app.get(&format!("/v1/deals/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let d = r.data();
    assert_eq!(d["id"], id);
    assert_eq!(d["title"], "Big");
    assert_eq!(d["value"], 5000);
    assert_eq!(d["user_id"]["id"], app.admin.id);
    assert_eq!(d["user_id"]["value"], app.admin.id);
    assert_eq!(d["creator_user_id"]["value"], app.admin.id);
    assert_eq!(d["person_id"]["value"], p);
    assert_eq!(d["person_id"]["name"], "Ann");
    assert_eq!(d["person_id"]["email"][0]["value"], "ann@x.io");
    assert_eq!(d["org_id"]["value"], org);
    assert_eq!(d["org_id"]["name"], "Acme");
    assert_eq!(d["person_name"], "Ann");
    assert_eq!(d["org_name"], "Acme");
    assert_eq!(d["status"], "open");
    assert_eq!(d["active"], true);
    assert_eq!(d["deleted"], false);
    assert_eq!(d["visible_to"], "3");
    assert_eq!(d["stage_order_nr"], 1);
    assert_eq!(d["weighted_value"], 2000);
    assert_eq!(d["formatted_value"], "€5,000");
    assert_eq!(d["formatted_weighted_value"], "€2,000");
    assert_eq!(d["expected_close_date"], "2027-01-31");
    assert_eq!(d["person_hidden"], false);
    assert!(
        d["add_time"].as_str().unwrap().contains(' '),
        "{}",
        d["add_time"]
    );
    assert_eq!(
        d["age"]["total_seconds"].as_i64().map(|s| s < 60),
        Some(true)
    );
    let rel = &r.body["related_objects"];
    let stage = d["stage_id"].to_string();
    assert_eq!(rel["stage"][&stage]["name"], "Qualified");
    assert_eq!(rel["stage"][&stage]["pipeline_name"], "Pipeline");
    assert_eq!(
        rel["pipeline"][d["pipeline_id"].to_string()]["name"],
        "Pipeline"
    );
    assert_eq!(rel["person"][p.to_string()]["id"], p);
    assert_eq!(rel["organization"][org.to_string()]["id"], org);
    assert_eq!(rel["user"][app.admin.id.to_string()]["id"], app.admin.id);
    let dropbox = r.body["additional_data"]["dropbox_email"].as_str().unwrap();
    assert!(dropbox.contains(&format!("+deal{id}@")), "{dropbox}");
    // The same deal under /api/v1.
    assert_eq!(
        app.get(&format!("/api/v1/deals/{id}")).await.data()["id"],
        id
    );
}

#[tokio::test]
async fn v1_deal_lists_filter_by_status_owner_and_stage_sort_and_page() {
    let app = TestApp::spawn().await;
    let other = app.add_user("Other").await;
    add_deal(&app, json!({"title": "b-open", "value": 30})).await;
    add_deal(
        &app,
        json!({"title": "a-won", "status": "won", "value": 10}),
    )
    .await;
    let gone = add_deal(&app, json!({"title": "c-deleted"})).await;
    app.delete(&format!("/api/v2/deals/{gone}")).await;
    add_deal(
        &app,
        json!({"title": "d-other", "owner_id": other.id, "value": 20}),
    )
    .await;
    add_deal(&app, json!({"title": "e-archived", "is_archived": true})).await;

    let all = app.get("/v1/deals").await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(titles(all.data()), ["b-open", "a-won", "d-other"]);
    let p = &all.body["additional_data"]["pagination"];
    assert_eq!(p["more_items_in_collection"], false);
    assert_eq!(
        titles(app.get("/v1/deals?status=won").await.data()),
        ["a-won"]
    );
    assert_eq!(
        titles(app.get("/v1/deals?status=deleted").await.data()),
        ["c-deleted"]
    );
    assert_eq!(
        titles(
            app.get(&format!("/v1/deals?user_id={}", other.id))
                .await
                .data()
        ),
        ["d-other"]
    );
    assert_eq!(
        titles(app.get("/v1/deals?owned_by_you=1&status=open").await.data()),
        ["b-open"]
    );
    assert_eq!(
        titles(app.get("/v1/deals?sort=title ASC").await.data()),
        ["a-won", "b-open", "d-other"]
    );
    assert_eq!(
        titles(app.get("/v1/deals?sort=value DESC").await.data()),
        ["b-open", "d-other", "a-won"]
    );
    let page = app.get("/v1/deals?start=1&limit=1").await;
    assert_eq!(titles(page.data()), ["a-won"]);
    assert_eq!(page.body["additional_data"]["pagination"]["next_start"], 2);
    let stage = all.data()[0]["stage_id"].as_i64().unwrap();
    assert_eq!(
        titles(app.get(&format!("/v1/deals?stage_id={stage}")).await.data()).len(),
        3
    );

    app.get("/v1/deals?status=closed")
        .await
        .assert_error(400, "status");
    app.get("/v1/deals?sort=stage_id ASC")
        .await
        .assert_error(400, "sort");
    app.get("/v1/deals?filter_id=1")
        .await
        .assert_error(400, "filter_id");
    app.get("/v1/deals?owned_by_you=2")
        .await
        .assert_error(400, "owned_by_you");
    app.get("/v1/deals?start=-1")
        .await
        .assert_error(400, "start");
}

#[tokio::test]
async fn a_persons_deals_and_an_organizations_deals() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Acme").await;
    let ann = app.add_person(json!({"name": "Ann", "org_id": org})).await["id"]
        .as_i64()
        .unwrap();
    let bob = app.add_person(json!({"name": "Bob"})).await["id"]
        .as_i64()
        .unwrap();
    add_deal(&app, json!({"title": "ann-1", "person_id": ann})).await;
    add_deal(
        &app,
        json!({"title": "ann-2", "person_id": ann, "status": "lost"}),
    )
    .await;
    add_deal(
        &app,
        json!({"title": "bob-1", "person_id": bob, "org_id": org}),
    )
    .await;
    add_deal(&app, json!({"title": "nobody"})).await;

    let r = app.get(&format!("/v1/persons/{ann}/deals")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(titles(r.data()), ["ann-1", "ann-2"]);
    let r = app
        .get(&format!("/v1/persons/{ann}/deals?status=lost"))
        .await;
    assert_eq!(titles(r.data()), ["ann-2"]);
    // The organization's: its own (bob-1) and, by default, its person Ann's.
    let r = app.get(&format!("/v1/organizations/{org}/deals")).await;
    assert_eq!(titles(r.data()), ["ann-1", "ann-2", "bob-1"]);
    let r = app
        .get(&format!(
            "/v1/organizations/{org}/deals?only_primary_association=1"
        ))
        .await;
    assert_eq!(titles(r.data()), ["bob-1"]);

    // Missing, deleted and foreign items are 404s.
    app.get("/v1/persons/999999/deals")
        .await
        .assert_error(404, "");
    app.get("/v1/organizations/999999/deals")
        .await
        .assert_error(404, "");
    app.get("/v1/deals/999999").await.assert_error(404, "");
    app.delete(&format!("/v1/persons/{bob}")).await;
    app.get(&format!("/v1/persons/{bob}/deals"))
        .await
        .assert_error(404, "");
    // The deal keeps its deleted person, shown as inactive.
    let all = app.get("/v1/deals?sort=title ASC").await;
    let bobs = &all.data()[2];
    assert_eq!(bobs["title"], "bob-1");
    assert_eq!(bobs["person_id"]["value"], bob);
    assert_eq!(bobs["person_id"]["active_flag"], false);
    // A private person another user may not see shows its id only.
    let private = app
        .add_person(json!({"name": "Hidden", "visible_to": "1"}))
        .await["id"]
        .as_i64()
        .unwrap();
    let d = add_deal(&app, json!({"title": "secretive", "person_id": private})).await;
    let plain = app.add_user("Plain").await;
    let r = app
        .get_as(&plain.api_token, &format!("/v1/deals/{d}"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["person_id"], json!({"value": private}));
    assert_eq!(r.data()["person_hidden"], true);
    assert_eq!(r.data()["person_name"], Value::Null);
    assert!(!r.body.to_string().contains("Hidden"));
    let (_, stranger) = app.other_company("Elsewhere").await;
    let r = app
        .get_as(&stranger.api_token, &format!("/v1/persons/{ann}/deals"))
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
}

#[tokio::test]
async fn v1_deals_show_custom_values_at_their_root_and_labels_as_ids() {
    let app = TestApp::spawn().await;
    let f = app
        .post(
            "/v1/dealFields",
            &json!({"name": "Budget", "field_type": "monetary"}),
        )
        .await;
    assert_eq!(f.status, 200, "{}", f.body);
    let key = f.data()["key"].as_str().unwrap().to_owned();
    let labels = app.get("/v1/dealFields").await;
    let label_field = labels
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "label")
        .unwrap()
        .clone();
    let hot = label_field["options"][0]["id"].as_i64().unwrap();
    let id = add_deal(
        &app,
        json!({"title": "T", "label_ids": [hot],
               "custom_fields": {key.clone(): {"value": 12, "currency": "EUR"}}}),
    )
    .await;
    let d = app.get(&format!("/v1/deals/{id}")).await;
    assert_eq!(d.data()[&key], 12);
    assert_eq!(d.data()[format!("{key}_currency")], "EUR");
    assert_eq!(d.data()["label"], hot.to_string());
}

#[tokio::test]
async fn a_v1_deal_shows_its_next_activitys_subject_type_duration_and_note() {
    let app = TestApp::spawn().await;
    let deal = app
        .post("/api/v2/deals", &json!({"title": "D"}))
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    let fresh = app.get(&format!("/v1/deals/{deal}")).await;
    assert_eq!(fresh.data()["next_activity_subject"], Value::Null);
    let a = app
        .post(
            "/api/v2/activities",
            &json!({"deal_id": deal, "subject": "Demo", "type": "meeting", "due_date": "2026-03-03",
                    "due_time": "10:00", "duration": "00:45", "note": "<p>Bring slides</p>"}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let r = app.get(&format!("/v1/deals/{deal}")).await;
    let d = r.data();
    assert_eq!(d["next_activity_id"], a.data()["id"], "{}", r.body);
    assert_eq!(d["next_activity_subject"], "Demo");
    assert_eq!(d["next_activity_type"], "meeting");
    assert_eq!(d["next_activity_duration"], "00:45");
    assert_eq!(d["next_activity_note"], "<p>Bring slides</p>");
    assert_eq!(d["next_activity_date"], "2026-03-03");
    assert_eq!(d["next_activity_time"], "10:00");
}
