//! The summary fields of persons, organizations and deals, live in v1 and v2: activity counts,
//! next and last activity, notes count, through create, mark done, reschedule, reassign,
//! delete, person merge and person delete.

use serde_json::{Value, json};

use crate::helpers::TestApp;

const KEYS: [&str; 9] = [
    "activities_count",
    "done_activities_count",
    "undone_activities_count",
    "next_activity_id",
    "next_activity_date",
    "next_activity_time",
    "last_activity_id",
    "last_activity_date",
    "notes_count",
];

/// Keys v2 persons and organizations include on request (the dates are v1's only).
const V2_KEYS: [&str; 6] = [
    "activities_count",
    "done_activities_count",
    "undone_activities_count",
    "next_activity_id",
    "last_activity_id",
    "notes_count",
];

/// The summary of a person or organization (`kind`) in v1, checked equal to v2's.
async fn summary(app: &TestApp, kind: &str, id: i64) -> Value {
    let v1 = app.get(&format!("/v1/{kind}/{id}")).await;
    assert_eq!(v1.status, 200, "{}", v1.body);
    let url = format!("/api/v2/{kind}/{id}?include_fields={}", V2_KEYS.join(","));
    let v2 = app.get(&url).await;
    assert_eq!(v2.status, 200, "{}", v2.body);
    for k in V2_KEYS {
        assert_eq!(
            v1.data()[k],
            v2.data()[k],
            "{k} of {kind}/{id}: v1 and v2 differ"
        );
    }
    let mut out = serde_json::Map::new();
    for k in KEYS {
        out.insert(k.to_owned(), v1.data()[k].clone());
    }
    Value::Object(out)
}

