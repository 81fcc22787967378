//! v2 deals: add, read, change, delete, list; placement in pipelines and stages; status
//! rules; visibility and companies.

use serde_json::{Value, json};

use crate::helpers::TestApp;

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_i64().unwrap())
        .collect()
}

/// The default pipeline and its stages' ids, in order.
async fn default_stages(app: &TestApp) -> (i64, Vec<i64>) {
    let pipeline = app.get("/api/v2/pipelines").await.data()[0]["id"]
        .as_i64()
        .unwrap();
    let stages = app
        .get(&format!(
            "/api/v2/stages?pipeline_id={pipeline}&sort_by=order_nr"
        ))
        .await;
    (pipeline, ids(stages.data()))
}

async fn add_deal(app: &TestApp, body: Value) -> Value {
    let r = app.post("/api/v2/deals", &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.data().clone()
}

#[tokio::test]
async fn a_deal_with_only_a_title_goes_to_the_first_stage_of_the_default_pipeline() {
    let app = TestApp::spawn().await;
    let (pipeline, stages) = default_stages(&app).await;
    let d = add_deal(&app, json!({"title": "  Big sale "})).await;
    assert_eq!(d["title"], "Big sale");
    assert_eq!(d["pipeline_id"], pipeline);
    assert_eq!(d["stage_id"], stages[0]);
    assert_eq!(d["status"], "open");
    assert_eq!(d["value"], 0);
    assert_eq!(d["currency"], "USD");
    assert_eq!(d["owner_id"], app.admin.id);
    assert_eq!(d["creator_user_id"], app.admin.id);
    assert_eq!(d["person_id"], Value::Null);
    assert_eq!(d["org_id"], Value::Null);
    assert_eq!(d["visible_to"], 3);
    assert_eq!(d["is_deleted"], false);
    assert_eq!(d["is_archived"], false);
    assert_eq!(d["origin"], "API");
    assert_eq!(d["stage_change_time"], Value::Null);
    assert_eq!(d["won_time"], Value::Null);
    assert_eq!(d["custom_fields"], json!({}));
    assert!(d["add_time"].as_str().unwrap().ends_with('Z'));
    let id = d["id"].as_i64().unwrap();
    let got = app.get(&format!("/api/v2/deals/{id}")).await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.data(), &d);
}

