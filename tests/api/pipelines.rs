//! v2 pipelines and stages: the default pipeline, CRUD, ordering, paging, who may change them.

use serde_json::{Value, json};

use crate::helpers::TestApp;

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_i64().unwrap())
        .collect()
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_new_company_has_one_pipeline_with_pipedrives_default_stages_in_order() {
    let app = TestApp::spawn().await;
    let r = app.get("/api/v2/pipelines").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let pipelines = r.data().as_array().unwrap();
    assert_eq!(pipelines.len(), 1);
    let p = &pipelines[0];
    assert_eq!(p["name"], "Pipeline");
    assert_eq!(p["order_nr"], 1);
    assert_eq!(p["is_deleted"], false);
    assert_eq!(p["is_deal_probability_enabled"], false);
    assert!(p["add_time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(r.body["additional_data"]["next_cursor"], Value::Null);

    let stages = app
        .get(&format!("/api/v2/stages?pipeline_id={}", p["id"]))
        .await;
    assert_eq!(
        names(stages.data()),
        [
            "Qualified",
            "Contact Made",
            "Demo Scheduled",
            "Proposal Made",
            "Negotiations Started"
        ]
    );
    for (i, s) in stages.data().as_array().unwrap().iter().enumerate() {
        assert_eq!(s["order_nr"], i as i64 + 1);
        assert_eq!(s["pipeline_id"], p["id"]);
        assert_eq!(s["deal_probability"], 100);
        assert_eq!(s["is_deal_rot_enabled"], false);
        assert_eq!(s["days_to_rotten"], Value::Null);
        assert_eq!(s["is_deleted"], false);
    }
}

#[tokio::test]
async fn a_pipeline_is_added_changed_and_deleted_with_its_stages() {
    let app = TestApp::spawn().await;
    let r = app
        .post(
            "/api/v2/pipelines",
            &json!({"name": "  Renewals ", "is_deal_probability_enabled": true}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let p = r.data().clone();
    assert_eq!(p["name"], "Renewals");
    assert_eq!(p["order_nr"], 2, "after the default pipeline");
    assert_eq!(p["is_deal_probability_enabled"], true);
    let id = p["id"].as_i64().unwrap();
    assert_eq!(app.get(&format!("/api/v2/pipelines/{id}")).await.data(), &p);

    let r = app
        .patch(
            &format!("/api/v2/pipelines/{id}"),
            &json!({"name": "Upsell"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["name"], "Upsell");
    assert_eq!(
        r.data()["is_deal_probability_enabled"],
        true,
        "what a PATCH does not name stays"
    );

    let stage = app
        .post(
            "/api/v2/stages",
            &json!({"name": "Call", "pipeline_id": id}),
        )
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    let r = app.delete(&format!("/api/v2/pipelines/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data(), &json!({"id": id}));
    assert_eq!(
        app.get(&format!("/api/v2/pipelines/{id}")).await.data()["is_deleted"],
        true
    );
    assert_eq!(
        app.get(&format!("/api/v2/stages/{stage}")).await.data()["is_deleted"],
        true,
        "its stages go with it"
    );
    assert_eq!(
        app.get("/api/v2/pipelines")
            .await
            .data()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    app.delete(&format!("/api/v2/pipelines/{id}"))
        .await
        .assert_error(404, "Pipeline not found");
    app.patch(&format!("/api/v2/pipelines/{id}"), &json!({"name": "x"}))
        .await
        .assert_error(404, "Pipeline not found");
    app.post(
        "/api/v2/stages",
        &json!({"name": "Late", "pipeline_id": id}),
    )
    .await
    .assert_error(400, &format!("pipeline_id: pipeline {id} not found"));
}

#[tokio::test]
async fn a_stage_is_added_at_the_end_of_its_pipeline_and_moves_to_the_end_of_another() {
    let app = TestApp::spawn().await;
    let default = app.get("/api/v2/pipelines").await.data()[0]["id"]
        .as_i64()
        .unwrap();
    let r = app
        .post(
            "/api/v2/stages",
            &json!({"name": "Won back", "pipeline_id": default, "deal_probability": 40,
                    "is_deal_rot_enabled": true, "days_to_rotten": 14}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let s = r.data().clone();
    assert_eq!(s["order_nr"], 6);
    assert_eq!(s["deal_probability"], 40);
    assert_eq!(s["is_deal_rot_enabled"], true);
    assert_eq!(s["days_to_rotten"], 14);
    let id = s["id"].as_i64().unwrap();

    let other = app
        .post("/api/v2/pipelines", &json!({"name": "Other"}))
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    let first = app
        .post(
            "/api/v2/stages",
            &json!({"name": "First", "pipeline_id": other}),
        )
        .await;
    assert_eq!(first.data()["order_nr"], 1);
    let r = app
        .patch(
            &format!("/api/v2/stages/{id}"),
            &json!({"pipeline_id": other, "days_to_rotten": null, "name": "Moved"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["pipeline_id"], other);
    assert_eq!(r.data()["order_nr"], 2);
    assert_eq!(r.data()["days_to_rotten"], Value::Null);
    assert_eq!(r.data()["name"], "Moved");
    assert_eq!(
        names(
            app.get(&format!(
                "/api/v2/stages?pipeline_id={other}&sort_by=order_nr"
            ))
            .await
            .data()
        ),
        ["First", "Moved"]
    );

    let r = app.delete(&format!("/api/v2/stages/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        names(
            app.get(&format!("/api/v2/stages?pipeline_id={other}"))
                .await
                .data()
        ),
        ["First"]
    );
    app.delete(&format!("/api/v2/stages/{id}"))
        .await
        .assert_error(404, "Stage not found");
}

#[tokio::test]
async fn bad_pipeline_and_stage_bodies_are_400s_naming_the_field() {
    let app = TestApp::spawn().await;
    let pipeline = app.get("/api/v2/pipelines").await.data()[0]["id"]
        .as_i64()
        .unwrap();
    app.post("/api/v2/pipelines", &json!({}))
        .await
        .assert_error(400, "name: is required");
    app.post("/api/v2/pipelines", &json!({"name": "  "}))
        .await
        .assert_error(400, "name: must not be empty");
    app.post("/api/v2/pipelines", &json!({"name": 5}))
        .await
        .assert_error(400, "name: must be a string");
    app.post(
        "/api/v2/pipelines",
        &json!({"name": "x", "is_deal_probability_enabled": "maybe"}),
    )
    .await
    .assert_error(400, "is_deal_probability_enabled: must be a boolean");
    app.post(
        "/api/v2/pipelines",
        &json!({"name": "x", "order_nr": 3, "colour": 1}),
    )
    .await
    .assert_error(400, "order_nr (read-only), colour (unknown field)");
    app.post("/api/v2/stages", &json!({"name": "x"}))
        .await
        .assert_error(400, "pipeline_id: is required");
    app.post("/api/v2/stages", &json!({"pipeline_id": pipeline}))
        .await
        .assert_error(400, "name: is required");
    for (body, needle) in [
        (
            json!({"deal_probability": 101}),
            "deal_probability: must be between 0 and 100, got 101",
        ),
        (
            json!({"deal_probability": -1}),
            "deal_probability: must be between 0 and 100",
        ),
        (
            json!({"deal_probability": 1.5}),
            "deal_probability: must be an integer",
        ),
        (
            json!({"days_to_rotten": 0}),
            "days_to_rotten: must be a positive number of days",
        ),
        (
            json!({"is_deal_rot_enabled": []}),
            "is_deal_rot_enabled: must be a boolean",
        ),
        (
            json!({"pipeline_id": 0}),
            "pipeline_id: must be a positive integer id",
        ),
        (
            json!({"pipeline_id": 999_999}),
            "pipeline_id: pipeline 999999 not found",
        ),
    ] {
        let mut body = body.as_object().unwrap().clone();
        body.insert("name".into(), json!("Stage"));
        body.entry("pipeline_id").or_insert(json!(pipeline));
        app.post("/api/v2/stages", &Value::Object(body))
            .await
            .assert_error(400, needle);
    }
    let stage = app.get("/api/v2/stages").await.data()[0]["id"]
        .as_i64()
        .unwrap();
    app.patch(
        &format!("/api/v2/stages/{stage}"),
        &json!({"pipeline_id": 999_999}),
    )
    .await
    .assert_error(400, "pipeline_id: pipeline 999999 not found");
    app.get("/api/v2/pipelines?sort_by=order_nr")
        .await
        .assert_error(400, "sort_by: must be one of id, update_time, add_time");
    app.get("/api/v2/stages?sort_by=name").await.assert_error(
        400,
        "sort_by: must be one of id, update_time, add_time, order_nr",
    );
    app.get("/api/v2/pipelines/0").await.assert_error(400, "id");
    app.get("/api/v2/stages/999999")
        .await
        .assert_error(404, "Stage not found");
}

#[tokio::test]
async fn only_admins_change_pipelines_and_stages_but_every_user_reads_them() {
    let app = TestApp::spawn().await;
    let user = app.add_user("Plain").await;
    let pipeline = app.get("/api/v2/pipelines").await.data()[0]["id"]
        .as_i64()
        .unwrap();
    let r = app.get_as(&user.api_token, "/api/v2/pipelines").await;
    assert_eq!(r.status, 200);
    assert_eq!(ids(r.data()), [pipeline]);
    assert_eq!(
        app.get_as(&user.api_token, "/api/v2/stages").await.status,
        200
    );
    app.post_as(
        &user.api_token,
        "/api/v2/pipelines",
        &json!({"name": "Mine"}),
    )
    .await
    .assert_error(403, "You do not have permissions");
    app.post_as(
        &user.api_token,
        "/api/v2/stages",
        &json!({"name": "Mine", "pipeline_id": pipeline}),
    )
    .await
    .assert_error(403, "You do not have permissions");
    for (method, path) in [
        (
            reqwest::Method::PATCH,
            format!("/api/v2/pipelines/{pipeline}"),
        ),
        (
            reqwest::Method::DELETE,
            format!("/api/v2/pipelines/{pipeline}"),
        ),
    ] {
        app.call(
            method,
            &path,
            Some(&user.api_token),
            Some(&json!({"name": "x"})),
        )
        .await
        .assert_error(403, "You do not have permissions");
    }
    assert_eq!(
        app.get(&format!("/api/v2/pipelines/{pipeline}"))
            .await
            .data()["name"],
        "Pipeline"
    );
}

#[tokio::test]
async fn stages_page_by_cursor_in_any_supported_order() {
    let app = TestApp::spawn().await;
    let all = ids(app.get("/api/v2/stages?limit=500").await.data());
    assert_eq!(all.len(), 5);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => {
                format!("/api/v2/stages?sort_by=order_nr&sort_direction=desc&limit=2&cursor={c}")
            }
            None => "/api/v2/stages?sort_by=order_nr&sort_direction=desc&limit=2".to_owned(),
        };
        let r = app.get(&path).await;
        assert_eq!(r.status, 200, "{}", r.body);
        seen.extend(ids(r.data()));
        match r.body["additional_data"]["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let mut expected = all.clone();
    expected.reverse();
    assert_eq!(seen, expected, "highest order_nr first, each stage once");
}

#[tokio::test]
async fn another_companys_pipelines_and_stages_are_not_found() {
    let app = TestApp::spawn().await;
    let (_, b) = app.other_company("B").await;
    let mine = app.get("/api/v2/pipelines").await.data()[0]["id"]
        .as_i64()
        .unwrap();
    let theirs = app.get_as(&b.api_token, "/api/v2/pipelines").await;
    assert_eq!(theirs.data().as_array().unwrap().len(), 1);
    assert_ne!(theirs.data()[0]["id"], mine);
    app.get_as(&b.api_token, &format!("/api/v2/pipelines/{mine}"))
        .await
        .assert_error(404, "Pipeline not found");
    app.post_as(
        &b.api_token,
        "/api/v2/stages",
        &json!({"name": "Sneaky", "pipeline_id": mine}),
    )
    .await
    .assert_error(400, &format!("pipeline_id: pipeline {mine} not found"));
    assert_eq!(
        app.get_as(&b.api_token, &format!("/api/v2/stages?pipeline_id={mine}"))
            .await
            .data(),
        &json!([])
    );
}