async fn add_activity(app: &TestApp, body: Value) -> i64 {
    let r = app.post("/api/v2/activities", &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.data()["id"].as_i64().unwrap()
}

async fn patch_activity(app: &TestApp, id: i64, body: Value) {
    let r = app.patch(&format!("/api/v2/activities/{id}"), &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

async fn add_note(app: &TestApp, body: Value) -> i64 {
    let r = app.post("/v1/notes", &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.data()["id"].as_i64().unwrap()
}

fn expected(
    count: i64,
    done: i64,
    next: Option<(i64, &str, Option<&str>)>,
    last: Option<(i64, &str)>,
    notes: i64,
) -> Value {
    json!({
        "activities_count": count,
        "done_activities_count": done,
        "undone_activities_count": count - done,
        "next_activity_id": next.map(|n| n.0),
        "next_activity_date": next.map(|n| n.1),
        "next_activity_time": next.and_then(|n| n.2),
        "last_activity_id": last.map(|l| l.0),
        "last_activity_date": last.map(|l| l.1),
        "notes_count": notes,
    })
}

#[tokio::test]
async fn the_seed_person_shows_every_count_and_date_after_a_deal_two_activities_and_a_note() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Org Name").await;
    let person = app
        .add_person(json!({
            "name": "Will Smith",
            "owner_id": app.admin.id,
            "org_id": org,
            "email": [{"value": "12345@email.com", "primary": true, "label": "work"}],
            "phone": [{"value": "12345", "primary": true, "label": "work"}],
            "visible_to": "3",
            "add_time": "2017-10-18 13:23:07"
        }))
        .await["id"]
        .as_i64()
        .unwrap();
    let fresh = summary(&app, "persons", person).await;
    assert_eq!(fresh, expected(0, 0, None, None, 0));

    let deal = app
        .post(
            "/api/v2/deals",
            &json!({"title": "Deal", "person_id": person, "org_id": org}),
        )
        .await;
    assert_eq!(deal.status, 200, "{}", deal.body);
    let call = add_activity(
        &app,
        json!({"subject": "Call Will", "type": "call", "person_id": person,
               "due_date": "2030-05-02", "due_time": "09:30"}),
    )
    .await;
    let meeting = add_activity(
        &app,
        json!({"subject": "Met Will", "type": "meeting", "person_id": person,
               "due_date": "2026-01-15", "done": true}),
    )
    .await;
    add_note(
        &app,
        json!({"content": "<p>Likes golf</p>", "person_id": person}),
    )
    .await;

    let v1 = app.get(&format!("/v1/persons/{person}")).await;
    assert_eq!(v1.data()["open_deals_count"], 1, "{}", v1.body);
    assert_eq!(
        summary(&app, "persons", person).await,
        expected(
            2,
            1,
            Some((call, "2030-05-02", Some("09:30"))),
            Some((meeting, "2026-01-15")),
            1
        )
    );
    let v2 = app
        .get(&format!(
            "/api/v2/persons/{person}?include_fields=open_deals_count,activities_count,notes_count"
        ))
        .await;
    assert_eq!(v2.data()["open_deals_count"], 1, "{}", v2.body);
    assert_eq!(v2.data()["activities_count"], 2);
    assert_eq!(v2.data()["notes_count"], 1);
    // v1 lists show the same as the single read.
    let list = app.get("/v1/persons").await;
    let listed = list
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == person)
        .unwrap()
        .clone();
    assert_eq!(listed["activities_count"], 2);
    assert_eq!(listed["next_activity_id"], call);
    assert_eq!(listed["notes_count"], 1);
}

#[tokio::test]
async fn next_and_last_follow_mark_done_reschedule_and_delete() {
    let app = TestApp::spawn().await;
    let p = app.add_person(json!({"name": "Ann"})).await["id"]
        .as_i64()
        .unwrap();
    let early = add_activity(&app, json!({"person_id": p, "due_date": "2026-03-01"})).await;
    let late = add_activity(
        &app,
        json!({"person_id": p, "due_date": "2026-03-01", "due_time": "15:00"}),
    )
    .await;
    let undated = add_activity(&app, json!({"person_id": p})).await;
    // The all-day one sorts before a timed one the same day; undated ones come last.
    assert_eq!(
        summary(&app, "persons", p).await,
        expected(3, 0, Some((early, "2026-03-01", None)), None, 0)
    );

    patch_activity(&app, early, json!({"done": true})).await;
    assert_eq!(
        summary(&app, "persons", p).await,
        expected(
            3,
            1,
            Some((late, "2026-03-01", Some("15:00"))),
            Some((early, "2026-03-01")),
            0
        )
    );

    // Rescheduled past the undated one's place: still dated, so still first.
    patch_activity(
        &app,
        late,
        json!({"due_date": "2027-01-01", "due_time": "08:00"}),
    )
    .await;
    let s = summary(&app, "persons", p).await;
    assert_eq!(s["next_activity_id"], late);
    assert_eq!(s["next_activity_date"], "2027-01-01");
    assert_eq!(s["next_activity_time"], "08:00");

    // A done activity due later is the last, even in the future; the undated one is next.
    patch_activity(&app, late, json!({"done": true})).await;
    let mut want = expected(3, 2, None, Some((late, "2027-01-01")), 0);
    want["next_activity_id"] = json!(undated);
    assert_eq!(summary(&app, "persons", p).await, want);

    let r = app.delete(&format!("/api/v2/activities/{late}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let s = summary(&app, "persons", p).await;
    assert_eq!(s["activities_count"], 2);
    assert_eq!(s["last_activity_id"], early);
    // Marked undone again: the next activity by date.
    patch_activity(&app, early, json!({"done": false})).await;
    let s = summary(&app, "persons", p).await;
    assert_eq!(s["done_activities_count"], 0);
    assert_eq!(s["next_activity_id"], early);
    assert_eq!(s["last_activity_id"], Value::Null);
}

#[tokio::test]
async fn reassigning_an_activity_moves_it_between_persons_organizations_and_deals() {
    let app = TestApp::spawn().await;
    let org_a = app.add_org("A").await;
    let org_b = app.add_org("B").await;
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
    let a = add_activity(
        &app,
        json!({"person_id": ann, "org_id": org_a, "deal_id": deal, "due_date": "2026-06-01"}),
    )
    .await;
    assert_eq!(summary(&app, "persons", ann).await["activities_count"], 1);
    assert_eq!(
        summary(&app, "organizations", org_a).await["activities_count"],
        1
    );

    patch_activity(
        &app,
        a,
        json!({"person_id": bob, "org_id": org_b, "deal_id": null}),
    )
    .await;
    assert_eq!(summary(&app, "persons", ann).await["activities_count"], 0);
    assert_eq!(summary(&app, "persons", bob).await["next_activity_id"], a);
    assert_eq!(
        summary(&app, "organizations", org_a).await["activities_count"],
        0
    );
    assert_eq!(
        summary(&app, "organizations", org_b).await["activities_count"],
        1
    );
    let d = app
        .get(&format!(
            "/api/v2/deals/{deal}?include_fields=activities_count,next_activity_id"
        ))
        .await;
    assert_eq!(d.data()["activities_count"], 0, "{}", d.body);

    // A second participant counts the activity too; the primary one stays the person_id.
    patch_activity(
        &app,
        a,
        json!({"participants": [{"person_id": bob, "primary": true}, {"person_id": ann, "primary": false}]}),
    )
    .await;
    assert_eq!(summary(&app, "persons", ann).await["activities_count"], 1);
    let got = app.get(&format!("/api/v2/activities/{a}")).await;
    assert_eq!(got.data()["person_id"], bob, "{}", got.body);
}

#[tokio::test]
async fn deals_show_their_activities_and_notes_in_v1_and_v2() {
    let app = TestApp::spawn().await;
    let deal = app
        .post("/api/v2/deals", &json!({"title": "D"}))
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    let a = add_activity(&app, json!({"deal_id": deal, "due_date": "2026-02-02"})).await;
    add_activity(&app, json!({"deal_id": deal, "done": true})).await;
    add_note(&app, json!({"content": "n", "deal_id": deal})).await;
    let v1 = app.get(&format!("/v1/deals/{deal}")).await;
    assert_eq!(v1.data()["activities_count"], 2, "{}", v1.body);
    assert_eq!(v1.data()["done_activities_count"], 1);
    assert_eq!(v1.data()["undone_activities_count"], 1);
    assert_eq!(v1.data()["next_activity_id"], a);
    assert_eq!(v1.data()["next_activity_date"], "2026-02-02");
    assert_eq!(v1.data()["notes_count"], 1);
    let v2 = app
        .get(&format!(
            "/api/v2/deals/{deal}?include_fields=activities_count,done_activities_count,next_activity_id,notes_count"
        ))
        .await;
    assert_eq!(v2.data()["activities_count"], 2, "{}", v2.body);
    assert_eq!(v2.data()["done_activities_count"], 1);
    assert_eq!(v2.data()["next_activity_id"], a);
    assert_eq!(v2.data()["notes_count"], 1);
}

#[tokio::test]
async fn a_merge_moves_activities_and_notes_to_the_kept_person() {
    let app = TestApp::spawn().await;
    let kept = app.add_person(json!({"name": "Kept"})).await["id"]
        .as_i64()
        .unwrap();
    let gone = app.add_person(json!({"name": "Gone"})).await["id"]
        .as_i64()
        .unwrap();
    let other = app.add_person(json!({"name": "Other"})).await["id"]
        .as_i64()
        .unwrap();
    let a = add_activity(&app, json!({"person_id": gone, "due_date": "2026-04-04"})).await;
    // One both take part in: after the merge it names the kept person once, as primary.
    let both = add_activity(
        &app,
        json!({"participants": [{"person_id": gone, "primary": true}, {"person_id": kept, "primary": false}],
               "done": true, "due_date": "2026-01-01"}),
    )
    .await;
    // One where the absorbed person is a secondary participant.
    add_activity(
        &app,
        json!({"participants": [{"person_id": other, "primary": true}, {"person_id": gone, "primary": false}]}),
    )
    .await;
    add_note(&app, json!({"content": "about Gone", "person_id": gone})).await;

    let r = app
        .put(
            &format!("/v1/persons/{gone}/merge"),
            &json!({"merge_with_id": kept}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        summary(&app, "persons", kept).await,
        expected(
            3,
            1,
            Some((a, "2026-04-04", None)),
            Some((both, "2026-01-01")),
            1
        )
    );
    let moved = app.get(&format!("/api/v2/activities/{both}")).await;
    assert_eq!(
        moved.data()["participants"],
        json!([{"person_id": kept, "primary": true}]),
        "{}",
        moved.body
    );
    assert_eq!(moved.data()["person_id"], kept);
    let notes = app.get(&format!("/v1/notes?person_id={kept}")).await;
    assert_eq!(notes.data().as_array().unwrap().len(), 1, "{}", notes.body);
    let listed = app
        .get(&format!("/api/v2/activities?person_id={kept}"))
        .await;
    assert_eq!(
        listed.data().as_array().unwrap().len(),
        2,
        "{}",
        listed.body
    );
}

#[tokio::test]
async fn deleting_a_person_keeps_its_activities_and_notes() {
    let app = TestApp::spawn().await;
    let p = app.add_person(json!({"name": "Ann"})).await["id"]
        .as_i64()
        .unwrap();
    let a = add_activity(&app, json!({"person_id": p})).await;
    let n = add_note(&app, json!({"content": "kept", "person_id": p})).await;
    let r = app.delete(&format!("/api/v2/persons/{p}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // They stay, still naming the person (a restore would find them again).
    let got = app.get(&format!("/api/v2/activities/{a}")).await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.data()["person_id"], p);
    let listed = app.get(&format!("/api/v2/activities?person_id={p}")).await;
    assert_eq!(
        listed.data()[0]["id"],
        a,
        "lists by the deleted person find them: {}",
        listed.body
    );
    let note = app.get(&format!("/v1/notes/{n}")).await;
    assert_eq!(note.status, 200, "{}", note.body);
    assert_eq!(note.data()["person_id"], p);
    // But nothing new can be attached to a deleted person.
    app.post("/api/v2/activities", &json!({"person_id": p}))
        .await
        .assert_error(400, "person_id");
    app.post("/v1/notes", &json!({"content": "x", "person_id": p}))
        .await
        .assert_error(400, "person_id");
}

#[tokio::test]
async fn an_all_day_activity_comes_before_one_at_midnight_the_same_day() {
    let app = TestApp::spawn().await;
    let p = app.add_person(json!({"name": "Ann"})).await["id"]
        .as_i64()
        .unwrap();
    let midnight = add_activity(
        &app,
        json!({"person_id": p, "due_date": "2026-03-01", "due_time": "00:00"}),
    )
    .await;
    let all_day = add_activity(&app, json!({"person_id": p, "due_date": "2026-03-01"})).await;
    let s = summary(&app, "persons", p).await;
    assert_eq!(s["next_activity_id"], all_day, "{s}");
    let r = app.get("/api/v2/activities?sort_by=due_date").await;
    let ids: Vec<Value> = r
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!(all_day), json!(midnight)]);
}

#[tokio::test]
async fn summaries_count_only_the_activities_and_notes_the_reader_may_see() {
    let app = TestApp::spawn().await;
    let user = app.add_user("Other").await;
    let private = app
        .add_person(json!({"name": "Secret", "visible_to": 1}))
        .await["id"]
        .as_i64()
        .unwrap();
    let deal = app
        .post("/api/v2/deals", &json!({"title": "Open deal"}))
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    add_activity(
        &app,
        json!({"person_id": private, "deal_id": deal, "subject": "SECRET call", "due_date": "2026-01-01"}),
    )
    .await;
    add_note(
        &app,
        json!({"content": "SECRET note", "person_id": private, "deal_id": deal}),
    )
    .await;
    let admin = app.get(&format!("/v1/deals/{deal}")).await;
    assert_eq!(admin.data()["activities_count"], 1);
    assert_eq!(admin.data()["next_activity_subject"], "SECRET call");
    assert_eq!(admin.data()["notes_count"], 1);
    let other = app
        .get_as(&user.api_token, &format!("/v1/deals/{deal}"))
        .await;
    assert_eq!(other.status, 200, "{}", other.body);
    assert_eq!(other.data()["activities_count"], 0, "{}", other.body);
    assert_eq!(other.data()["next_activity_id"], Value::Null);
    assert_eq!(other.data()["next_activity_subject"], Value::Null);
    assert_eq!(other.data()["notes_count"], 0);
    assert!(!other.body.to_string().contains("SECRET"), "{}", other.body);
}
