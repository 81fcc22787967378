//! Organizations in both dialects: list, update, delete (persons detached), persons of an
//! organization, search, labels; and counts under concurrent changes.

use serde_json::{Value, json};

use crate::helpers::TestApp;

fn ids(v: &Value) -> Vec<i64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn v1_lists_updates_and_deletes_organizations() {
    let app = TestApp::spawn().await;
    let a = app.add_org("Beta").await;
    let b = app.add_org("alpha").await;
    let r = app.get("/v1/organizations?sort=name%20ASC").await;
    assert_eq!(ids(r.data()), vec![b, a]);
    assert_eq!(
        r.body["additional_data"]["pagination"]["more_items_in_collection"],
        false
    );
    assert!(r.body["related_objects"]["user"][app.admin.id.to_string()].is_object());
    assert_eq!(
        ids(app.get("/v1/organizations?first_char=B").await.data()),
        vec![a]
    );
    app.get("/v1/organizations?sort=people_count%20ASC")
        .await
        .assert_error(400, "sort");

    let labels = app
        .labels_of(app.company.id, pipestack::domain::Kind::Organization)
        .await;
    let r = app
        .put(&format!("/v1/organizations/{a}"), &json!({"name": "Beta Ltd", "address": "Main St 1", "label": labels[0].id, "visible_to": "1"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["name"], "Beta Ltd");
    assert_eq!(r.data()["address"], "Main St 1");
    assert_eq!(r.data()["label"], labels[0].id);
    assert_eq!(r.data()["visible_to"], "1");
    app.put(&format!("/v1/organizations/{a}"), &json!({"name": ""}))
        .await
        .assert_error(400, "Name must be given.");
    app.put(
        &format!("/v1/organizations/{a}"),
        &json!({"label_ids": [999999]}),
    )
    .await
    .assert_error(400, "label_ids");

    let r = app.delete(&format!("/v1/organizations/{a}")).await;
    assert_eq!(r.body, json!({"success": true, "data": {"id": a}}));
    assert_eq!(
        app.get(&format!("/v1/organizations/{a}")).await.data()["active_flag"],
        false
    );
    assert_eq!(ids(app.get("/v1/organizations").await.data()), vec![b]);
    app.delete(&format!("/v1/organizations/{a}"))
        .await
        .assert_error(404, "Organization not found");
}

#[tokio::test]
async fn deleting_an_organization_detaches_its_persons() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Doomed").await;
    let p = app
        .add_person(json!({"name": "Stays", "org_id": org}))
        .await["id"]
        .as_i64()
        .unwrap();
    app.delete(&format!("/api/v2/organizations/{org}")).await;
    let r = app.get(&format!("/v1/persons/{p}")).await;
    assert_eq!(r.data()["active_flag"], true, "the person stays");
    assert_eq!(r.data()["org_id"], Value::Null);
    app.post("/v1/persons", &json!({"name": "Late", "org_id": org}))
        .await
        .assert_error(400, "org_id");
}

#[tokio::test]
async fn an_organizations_persons_are_listed_with_paging() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Acme").await;
    let other = app.add_org("Other").await;
    for i in 0..3 {
        app.add_person(json!({"name": format!("In {i}"), "org_id": org}))
            .await;
    }
    app.add_person(json!({"name": "Out", "org_id": other}))
        .await;
    let r = app
        .get(&format!("/v1/organizations/{org}/persons?limit=2"))
        .await;
    assert_eq!(r.data().as_array().unwrap().len(), 2);
    assert_eq!(r.body["additional_data"]["pagination"]["next_start"], 2);
    assert!(
        r.data()
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["org_id"]["value"] == org)
    );
    app.get("/v1/organizations/999999/persons")
        .await
        .assert_error(404, "Organization not found");
}

