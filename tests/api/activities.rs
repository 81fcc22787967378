//! Activities (v2 CRUD, v1 legacy reads) and activity types (`/v1/activityTypes`).

use serde_json::{Value, json};

use crate::helpers::TestApp;

async fn add(app: &TestApp, body: Value) -> Value {
    let r = app.post("/api/v2/activities", &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.data().clone()
}

#[tokio::test]
async fn add_activity_with_every_field_returns_200_and_the_v2_shape() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Acme").await;
    let ann = app.add_person(json!({"name": "Ann"})).await["id"]
        .as_i64()
        .unwrap();
    let bob = app.add_person(json!({"name": "Bob"})).await["id"]
        .as_i64()
        .unwrap();
    let deal = app
        .post("/api/v2/deals", &json!({"title": "D"}))
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    let a = add(
        &app,
        json!({
            "subject": "Kick-off",
            "type": "meeting",
            "owner_id": app.admin.id,
            "deal_id": deal,
            "org_id": org,
            "due_date": "2026-07-01",
            "due_time": "15:00:00",
            "duration": "01:30",
            "busy": true,
            "priority": 263,
            "note": "<p onclick=\"x()\">Agenda<script>alert(1)</script></p>",
            "public_description": "Bring slides",
            "location": {"value": "Main St 1, Tallinn", "locality": "Tallinn", "country": "Estonia"},
            "participants": [{"person_id": ann, "primary": true}, {"person_id": bob, "primary": false}],
            "attendees": [{"email": "guest@example.com", "name": "Guest", "status": "accepted"}]
        }),
    )
    .await;
    assert_eq!(a["subject"], "Kick-off");
    assert_eq!(a["type"], "meeting");
    assert_eq!(a["owner_id"], app.admin.id);
    assert_eq!(a["creator_user_id"], app.admin.id);
    assert_eq!(a["person_id"], ann, "the primary participant");
    assert_eq!(a["org_id"], org);
    assert_eq!(a["deal_id"], deal);
    assert_eq!(a["due_date"], "2026-07-01");
    assert_eq!(a["due_time"], "15:00");
    assert_eq!(a["duration"], "01:30");
    assert_eq!(a["busy"], true);
    assert_eq!(a["done"], false);
    assert_eq!(a["marked_as_done_time"], Value::Null);
    assert_eq!(a["priority"], 263);
    assert_eq!(a["note"], "<p>Agenda</p>");
    assert_eq!(a["location"]["locality"], "Tallinn");
    assert_eq!(a["is_deleted"], false);
    assert_eq!(
        a["participants"],
        json!([{"person_id": ann, "primary": true}, {"person_id": bob, "primary": false}])
    );
    assert_eq!(a["attendees"][0]["email"], "guest@example.com");
    assert!(a["add_time"].as_str().unwrap().ends_with('Z'));

    let id = a["id"].as_i64().unwrap();
    let got = app.get(&format!("/api/v2/activities/{id}")).await;
    assert_eq!(got.status, 200);
    assert!(
        got.data().get("attendees").is_none(),
        "attendees only on request"
    );
    let got = app
        .get(&format!("/api/v2/activities/{id}?include_fields=attendees"))
        .await;
    assert_eq!(got.data()["attendees"][0]["name"], "Guest");
}

#[tokio::test]
async fn an_activity_without_type_or_subject_is_a_call_named_after_its_type() {
    let app = TestApp::spawn().await;
    let a = add(&app, json!({})).await;
    assert_eq!(a["type"], "call");
    assert_eq!(a["subject"], "Call");
    assert_eq!(a["owner_id"], app.admin.id);
    assert_eq!(a["participants"], json!([]));
    assert_eq!(a["person_id"], Value::Null);
}

