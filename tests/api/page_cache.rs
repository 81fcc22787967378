//! Cached list pages: the same page asked for again, with nothing committed meanwhile, is the
//! kept one; any commit (through the API, by another connection, released together with the
//! list) is seen by the next list at once; pages are never shared across users or companies.
//! The same for the persons a v1 page is made of: once a version has stood a moment, a page at
//! another offset shows those other pages rendered for it, exactly as it would render them
//! afresh.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::helpers::TestApp;

const LISTS: [&str; 2] = ["/v1/persons?limit=100", "/api/v2/persons?limit=100"];

/// (hits, misses) of the page cache, from `/metrics`.
async fn cache_counts(app: &TestApp) -> (u64, u64) {
    counts(app, "pipestack_page_cache_requests_total").await
}

/// (hits, misses) of the persons kept for pages, from `/metrics`.
async fn kept_counts(app: &TestApp) -> (u64, u64) {
    counts(app, "pipestack_rendered_persons_total").await
}

async fn counts(app: &TestApp, metric: &str) -> (u64, u64) {
    let text = reqwest::get(format!("{}/metrics", app.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let count = |outcome: &str| {
        let prefix = format!("{metric}{{outcome=\"{outcome}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no {prefix} in:\n{text}"))
            .parse()
            .unwrap()
    };
    (count("hit"), count("miss"))
}

/// Whether this engine has a data version (SQLite in WAL mode does, PostgreSQL does not): the
/// cache is on only then.
async fn caches(app: &TestApp) -> bool {
    app.store.version().await.unwrap().is_some()
}

/// Waits until nothing commits behind the requests any more (the search indexer steps a few
/// milliseconds after a write), so that two requests in a row see one version.
async fn settled(app: &TestApp) {
    for _ in 0..500 {
        let before = app.store.version().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        if app.store.version().await.unwrap() == before {
            return;
        }
    }
    panic!("the data kept changing for 10 s with no request");
}

/// Readers asking for pages until stopped, the path of each request from `path(reader,
/// request)`; every answer must be a `200`.
struct Readers {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Readers {
    fn spawn(app: &TestApp, count: usize, path: fn(usize, usize) -> String) -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let tasks = (0..count)
            .map(|reader| {
                let (base, token, stop) = (app.base.clone(), app.token.clone(), stop.clone());
                tokio::spawn(async move {
                    let client = reqwest::Client::new();
                    let mut n = 0;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let r = client
                            .get(format!("{base}{}", path(reader, n)))
                            .header("x-api-token", &token)
                            .send()
                            .await
                            .unwrap();
                        assert_eq!(r.status(), 200);
                        n += 1;
                    }
                })
            })
            .collect();
        Self { stop, tasks }
    }

    async fn stop(self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for task in self.tasks {
            task.await.unwrap();
        }
    }
}

/// Waits until the version the last page saw first has stood long enough for pages to keep
/// persons (50 ms in `src/api/rendered.rs`).
async fn version_stood() {
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
}