#[tokio::test]
async fn v2_adds_reads_patches_lists_and_deletes_organizations() {
    let app = TestApp::spawn().await;
    let r = app
        .post("/api/v2/organizations", &json!({"name": "Bolt", "address": {"value": "Main St 1", "country": "Estonia"}, "visible_to": 7}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let o = r.data().clone();
    let id = o["id"].as_i64().unwrap();
    assert_eq!(o["address"]["value"], "Main St 1");
    assert_eq!(o["address"]["country"], "Estonia");
    assert_eq!(o["visible_to"], 7);
    assert_eq!(o["is_deleted"], false);
    assert_eq!(o["owner_id"], app.admin.id);
    let v1 = app.get(&format!("/v1/organizations/{id}")).await;
    assert_eq!(v1.data()["address_country"], "Estonia");

    let r = app
        .patch(
            &format!("/api/v2/organizations/{id}"),
            &json!({"address": null, "name": "Bolt AS"}),
        )
        .await;
    assert_eq!(r.data()["address"], Value::Null);
    assert_eq!(r.data()["name"], "Bolt AS");
    app.add_person(json!({"name": "P", "org_id": id})).await;
    let r = app
        .get(&format!(
            "/api/v2/organizations/{id}?include_fields=people_count,followers_count"
        ))
        .await;
    assert_eq!(r.data()["people_count"], 1);
    assert_eq!(r.data()["followers_count"], 1);

    let second = app
        .post("/api/v2/organizations", &json!({"name": "Second"}))
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    let r = app.get("/api/v2/organizations?limit=1").await;
    assert_eq!(ids(r.data()), vec![id]);
    let c = r.body["additional_data"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        ids(app
            .get(&format!("/api/v2/organizations?limit=1&cursor={c}"))
            .await
            .data()),
        vec![second]
    );
    assert_eq!(
        ids(app
            .get("/api/v2/organizations?sort_direction=desc")
            .await
            .data()),
        vec![second, id]
    );

    let r = app.delete(&format!("/api/v2/organizations/{id}")).await;
    assert_eq!(r.body, json!({"success": true, "data": {"id": id}}));
    assert_eq!(
        app.get(&format!("/api/v2/organizations/{id}")).await.data()["is_deleted"],
        true
    );
    for (body, needle) in [
        (json!({}), "Name must be given."),
        (
            json!({"name": "X", "address": {"country": "EE"}}),
            "address.value",
        ),
        (
            json!({"name": "X", "web_site": "x"}),
            "web_site (unknown field)",
        ),
        (json!({"name": "X", "owner_id": 999999}), "owner_id"),
    ] {
        app.post("/api/v2/organizations", &body)
            .await
            .assert_error(400, needle);
    }
    app.get("/api/v2/organizations?sort_by=name")
        .await
        .assert_error(400, "sort_by");
}

#[tokio::test]
async fn v2_organization_search_ranks_name_and_address_matches() {
    let app = TestApp::spawn().await;
    let exact = app
        .post("/api/v2/organizations", &json!({"name": "Tallinn"}))
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    let by_address = app
        .post(
            "/api/v2/organizations",
            &json!({"name": "Bolt", "address": {"value": "Vana-Lõuna 15, Tallinn"}}),
        )
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    app.post("/api/v2/organizations", &json!({"name": "Riga Ltd"}))
        .await;
    let r = app.get("/api/v2/organizations/search?term=tallinn").await;
    let items = r.data()["items"].as_array().unwrap();
    assert_eq!(
        items
            .iter()
            .map(|i| i["item"]["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![exact, by_address]
    );
    assert_eq!(items[0]["item"]["type"], "organization");
    let r = app
        .get("/api/v2/organizations/search?term=tallinn&fields=name")
        .await;
    assert_eq!(r.data()["items"].as_array().unwrap().len(), 1);
    app.get("/api/v2/organizations/search?term=t")
        .await
        .assert_error(400, "term");
    app.get("/api/v2/organizations/search?term=ta&fields=phone")
        .await
        .assert_error(400, "fields");
}

#[tokio::test]
async fn people_count_stays_right_under_concurrent_moves() {
    let app = TestApp::spawn().await;
    let a = app.add_org("A").await;
    let b = app.add_org("B").await;
    let mut persons = Vec::new();
    for i in 0..20 {
        persons.push(
            app.add_person(json!({"name": format!("P{i}"), "org_id": a}))
                .await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let mut tasks = Vec::new();
    for (i, id) in persons.iter().enumerate() {
        let (base, token, id) = (app.base.clone(), app.token.clone(), *id);
        tasks.push(tokio::spawn(async move {
            let c = reqwest::Client::new();
            let target = if i % 2 == 0 {
                json!({"org_id": b})
            } else {
                json!({"org_id": null})
            };
            let r = c
                .put(format!("{base}/v1/persons/{id}"))
                .header("x-api-token", &token)
                .json(&target)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success());
            if i % 5 == 0 {
                let r = c
                    .delete(format!("{base}/v1/persons/{id}"))
                    .header("x-api-token", &token)
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success());
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let count = |org: i64| persons_with(&app, org);
    let (in_a, in_b) = (count(a).await, count(b).await);
    assert_eq!(
        app.get(&format!("/v1/organizations/{a}")).await.data()["people_count"],
        in_a
    );
    assert_eq!(
        app.get(&format!("/v1/organizations/{b}")).await.data()["people_count"],
        in_b
    );
    assert_eq!(in_a, 0);
    assert_eq!(
        in_b,
        10 - 2,
        "even ones moved to B, minus the deleted ones (0, 10)"
    );
}

async fn persons_with(app: &TestApp, org: i64) -> i64 {
    app.get(&format!("/api/v2/persons?org_id={org}&limit=500"))
        .await
        .data()
        .as_array()
        .unwrap()
        .len() as i64
}
