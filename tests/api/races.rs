//! Two requests released together (a barrier), many rounds, on both backends: no
//! acknowledged change is lost, and the invariants hold afterwards. Each write decides on what
//! it reads inside its own transaction (README, "Durability").

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp};
use crate::receiver::Receiver;

/// Rounds per race (`PIPESTACK_RACE_ROUNDS`, 25 by default).
fn rounds() -> usize {
    std::env::var("PIPESTACK_RACE_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(25)
}

fn req(method: Method, path: String, body: Value) -> (Method, String, Option<Value>) {
    (method, path, Some(body))
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

#[track_caller]
fn ok(r: &Resp) {
    assert!(r.status.is_success(), "{}: {}", r.status, r.body);
}

async fn custom_field(app: &TestApp, name: &str) -> String {
    let r = app
        .post(
            "/v1/personFields",
            &json!({"name": name, "field_type": "varchar"}),
        )
        .await;
    ok(&r);
    r.data()["key"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn patches_of_two_custom_fields_both_stay() {
    let app = TestApp::spawn().await;
    let (k1, k2) = (
        custom_field(&app, "One").await,
        custom_field(&app, "Two").await,
    );
    for round in 0..rounds() {
        let p = id(&app
            .add_person_v2(json!({"name": format!("P{round}")}))
            .await);
        let path = format!("/api/v2/persons/{p}");
        let (a, b) = app
            .race(
                req(
                    Method::PATCH,
                    path.clone(),
                    json!({"custom_fields": {&k1: "one"}}),
                ),
                req(
                    Method::PATCH,
                    path.clone(),
                    json!({"custom_fields": {&k2: "two"}}),
                ),
            )
            .await;
        ok(&a);
        ok(&b);
        let now = app.get(&path).await;
        assert_eq!(now.data()["custom_fields"][&k1], "one", "round {round}");
        assert_eq!(now.data()["custom_fields"][&k2], "two", "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn first_and_last_name_set_together_make_the_name() {
    let app = TestApp::spawn().await;
    for round in 0..rounds() {
        let p = id(&app.add_person(json!({"name": "Old Name"})).await);
        let path = format!("/v1/persons/{p}");
        let (a, b) = app
            .race(
                req(Method::PUT, path.clone(), json!({"first_name": "Ada"})),
                req(Method::PUT, path.clone(), json!({"last_name": "Lovelace"})),
            )
            .await;
        ok(&a);
        ok(&b);
        let now = app.get(&path).await;
        assert_eq!(now.data()["name"], "Ada Lovelace", "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn patches_of_two_organization_fields_both_stay() {
    let app = TestApp::spawn().await;
    for round in 0..rounds() {
        let o = app.add_org(&format!("Org {round}")).await;
        let path = format!("/api/v2/organizations/{o}");
        let (a, b) = app
            .race(
                req(
                    Method::PATCH,
                    path.clone(),
                    json!({"website": "https://a.example"}),
                ),
                req(
                    Method::PATCH,
                    path.clone(),
                    json!({"linkedin": "https://l.example"}),
                ),
            )
            .await;
        ok(&a);
        ok(&b);
        let now = app.get(&path).await;
        assert_eq!(now.data()["website"], "https://a.example", "round {round}");
        assert_eq!(now.data()["linkedin"], "https://l.example", "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn patches_of_two_organization_custom_values_both_stay() {
    let app = TestApp::spawn().await;
    let mut keys = Vec::new();
    for name in ["One", "Two"] {
        let r = app
            .post(
                "/api/v2/organizationFields",
                &json!({"field_name": name, "field_type": "varchar"}),
            )
            .await;
        ok(&r);
        keys.push(r.data()["field_code"].as_str().unwrap().to_owned());
    }
    let (k1, k2) = (&keys[0], &keys[1]);
    for round in 0..rounds() {
        let o = app.add_org(&format!("Org {round}")).await;
        let path = format!("/api/v2/organizations/{o}");
        let (a, b) = app
            .race(
                req(
                    Method::PATCH,
                    path.clone(),
                    json!({"custom_fields": {k1: "one"}}),
                ),
                req(
                    Method::PATCH,
                    path.clone(),
                    json!({"custom_fields": {k2: "two"}}),
                ),
            )
            .await;
        ok(&a);
        ok(&b);
        let now = app.get(&path).await;
        assert_eq!(now.data()["custom_fields"][k1], "one", "round {round}");
        assert_eq!(now.data()["custom_fields"][k2], "two", "round {round}");
    }
}

fn emails(person: &Value) -> Vec<String> {
    person["email"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["value"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_merge_keeps_an_email_set_on_the_kept_person_meanwhile() {
    let app = TestApp::spawn().await;
    for round in 0..rounds() {
        let a = id(&app
            .add_person(json!({"name": "A", "email": format!("a{round}@x.io")}))
            .await);
        let b = id(&app
            .add_person(json!({"name": "B", "email": format!("b{round}@x.io")}))
            .await);
        let new = format!("new{round}@x.io");
        let (merge, put) = app
            .race(
                req(
                    Method::PUT,
                    format!("/v1/persons/{a}/merge"),
                    json!({"merge_with_id": b}),
                ),
                req(
                    Method::PUT,
                    format!("/v1/persons/{b}"),
                    json!({"email": [new]}),
                ),
            )
            .await;
        ok(&merge);
        ok(&put);
        let kept = app.get(&format!("/v1/persons/{b}")).await;
        assert!(
            emails(kept.data()).contains(&new),
            "round {round}: {}",
            kept.body
        );
        assert_eq!(
            app.get(&format!("/v1/persons/{a}")).await.data()["active_flag"],
            false
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chained_merges_never_leave_an_email_on_no_active_person() {
    let app = TestApp::spawn().await;
    for round in 0..rounds() {
        let email = format!("a{round}@x.io");
        let a = id(&app.add_person(json!({"name": "A", "email": &email})).await);
        let b = id(&app
            .add_person(json!({"name": "B", "email": format!("b{round}@x.io")}))
            .await);
        let c = id(&app
            .add_person(json!({"name": "C", "email": format!("c{round}@x.io")}))
            .await);
        let (ab, bc) = app
            .race(
                req(
                    Method::PUT,
                    format!("/v1/persons/{a}/merge"),
                    json!({"merge_with_id": b}),
                ),
                req(
                    Method::PUT,
                    format!("/v1/persons/{b}/merge"),
                    json!({"merge_with_id": c}),
                ),
            )
            .await;
        ok(&bc);
        // A into B runs first (and B, with A's email, then goes into C), or it is refused
        // because B is gone: either way A's email is on an active person.
        assert!(
            ab.status.is_success() || ab.status == 400 || ab.status == 404,
            "{}",
            ab.body
        );
        let found = app
            .get(&format!(
                "/api/v2/persons/search?term={email}&fields=email&exact_match=true"
            ))
            .await;
        let items = found.data()["items"].as_array().unwrap().len();
        assert_eq!(items, 1, "round {round}: {}", found.body);
    }
}

/// Active persons of an organization, as the API lists them.
async fn members(app: &TestApp, org: i64) -> usize {
    app.get(&format!("/api/v2/persons?org_id={org}&limit=500"))
        .await
        .data()
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_person_is_left_in_an_organization_deleted_meanwhile() {
    let app = TestApp::spawn().await;
    for round in 0..rounds() {
        let org = app.add_org(&format!("Doomed {round}")).await;
        let (del, add) = app
            .race(
                (Method::DELETE, format!("/v1/organizations/{org}"), None),
                req(
                    Method::POST,
                    "/v1/persons".into(),
                    json!({"name": "P", "org_id": org}),
                ),
            )
            .await;
        ok(&del);
        if add.status.is_success() {
            // Added first, then detached by the delete.
            let p = app.get(&format!("/v1/persons/{}", id(add.data()))).await;
            assert_eq!(p.data()["org_id"], Value::Null, "round {round}: {}", p.body);
        } else {
            add.assert_error(400, &format!("org_id: organization {org} not found"));
        }
        assert_eq!(members(&app, org).await, 0, "round {round}");
        let o = app.get(&format!("/v1/organizations/{org}")).await;
        assert_eq!(o.data()["people_count"], 0, "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn people_count_follows_persons_added_and_moved_together() {
    let app = TestApp::spawn().await;
    let (o1, o2) = (app.add_org("One").await, app.add_org("Two").await);
    for _ in 0..rounds() {
        let p = id(&app.add_person(json!({"name": "P", "org_id": o1})).await);
        let (a, b) = app
            .race(
                req(
                    Method::POST,
                    "/v1/persons".into(),
                    json!({"name": "Q", "org_id": o2}),
                ),
                req(
                    Method::PUT,
                    format!("/v1/persons/{p}"),
                    json!({"org_id": o2}),
                ),
            )
            .await;
        ok(&a);
        ok(&b);
    }
    for org in [o1, o2] {
        let count = app.get(&format!("/v1/organizations/{org}")).await.data()["people_count"]
            .as_i64()
            .unwrap();
        assert_eq!(count as usize, members(&app, org).await);
    }
}

fn option_labels(field: &Value) -> Vec<String> {
    let mut labels: Vec<String> = field["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["label"].as_str().unwrap().to_owned())
        .collect();
    labels.sort();
    labels
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_option_lists_replace_each_other_never_mix() {
    let app = TestApp::spawn().await;
    for round in 0..rounds() {
        let r = app
            .post(
                "/v1/personFields",
                &json!({"name": format!("F{round}"), "field_type": "enum", "options": ["x", "y", "z"]}),
            )
            .await;
        ok(&r);
        let field = r.data()["id"].as_i64().unwrap();
        let ids: Vec<i64> = r.data()["options"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_i64().unwrap())
            .collect();
        let path = format!("/v1/personFields/{field}");
        let (a, b) = app
            .race(
                req(
                    Method::PUT,
                    path.clone(),
                    json!({"options": [{"id": ids[0], "label": "A1"}, {"label": "N1"}]}),
                ),
                req(
                    Method::PUT,
                    path.clone(),
                    json!({"options": [{"id": ids[1], "label": "B2"}, {"label": "N2"}]}),
                ),
            )
            .await;
        // The second to run names an option the first deleted: refused, not mixed in.
        assert!(
            a.status.is_success() != b.status.is_success(),
            "round {round}: {} / {}",
            a.body,
            b.body
        );
        let now = option_labels(app.get(&path).await.data());
        assert!(
            now == ["A1", "N1"] || now == ["B2", "N2"],
            "round {round}: {now:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn marketing_status_changes_once_however_two_changes_interleave() {
    let app = TestApp::spawn().await;
    for round in 0..rounds() {
        let p = id(&app
            .add_person_v2(json!({"name": "M", "emails": [{"value": "m@example.com"}], "marketing_status": "subscribed"}))
            .await);
        let path = format!("/api/v2/persons/{p}");
        let (a, b) = app
            .race(
                req(
                    Method::PATCH,
                    path.clone(),
                    json!({"marketing_status": "unsubscribed"}),
                ),
                req(
                    Method::PATCH,
                    path.clone(),
                    json!({"marketing_status": "archived"}),
                ),
            )
            .await;
        ok(&a);
        ok(&b);
        let now = app
            .get(&format!("{path}?include_fields=marketing_status"))
            .await;
        let status = now.data()["marketing_status"].clone();
        // One change was applied; the other, second, was ignored: both answers show the one.
        assert_eq!(a.data()["marketing_status"], status, "round {round}");
        assert_eq!(b.data()["marketing_status"], status, "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn patches_of_a_deals_status_and_custom_value_both_stay() {
    let app = TestApp::spawn().await;
    let r = app
        .post(
            "/api/v2/dealFields",
            &json!({"field_name": "Source", "field_type": "varchar"}),
        )
        .await;
    ok(&r);
    let key = r.data()["field_code"].as_str().unwrap().to_owned();
    for round in 0..rounds() {
        let d = app
            .post("/api/v2/deals", &json!({"title": format!("D{round}")}))
            .await;
        ok(&d);
        let path = format!("/api/v2/deals/{}", id(d.data()));
        let (a, b) = app
            .race(
                req(Method::PATCH, path.clone(), json!({"status": "won"})),
                req(
                    Method::PATCH,
                    path.clone(),
                    json!({"custom_fields": {&key: "fair"}, "value": 99}),
                ),
            )
            .await;
        ok(&a);
        ok(&b);
        let now = app.get(&path).await;
        assert_eq!(now.data()["status"], "won", "round {round}");
        assert!(now.data()["won_time"].is_string(), "round {round}");
        assert_eq!(now.data()["value"], 99, "round {round}");
        assert_eq!(now.data()["custom_fields"][&key], "fair", "round {round}");
    }
}

/// A stage deleted while a deal is added to it: one of the two is refused, and no deal is
/// ever left in a deleted stage.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_deal_is_left_in_a_stage_deleted_meanwhile() {
    let app = TestApp::spawn().await;
    let pipeline = id(&app.get("/api/v2/pipelines").await.data()[0]);
    let (mut added, mut deleted) = (0, 0);
    for round in 0..rounds() {
        let s = app
            .post(
                "/api/v2/stages",
                &json!({"name": format!("S{round}"), "pipeline_id": pipeline}),
            )
            .await;
        ok(&s);
        let stage = id(s.data());
        let (a, b) = app
            .race(
                req(
                    Method::POST,
                    "/api/v2/deals".into(),
                    json!({"title": "racing", "stage_id": stage}),
                ),
                (Method::DELETE, format!("/api/v2/stages/{stage}"), None),
            )
            .await;
        assert!(
            a.status.is_success() != b.status.is_success(),
            "round {round}: exactly one wins: {} {} / {} {}",
            a.status,
            a.body,
            b.status,
            b.body
        );
        let gone =
            app.get(&format!("/api/v2/stages/{stage}")).await.data()["is_deleted"] == json!(true);
        let in_it = app.get(&format!("/api/v2/deals?stage_id={stage}")).await;
        let held = in_it.data().as_array().unwrap().len();
        if gone {
            assert_eq!(held, 0, "round {round}: a deal in a deleted stage");
            assert_eq!(a.status, 400, "round {round}: {}", a.body);
            deleted += 1;
        } else {
            assert_eq!(held, 1, "round {round}");
            assert_eq!(b.status, 400, "round {round}: {}", b.body);
            added += 1;
        }
    }
    eprintln!("deal first: {added}, delete first: {deleted}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn patches_of_an_activitys_done_flag_and_schedule_both_stay() {
    let app = TestApp::spawn().await;
    let ann = id(&app.add_person(json!({"name": "Ann"})).await);
    let bob = id(&app.add_person(json!({"name": "Bob"})).await);
    for round in 0..rounds() {
        let a = app
            .post("/api/v2/activities", &json!({"person_id": ann}))
            .await;
        ok(&a);
        let path = format!("/api/v2/activities/{}", id(a.data()));
        let (x, y) = app
            .race(
                req(Method::PATCH, path.clone(), json!({"done": true})),
                req(
                    Method::PATCH,
                    path.clone(),
                    json!({"due_date": "2026-09-09", "subject": "moved",
                           "participants": [{"person_id": ann, "primary": true}, {"person_id": bob}]}),
                ),
            )
            .await;
        ok(&x);
        ok(&y);
        let now = app.get(&path).await;
        assert_eq!(now.data()["done"], true, "round {round}");
        assert!(
            now.data()["marked_as_done_time"].is_string(),
            "round {round}"
        );
        assert_eq!(now.data()["due_date"], "2026-09-09", "round {round}");
        assert_eq!(now.data()["subject"], "moved", "round {round}");
        assert_eq!(
            now.data()["participants"].as_array().unwrap().len(),
            2,
            "round {round}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn puts_of_a_notes_content_and_pin_both_stay() {
    let app = TestApp::spawn().await;
    let ann = id(&app.add_person(json!({"name": "Ann"})).await);
    for round in 0..rounds() {
        let n = app
            .post("/v1/notes", &json!({"content": "first", "person_id": ann}))
            .await;
        ok(&n);
        let path = format!("/v1/notes/{}", id(n.data()));
        let (x, y) = app
            .race(
                req(Method::PUT, path.clone(), json!({"content": "second"})),
                req(
                    Method::PUT,
                    path.clone(),
                    json!({"pinned_to_person_flag": 1}),
                ),
            )
            .await;
        ok(&x);
        ok(&y);
        let now = app.get(&path).await;
        assert_eq!(now.data()["content"], "second", "round {round}");
        assert_eq!(now.data()["pinned_to_person_flag"], true, "round {round}");
    }
}

/// An activity or note added for a person while it is merged away: it ends on the kept
/// person (added first, then moved) or is refused (merged first); never on the merged one.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nothing_is_left_on_a_person_merged_away_meanwhile() {
    let app = TestApp::spawn().await;
    let kept = id(&app.add_person(json!({"name": "Kept"})).await);
    let (mut moved, mut refused) = (0, 0);
    for round in 0..rounds() {
        let gone = id(&app
            .add_person(json!({"name": format!("Gone {round}")}))
            .await);
        let (add, merge) = if round % 2 == 0 {
            let (a, m) = app
                .race(
                    req(
                        Method::POST,
                        "/api/v2/activities".into(),
                        json!({"person_id": gone}),
                    ),
                    req(
                        Method::PUT,
                        format!("/v1/persons/{gone}/merge"),
                        json!({"merge_with_id": kept}),
                    ),
                )
                .await;
            (a, m)
        } else {
            let (a, m) = app
                .race(
                    req(
                        Method::POST,
                        "/v1/notes".into(),
                        json!({"content": "x", "person_id": gone}),
                    ),
                    req(
                        Method::PUT,
                        format!("/v1/persons/{gone}/merge"),
                        json!({"merge_with_id": kept}),
                    ),
                )
                .await;
            (a, m)
        };
        ok(&merge);
        let left = if round % 2 == 0 {
            app.get(&format!("/api/v2/activities?person_id={gone}"))
                .await
        } else {
            app.get(&format!("/v1/notes?person_id={gone}")).await
        };
        // The merged person reads as deleted, so a list by it shows nothing either way; ask
        // the item itself.
        if add.status.is_success() {
            let path = if round % 2 == 0 {
                format!("/api/v2/activities/{}", id(add.data()))
            } else {
                format!("/v1/notes/{}", id(add.data()))
            };
            let item = app.get(&path).await;
            assert_eq!(
                item.data()["person_id"],
                kept,
                "round {round}: {}",
                item.body
            );
            moved += 1;
        } else {
            assert_eq!(add.status, 400, "round {round}: {}", add.body);
            refused += 1;
        }
        // Nothing names the merged person any more (a list by a deleted person still lists
        // what names it).
        assert_eq!(left.data(), &json!([]), "round {round}: {}", left.body);
    }
    eprintln!("added then moved: {moved}, refused: {refused}");
}

/// Ids a v2 search for `term` finds.
async fn found(app: &TestApp, term: &str) -> Vec<i64> {
    let r = app
        .get(&format!("/api/v2/persons/search?term={term}&fields=name"))
        .await;
    ok(&r);
    r.data()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["item"]["id"].as_i64().unwrap())
        .collect()
}

/// A rename released together with a search for the name it replaces: whichever the search
/// saw, once the rename is acknowledged the new name is found and the old one is not, whether
/// the person is still queued for the search index (asked at once) or indexed (asked after the
/// indexer's idle step), and another person renamed alongside keeps the queue busy.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_search_racing_a_rename_never_outlives_it() {
    let app = TestApp::spawn().await;
    let name = |r: usize| format!("Searched {r:04} Renamed");
    let term = |r: usize| format!("{r:04}%20renamed");
    let p = id(&app.add_person_v2(json!({"name": name(0)})).await);
    let other = id(&app.add_person_v2(json!({"name": "Bystander"})).await);
    for r in 1..=rounds() {
        let (renamed, raced) = app
            .race(
                req(
                    Method::PATCH,
                    format!("/api/v2/persons/{p}"),
                    json!({"name": name(r)}),
                ),
                (
                    Method::GET,
                    format!("/api/v2/persons/search?term={}&fields=name", term(r - 1)),
                    None,
                ),
            )
            .await;
        ok(&renamed);
        ok(&raced);
        let seen: Vec<i64> = raced.data()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["item"]["id"].as_i64().unwrap())
            .collect();
        assert!(seen.is_empty() || seen == [p], "round {r}: {seen:?}");
        ok(&app
            .patch(
                &format!("/api/v2/persons/{other}"),
                &json!({"name": format!("Bystander {r}")}),
            )
            .await);
        if r % 2 == 0 {
            // Past the indexer's idle wait: the rename is in the index by now.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(found(&app, &term(r)).await, [p], "round {r}: the new name");
        assert!(
            found(&app, &term(r - 1)).await.is_empty(),
            "round {r}: the old name"
        );
    }
}

/// A reset of the company while webhook deliveries of its events finish: a delivery records
/// its attempt on the webhook (trimming the webhook's log once it holds 100), then settles its
/// outbox row, and the reset deletes all of them, so the two must take them in the same order.
/// Every reset succeeds (none deadlocks), and the deliveries went on meanwhile; every fifth
/// round fills the webhook's log first, so that the reset meets deliveries trimming it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reset_while_deliveries_finish_always_succeeds() {
    let ms = std::time::Duration::from_millis;
    let receiver = Receiver::start().await;
    receiver.delay(ms(10));
    let app = TestApp::spawn_with(|o| {
        o.admin = Some(pipestack::api::admin::Config::default());
        o.webhooks.poll = ms(2);
    })
    .await;
    for round in 0..rounds() {
        ok(&app
            .post(
                "/v1/webhooks",
                &json!({"subscription_url": format!("{}/r{round}", receiver.url),
                        "event_action": "*", "event_object": "*"}),
            )
            .await);
        let full = round % 5 == 4;
        let seen = receiver.received().len();
        for i in 0..if full { 110 } else { 4 } {
            app.add_person_v2(json!({"name": format!("R{round} P{i}")}))
                .await;
        }
        if full {
            let waited = std::time::Instant::now();
            while receiver.received().len() < seen + 101 && waited.elapsed().as_secs() < 10 {
                tokio::time::sleep(ms(5)).await;
            }
        } else {
            // A different moment of the deliveries each round: sending, or just answered.
            tokio::time::sleep(ms(round as u64 % 5 * 4)).await;
        }
        let reset = app.post("/_pipestack/reset", &json!({})).await;
        assert_eq!(reset.status, 200, "round {round}: {}", reset.body);
    }
    assert!(!receiver.received().is_empty(), "no delivery was made");
}

/// Two renames released together: each change's log entry starts from what the change before
/// it left (the log is written from the person as read inside the write's transaction), and
/// the newest ends at the name the person has.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn renames_released_together_leave_a_changelog_that_chains() {
    let app = TestApp::spawn().await;
    for round in 0..rounds() {
        let p = id(&app.add_person(json!({"name": "First"})).await);
        let path = format!("/v1/persons/{p}");
        let (a, b) = app
            .race(
                req(
                    Method::PUT,
                    path.clone(),
                    json!({"name": format!("A {round}")}),
                ),
                req(
                    Method::PATCH,
                    format!("/api/v2/persons/{p}"),
                    json!({"name": format!("B {round}")}),
                ),
            )
            .await;
        ok(&a);
        ok(&b);
        let log = app.get(&format!("{path}/changelog")).await;
        let names: Vec<(Value, Value)> = log
            .data()
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["field_key"] == "name")
            .map(|e| (e["old_value"].clone(), e["new_value"].clone()))
            .collect();
        assert_eq!(names.len(), 2, "round {round}: {}", log.body);
        let (newest, oldest) = (&names[0], &names[1]);
        assert_eq!(oldest.0, "First", "round {round}: {names:?}");
        assert_eq!(newest.0, oldest.1, "round {round}: {names:?}");
        assert_eq!(
            newest.1,
            app.get(&path).await.data()["name"],
            "round {round}"
        );
    }
}

/// Two unfollows of the follow an organization, a deal and a person were created with,
/// released together: one ends it, the other finds nothing (never an error), and the
/// changelog tells it once: one "added" (written by the unfollow that ended it) and one
/// "removed".
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unfollows_of_a_creations_follow_released_together_log_it_once() {
    let app = TestApp::spawn().await;
    let me = app.admin.id;
    for round in 0..rounds() {
        let org = app.add_org(&format!("Followed {round}")).await;
        let deal = id(app
            .post("/api/v2/deals", &json!({"title": format!("Deal {round}")}))
            .await
            .data());
        let person = id(&app.add_person(json!({"name": "Followed"})).await);
        for item in [
            format!("/api/v2/organizations/{org}"),
            format!("/api/v2/deals/{deal}"),
            format!("/api/v2/persons/{person}"),
        ] {
            let unfollow = || req(Method::DELETE, format!("{item}/followers/{me}"), json!({}));
            let (a, b) = app.race(unfollow(), unfollow()).await;
            let statuses = [a.status.as_u16(), b.status.as_u16()];
            assert!(
                statuses.contains(&200) && statuses.iter().all(|s| [200, 404].contains(s)),
                "round {round}, {item}: {statuses:?} {} {}",
                a.body,
                b.body
            );
            let log = app.get(&format!("{item}/followers/changelog")).await;
            assert_eq!(
                log.follower_changes(),
                [("added".into(), me, me), ("removed".into(), me, me)],
                "round {round}, {item}"
            );
        }
    }
}