fn names(page: &Value) -> HashSet<String> {
    page.as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_page_asked_for_again_is_the_kept_one_until_a_write_commits() {
    let app = TestApp::spawn().await;
    let on = caches(&app).await;
    app.add_person_v2(json!({"name": "Ada"})).await;
    for list in LISTS {
        settled(&app).await;
        let (hits, misses) = cache_counts(&app).await;
        let first = app.get(list).await;
        let again = app.get(list).await;
        assert_eq!(first.status, 200);
        assert_eq!(again.status, 200);
        assert_eq!(again.body, first.body, "{list}");
        assert_eq!(again.headers["content-type"], first.headers["content-type"]);
        let expected = if on {
            (hits + 1, misses + 1)
        } else {
            (hits, misses)
        };
        assert_eq!(cache_counts(&app).await, expected, "{list}");

        app.add_person_v2(json!({"name": format!("After {list}")}))
            .await;
        let after = app.get(list).await;
        assert!(
            names(after.data()).contains(&format!("After {list}")),
            "{list}: {}",
            after.body
        );
        assert_eq!(cache_counts(&app).await.0, expected.0, "a write misses");
    }
    // An error is never kept.
    let (hits, _) = cache_counts(&app).await;
    for _ in 0..2 {
        app.get("/api/v2/persons?limit=0")
            .await
            .assert_error(400, "limit");
    }
    assert_eq!(cache_counts(&app).await.0, hits);
}

#[tokio::test]
async fn a_change_another_connection_commits_is_seen_by_the_next_list() {
    let app = TestApp::spawn().await;
    let id = app.add_person_v2(json!({"name": "Before"})).await["id"]
        .as_i64()
        .unwrap();
    for list in LISTS {
        app.get(list).await;
        app.get(list).await;
        let name = format!("Renamed for {list}");
        app.execute_sql(&format!(
            "UPDATE persons SET name = '{name}' WHERE id = {id}"
        ))
        .await;
        let after = app.get(list).await;
        assert_eq!(names(after.data()), HashSet::from([name]), "{list}");
    }
}

#[tokio::test]
async fn pages_are_kept_per_user_and_per_company() {
    let app = TestApp::spawn().await;
    let jane = app.add_user("Jane").await;
    let (_, other) = app.other_company("Other Co").await;
    app.add_person(json!({"name": "Private", "visible_to": "1"}))
        .await;
    app.add_person(json!({"name": "Shared", "visible_to": "3"}))
        .await;
    for list in LISTS {
        for _ in 0..2 {
            assert_eq!(
                names(app.get(list).await.data()),
                HashSet::from(["Private".into(), "Shared".into()])
            );
        }
        for _ in 0..2 {
            assert_eq!(
                names(app.get_as(&jane.api_token, list).await.data()),
                HashSet::from(["Shared".into()]),
                "{list}: another user, the same path"
            );
        }
        for _ in 0..2 {
            let theirs = app.get_as(&other.api_token, list).await;
            assert_eq!(theirs.status, 200);
            assert!(
                theirs.data().as_array().unwrap().is_empty(),
                "{list}: another company, the same path: {}",
                theirs.body
            );
        }
    }
}

/// A list racing writes never answers without a write acknowledged before it began: readers
/// keep filling the cache while each add is released together with a list, many rounds.
#[tokio::test]
async fn a_list_after_an_acknowledged_add_always_has_it_while_lists_race_the_adds() {
    let app = TestApp::spawn().await;
    let readers = Readers::spawn(&app, 3, |reader, _| LISTS[reader % 2].to_owned());
    for round in 0..40 {
        let list = LISTS[round % 2];
        let name = format!("Round {round}");
        let (added, raced) = app
            .race(
                (
                    reqwest::Method::POST,
                    "/api/v2/persons".into(),
                    Some(json!({"name": name})),
                ),
                (reqwest::Method::GET, list.into(), None),
            )
            .await;
        assert_eq!(added.status, 200, "{}", added.body);
        assert_eq!(raced.status, 200);
        let after = app.get(list).await;
        assert!(
            names(after.data()).contains(&name),
            "round {round}: {list} after the add was acknowledged: {}",
            after.body
        );
    }
    readers.stop().await;
}

/// A v1 page at any offset after an acknowledged rename shows the new name, while readers keep
/// filling the kept persons with pages of every size and each rename is released together
/// with a page (now and then the version is left to stand, so that pages keep persons).
#[tokio::test]
async fn a_page_after_an_acknowledged_rename_shows_it_while_pages_race_the_renames() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for i in 0..30 {
        ids.push(app.add_person(json!({"name": format!("P{i}")})).await["id"].clone());
    }
    let readers = Readers::spawn(&app, 2, |reader, n| {
        let n = reader + n;
        format!("/v1/persons?start={}&limit={}", n % 7, 20 + n % 11)
    });
    for round in 0..30 {
        let id = &ids[(round * 7) % ids.len()];
        let name = format!("Renamed in round {round}");
        let (renamed, raced) = app
            .race(
                (
                    reqwest::Method::PATCH,
                    format!("/api/v2/persons/{id}"),
                    Some(json!({"name": name})),
                ),
                (
                    reqwest::Method::GET,
                    "/v1/persons?start=1&limit=29".into(),
                    None,
                ),
            )
            .await;
        assert_eq!(renamed.status, 200, "{}", renamed.body);
        assert_eq!(raced.status, 200);
        if round % 3 == 0 {
            version_stood().await;
        }
        let after = app
            .get(&format!("/v1/persons?start=0&limit={}", 30 + round))
            .await;
        let shown = after
            .data()
            .as_array()
            .unwrap()
            .iter()
            .find(|p| &p["id"] == id)
            .unwrap_or_else(|| panic!("round {round}: {id} not listed: {}", after.body));
        assert_eq!(shown["name"], name, "round {round}");
    }
    readers.stop().await;
}