#[tokio::test]
async fn bad_activity_input_gets_the_envelope_naming_the_field() {
    let app = TestApp::spawn().await;
    let p = app.add_person(json!({"name": "Ann"})).await["id"]
        .as_i64()
        .unwrap();
    let cases = [
        (json!({"type": "fax"}), "type"),
        (json!({"subject": ""}), "subject"),
        (json!({"subject": 5}), "subject"),
        (json!({"due_date": "2026-13-01"}), "due_date"),
        (
            json!({"due_date": "2026-01-01", "due_time": "24:00"}),
            "due_time",
        ),
        (json!({"due_time": "10:00"}), "due_time"),
        (json!({"duration": "1h"}), "duration"),
        (json!({"done": "maybe"}), "done"),
        (json!({"busy": 3}), "busy"),
        (json!({"priority": "high"}), "priority"),
        (json!({"owner_id": 999_999}), "owner_id"),
        (json!({"person_id": 999_999}), "person_id"),
        (json!({"org_id": 999_999}), "org_id"),
        (json!({"deal_id": 999_999}), "deal_id"),
        (
            json!({"participants": [{"person_id": 999_999}]}),
            "participants",
        ),
        (
            json!({"participants": [{"person_id": p, "primary": true}, {"person_id": p}]}),
            "participants",
        ),
        (json!({"participants": "x"}), "participants"),
        (
            json!({"participants": [{"person_id": p, "primary": true}], "person_id": 999}),
            "person_id",
        ),
        (json!({"location": {"planet": "Mars"}}), "location"),
        (json!({"location": 5}), "location"),
        (json!({"attendees": [{"name": "no address"}]}), "attendees"),
        (json!({"lead_id": "abc"}), "lead_id"),
        (json!({"id": 5}), "id"),
        (json!({"colour": "red"}), "colour"),
    ];
    for (body, needle) in cases {
        let r = app.post("/api/v2/activities", &body).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        r.assert_error(400, needle);
    }
    assert_eq!(
        app.count_rows("activities").await,
        0,
        "nothing half-written"
    );
}

