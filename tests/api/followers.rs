//! Followers of persons and organizations, in both dialects, and `followers_count`.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn v1_followers_are_listed_added_and_removed_by_relationship_id() {
    let app = TestApp::spawn().await;
    let jane = pipestack::setup::add_user(
        app.store.as_ref(),
        app.company.id,
        "Jane",
        "jane@example.com",
    )
    .await
    .unwrap();
    let p = app.add_person(json!({"name": "Followed"})).await["id"]
        .as_i64()
        .unwrap();
    let r = app.get(&format!("/v1/persons/{p}/followers")).await;
    let list = r.data().as_array().unwrap().clone();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["user_id"], app.admin.id);
    assert_eq!(list[0]["person_id"], p);
    let r = app
        .post(
            &format!("/v1/persons/{p}/followers"),
            &json!({"user_id": jane.id}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let rel = r.data()["id"].as_i64().unwrap();
    assert_eq!(r.data()["user_id"], jane.id);
    assert_eq!(r.data()["person_id"], p);
    assert_eq!(
        app.get(&format!("/v1/persons/{p}")).await.data()["followers_count"],
        2
    );
    app.post(
        &format!("/v1/persons/{p}/followers"),
        &json!({"user_id": jane.id}),
    )
    .await
    .assert_error(400, "already follows");
    app.post(
        &format!("/v1/persons/{p}/followers"),
        &json!({"user_id": 999999}),
    )
    .await
    .assert_error(400, "user_id");
    app.post(&format!("/v1/persons/{p}/followers"), &json!({}))
        .await
        .assert_error(400, "user_id: is required");
    let r = app
        .delete(&format!("/v1/persons/{p}/followers/{rel}"))
        .await;
    assert_eq!(r.data(), &json!({"id": rel}));
    assert_eq!(
        app.get(&format!("/v1/persons/{p}")).await.data()["followers_count"],
        1
    );
    app.delete(&format!("/v1/persons/{p}/followers/{rel}"))
        .await
        .assert_error(404, "Follower not found");
}

#[tokio::test]
async fn v2_followers_use_user_ids_and_keep_a_changelog() {
    let app = TestApp::spawn().await;
    let jane = pipestack::setup::add_user(
        app.store.as_ref(),
        app.company.id,
        "Jane",
        "jane@example.com",
    )
    .await
    .unwrap();
    let p = app.add_person_v2(json!({"name": "Followed"})).await["id"]
        .as_i64()
        .unwrap();
    let r = app
        .post(
            &format!("/api/v2/persons/{p}/followers"),
            &json!({"user_id": jane.id}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.data()["user_id"], jane.id);
    assert!(r.data()["add_time"].as_str().unwrap().ends_with('Z'));
    let r = app
        .get(&format!("/api/v2/persons/{p}/followers?limit=1"))
        .await;
    assert_eq!(r.data().as_array().unwrap().len(), 1);
    let c = r.body["additional_data"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .get(&format!("/api/v2/persons/{p}/followers?limit=1&cursor={c}"))
        .await;
    assert_eq!(r.data()[0]["user_id"], jane.id);
    let r = app
        .delete(&format!("/api/v2/persons/{p}/followers/{}", jane.id))
        .await;
    assert_eq!(r.data(), &json!({"user_id": jane.id}));
    let r = app
        .get(&format!("/api/v2/persons/{p}/followers/changelog"))
        .await;
    assert_eq!(
        r.follower_changes(),
        vec![
            ("added".into(), app.admin.id, app.admin.id),
            ("added".into(), jane.id, app.admin.id),
            ("removed".into(), jane.id, app.admin.id)
        ]
    );
    let r = app
        .get(&format!(
            "/api/v2/persons/{p}?include_fields=followers_count"
        ))
        .await;
    assert_eq!(r.data()["followers_count"], 1);
}

/// The follow a person is created with (its owner's, made by its creator) is read from its row
/// while it stands and written to the log when it ends, under the same place in the order: the
/// changelog reads the same before and after, and a cursor taken before goes on where it was.
#[tokio::test]
async fn the_follow_an_item_is_created_with_keeps_its_place_in_the_changelog_when_it_ends() {
    let app = TestApp::spawn().await;
    let jane = app.add_user("Jane").await;
    let bob = app.add_user("Bob").await;
    let person = app
        .add_person(json!({"name": "Followed", "owner_id": jane.id}))
        .await;
    let p = person["id"].as_i64().unwrap();
    let changelog = format!("/api/v2/persons/{p}/followers/changelog");
    let r = app.get(&changelog).await;
    assert_eq!(
        r.follower_changes(),
        vec![("added".into(), jane.id, app.admin.id)]
    );
    let created = r.data()[0]["time"].as_str().unwrap().to_owned();
    assert!(created.ends_with('Z'), "{created}");
    app.post(
        &format!("/api/v2/persons/{p}/followers"),
        &json!({"user_id": bob.id}),
    )
    .await;
    let first = app.get(&format!("{changelog}?limit=1")).await;
    assert_eq!(
        first.follower_changes(),
        vec![("added".into(), jane.id, app.admin.id)]
    );
    let cursor = first.body["additional_data"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    // The creation's follow ends: its addition is logged, in its place, with its time.
    let r = app
        .delete(&format!("/api/v2/persons/{p}/followers/{}", jane.id))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.get(&changelog).await;
    assert_eq!(
        r.follower_changes(),
        vec![
            ("added".into(), jane.id, app.admin.id),
            ("added".into(), bob.id, app.admin.id),
            ("removed".into(), jane.id, app.admin.id),
        ]
    );
    assert_eq!(r.data()[0]["time"], created.as_str());
    let rest = app.get(&format!("{changelog}?cursor={cursor}")).await;
    assert_eq!(
        rest.follower_changes(),
        vec![
            ("added".into(), bob.id, app.admin.id),
            ("removed".into(), jane.id, app.admin.id),
        ]
    );
    // Followed again: a follow like any other, logged as it is made.
    app.post(
        &format!("/api/v2/persons/{p}/followers"),
        &json!({"user_id": jane.id}),
    )
    .await;
    let r = app.get(&changelog).await;
    assert_eq!(r.follower_changes().len(), 4);
    assert_eq!(
        r.follower_changes()[3],
        ("added".into(), jane.id, app.admin.id)
    );
    // Deals and organizations are created with their owner's follow the same way.
    let org = app.add_org("Followed Org").await;
    let r = app
        .get(&format!("/api/v2/organizations/{org}/followers/changelog"))
        .await;
    assert_eq!(
        r.follower_changes(),
        vec![("added".into(), app.admin.id, app.admin.id)]
    );
    let deal = app
        .post(
            "/api/v2/deals",
            &json!({"title": "Followed deal", "owner_id": jane.id}),
        )
        .await;
    assert_eq!(deal.status, 200, "{}", deal.body);
    let r = app
        .get(&format!(
            "/api/v2/deals/{}/followers/changelog",
            deal.data()["id"]
        ))
        .await;
    assert_eq!(
        r.follower_changes(),
        vec![("added".into(), jane.id, app.admin.id)]
    );
}

#[tokio::test]
async fn organizations_have_followers_too() {
    let app = TestApp::spawn().await;
    let jane = pipestack::setup::add_user(
        app.store.as_ref(),
        app.company.id,
        "Jane",
        "jane@example.com",
    )
    .await
    .unwrap();
    let org = app.add_org("Followed Org").await;
    let r = app
        .post(
            &format!("/api/v2/organizations/{org}/followers"),
            &json!({"user_id": jane.id}),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = app.get(&format!("/v1/organizations/{org}/followers")).await;
    assert_eq!(r.data().as_array().unwrap().len(), 2);
    assert_eq!(r.data()[1]["org_id"], org);
    let rel = r.data()[1]["id"].as_i64().unwrap();
    assert_eq!(
        app.get(&format!("/v1/organizations/{org}")).await.data()["followers_count"],
        2
    );
    app.delete(&format!("/v1/organizations/{org}/followers/{rel}"))
        .await;
    assert_eq!(
        app.get(&format!("/v1/organizations/{org}")).await.data()["followers_count"],
        1
    );
}

#[tokio::test]
async fn following_a_private_person_makes_it_visible_and_permitted() {
    let app = TestApp::spawn().await;
    let jane = pipestack::setup::add_user(
        app.store.as_ref(),
        app.company.id,
        "Jane",
        "jane@example.com",
    )
    .await
    .unwrap();
    let p = app
        .add_person(json!({"name": "Private", "visible_to": "1"}))
        .await["id"]
        .as_i64()
        .unwrap();
    app.get_as(&jane.api_token, &format!("/v1/persons/{p}"))
        .await
        .assert_error(404, "Person not found");
    assert_eq!(
        app.get_as(&jane.api_token, "/v1/persons").await.data(),
        &json!([])
    );
    let permitted = app.get(&format!("/v1/persons/{p}/permittedUsers")).await;
    assert_eq!(permitted.data(), &json!([app.admin.id]));
    app.post(
        &format!("/v1/persons/{p}/followers"),
        &json!({"user_id": jane.id}),
    )
    .await;
    assert_eq!(
        app.get_as(&jane.api_token, &format!("/v1/persons/{p}"))
            .await
            .status,
        200
    );
    assert_eq!(
        app.get_as(&jane.api_token, "/api/v2/persons")
            .await
            .data()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let s = app
        .get_as(&jane.api_token, "/api/v2/persons/search?term=private")
        .await;
    assert_eq!(s.data()["items"].as_array().unwrap().len(), 1);
    let permitted = app.get(&format!("/v1/persons/{p}/permittedUsers")).await;
    assert_eq!(permitted.data(), &json!([app.admin.id, jane.id]));
    let public = app.add_person(json!({"name": "Public"})).await["id"]
        .as_i64()
        .unwrap();
    let permitted = app
        .get(&format!("/v1/persons/{public}/permittedUsers"))
        .await;
    assert_eq!(permitted.data(), &json!([app.admin.id, jane.id]));
}

#[tokio::test]
async fn owners_see_their_private_persons_and_admins_see_all() {
    let app = TestApp::spawn().await;
    let jane = pipestack::setup::add_user(
        app.store.as_ref(),
        app.company.id,
        "Jane",
        "jane@example.com",
    )
    .await
    .unwrap();
    let r = app
        .post_as(
            &jane.api_token,
            "/v1/persons",
            &json!({"name": "Janes Own", "visible_to": "1"}),
        )
        .await;
    let id = r.data()["id"].as_i64().unwrap();
    assert_eq!(
        app.get_as(&jane.api_token, &format!("/v1/persons/{id}"))
            .await
            .status,
        200
    );
    assert_eq!(
        app.get(&format!("/v1/persons/{id}")).await.status,
        200,
        "the admin sees it"
    );
    let bob =
        pipestack::setup::add_user(app.store.as_ref(), app.company.id, "Bob", "bob@example.com")
            .await
            .unwrap();
    app.get_as(&bob.api_token, &format!("/v1/persons/{id}"))
        .await
        .assert_error(404, "Person not found");
    let r = app
        .call(
            reqwest::Method::PUT,
            &format!("/v1/persons/{id}"),
            Some(&bob.api_token),
            Some(&json!({"name": "x"})),
        )
        .await;
    r.assert_error(404, "Person not found");
    let r = app
        .call(
            reqwest::Method::DELETE,
            &format!("/v1/persons?ids={id}"),
            Some(&bob.api_token),
            None,
        )
        .await;
    assert_eq!(
        r.data(),
        &json!({"id": []}),
        "bulk delete skips what it cannot see"
    );
    // A private organization is hidden the same way.
    let org = app
        .post_as(
            &jane.api_token,
            "/api/v2/organizations",
            &json!({"name": "Janes Org", "visible_to": 1}),
        )
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    app.get_as(&bob.api_token, &format!("/api/v2/organizations/{org}"))
        .await
        .assert_error(404, "Organization not found");
    let r = app
        .post_as(
            &bob.api_token,
            "/v1/persons",
            &json!({"name": "B", "org_id": org}),
        )
        .await;
    r.assert_error(400, "org_id");
    assert!(
        app.get_as(&bob.api_token, "/api/v2/organizations")
            .await
            .data()
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn followers_count_stays_right_under_concurrent_follows() {
    let app = TestApp::spawn().await;
    let p = app.add_person(json!({"name": "Popular"})).await["id"]
        .as_i64()
        .unwrap();
    let mut users = Vec::new();
    for i in 0..12 {
        users.push(
            pipestack::setup::add_user(
                app.store.as_ref(),
                app.company.id,
                &format!("U{i}"),
                &format!("u{i}@example.com"),
            )
            .await
            .unwrap(),
        );
    }
    let mut tasks = Vec::new();
    for (i, u) in users.iter().enumerate() {
        let (base, token, uid) = (app.base.clone(), app.token.clone(), u.id);
        tasks.push(tokio::spawn(async move {
            let c = reqwest::Client::new();
            // Everyone follows twice at once; only one of the two may succeed.
            let a = c
                .post(format!("{base}/api/v2/persons/{p}/followers"))
                .header("x-api-token", &token)
                .json(&json!({"user_id": uid}))
                .send();
            let b = c
                .post(format!("{base}/api/v2/persons/{p}/followers"))
                .header("x-api-token", &token)
                .json(&json!({"user_id": uid}))
                .send();
            let (a, b) = tokio::join!(a, b);
            let mut got = [a.unwrap().status().as_u16(), b.unwrap().status().as_u16()];
            got.sort_unstable();
            assert_eq!(
                got,
                [201, 400],
                "exactly one of two identical follows succeeds"
            );
            if i % 3 == 0 {
                c.delete(format!("{base}/api/v2/persons/{p}/followers/{uid}"))
                    .header("x-api-token", &token)
                    .send()
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let listed = app
        .get(&format!("/api/v2/persons/{p}/followers?limit=500"))
        .await
        .data()
        .as_array()
        .unwrap()
        .len() as i64;
    assert_eq!(listed, 1 + 12 - 4);
    assert_eq!(
        app.get(&format!("/v1/persons/{p}")).await.data()["followers_count"],
        listed
    );
}

/// v1 follower lists page with `start`/`limit` like every v1 list, and say so in
/// `additional_data.pagination` (the page size, not the number of followers).
#[tokio::test]
async fn v1_follower_lists_page_with_start_and_limit() {
    let app = TestApp::spawn().await;
    let p = app.add_person(json!({"name": "Followed"})).await["id"]
        .as_i64()
        .unwrap();
    for name in ["Jane", "Joe"] {
        let u = app.add_user(name).await;
        let r = app
            .post(
                &format!("/v1/persons/{p}/followers"),
                &json!({"user_id": u.id}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = app.get(&format!("/v1/persons/{p}/followers")).await;
    assert_eq!(r.data().as_array().unwrap().len(), 3);
    assert_eq!(
        r.body["additional_data"]["pagination"],
        json!({"start": 0, "limit": 100, "more_items_in_collection": false})
    );
    let r = app.get(&format!("/v1/persons/{p}/followers?limit=2")).await;
    assert_eq!(r.data().as_array().unwrap().len(), 2);
    assert_eq!(
        r.body["additional_data"]["pagination"],
        json!({"start": 0, "limit": 2, "more_items_in_collection": true, "next_start": 2})
    );
    let r = app
        .get(&format!("/v1/persons/{p}/followers?start=2&limit=2"))
        .await;
    assert_eq!(r.data().as_array().unwrap().len(), 1);
    assert_eq!(
        r.body["additional_data"]["pagination"]["more_items_in_collection"],
        false
    );
    let r = app
        .get(&format!(
            "/v1/persons/{p}/followers?start=9223372036854775807"
        ))
        .await;
    assert_eq!(r.data().as_array().unwrap().len(), 0);
    assert_eq!(
        r.body["additional_data"]["pagination"]["more_items_in_collection"],
        false
    );
    app.get(&format!("/v1/persons/{p}/followers?limit=0"))
        .await
        .assert_error(400, "limit");
    // personFields: a start near the largest integer is an empty last page, not an endless one.
    let r = app
        .get("/v1/personFields?start=9223372036854775807&limit=1")
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body["additional_data"]["pagination"],
        json!({"start": 9223372036854775807_i64, "limit": 1, "more_items_in_collection": false})
    );
}

/// A visible person of an organization the user may not see shows that organization's id only:
/// never its name or address (v1 reads and lists, `related_objects`, search), and searching
/// within it finds nothing, as for an organization that does not exist.
#[tokio::test]
async fn a_private_organization_does_not_leak_through_its_persons() {
    let app = TestApp::spawn().await;
    let (jane, bob) = (app.add_user("Jane").await, app.add_user("Bob").await);
    let org = app
        .post_as(
            &jane.api_token,
            "/api/v2/organizations",
            &json!({"name": "Secret Org", "visible_to": 1, "address": {"value": "Hidden Rd 1"}}),
        )
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    let p = app
        .post_as(
            &jane.api_token,
            "/v1/persons",
            &json!({"name": "Public Paula", "org_id": org, "visible_to": "3"}),
        )
        .await
        .data()["id"]
        .as_i64()
        .unwrap();

    let leaks = |body: &serde_json::Value| {
        let text = body.to_string();
        text.contains("Secret Org") || text.contains("Hidden Rd")
    };
    let get = app
        .get_as(&bob.api_token, &format!("/v1/persons/{p}"))
        .await;
    assert_eq!(get.status, 200);
    assert_eq!(get.data()["org_id"], org, "the id alone");
    assert_eq!(get.data()["org_name"], serde_json::Value::Null);
    assert!(get.body["related_objects"].get("organization").is_none());
    for path in [
        format!("/v1/persons/{p}"),
        "/v1/persons".to_owned(),
        "/v1/persons/search?term=paula".to_owned(),
        "/api/v2/persons/search?term=paula".to_owned(),
    ] {
        let r = app.get_as(&bob.api_token, &path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert!(!leaks(&r.body), "{path}: {}", r.body);
    }
    let r = app
        .get_as(&bob.api_token, "/api/v2/persons/search?term=paula")
        .await;
    assert_eq!(
        r.data()["items"][0]["item"]["organization"],
        json!({"id": org, "name": null, "address": null})
    );
    let r = app
        .get_as(
            &bob.api_token,
            &format!("/api/v2/persons/search?term=paula&organization_id={org}"),
        )
        .await;
    assert_eq!(r.data()["items"], json!([]));
    let r = app
        .get_as(&bob.api_token, &format!("/api/v2/persons?org_id={org}"))
        .await;
    assert_eq!(
        r.data(),
        &json!([]),
        "listing within it finds nothing either"
    );
    // Its owner (and admins) still see it whole.
    let r = app
        .get_as(&jane.api_token, &format!("/v1/persons/{p}"))
        .await;
    assert_eq!(r.data()["org_id"]["name"], "Secret Org");
    let r = app
        .get(&format!(
            "/api/v2/persons/search?term=paula&organization_id={org}"
        ))
        .await;
    assert_eq!(
        r.data()["items"][0]["item"]["organization"]["name"],
        "Secret Org"
    );
}

/// Every person of a v1 list page, as `(id, followers_count)`, beside the number of followers
/// `/v1/persons/{id}/followers` lists: the page reads the copy each person keeps on its row,
/// the list reads the followers themselves.
async fn counted_and_listed(app: &TestApp) -> Vec<(i64, u64, usize)> {
    let page = app.get("/v1/persons?limit=500").await;
    let mut out = Vec::new();
    for p in page.data().as_array().unwrap() {
        let id = p["id"].as_i64().unwrap();
        let listed = app.get(&format!("/v1/persons/{id}/followers")).await;
        out.push((
            id,
            p["followers_count"].as_u64().unwrap(),
            listed.data().as_array().map_or(0, Vec::len),
        ));
    }
    out
}

/// The followers a list page shows follow every change of them: added and removed (v1 and
/// v2), brought by a merge, and put back by a snapshot's restore.
#[tokio::test]
async fn list_pages_show_the_followers_through_every_change() {
    let app = TestApp::spawn_with(|o| o.admin = Some(Default::default())).await;
    let users: Vec<i64> = {
        let mut ids = Vec::new();
        for name in ["Ann", "Ben", "Cy"] {
            let u = pipestack::setup::add_user(
                app.store.as_ref(),
                app.company.id,
                name,
                &format!("{}@example.com", name.to_lowercase()),
            )
            .await
            .unwrap();
            ids.push(u.id);
        }
        ids
    };
    let id = |v: serde_json::Value| v["id"].as_i64().unwrap();
    let p = id(app.add_person(json!({"name": "Kept"})).await);
    let q = id(app
        .add_person(json!({"name": "Merged", "owner_id": users[2]}))
        .await);
    let check = |rows: Vec<(i64, u64, usize)>, want: &[(i64, u64)]| {
        for (id, counted, listed) in &rows {
            assert_eq!(*counted as usize, *listed, "person {id}: {rows:?}");
        }
        let got: Vec<(i64, u64)> = rows.iter().map(|(i, c, _)| (*i, *c)).collect();
        assert_eq!(got, want);
    };
    check(counted_and_listed(&app).await, &[(p, 1), (q, 1)]);

    let r = app
        .post(
            &format!("/v1/persons/{p}/followers"),
            &json!({"user_id": users[0]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .post(
            &format!("/api/v2/persons/{p}/followers"),
            &json!({"user_id": users[1]}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    check(counted_and_listed(&app).await, &[(p, 3), (q, 1)]);
    let saved = app
        .post("/_pipestack/snapshots", &json!({"name": "three"}))
        .await;
    assert!(saved.status.is_success(), "{}", saved.body);

    let r = app
        .delete(&format!("/api/v2/persons/{p}/followers/{}", users[1]))
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    check(counted_and_listed(&app).await, &[(p, 2), (q, 1)]);

    // The merged person's follower (its owner, Cy) comes to the kept one.
    let r = app
        .put(
            &format!("/v1/persons/{q}/merge"),
            &json!({"merge_with_id": p}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    check(counted_and_listed(&app).await, &[(p, 3)]);

    let r = app
        .post("/_pipestack/snapshots/three/restore", &json!({}))
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    check(counted_and_listed(&app).await, &[(p, 3), (q, 1)]);
}