/// What a page shows from the store's caches (here the owner's name, from the cached users)
/// is seen within twice their lifetime when another process changes it: a page rendered from
/// an entry that was still old is not kept for good.
#[tokio::test]
async fn a_user_renamed_by_another_process_is_seen_within_twice_the_caches_lifetime() {
    let app = TestApp::spawn().await;
    app.add_person(json!({"name": "Owned"})).await;
    let list = "/v1/persons?limit=100";
    assert!(
        app.get(list)
            .await
            .body
            .to_string()
            .contains(&app.admin.name)
    );
    app.execute_sql(&format!(
        "UPDATE users SET name = 'Renamed Owner' WHERE id = {}",
        app.admin.id
    ))
    .await;
    // Rendered under the new version, perhaps with the cached old name.
    app.get(list).await;
    tokio::time::sleep(2 * pipestack::store::cached::TTL + std::time::Duration::from_millis(100))
        .await;
    let after = app.get(list).await;
    assert!(
        after.body.to_string().contains("Renamed Owner"),
        "{}",
        after.body
    );
}

/// A v1 page at an offset no page was asked at is made of the persons earlier pages rendered
/// for this version (counted as kept), and is what rendering every person afresh gives. The
/// first page since a commit keeps nothing.
#[tokio::test]
async fn a_page_at_another_offset_shows_the_kept_persons_as_they_render_afresh() {
    let app = TestApp::spawn().await;
    let on = caches(&app).await;
    let org = app.add_org("Acme").await;
    let mut ids = Vec::new();
    for i in 0..30 {
        let p = app
            .add_person(json!({
                "name": format!("P{i:02}"),
                "org_id": if i % 3 == 0 { Value::Null } else { json!(org) },
                "email": [{"value": format!("p{i}@example.com"), "primary": true}],
            }))
            .await;
        ids.push(p["id"].as_i64().unwrap());
    }
    let deal = app
        .post(
            "/api/v2/deals",
            &json!({"title": "D", "person_id": ids[12], "org_id": org}),
        )
        .await;
    assert_eq!(deal.status, 200, "{}", deal.body);
    settled(&app).await;

    let (hits, misses) = kept_counts(&app).await;
    let page = |start: usize, limit: usize| {
        let app = &app;
        async move {
            let r = app
                .get(&format!("/v1/persons?start={start}&limit={limit}"))
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
            r.body
        }
    };
    let data = |body: &Value| body["data"].as_array().unwrap().clone();
    let first = page(0, 20).await;
    assert_eq!(
        kept_counts(&app).await,
        (hits, misses),
        "the first page keeps nothing"
    );
    version_stood().await;
    let second = page(10, 20).await;
    let third = page(5, 20).await;
    assert_eq!(data(&second).len(), 20);
    assert_eq!(data(&second)[..10], data(&first)[10..20]);
    assert_eq!(data(&third)[..5], data(&first)[5..10]);
    assert_eq!(data(&third)[5..], data(&second)[..15]);
    assert_eq!(
        data(&third)[7]["open_deals_count"],
        1,
        "{}",
        data(&third)[7]
    );
    assert_eq!(
        third["additional_data"]["pagination"],
        json!({"start": 5, "limit": 20, "more_items_in_collection": true, "next_start": 25})
    );
    if on {
        assert_eq!(kept_counts(&app).await, (hits + 15, misses + 25));
        // Asked again, a page made of kept persons is made of them again: it is not kept whole
        // beside them (a page-cache miss, twenty persons kept).
        let pages = counts(&app, "pipestack_page_cache_requests_total").await;
        assert_eq!(page(5, 20).await, third);
        assert_eq!(kept_counts(&app).await, (hits + 35, misses + 25));
        assert_eq!(
            counts(&app, "pipestack_page_cache_requests_total").await,
            (pages.0, pages.1 + 1)
        );
    }

    // A commit of another company's changes the version: every person is rendered again,
    // and the page is the same.
    app.other_company("Other Co").await;
    settled(&app).await;
    assert_eq!(page(5, 20).await, third);
    if on {
        assert_eq!(kept_counts(&app).await, (hits + 35, misses + 25));
    }
}