#[tokio::test]
async fn a_deal_goes_to_the_stage_named_or_the_first_stage_of_the_pipeline_named() {
    let app = TestApp::spawn().await;
    let (pipeline, stages) = default_stages(&app).await;
    let other = app
        .post("/api/v2/pipelines", &json!({"name": "Other"}))
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    let first = app
        .post(
            "/api/v2/stages",
            &json!({"name": "A", "pipeline_id": other}),
        )
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    let d = add_deal(&app, json!({"title": "x", "stage_id": stages[2]})).await;
    assert_eq!(
        (d["pipeline_id"].as_i64(), d["stage_id"].as_i64()),
        (Some(pipeline), Some(stages[2]))
    );
    let d = add_deal(&app, json!({"title": "x", "pipeline_id": other})).await;
    assert_eq!(d["stage_id"], first);
    // A stage wins over a pipeline that disagrees with it (Pipedrive ignores the pipeline).
    let d = add_deal(
        &app,
        json!({"title": "x", "pipeline_id": other, "stage_id": stages[1]}),
    )
    .await;
    assert_eq!(
        (d["pipeline_id"].as_i64(), d["stage_id"].as_i64()),
        (Some(pipeline), Some(stages[1]))
    );

    // Moving to a pipeline puts the deal in its first stage and moves stage_change_time.
    let id = d["id"].as_i64().unwrap();
    let r = app
        .patch(
            &format!("/api/v2/deals/{id}"),
            &json!({"pipeline_id": other}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["pipeline_id"], other);
    assert_eq!(r.data()["stage_id"], first);
    assert!(r.data()["stage_change_time"].is_string());

    let empty = app
        .post("/api/v2/pipelines", &json!({"name": "Empty"}))
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    app.post(
        "/api/v2/deals",
        &json!({"title": "x", "pipeline_id": empty}),
    )
    .await
    .assert_error(400, &format!("pipeline_id: pipeline {empty} has no stage"));
    app.post("/api/v2/deals", &json!({"title": "x", "stage_id": 999_999}))
        .await
        .assert_error(400, "stage_id: stage 999999 not found");
    app.post(
        "/api/v2/deals",
        &json!({"title": "x", "pipeline_id": 999_999}),
    )
    .await
    .assert_error(400, "pipeline_id: pipeline 999999 not found");
}

#[tokio::test]
async fn winning_losing_and_reopening_set_and_clear_the_times() {
    let app = TestApp::spawn().await;
    let d = add_deal(
        &app,
        json!({"title": "x", "value": 1500.5, "currency": "eur"}),
    )
    .await;
    assert_eq!(d["value"], 1500.5);
    assert_eq!(d["currency"], "EUR");
    let path = format!("/api/v2/deals/{}", d["id"]);
    let won = app.patch(&path, &json!({"status": "won"})).await;
    assert_eq!(won.status, 200, "{}", won.body);
    let w = won.data();
    assert_eq!(w["status"], "won");
    assert!(w["won_time"].is_string());
    assert_eq!(w["close_time"], w["won_time"]);
    assert_eq!(w["lost_time"], Value::Null);
    let first_won = app
        .get(&format!("{path}?include_fields=first_won_time"))
        .await
        .data()["first_won_time"]
        .clone();
    assert_eq!(first_won, w["won_time"]);

    let lost = app
        .patch(
            &path,
            &json!({"status": "lost", "lost_reason": "Too expensive", "lost_time": "2025-01-02T03:04:05Z"}),
        )
        .await;
    assert_eq!(lost.status, 200, "{}", lost.body);
    let l = lost.data();
    assert_eq!(l["won_time"], Value::Null);
    assert_eq!(l["lost_time"], "2025-01-02T03:04:05Z");
    assert_eq!(l["close_time"], "2025-01-02T03:04:05Z");
    assert_eq!(l["lost_reason"], "Too expensive");
    assert_eq!(l["local_lost_date"], "2025-01-02");

    let open = app.patch(&path, &json!({"status": "open"})).await;
    let o = open.data();
    assert_eq!(o["status"], "open");
    for key in ["won_time", "lost_time", "close_time", "lost_reason"] {
        assert_eq!(o[key], Value::Null, "{key}");
    }
    assert_eq!(
        app.get(&format!("{path}?include_fields=first_won_time"))
            .await
            .data()["first_won_time"],
        first_won,
        "it was won once"
    );
    app.patch(&path, &json!({"won_time": "2025-01-01T00:00:00Z"}))
        .await
        .assert_error(400, "won_time: can only be set when the deal is won");
    app.patch(&path, &json!({"lost_reason": "x"}))
        .await
        .assert_error(400, "lost_reason: can only be set when the deal is lost");
    app.patch(&path, &json!({"close_time": "2025-01-01T00:00:00Z"}))
        .await
        .assert_error(
            400,
            "close_time: can only be set when the deal is won or lost",
        );
    let r = app
        .post(
            "/api/v2/deals",
            &json!({"title": "Won at once", "status": "won", "won_time": "2024-05-06 07:08:09"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["won_time"], "2024-05-06T07:08:09Z");
}

#[tokio::test]
async fn bad_deal_bodies_are_400s_naming_the_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    for (body, needle) in [
        (json!({}), "title: is required"),
        (json!({"title": " "}), "title: must not be empty"),
        (json!({"title": null}), "title: must not be empty"),
        (
            json!({"title": "x", "value": "100"}),
            "value: must be a number, got a string",
        ),
        (
            json!({"title": "x", "currency": "EURO"}),
            "currency: must be a three-letter code",
        ),
        (
            json!({"title": "x", "status": "deleted"}),
            "status: must be open, won or lost",
        ),
        (
            json!({"title": "x", "probability": 101}),
            "probability: must be between 0 and 100",
        ),
        (
            json!({"title": "x", "expected_close_date": "2024-02-30"}),
            "expected_close_date: must be a date in the format YYYY-MM-DD",
        ),
        (
            json!({"title": "x", "visible_to": 2}),
            "visible_to: must be one of",
        ),
        (
            json!({"title": "x", "owner_id": 999_999}),
            "owner_id: user 999999 not found",
        ),
        (
            json!({"title": "x", "person_id": 999_999}),
            "person_id: person 999999 not found",
        ),
        (
            json!({"title": "x", "org_id": 999_999}),
            "org_id: organization 999999 not found",
        ),
        (
            json!({"title": "x", "label_ids": [999_999]}),
            "label_ids: label 999999 is not an option of the deal label field",
        ),
        (
            json!({"title": "x", "is_deleted": true}),
            "is_deleted (deals are deleted with DELETE",
        ),
        (
            json!({"title": "x", "add_time": "2024-01-01T00:00:00Z", "nope": 1}),
            "add_time (read-only), nope (unknown field)",
        ),
        (json!({"title": "x", "origin": "Web"}), "origin (read-only)"),
        (
            json!({"title": "x", "archive_time": "2024-01-01 00:00:00"}),
            "archive_time: can only be set when the deal is archived",
        ),
        (
            json!({"title": "x", "custom_fields": {"abc": 1}}),
            "abc: no custom deal field has this key (see GET /v1/dealFields)",
        ),
    ] {
        app.post("/api/v2/deals", &body)
            .await
            .assert_error(400, needle);
    }
    assert_eq!(app.count_rows("deals").await, 0);
}

#[tokio::test]
async fn a_deal_for_a_person_and_organization_keeps_them_and_a_patch_changes_only_what_it_names() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Acme").await;
    let person = app
        .add_person_v2(json!({"name": "Ann", "org_id": org}))
        .await["id"]
        .as_i64()
        .unwrap();
    let labels = app
        .labels_of(app.company.id, pipestack::domain::Kind::Deal)
        .await;
    let d = add_deal(
        &app,
        json!({"title": "x", "person_id": person, "org_id": org, "label_ids": [labels[0].id],
               "expected_close_date": "2025-06-30", "probability": 40, "visible_to": 1}),
    )
    .await;
    assert_eq!(d["person_id"], person);
    assert_eq!(d["org_id"], org);
    assert_eq!(d["label_ids"], json!([labels[0].id]));
    assert_eq!(d["expected_close_date"], "2025-06-30");
    assert_eq!(d["probability"], 40);
    assert_eq!(d["visible_to"], 1);
    let path = format!("/api/v2/deals/{}", d["id"]);
    let r = app.patch(&path, &json!({"value": 10})).await;
    let p = r.data();
    assert_eq!(p["value"], 10);
    for key in [
        "person_id",
        "org_id",
        "label_ids",
        "expected_close_date",
        "probability",
        "title",
    ] {
        assert_eq!(p[key], d[key], "{key} stays");
    }
    assert_ne!(p["update_time"], Value::Null);
    let r = app
        .patch(
            &path,
            &json!({"person_id": null, "expected_close_date": null, "probability": null}),
        )
        .await;
    assert_eq!(r.data()["person_id"], Value::Null);
    assert_eq!(r.data()["expected_close_date"], Value::Null);
    assert_eq!(r.data()["probability"], Value::Null);
    let labelled = app.get(&format!("{path}?include_labels=true")).await;
    assert_eq!(labelled.data()["labels"][0]["label"], "Hot");
}

#[tokio::test]
async fn a_deleted_deal_is_read_by_id_and_listed_only_under_status_deleted() {
    let app = TestApp::spawn().await;
    let keep = add_deal(&app, json!({"title": "keep"})).await["id"]
        .as_i64()
        .unwrap();
    let gone = add_deal(&app, json!({"title": "gone"})).await["id"]
        .as_i64()
        .unwrap();
    let r = app.delete(&format!("/api/v2/deals/{gone}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data(), &json!({"id": gone}));
    let got = app.get(&format!("/api/v2/deals/{gone}")).await;
    assert_eq!(got.data()["is_deleted"], true);
    assert_eq!(ids(app.get("/api/v2/deals").await.data()), [keep]);
    assert_eq!(
        ids(app.get("/api/v2/deals?status=deleted").await.data()),
        [gone]
    );
    assert_eq!(
        ids(app.get("/api/v2/deals?status=open,deleted").await.data()),
        [keep, gone]
    );
    app.delete(&format!("/api/v2/deals/{gone}"))
        .await
        .assert_error(404, "Deal not found");
    app.patch(&format!("/api/v2/deals/{gone}"), &json!({"title": "x"}))
        .await
        .assert_error(404, "Deal not found");
}

#[tokio::test]
async fn deals_list_by_filter_and_page_by_cursor() {
    let app = TestApp::spawn().await;
    let (_, stages) = default_stages(&app).await;
    let user = app.add_user("Seller").await;
    let person = app.add_person_v2(json!({"name": "Ann"})).await["id"]
        .as_i64()
        .unwrap();
    let mut all = Vec::new();
    for i in 0..7 {
        let d = add_deal(
            &app,
            json!({"title": format!("D{i}"), "stage_id": stages[i % 2],
                   "owner_id": if i == 3 { user.id } else { app.admin.id },
                   "person_id": if i < 2 { json!(person) } else { json!(null) },
                   "status": if i == 6 { "won" } else { "open" }}),
        )
        .await;
        all.push(d["id"].as_i64().unwrap());
    }
    assert_eq!(ids(app.get("/api/v2/deals").await.data()), all);
    assert_eq!(
        ids(app
            .get(&format!("/api/v2/deals?owner_id={}", user.id))
            .await
            .data()),
        [all[3]]
    );
    assert_eq!(
        ids(app
            .get(&format!("/api/v2/deals?person_id={person}"))
            .await
            .data()),
        &all[..2]
    );
    assert_eq!(
        ids(app
            .get(&format!("/api/v2/deals?stage_id={}", stages[1]))
            .await
            .data()),
        [all[1], all[3], all[5]]
    );
    assert_eq!(
        ids(app.get("/api/v2/deals?status=won").await.data()),
        [all[6]]
    );
    assert_eq!(
        ids(app
            .get(&format!("/api/v2/deals?ids={},{}", all[4], all[0]))
            .await
            .data()),
        [all[0], all[4]]
    );
    let mut seen = Vec::new();
    let mut path = "/api/v2/deals?limit=3&sort_by=id&sort_direction=desc".to_owned();
    loop {
        let r = app.get(&path).await;
        assert_eq!(r.status, 200, "{}", r.body);
        seen.extend(ids(r.data()));
        match r.body["additional_data"]["next_cursor"].as_str() {
            Some(c) => {
                path = format!("/api/v2/deals?limit=3&sort_by=id&sort_direction=desc&cursor={c}")
            }
            None => break,
        }
    }
    let mut expected = all.clone();
    expected.reverse();
    assert_eq!(seen, expected);
    app.get("/api/v2/deals?status=closed")
        .await
        .assert_error(400, "status: must be open, won, lost or deleted");
    app.get("/api/v2/deals?filter_id=1")
        .await
        .assert_error(400, "filter_id");
}

#[tokio::test]
async fn archived_deals_are_listed_apart() {
    let app = TestApp::spawn().await;
    let live = add_deal(&app, json!({"title": "live"})).await["id"]
        .as_i64()
        .unwrap();
    let old = add_deal(&app, json!({"title": "old", "is_archived": true})).await;
    assert!(old["archive_time"].is_string());
    let old = old["id"].as_i64().unwrap();
    assert_eq!(ids(app.get("/api/v2/deals").await.data()), [live]);
    assert_eq!(ids(app.get("/api/v2/deals/archived").await.data()), [old]);
    let r = app
        .patch(
            &format!("/api/v2/deals/{old}"),
            &json!({"is_archived": false}),
        )
        .await;
    assert_eq!(r.data()["archive_time"], Value::Null);
    assert_eq!(ids(app.get("/api/v2/deals").await.data()), [live, old]);
}

#[tokio::test]
async fn private_deals_are_hidden_from_users_who_neither_own_nor_follow_them() {
    let app = TestApp::spawn().await;
    let user = app.add_user("Plain").await;
    let private = add_deal(&app, json!({"title": "Secret deal", "visible_to": 1})).await["id"]
        .as_i64()
        .unwrap();
    let shared = add_deal(&app, json!({"title": "Shared deal"})).await["id"]
        .as_i64()
        .unwrap();
    let r = app.get_as(&user.api_token, "/api/v2/deals").await;
    assert_eq!(ids(r.data()), [shared]);
    app.get_as(&user.api_token, &format!("/api/v2/deals/{private}"))
        .await
        .assert_error(404, "Deal not found");
    let r = app
        .get_as(&user.api_token, "/api/v2/deals/search?term=deal")
        .await;
    assert_eq!(r.data()["items"].as_array().unwrap().len(), 1);
    // Once a follower, the user sees it.
    let r = app
        .post(
            &format!("/api/v2/deals/{private}/followers"),
            &json!({"user_id": user.id}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        app.get_as(&user.api_token, &format!("/api/v2/deals/{private}"))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn another_companys_deals_and_stages_are_not_found() {
    let app = TestApp::spawn().await;
    let (_, stages) = default_stages(&app).await;
    let d = add_deal(&app, json!({"title": "Mine"})).await["id"]
        .as_i64()
        .unwrap();
    let person = app.add_person_v2(json!({"name": "Ann"})).await["id"]
        .as_i64()
        .unwrap();
    let (_, b) = app.other_company("B").await;
    app.get_as(&b.api_token, &format!("/api/v2/deals/{d}"))
        .await
        .assert_error(404, "Deal not found");
    assert_eq!(
        app.get_as(&b.api_token, "/api/v2/deals").await.data(),
        &json!([])
    );
    app.post_as(
        &b.api_token,
        "/api/v2/deals",
        &json!({"title": "x", "stage_id": stages[0]}),
    )
    .await
    .assert_error(400, &format!("stage_id: stage {} not found", stages[0]));
    app.post_as(
        &b.api_token,
        "/api/v2/deals",
        &json!({"title": "x", "person_id": person}),
    )
    .await
    .assert_error(400, &format!("person_id: person {person} not found"));
}

#[tokio::test]
async fn deals_are_searched_by_title_and_custom_values() {
    let app = TestApp::spawn().await;
    let person = app.add_person_v2(json!({"name": "Ann"})).await["id"]
        .as_i64()
        .unwrap();
    let f = app
        .post(
            "/api/v2/dealFields",
            &json!({"field_name": "Code", "field_type": "varchar"}),
        )
        .await;
    assert_eq!(f.status, 200, "{}", f.body);
    let code = f.data()["field_code"].as_str().unwrap().to_owned();
    let a = add_deal(
        &app,
        json!({"title": "Rocket engines", "person_id": person}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let b = add_deal(
        &app,
        json!({"title": "Boats", "custom_fields": {code.as_str(): "ROCKET-7"}}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let r = app.get("/api/v2/deals/search?term=rocket").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let items = r.data()["items"].as_array().unwrap();
    let found: Vec<i64> = items
        .iter()
        .map(|i| i["item"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(found.len(), 2);
    assert!(found.contains(&a) && found.contains(&b));
    let item = &items.iter().find(|i| i["item"]["id"] == a).unwrap()["item"];
    assert_eq!(item["type"], "deal");
    assert_eq!(item["person"], json!({"id": person, "name": "Ann"}));
    assert_eq!(item["stage"]["name"], "Qualified");
    let r = app
        .get("/api/v2/deals/search?term=rocket&fields=title")
        .await;
    assert_eq!(r.data()["items"].as_array().unwrap().len(), 1);
    let r = app
        .get(&format!(
            "/api/v2/deals/search?term=rocket&person_id={person}"
        ))
        .await;
    assert_eq!(r.data()["items"][0]["item"]["id"], a);
    app.get("/api/v2/deals/search?term=r")
        .await
        .assert_error(400, "term: must be at least 2 characters");
    let r = app
        .get("/api/v2/deals/search?term=rocket&include_fields=deal.cc_email")
        .await;
    let cc = r.data()["items"][0]["item"]["cc_email"].as_str().unwrap();
    assert!(
        cc.ends_with("@pipedrivemail.com") && cc.contains("+deal"),
        "{cc}"
    );
    app.get("/api/v2/deals/search?term=rocket&include_fields=bogus")
        .await
        .assert_error(400, "include_fields");
}

#[tokio::test]
async fn a_stage_or_pipeline_holding_deals_is_not_deleted_until_they_leave() {
    let app = TestApp::spawn().await;
    let (pipeline, stages) = default_stages(&app).await;
    let d = add_deal(&app, json!({"title": "Held", "stage_id": stages[1]})).await;
    let id = d["id"].as_i64().unwrap();
    app.delete(&format!("/api/v2/stages/{}", stages[1]))
        .await
        .assert_error(400, "holds 1 deal(s)");
    app.delete(&format!("/api/v2/pipelines/{pipeline}"))
        .await
        .assert_error(400, "holds 1 deal(s)");
    // Nothing was deleted.
    let s = app.get(&format!("/api/v2/stages/{}", stages[1])).await;
    assert_eq!(s.data()["is_deleted"], false);
    // Moved away, the stage can go; deleted, the deal no longer holds the pipeline.
    let r = app
        .patch(
            &format!("/api/v2/deals/{id}"),
            &json!({"stage_id": stages[2]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.data()["stage_change_time"].is_string());
    assert_eq!(
        app.delete(&format!("/api/v2/stages/{}", stages[1]))
            .await
            .status,
        200
    );
    assert_eq!(app.delete(&format!("/api/v2/deals/{id}")).await.status, 200);
    let r = app.delete(&format!("/api/v2/pipelines/{pipeline}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // With no pipeline left, a new deal has nowhere to go.
    app.post("/api/v2/deals", &json!({"title": "Homeless"}))
        .await
        .assert_error(400, "stage");
}

#[tokio::test]
async fn a_stage_moved_to_another_pipeline_takes_its_deals_along() {
    let app = TestApp::spawn().await;
    let (_, stages) = default_stages(&app).await;
    let other = app
        .post("/api/v2/pipelines", &json!({"name": "Renewals"}))
        .await;
    let other = other.data()["id"].as_i64().unwrap();
    let d = add_deal(&app, json!({"title": "Travels", "stage_id": stages[3]})).await;
    let r = app
        .patch(
            &format!("/api/v2/stages/{}", stages[3]),
            &json!({"pipeline_id": other}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let got = app.get(&format!("/api/v2/deals/{}", d["id"])).await;
    assert_eq!(got.data()["pipeline_id"], other);
    assert_eq!(got.data()["stage_id"], stages[3]);
    let listed = app.get(&format!("/api/v2/deals?pipeline_id={other}")).await;
    assert_eq!(listed.data().as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn deal_fields_list_the_built_ins_and_custom_fields_in_both_dialects() {
    let app = TestApp::spawn().await;
    let v1 = app.get("/v1/dealFields").await;
    assert_eq!(v1.status, 200, "{}", v1.body);
    let keys: Vec<&str> = v1
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    for k in [
        "title",
        "value",
        "person_id",
        "org_id",
        "stage_id",
        "status",
        "label",
    ] {
        assert!(keys.contains(&k), "{k} in {keys:?}");
    }
    let label = v1
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "label")
        .unwrap();
    let names: Vec<&str> = label["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["label"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Hot", "Warm", "Cold"]);
    let added = app
        .post(
            "/api/v2/dealFields",
            &json!({"field_name": "Region", "field_type": "enum",
                    "options": [{"label": "North"}, {"label": "South"}]}),
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    let code = added.data()["field_code"].as_str().unwrap().to_owned();
    let south = added.data()["options"][1]["id"].as_i64().unwrap();
    let v2 = app.get(&format!("/api/v2/dealFields/{code}")).await;
    assert_eq!(v2.data()["field_name"], "Region");
    // A deal takes the value; a wrong one is refused naming the field.
    let d = add_deal(
        &app,
        json!({"title": "R", "custom_fields": {code.clone(): south}}),
    )
    .await;
    assert_eq!(d["custom_fields"][&code], south);
    app.post(
        "/api/v2/deals",
        &json!({"title": "R", "custom_fields": {code.clone(): 999_999}}),
    )
    .await
    .assert_error(400, &code);
    // Only admins change the setup.
    let user = app.add_user("Plain").await;
    let r = app
        .post_as(
            &user.api_token,
            "/api/v2/dealFields",
            &json!({"field_name": "Nope", "field_type": "varchar"}),
        )
        .await;
    r.assert_error(403, "permissions");
}

/// The answer to an add is the deal a read then gives, key for key, whatever it holds.
#[tokio::test]
async fn a_deal_added_with_every_field_reads_back_as_answered() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Acme").await;
    let person = app.add_person(json!({"name": "Ann", "org_id": org})).await["id"]
        .as_i64()
        .unwrap();
    let f = app
        .post(
            "/api/v2/dealFields",
            &json!({"field_name": "Budget", "field_type": "monetary"}),
        )
        .await;
    let code = f.data()["field_code"].as_str().unwrap().to_owned();
    let labels = app.get("/api/v2/dealFields/label_ids").await;
    let hot = labels.data()["options"][0]["id"].as_i64().unwrap();
    let (_, stages) = default_stages(&app).await;
    for body in [
        json!({"title": "Everything", "value": 1234.5, "currency": "EUR", "person_id": person,
               "org_id": org, "stage_id": stages[2], "status": "won", "probability": 40,
               "expected_close_date": "2027-03-01", "label_ids": [hot], "visible_to": 1,
               "custom_fields": {code.clone(): {"value": 10, "currency": "GBP"}}}),
        json!({"title": "Lost one", "status": "lost", "lost_reason": "price",
               "is_archived": true}),
    ] {
        let d = add_deal(&app, body).await;
        let got = app.get(&format!("/api/v2/deals/{}", d["id"])).await;
        assert_eq!(got.data(), &d);
        let v1 = app.get(&format!("/v1/deals/{}", d["id"])).await;
        assert_eq!(v1.status, 200, "{}", v1.body);
    }
}

/// A user may not make a deal for a person or organization it may not see: the same 400 as
/// for one that does not exist, and nothing is written.
#[tokio::test]
async fn a_deal_for_a_contact_the_user_may_not_see_is_refused() {
    let app = TestApp::spawn().await;
    let user = app.add_user("Plain").await;
    let hidden = app
        .add_person(json!({"name": "Hidden", "visible_to": "1"}))
        .await["id"]
        .as_i64()
        .unwrap();
    let org = app
        .post(
            "/v1/organizations",
            &json!({"name": "Hidden Org", "visible_to": "1"}),
        )
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    let shown = app.add_person(json!({"name": "Shown"})).await["id"]
        .as_i64()
        .unwrap();
    for (body, needle) in [
        (
            json!({"title": "T", "person_id": hidden}),
            "person_id: person",
        ),
        (json!({"title": "T", "org_id": org}), "org_id: organization"),
        (
            json!({"title": "T", "person_id": shown, "org_id": org}),
            "org_id: organization",
        ),
        (
            json!({"title": "T", "person_id": hidden, "org_id": org}),
            "person_id: person",
        ),
    ] {
        app.post_as(&user.api_token, "/api/v2/deals", &body)
            .await
            .assert_error(400, needle);
    }
    assert_eq!(app.count_rows("deals").await, 0);
    // The admin sees them all.
    add_deal(
        &app,
        json!({"title": "T", "person_id": hidden, "org_id": org}),
    )
    .await;
}
