//! Route by route, for every route the router has: another company's token gets no byte of a
//! company's data, and a user without visibility gets 404 for a private person.

use pipestack::api::routes;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// What company A has, and how each route's placeholders are filled with it.
struct World {
    person: i64,
    private_person: i64,
    org: i64,
    field_id: i64,
    field_code: String,
    follower_rel: i64,
    admin: i64,
    pipeline: i64,
    stage: i64,
    deal: i64,
    private_deal: i64,
    deal_follower_rel: i64,
    activity: i64,
    private_activity: i64,
    note: i64,
    private_note: i64,
    activity_type: i64,
}

/// The items of A a route's `{id}` names: a person, deal, activity and note.
#[derive(Clone, Copy)]
struct Ids {
    person: i64,
    deal: i64,
    activity: i64,
    note: i64,
}

async fn created(r: crate::helpers::Resp) -> i64 {
    assert_eq!(r.status, 200, "{}", r.body);
    r.data()["id"].as_i64().unwrap()
}

async fn company_a(app: &TestApp) -> World {
    let org = app
        .post(
            "/v1/organizations",
            &json!({"name": "SECRET-A Org", "address": "SECRET-A Street 1"}),
        )
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    let field = app
        .post("/api/v2/personFields", &json!({"field_name": "SECRET-A Field", "field_type": "enum", "options": [{"label": "SECRET-A Option"}]}))
        .await
        .data()
        .clone();
    let code = field["field_code"].as_str().unwrap().to_owned();
    let field_id = app
        .get("/v1/personFields")
        .await
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == code.as_str())
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let person = app
        .add_person(json!({"name": "SECRET-A Person", "email": "secret-a@a.example", "phone": "+1 555 0001", "org_id": org, code.as_str(): field["options"][0]["id"]}))
        .await["id"]
        .as_i64()
        .unwrap();
    let private_person = app
        .add_person(json!({"name": "SECRET-PRIVATE Person", "email": "private@a.example", "visible_to": "1"}))
        .await["id"]
        .as_i64()
        .unwrap();
    let follower_rel = app
        .get(&format!("/v1/persons/{person}/followers"))
        .await
        .data()[0]["id"]
        .as_i64()
        .unwrap();
    let org_field = app
        .post(
            "/api/v2/organizationFields",
            &json!({"field_name": "SECRET-A OrgField", "field_type": "varchar"}),
        )
        .await;
    assert_eq!(org_field.status, 200, "{}", org_field.body);
    let pipeline = app
        .post("/api/v2/pipelines", &json!({"name": "SECRET-A Pipeline"}))
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    let stage = app
        .post(
            "/api/v2/stages",
            &json!({"name": "SECRET-A Stage", "pipeline_id": pipeline}),
        )
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    let deal_field = app
        .post(
            "/api/v2/dealFields",
            &json!({"field_name": "SECRET-A DealField", "field_type": "varchar"}),
        )
        .await;
    assert_eq!(deal_field.status, 200, "{}", deal_field.body);
    let deal_code = deal_field.data()["field_code"].as_str().unwrap().to_owned();
    let deal = app
        .post(
            "/api/v2/deals",
            &json!({"title": "SECRET-A Deal", "person_id": person, "org_id": org,
                    "stage_id": stage, "custom_fields": {deal_code: "SECRET-A value"}}),
        )
        .await;
    assert_eq!(deal.status, 200, "{}", deal.body);
    let deal = deal.data()["id"].as_i64().unwrap();
    let private_deal = app
        .post(
            "/api/v2/deals",
            &json!({"title": "SECRET-PRIVATE Deal", "person_id": person, "visible_to": 1}),
        )
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    let deal_follower_rel = app.get(&format!("/v1/deals/{deal}/followers")).await.data()[0]["id"]
        .as_i64()
        .unwrap();
    let activity = created(
        app.post(
            "/api/v2/activities",
            &json!({"subject": "SECRET-A Activity", "person_id": person, "org_id": org,
                    "deal_id": deal, "note": "SECRET-A agenda", "due_date": "2026-01-01"}),
        )
        .await,
    )
    .await;
    let private_activity = created(
        app.post(
            "/api/v2/activities",
            &json!({"subject": "SECRET-PRIVATE Activity", "person_id": private_person}),
        )
        .await,
    )
    .await;
    let note = created(
        app.post(
            "/v1/notes",
            &json!({"content": "SECRET-A Note", "person_id": person, "deal_id": deal, "org_id": org}),
        )
        .await,
    )
    .await;
    let private_note = created(
        app.post(
            "/v1/notes",
            &json!({"content": "SECRET-PRIVATE Note", "person_id": private_person}),
        )
        .await,
    )
    .await;
    let activity_type = created(
        app.post(
            "/v1/activityTypes",
            &json!({"name": "SECRET-A Type", "icon_key": "call"}),
        )
        .await,
    )
    .await;
    World {
        activity,
        private_activity,
        note,
        private_note,
        activity_type,
        person,
        deal,
        private_deal,
        deal_follower_rel,
        pipeline,
        stage,
        private_person,
        org,
        field_id,
        field_code: code,
        follower_rel,
        admin: app.admin.id,
    }
}