/// Pages made of kept persons follow the list's order and filters: for each `sort` and filter,
/// a page at another offset (ids listed, persons kept) overlaps the first page (read whole)
/// person for person.
#[tokio::test]
async fn a_sorted_or_filtered_page_of_kept_persons_keeps_the_lists_order() {
    let app = TestApp::spawn().await;
    let jane = app.add_user("Jane").await;
    for (i, name) in [
        "delta",
        "Alpha",
        "charlie",
        "bravo",
        "Echo",
        "alpha two",
        "foxtrot",
        "Golf",
    ]
    .iter()
    .cycle()
    .take(24)
    .enumerate()
    {
        let owner = if i % 2 == 0 { app.admin.id } else { jane.id };
        app.add_person(json!({"name": format!("{name} {i:02}"), "owner_id": owner}))
            .await;
    }
    settled(&app).await;
    for query in [
        "sort=name%20DESC",
        "sort=name%20ASC,%20id%20DESC",
        "sort=add_time%20DESC",
        "first_char=a",
        &format!("user_id={}", jane.id),
    ] {
        let first = app
            .get(&format!("/v1/persons?{query}&start=0&limit=10"))
            .await;
        version_stood().await;
        let looked_for = |(hits, misses): (u64, u64)| hits + misses;
        let before = looked_for(kept_counts(&app).await);
        let later = app
            .get(&format!("/v1/persons?{query}&start=3&limit=10"))
            .await;
        if caches(&app).await {
            let listed = later.data().as_array().unwrap().len() as u64;
            let after = looked_for(kept_counts(&app).await);
            assert_eq!(after, before + listed, "{query}: read as ids");
        }
        assert_eq!(first.status, 200, "{query}: {}", first.body);
        assert_eq!(later.status, 200, "{query}: {}", later.body);
        let (first, later) = (
            first.data().as_array().unwrap().clone(),
            later.data().as_array().unwrap().clone(),
        );
        let overlap = first.len().saturating_sub(3).min(later.len());
        assert!(overlap > 0, "{query}: {first:?}");
        assert_eq!(later[..overlap], first[3..3 + overlap], "{query}");
    }
}

