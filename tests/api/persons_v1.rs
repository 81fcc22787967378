//! v1 list, update, delete (one and bulk) and merge.

use serde_json::{Value, json};

use crate::helpers::TestApp;

fn ids(r: &Value) -> Vec<i64> {
    r.as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn list_pages_with_start_and_limit_and_reports_pagination() {
    let app = TestApp::spawn().await;
    for i in 0..5 {
        app.add_person(json!({"name": format!("P{i}")})).await;
    }
    let r = app.get("/v1/persons?start=0&limit=2").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.data().as_array().unwrap().len(), 2);
    assert_eq!(
        r.body["additional_data"]["pagination"],
        json!({"start": 0, "limit": 2, "more_items_in_collection": true, "next_start": 2})
    );
    let r = app.get("/v1/persons?start=4&limit=2").await;
    assert_eq!(r.data().as_array().unwrap().len(), 1);
    assert_eq!(
        r.body["additional_data"]["pagination"],
        json!({"start": 4, "limit": 2, "more_items_in_collection": false})
    );
    let r = app.get("/v1/persons").await;
    assert_eq!(r.body["additional_data"]["pagination"]["limit"], 100);
    assert_eq!(r.data().as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn list_rejects_bad_paging_and_sorting() {
    let app = TestApp::spawn().await;
    app.get("/v1/persons?limit=501")
        .await
        .assert_error(400, "limit: must be between 1 and 500");
    app.get("/v1/persons?limit=0")
        .await
        .assert_error(400, "limit");
    app.get("/v1/persons?limit=ten")
        .await
        .assert_error(400, "limit: must be an integer");
    app.get("/v1/persons?start=-1")
        .await
        .assert_error(400, "start: must not be negative");
    app.get("/v1/persons?sort=nope%20ASC")
        .await
        .assert_error(400, "sort: cannot sort persons by \"nope\"");
    app.get("/v1/persons?sort=name%20SIDEWAYS")
        .await
        .assert_error(400, "sort: direction");
    app.get("/v1/persons?user_id=x")
        .await
        .assert_error(400, "user_id");
    app.get("/v1/persons?filter_id=3")
        .await
        .assert_error(400, "filter_id");
}

#[tokio::test]
async fn list_sorts_by_several_first_level_fields() {
    let app = TestApp::spawn().await;
    let b1 = app
        .add_person(json!({"name": "bob", "add_time": "2020-01-01 00:00:00"}))
        .await;
    let a = app
        .add_person(json!({"name": "Alice", "add_time": "2021-01-01 00:00:00"}))
        .await;
    let b2 = app
        .add_person(json!({"name": "Bob", "add_time": "2022-01-01 00:00:00"}))
        .await;
    let r = app
        .get("/v1/persons?sort=name%20ASC,%20add_time%20DESC")
        .await;
    assert_eq!(
        ids(r.data()),
        vec![
            a["id"].as_i64().unwrap(),
            b2["id"].as_i64().unwrap(),
            b1["id"].as_i64().unwrap()
        ]
    );
    let r = app.get("/v1/persons?sort=add_time%20DESC").await;
    assert_eq!(ids(r.data())[0], b2["id"].as_i64().unwrap());
    // The id is a key like any other: first, it decides the whole order.
    let (b1, a, b2) = (
        b1["id"].as_i64().unwrap(),
        a["id"].as_i64().unwrap(),
        b2["id"].as_i64().unwrap(),
    );
    let r = app.get("/v1/persons?sort=id%20DESC,%20name%20ASC").await;
    assert_eq!(ids(r.data()), vec![b2, a, b1]);
    let r = app.get("/v1/persons?sort=id%20ASC,%20name%20DESC").await;
    assert_eq!(ids(r.data()), vec![b1, a, b2]);
    let r = app.get("/v1/persons?sort=name%20ASC,%20id%20DESC").await;
    assert_eq!(ids(r.data()), vec![a, b2, b1]);
}

#[tokio::test]
async fn list_filters_by_first_char_case_insensitively_and_by_owner() {
    let app = TestApp::spawn().await;
    let jane = pipestack::setup::add_user(
        app.store.as_ref(),
        app.company.id,
        "Jane",
        "jane@example.com",
    )
    .await
    .unwrap();
    app.add_person(json!({"name": "will"})).await;
    app.add_person(json!({"name": "Walter", "owner_id": jane.id}))
        .await;
    app.add_person(json!({"name": "Xena"})).await;
    let r = app.get("/v1/persons?first_char=W").await;
    assert_eq!(r.data().as_array().unwrap().len(), 2);
    let r = app.get(&format!("/v1/persons?user_id={}", jane.id)).await;
    let data = r.data().as_array().unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["name"], "Walter");
    assert_eq!(
        r.body["related_objects"]["user"][jane.id.to_string()]["name"],
        "Jane"
    );
}

#[tokio::test]
async fn list_related_objects_hold_every_user_and_org_of_the_page() {
    let app = TestApp::spawn().await;
    let o1 = app.add_org("One").await;
    let o2 = app.add_org("Two").await;
    app.add_person(json!({"name": "A", "org_id": o1})).await;
    app.add_person(json!({"name": "B", "org_id": o2})).await;
    let r = app.get("/v1/persons").await;
    let orgs = r.body["related_objects"]["organization"]
        .as_object()
        .unwrap();
    assert_eq!(orgs.len(), 2);
    assert_eq!(orgs[&o1.to_string()]["name"], "One");
    assert!(r.body["related_objects"]["user"][app.admin.id.to_string()].is_object());
}

#[tokio::test]
async fn update_changes_only_what_is_given_and_moves_update_time() {
    let app = TestApp::spawn().await;
    let p = app
        .add_person(json!({"name": "Will Smith", "email": "will@example.com", "phone": "1", "add_time": "2001-01-01 00:00:00"}))
        .await;
    let id = p["id"].as_i64().unwrap();
    let r = app
        .put(&format!("/v1/persons/{id}"), &json!({"phone": ["2", "3"]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let u = r.data();
    assert_eq!(u["name"], "Will Smith");
    assert_eq!(u["email"], p["email"]);
    assert_eq!(
        u["phone"],
        json!([
            {"value": "2", "primary": true, "label": ""},
            {"value": "3", "primary": false, "label": ""}
        ])
    );
    assert_eq!(u["add_time"], "2001-01-01 00:00:00");
    assert!(u["update_time"].as_str().unwrap() >= p["update_time"].as_str().unwrap());
    assert!(r.body["related_objects"]["user"].is_object());
    let r = app
        .put(&format!("/v1/persons/{id}"), &json!({"name": "Jack"}))
        .await;
    assert_eq!(r.data()["first_name"], "Jack");
    assert_eq!(r.data()["last_name"], Value::Null);
    assert_eq!(r.data()["first_char"], "j");
}

#[tokio::test]
async fn update_applies_the_same_rules_as_create() {
    let app = TestApp::spawn().await;
    let id = app.add_person(json!({"name": "A"})).await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/v1/persons/{id}");
    app.put(&path, &json!({"name": ""}))
        .await
        .assert_error(400, "Name must be given.");
    app.put(&path, &json!({"owner_id": 999}))
        .await
        .assert_error(400, "owner_id");
    app.put(&path, &json!({"org_id": 999}))
        .await
        .assert_error(400, "org_id");
    app.put(&path, &json!({"visible_to": "2"}))
        .await
        .assert_error(400, "visible_to");
    app.put(&path, &json!({"label": 999}))
        .await
        .assert_error(400, "label_ids");
    app.put(&path, &json!({"primary_email": "x@y.z"}))
        .await
        .assert_error(400, "read-only");
    app.put(&path, &json!({"add_time": "2001-13-01 00:00:00"}))
        .await
        .assert_error(400, "add_time");
    app.put("/v1/persons/999999", &json!({"name": "B"}))
        .await
        .assert_error(404, "Person not found");
    assert_eq!(app.get(&path).await.data()["name"], "A");
}

#[tokio::test]
async fn moving_a_person_between_orgs_keeps_both_counts_right() {
    let app = TestApp::spawn().await;
    let o1 = app.add_org("One").await;
    let o2 = app.add_org("Two").await;
    let id = app.add_person(json!({"name": "A", "org_id": o1})).await["id"]
        .as_i64()
        .unwrap();
    let r = app
        .put(&format!("/v1/persons/{id}"), &json!({"org_id": o2}))
        .await;
    assert_eq!(r.data()["org_id"]["people_count"], 1);
    assert_eq!(
        app.get(&format!("/v1/organizations/{o1}")).await.data()["people_count"],
        0
    );
    assert_eq!(
        app.get(&format!("/v1/organizations/{o2}")).await.data()["people_count"],
        1
    );
    let r = app
        .put(&format!("/v1/persons/{id}"), &json!({"org_id": null}))
        .await;
    assert_eq!(r.data()["org_id"], Value::Null);
    assert_eq!(
        app.get(&format!("/v1/organizations/{o2}")).await.data()["people_count"],
        0
    );
}

#[tokio::test]
async fn marketing_status_changes_once_then_further_changes_are_ignored() {
    let app = TestApp::spawn().await;
    let id = app
        .add_person(
            json!({"name": "A", "email": "a@example.com", "marketing_status": "subscribed"}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/v1/persons/{id}");
    let r = app
        .put(&path, &json!({"marketing_status": "unsubscribed"}))
        .await;
    assert_eq!(r.data()["marketing_status"], "unsubscribed");
    let r = app
        .put(&path, &json!({"marketing_status": "subscribed"}))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.data()["marketing_status"],
        "unsubscribed",
        "a second change is ignored"
    );
}

#[tokio::test]
async fn delete_is_soft_the_person_stays_readable_but_leaves_lists_and_counts() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Acme").await;
    let id = app
        .add_person(json!({"name": "Gone Soon", "org_id": org}))
        .await["id"]
        .as_i64()
        .unwrap();
    let r = app.delete(&format!("/v1/persons/{id}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"success": true, "data": {"id": id}}));
    let got = app.get(&format!("/v1/persons/{id}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.data()["active_flag"], false);
    assert!(got.data()["delete_time"].is_string());
    assert_eq!(app.get("/v1/persons").await.data(), &json!([]));
    assert_eq!(
        app.get(&format!("/v1/organizations/{org}")).await.data()["people_count"],
        0
    );
    let s = app.get("/v1/persons/search?term=Gone").await;
    assert_eq!(s.data()["items"], json!([]));
    app.delete(&format!("/v1/persons/{id}"))
        .await
        .assert_error(404, "Person not found");
    app.put(&format!("/v1/persons/{id}"), &json!({"name": "Back"}))
        .await
        .assert_error(404, "Person not found");
}

#[tokio::test]
async fn bulk_delete_deletes_the_given_ids_of_the_company_only() {
    let app = TestApp::spawn().await;
    let (_, other) = app.other_company("Other").await;
    let a = app.add_person(json!({"name": "A"})).await["id"]
        .as_i64()
        .unwrap();
    let b = app.add_person(json!({"name": "B"})).await["id"]
        .as_i64()
        .unwrap();
    let c = app.add_person(json!({"name": "C"})).await["id"]
        .as_i64()
        .unwrap();
    let theirs = app
        .post_as(&other.api_token, "/v1/persons", &json!({"name": "T"}))
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    let r = app
        .delete(&format!("/v1/persons?ids={a},{b},{theirs},999999"))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"success": true, "data": {"id": [a, b]}}));
    assert_eq!(ids(app.get("/v1/persons").await.data()), vec![c]);
    assert_eq!(
        app.get_as(&other.api_token, &format!("/v1/persons/{theirs}"))
            .await
            .data()["active_flag"],
        true
    );
}

#[tokio::test]
async fn bulk_delete_without_ids_is_a_400() {
    let app = TestApp::spawn().await;
    app.delete("/v1/persons")
        .await
        .assert_error(400, "Please provide at least one item to delete");
    app.delete("/v1/persons?ids=")
        .await
        .assert_error(400, "Please provide at least one item to delete");
    app.delete("/v1/persons?ids=a,b")
        .await
        .assert_error(400, "ids");
}

#[tokio::test]
async fn merge_keeps_merge_with_id_unites_contacts_and_followers_and_deletes_the_other() {
    let app = TestApp::spawn().await;
    let jane = pipestack::setup::add_user(
        app.store.as_ref(),
        app.company.id,
        "Jane",
        "jane@example.com",
    )
    .await
    .unwrap();
    let org = app.add_org("Acme").await;
    let labels = app
        .labels_of(app.company.id, pipestack::domain::Kind::Person)
        .await;
    let from = app
        .add_person(json!({"name": "Old Name", "owner_id": jane.id, "org_id": org, "email": ["same@example.com", "old@example.com"], "phone": "111", "label": labels[0].id}))
        .await;
    let into = app
        .add_person(json!({"name": "Kept Name", "email": "SAME@example.com", "phone": "222", "label": labels[1].id}))
        .await;
    let (from_id, into_id) = (from["id"].as_i64().unwrap(), into["id"].as_i64().unwrap());
    let r = app
        .put(
            &format!("/v1/persons/{from_id}/merge"),
            &json!({"merge_with_id": into_id}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let m = r.data();
    assert_eq!(m["id"], into_id);
    assert_eq!(m["merge_what_id"], from_id);
    assert_eq!(m["name"], "Kept Name");
    assert_eq!(m["owner_id"], app.admin.id, "merged shape has plain ids");
    assert_eq!(m["org_id"], org, "filled from the other person");
    let emails: Vec<&str> = m["email"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["value"].as_str().unwrap())
        .collect();
    assert_eq!(emails, vec!["SAME@example.com", "old@example.com"]);
    assert_eq!(m["phone"].as_array().unwrap().len(), 2);
    assert_eq!(m["label_ids"], json!([labels[1].id, labels[0].id]));
    assert_eq!(m["followers_count"], 2, "the admin and Jane now follow it");
    let gone = app.get(&format!("/v1/persons/{from_id}")).await;
    assert_eq!(gone.data()["active_flag"], false);
    assert_eq!(ids(app.get("/v1/persons").await.data()), vec![into_id]);
}

#[tokio::test]
async fn merge_rejects_bad_input() {
    let app = TestApp::spawn().await;
    let a = app.add_person(json!({"name": "A"})).await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/v1/persons/{a}/merge");
    app.put(&path, &json!({}))
        .await
        .assert_error(400, "merge_with_id: is required");
    app.put(&path, &json!({"merge_with_id": "x"}))
        .await
        .assert_error(400, "merge_with_id");
    app.put(&path, &json!({"merge_with_id": a}))
        .await
        .assert_error(400, "cannot be merged with itself");
    app.put(&path, &json!({"merge_with_id": 999999}))
        .await
        .assert_error(400, "merge_with_id: person 999999 not found");
    app.put("/v1/persons/999999/merge", &json!({"merge_with_id": a}))
        .await
        .assert_error(404, "Person not found");
    app.put(&path, &json!({"merge_with_id": a, "extra": 1}))
        .await
        .assert_error(400, "extra");
}

#[tokio::test]
async fn update_sets_the_creation_time_as_pipedrives_v1_documents_and_v2_refuses_it() {
    let app = TestApp::spawn().await;
    let id = app.add_person(json!({"name": "A"})).await["id"]
        .as_i64()
        .unwrap();
    let r = app
        .put(
            &format!("/v1/persons/{id}"),
            &json!({"add_time": "2001-02-03 04:05:06"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["add_time"], "2001-02-03 04:05:06");
    let r = app.get(&format!("/api/v2/persons/{id}")).await;
    assert_eq!(r.data()["add_time"], "2001-02-03T04:05:06Z");
    app.patch(
        &format!("/api/v2/persons/{id}"),
        &json!({"add_time": "2002-02-03T04:05:06Z"}),
    )
    .await
    .assert_error(400, "add_time: can only be set when the person is added");
    assert_eq!(
        app.get(&format!("/v1/persons/{id}")).await.data()["add_time"],
        "2001-02-03 04:05:06"
    );
}