/// The concrete request for a route: path with placeholders filled, query and body; `ids`
/// fill the routes of one person, deal, activity or note.
fn request(w: &World, method: &Method, path: &str, ids: Ids) -> (String, Option<Value>) {
    let Ids {
        person,
        deal,
        activity,
        note,
    } = ids;
    let (id, follower) = if path.contains("/activities/{id}") {
        (activity, 0)
    } else if path.contains("/notes/{id}") {
        (note, 0)
    } else if path.contains("/activityTypes/{id}") {
        (w.activity_type, 0)
    } else if path.contains("/persons/{id}") {
        let follower = if path.starts_with("/api/v2") {
            w.admin
        } else {
            w.follower_rel
        };
        (person, follower)
    } else if path.contains("/organizations/{id}") {
        (
            w.org,
            if path.starts_with("/api/v2") {
                w.admin
            } else {
                w.follower_rel
            },
        )
    } else if path.contains("/personFields/{id}") {
        (w.field_id, 0)
    } else if path.contains("/deals/{id}") {
        (
            deal,
            if path.starts_with("/api/v2") {
                w.admin
            } else {
                w.deal_follower_rel
            },
        )
    } else if path.contains("/pipelines/{id}") {
        (w.pipeline, 0)
    } else if path.contains("/stages/{id}") {
        (w.stage, 0)
    } else {
        (w.admin, 0)
    };
    let mut p = path
        .replace("{id}", &id.to_string())
        .replace("{field_code}", &w.field_code)
        .replace("{follower_id}", &follower.to_string());
    if p.ends_with("/search") || p.ends_with("/find") {
        p.push_str("?term=secret");
    } else if *method == Method::DELETE && p.ends_with("/persons") {
        p.push_str(&format!("?ids={},{}", w.person, w.private_person));
    } else if *method == Method::DELETE && p.ends_with("/personFields") {
        p.push_str(&format!("?ids={}", w.field_id));
    } else if *method == Method::GET && (p.ends_with("/persons") || p.ends_with("/organizations")) {
        p.push_str(&format!("?ids={},{}", w.person, w.org));
    }
    let body = match *method {
        Method::POST | Method::PUT | Method::PATCH if p.ends_with("/options") => {
            Some(json!([{"id": w.field_id, "label": "x"}]))
        }
        Method::POST | Method::PUT | Method::PATCH => Some(json!({
            "name": "Probe",
            "org_id": w.org,
            "owner_id": w.admin,
            "merge_with_id": w.person,
            "user_id": w.admin,
            "pipeline_id": w.pipeline,
        })),
        Method::DELETE if p.ends_with("/options") => Some(json!([{"id": w.field_id}])),
        _ => None,
    };
    (p, body)
}

fn has_secret(v: &Value, marker: &str) -> bool {
    v.to_string()
        .to_lowercase()
        .contains(&marker.to_lowercase())
}