/// What a kept person shows changes with the next commit: a deal's count, its organization's
/// name, its own name, its deletion. Each is checked on the first page after the change (read
/// whole) and on a page made after the new version stood (read as ids), while the persons were
/// kept under the version before.
#[tokio::test]
async fn a_kept_person_is_shown_as_it_is_after_a_change() {
    let app = TestApp::spawn().await;
    let on = caches(&app).await;
    let org = app.add_org("Acme").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let p = app
            .add_person(json!({"name": format!("P{i}"), "org_id": org}))
            .await;
        ids.push(p["id"].as_i64().unwrap());
    }
    // Both pages of each pair, the second one after the version stood.
    let pages = |first: &'static str, then: &'static str| {
        let app = &app;
        async move {
            settled(app).await;
            let first = app.get(first).await;
            version_stood().await;
            let then = app.get(then).await;
            assert_eq!(first.status, 200, "{}", first.body);
            assert_eq!(then.status, 200, "{}", then.body);
            [first.body, then.body]
        }
    };
    pages("/v1/persons?start=0&limit=5", "/v1/persons?start=0&limit=6").await;
    let (kept, _) = kept_counts(&app).await;
    let deal = app
        .post("/api/v2/deals", &json!({"title": "D", "person_id": ids[2]}))
        .await;
    assert_eq!(deal.status, 200, "{}", deal.body);
    let renamed = app
        .patch(
            &format!("/api/v2/organizations/{org}"),
            &json!({"name": "Acme Two"}),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    for page in pages("/v1/persons?start=1&limit=4", "/v1/persons?start=1&limit=3").await {
        let data = page["data"].as_array().unwrap();
        assert_eq!(data[1]["name"], "P2");
        assert_eq!(data[1]["open_deals_count"], 1, "{}", data[1]);
        for p in data {
            assert_eq!(p["org_name"], "Acme Two", "{p}");
            assert_eq!(p["org_id"]["name"], "Acme Two", "{p}");
        }
        assert_eq!(
            page["related_objects"]["organization"][org.to_string()]["name"],
            "Acme Two"
        );
    }
    if on {
        assert_eq!(
            kept_counts(&app).await.0,
            kept,
            "nothing kept before is served"
        );
    }

    app.put(
        &format!("/v1/persons/{}", ids[3]),
        &json!({"name": "Renamed"}),
    )
    .await;
    app.delete(&format!("/v1/persons/{}", ids[4])).await;
    for page in pages("/v1/persons?start=2&limit=3", "/v1/persons?start=2&limit=4").await {
        let names: Vec<&str> = page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["P2", "Renamed"]);
    }
}

/// A person is kept per user: what one user's page showed of an organization the other may
/// not see is not shown to the other.
#[tokio::test]
async fn a_kept_person_is_never_shown_to_another_user() {
    let app = TestApp::spawn().await;
    let jane = app.add_user("Jane").await;
    let hidden = app
        .post(
            "/v1/organizations",
            &json!({"name": "Hidden Org", "visible_to": "1"}),
        )
        .await;
    assert_eq!(hidden.status, 201, "{}", hidden.body);
    let org = hidden.data()["id"].as_i64().unwrap();
    app.add_person(json!({"name": "Shared", "visible_to": "3", "org_id": org}))
        .await;
    // Jane's first request notes her login (a commit): made before, so that both lists below
    // see one version.
    app.get_as(&jane.api_token, "/v1/users/me").await;
    settled(&app).await;
    // The first page since the last commit keeps nothing; the second keeps the person.
    app.get("/v1/persons?start=0&limit=9").await;
    version_stood().await;
    let admins = app.get("/v1/persons?start=0&limit=10").await;
    assert_eq!(admins.data()[0]["org_id"]["name"], "Hidden Org");
    let janes = app
        .get_as(&jane.api_token, "/v1/persons?start=0&limit=10")
        .await;
    assert_eq!(janes.status, 200);
    assert_eq!(janes.data()[0]["name"], "Shared");
    assert_eq!(janes.data()[0]["org_id"], org, "{}", janes.body);
    assert!(
        !janes.body.to_string().contains("Hidden Org"),
        "{}",
        janes.body
    );
}