#[tokio::test]
async fn patch_changes_only_what_it_names_and_done_stamps_the_time() {
    let app = TestApp::spawn().await;
    let a = add(
        &app,
        json!({"subject": "Call", "due_date": "2026-01-01", "note": "n"}),
    )
    .await;
    let id = a["id"].as_i64().unwrap();
    let r = app
        .patch(&format!("/api/v2/activities/{id}"), &json!({"done": true}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["done"], true);
    assert!(
        r.data()["marked_as_done_time"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert_eq!(r.data()["subject"], "Call");
    assert_eq!(r.data()["note"], "n");
    let r = app
        .patch(
            &format!("/api/v2/activities/{id}"),
            &json!({"note": null, "due_date": null}),
        )
        .await;
    assert_eq!(r.data()["note"], Value::Null);
    assert_eq!(r.data()["due_date"], Value::Null);
    assert_eq!(r.data()["done"], true);
    app.patch(&format!("/api/v2/activities/{id}"), &json!({"type": "fax"}))
        .await
        .assert_error(400, "type");
    app.patch("/api/v2/activities/999999", &json!({"subject": "x"}))
        .await
        .assert_error(404, "Activity not found");
}

#[tokio::test]
async fn delete_is_soft_and_leaves_lists() {
    let app = TestApp::spawn().await;
    let id = add(&app, json!({})).await["id"].as_i64().unwrap();
    let r = app.delete(&format!("/api/v2/activities/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data(), &json!({"id": id}));
    let got = app.get(&format!("/api/v2/activities/{id}")).await;
    assert_eq!(got.data()["is_deleted"], true);
    let list = app.get("/api/v2/activities").await;
    assert_eq!(list.data(), &json!([]));
    app.delete(&format!("/api/v2/activities/{id}"))
        .await
        .assert_error(404, "Activity not found");
    app.patch(
        &format!("/api/v2/activities/{id}"),
        &json!({"subject": "x"}),
    )
    .await
    .assert_error(404, "Activity not found");
}

#[tokio::test]
async fn list_filters_sorts_and_pages_by_cursor() {
    let app = TestApp::spawn().await;
    let ann = app.add_person(json!({"name": "Ann"})).await["id"]
        .as_i64()
        .unwrap();
    let org = app.add_org("Acme").await;
    let a1 = add(&app, json!({"person_id": ann, "due_date": "2026-03-03"})).await["id"].clone();
    let a2 = add(
        &app,
        json!({"org_id": org, "due_date": "2026-01-01", "done": true}),
    )
    .await["id"]
        .clone();
    let a3 = add(&app, json!({"due_date": "2026-02-02"})).await["id"].clone();
    let ids = |r: &crate::helpers::Resp| -> Vec<Value> {
        r.data()
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].clone())
            .collect()
    };
    let r = app
        .get(&format!("/api/v2/activities?person_id={ann}"))
        .await;
    assert_eq!(ids(&r), vec![a1.clone()]);
    let r = app.get(&format!("/api/v2/activities?org_id={org}")).await;
    assert_eq!(ids(&r), vec![a2.clone()]);
    let r = app.get("/api/v2/activities?done=true").await;
    assert_eq!(ids(&r), vec![a2.clone()]);
    let r = app.get("/api/v2/activities?done=false").await;
    assert_eq!(ids(&r), vec![a1.clone(), a3.clone()]);
    let r = app.get("/api/v2/activities?sort_by=due_date").await;
    assert_eq!(ids(&r), vec![a2.clone(), a3.clone(), a1.clone()]);
    let r = app
        .get("/api/v2/activities?sort_by=due_date&sort_direction=desc&limit=2")
        .await;
    assert_eq!(ids(&r), vec![a1.clone(), a3.clone()]);
    let cursor = r.body["additional_data"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .get(&format!("/api/v2/activities?cursor={cursor}&limit=2"))
        .await;
    assert_eq!(ids(&r), vec![a2.clone()], "{}", r.body);
    assert_eq!(r.body["additional_data"]["next_cursor"], Value::Null);
    let r = app.get(&format!("/api/v2/activities?ids={a3},{a1}")).await;
    assert_eq!(ids(&r), vec![a1.clone(), a3.clone()]);
    app.get("/api/v2/activities?sort_by=subject")
        .await
        .assert_error(400, "sort_by");
    app.get("/api/v2/activities?done=maybe")
        .await
        .assert_error(400, "done");
    app.get("/api/v2/activities?include_fields=everything")
        .await
        .assert_error(400, "include_fields");
}

#[tokio::test]
async fn v1_reads_show_the_legacy_shape_with_related_objects() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Acme").await;
    let ann = app.add_person(json!({"name": "Ann", "org_id": org})).await["id"]
        .as_i64()
        .unwrap();
    let deal = app
        .post(
            "/api/v2/deals",
            &json!({"title": "Big deal", "person_id": ann}),
        )
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    let a = add(
        &app,
        json!({"subject": "Demo", "type": "meeting", "person_id": ann, "org_id": org, "deal_id": deal,
               "due_date": "2026-05-05", "due_time": "10:00", "location": "Main St 1"}),
    )
    .await;
    let id = a["id"].as_i64().unwrap();
    let r = app.get(&format!("/v1/activities/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let d = r.data();
    assert_eq!(d["user_id"], app.admin.id);
    assert_eq!(d["type"], "meeting");
    assert_eq!(d["type_name"], "Meeting");
    assert_eq!(d["person_name"], "Ann");
    assert_eq!(d["org_name"], "Acme");
    assert_eq!(d["deal_title"], "Big deal");
    assert_eq!(d["location"], "Main St 1");
    assert_eq!(d["marked_as_done_time"], "");
    assert_eq!(d["active_flag"], true);
    assert_eq!(
        d["participants"],
        json!([{"person_id": ann, "primary_flag": true}])
    );
    assert!(d["add_time"].as_str().unwrap().len() == 19);
    let rel = &r.body["related_objects"];
    assert_eq!(rel["person"][ann.to_string()]["name"], "Ann");
    assert_eq!(rel["organization"][org.to_string()]["name"], "Acme");
    assert_eq!(rel["deal"][deal.to_string()]["title"], "Big deal");
    assert_eq!(rel["user"][app.admin.id.to_string()]["id"], app.admin.id);

    for path in [
        format!("/v1/persons/{ann}/activities"),
        format!("/v1/organizations/{org}/activities"),
        format!("/v1/deals/{deal}/activities"),
        "/v1/activities".to_owned(),
        "/v1/activities?user_id=0&type=meeting,call".to_owned(),
        "/v1/activities?start_date=2026-05-01&end_date=2026-05-31".to_owned(),
    ] {
        let r = app.get(&path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert_eq!(r.data().as_array().unwrap().len(), 1, "{path}: {}", r.body);
        assert_eq!(
            r.body["additional_data"]["pagination"]["more_items_in_collection"],
            false
        );
    }
    for path in [
        "/v1/activities?type=call",
        "/v1/activities?done=1",
        "/v1/activities?start_date=2026-06-01",
    ] {
        let r = app.get(path).await;
        assert_eq!(r.data(), &json!([]), "{path}: {}", r.body);
    }
    app.get("/v1/activities?done=2")
        .await
        .assert_error(400, "done");
    app.get("/v1/activities?start_date=May")
        .await
        .assert_error(400, "start_date");
    app.get("/v1/activities/999999")
        .await
        .assert_error(404, "Activity not found");
    app.get("/v1/persons/999999/activities")
        .await
        .assert_error(404, "not found");
}

#[tokio::test]
async fn activity_types_start_with_pipedrives_six_and_admins_manage_them() {
    let app = TestApp::spawn().await;
    let r = app.get("/v1/activityTypes").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let keys: Vec<&str> = r
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["key_string"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        ["call", "meeting", "task", "deadline", "email", "lunch"]
    );
    assert_eq!(r.data()[0]["is_custom_flag"], false);
    assert_eq!(r.data()[0]["icon_key"], "call");

    let t = app
        .post(
            "/v1/activityTypes",
            &json!({"name": "Video call", "icon_key": "camera", "color": "#ffcc00"}),
        )
        .await;
    assert_eq!(t.status, 200, "{}", t.body);
    assert_eq!(t.data()["key_string"], "video_call");
    assert_eq!(t.data()["color"], "FFCC00");
    assert_eq!(t.data()["order_nr"], 7);
    assert_eq!(t.data()["is_custom_flag"], true);
    // A second type of the same name gets a key of its own.
    let again = app
        .post(
            "/v1/activityTypes",
            &json!({"name": "Video Call", "icon_key": "camera"}),
        )
        .await;
    assert_eq!(again.data()["key_string"], "video_call_2", "{}", again.body);
    let id = t.data()["id"].as_i64().unwrap();
    let a = add(&app, json!({"type": "video_call"})).await;
    assert_eq!(a["subject"], "Video call");

    let u = app
        .put(
            &format!("/v1/activityTypes/{id}"),
            &json!({"name": "Zoom", "order_nr": 1}),
        )
        .await;
    assert_eq!(u.status, 200, "{}", u.body);
    assert_eq!(u.data()["name"], "Zoom");
    assert_eq!(u.data()["key_string"], "video_call", "keys never change");

    let d = app.delete(&format!("/v1/activityTypes/{id}")).await;
    assert_eq!(d.status, 200, "{}", d.body);
    assert_eq!(d.data()["active_flag"], false);
    app.post("/api/v2/activities", &json!({"type": "video_call"}))
        .await
        .assert_error(400, "type");
    // Activities of a deleted type keep it.
    let kept = app.get(&format!("/api/v2/activities/{}", a["id"])).await;
    assert_eq!(kept.data()["type"], "video_call");
    app.delete(&format!("/v1/activityTypes/{id}"))
        .await
        .assert_error(404, "Activity type not found");

    for (body, needle) in [
        (json!({"icon_key": "call"}), "name"),
        (json!({"name": "X"}), "icon_key"),
        (json!({"name": "X", "icon_key": "rocket"}), "icon_key"),
        (
            json!({"name": "X", "icon_key": "call", "color": "red"}),
            "color",
        ),
        (
            json!({"name": "X", "icon_key": "call", "key_string": "x"}),
            "key_string",
        ),
    ] {
        app.post("/v1/activityTypes", &body)
            .await
            .assert_error(400, needle);
    }
    let user = app.add_user("Regular").await;
    let r = app
        .post_as(
            &user.api_token,
            "/v1/activityTypes",
            &json!({"name": "X", "icon_key": "call"}),
        )
        .await;
    r.assert_error(403, "admin");
    let r = app.get_as(&user.api_token, "/v1/activityTypes").await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn activities_of_a_private_person_are_hidden_from_users_who_cannot_see_it() {
    let app = TestApp::spawn().await;
    let user = app.add_user("Other").await;
    let private = app
        .add_person(json!({"name": "Secret", "visible_to": 1}))
        .await["id"]
        .as_i64()
        .unwrap();
    let a = add(
        &app,
        json!({"person_id": private, "subject": "Secret call"}),
    )
    .await;
    let id = a["id"].as_i64().unwrap();
    let r = app
        .get_as(&user.api_token, &format!("/api/v2/activities/{id}"))
        .await;
    r.assert_error(404, "Activity not found");
    let r = app
        .get_as(&user.api_token, &format!("/v1/activities/{id}"))
        .await;
    r.assert_error(404, "Activity not found");
    let r = app.get_as(&user.api_token, "/api/v2/activities").await;
    assert_eq!(r.data(), &json!([]), "{}", r.body);
    let r = app
        .get_as(
            &user.api_token,
            &format!("/api/v2/activities?person_id={private}"),
        )
        .await;
    assert_eq!(r.data(), &json!([]));
    // The admin sees it, and the other user cannot attach new ones to the person.
    assert_eq!(
        app.get(&format!("/api/v2/activities/{id}")).await.status,
        200
    );
    let r = app
        .post_as(
            &user.api_token,
            "/api/v2/activities",
            &json!({"person_id": private}),
        )
        .await;
    r.assert_error(400, "person_id");
}

#[tokio::test]
async fn activity_fields_list_the_built_in_fields_with_the_active_types_as_options() {
    let app = TestApp::spawn().await;
    app.post(
        "/v1/activityTypes",
        &json!({"name": "Site visit", "icon_key": "car"}),
    )
    .await;
    let r = app.get("/api/v2/activityFields").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let fields = r.data().as_array().unwrap();
    let codes: Vec<&str> = fields
        .iter()
        .map(|f| f["field_code"].as_str().unwrap())
        .collect();
    for code in [
        "subject",
        "type",
        "due_date",
        "due_time",
        "duration",
        "done",
        "busy",
        "note",
        "location",
        "participants",
    ] {
        assert!(codes.contains(&code), "{code}: {codes:?}");
    }
    let t = app
        .get("/api/v2/activityFields/type?include_fields=ui_visibility")
        .await;
    assert_eq!(t.status, 200, "{}", t.body);
    let keys: Vec<&str> = t.data()["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "call",
            "meeting",
            "task",
            "deadline",
            "email",
            "lunch",
            "site_visit"
        ]
    );
    assert_eq!(t.data()["is_custom_field"], false);
    assert_eq!(t.data()["ui_visibility"]["add_visible_flag"], true);
    let loc = app.get("/api/v2/activityFields/location").await;
    assert_eq!(loc.data()["subfields"][0]["field_code"], "location_country");
    // Paged by cursor like every v2 field list.
    let first = app.get("/api/v2/activityFields?limit=5").await;
    assert_eq!(first.data().as_array().unwrap().len(), 5);
    let cursor = first.body["additional_data"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let next = app
        .get(&format!("/api/v2/activityFields?limit=5&cursor={cursor}"))
        .await;
    assert_eq!(next.data()[0]["field_code"], fields[5]["field_code"]);
    app.get("/api/v2/activityFields/nope")
        .await
        .assert_error(404, "nope");
    app.get("/api/v2/activityFields?include_fields=everything")
        .await
        .assert_error(400, "include_fields");
}

#[tokio::test]
async fn an_activity_with_many_participants_is_checked_whole() {
    let app = TestApp::spawn().await;
    let mut people = Vec::new();
    for i in 0..70 {
        people.push(
            app.add_person(json!({"name": format!("P{i}")})).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let list: Vec<Value> = people.iter().map(|p| json!({"person_id": p})).collect();
    let a = add(&app, json!({"participants": list})).await;
    assert_eq!(a["participants"].as_array().unwrap().len(), 70);
    assert_eq!(a["person_id"], people[0]);
    let mut bad = list.clone();
    bad.push(json!({"person_id": 999_999}));
    app.post("/api/v2/activities", &json!({"participants": bad}))
        .await
        .assert_error(400, "participants: person 999999");
    app.put(
        "/v1/activityTypes/1",
        &json!({"order_nr": 9_223_372_036_854_775_807_i64}),
    )
    .await
    .assert_error(400, "order_nr");
}