#[tokio::test]
async fn another_companys_token_gets_no_byte_of_a_companys_data_on_any_route() {
    let app = TestApp::spawn().await;
    let w = company_a(&app).await;
    let (_, b) = app.other_company("Company B").await;
    let all = routes::api_list();
    assert!(
        all.len() >= 60,
        "the table lists every route ({})",
        all.len()
    );
    for (method, path) in &all {
        let ids = Ids {
            person: w.person,
            deal: w.deal,
            activity: w.activity,
            note: w.note,
        };
        let (p, body) = request(&w, method, path, ids);
        let r = app
            .call(method.clone(), &p, Some(&b.api_token), body.as_ref())
            .await;
        assert!(
            !has_secret(&r.body, "secret-a"),
            "{method} {p} leaked: {}",
            r.body
        );
        assert!(
            !has_secret(&r.body, "secret-private"),
            "{method} {p} leaked: {}",
            r.body
        );
        assert!(r.status.as_u16() < 500, "{method} {p}: {}", r.status);
        if path.contains('{') {
            assert!(
                matches!(r.status.as_u16(), 400 | 404),
                "{method} {p} answered {} to another company: {}",
                r.status,
                r.body
            );
        }
    }
    // Nothing of A was changed or deleted by B.
    let p = app.get(&format!("/v1/persons/{}", w.person)).await;
    assert_eq!(p.data()["name"], "SECRET-A Person");
    assert_eq!(p.data()["active_flag"], true);
    assert_eq!(p.data()["followers_count"], 1);
    assert_eq!(p.data()["org_id"]["value"], w.org);
    assert_eq!(
        app.get(&format!("/api/v2/personFields/{}", w.field_code))
            .await
            .data()["options"][0]["label"],
        "SECRET-A Option"
    );
    assert_eq!(
        app.get(&format!("/v1/organizations/{}", w.org))
            .await
            .data()["name"],
        "SECRET-A Org"
    );
    let p = app.get(&format!("/api/v2/pipelines/{}", w.pipeline)).await;
    assert_eq!(p.data()["name"], "SECRET-A Pipeline");
    assert_eq!(p.data()["is_deleted"], false);
    let s = app.get(&format!("/api/v2/stages/{}", w.stage)).await;
    assert_eq!(s.data()["name"], "SECRET-A Stage");
    assert_eq!(s.data()["pipeline_id"], w.pipeline);
    let d = app.get(&format!("/api/v2/deals/{}", w.deal)).await;
    assert_eq!(d.data()["title"], "SECRET-A Deal");
    assert_eq!(d.data()["is_deleted"], false);
    assert_eq!(d.data()["stage_id"], w.stage);
    let a = app.get(&format!("/api/v2/activities/{}", w.activity)).await;
    assert_eq!(a.data()["subject"], "SECRET-A Activity");
    assert_eq!(a.data()["is_deleted"], false);
    let n = app.get(&format!("/v1/notes/{}", w.note)).await;
    assert_eq!(n.data()["content"], "SECRET-A Note");
    let types = app.get("/v1/activityTypes").await;
    let t = types
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == w.activity_type)
        .unwrap()
        .clone();
    assert_eq!(t["name"], "SECRET-A Type");
    assert_eq!(t["active_flag"], true);
}

#[tokio::test]
async fn a_user_without_visibility_gets_404_for_a_private_person_on_every_person_route() {
    let app = TestApp::spawn().await;
    let w = company_a(&app).await;
    let user = pipestack::setup::add_user(
        app.store.as_ref(),
        app.company.id,
        "Plain User",
        "plain@a.example",
    )
    .await
    .unwrap();
    for (method, path) in routes::api_list() {
        let ids = Ids {
            person: w.private_person,
            deal: w.private_deal,
            activity: w.private_activity,
            note: w.private_note,
        };
        let (p, body) = request(&w, &method, &path, ids);
        let r = app
            .call(method.clone(), &p, Some(&user.api_token), body.as_ref())
            .await;
        assert!(
            !has_secret(&r.body, "secret-private"),
            "{method} {p} leaked: {}",
            r.body
        );
        assert!(r.status.as_u16() < 500, "{method} {p}: {}", r.status);
        if path.contains("/persons/{id}") {
            r.assert_error(404, "Person not found");
        }
        if path.contains("/deals/{id}") {
            r.assert_error(404, "Deal not found");
        }
        if path.contains("/activities/{id}") {
            r.assert_error(404, "Activity not found");
        }
        if path.contains("/notes/{id}") {
            r.assert_error(404, "Note not found");
        }
    }
    let r = app.get(&format!("/v1/persons/{}", w.private_person)).await;
    assert_eq!(
        r.data()["active_flag"],
        true,
        "the private person is untouched"
    );
    assert_eq!(r.data()["name"], "SECRET-PRIVATE Person");
}
