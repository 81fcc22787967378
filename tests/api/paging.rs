//! Paging through every person while others are added and deleted: v2's keyset cursor neither
//! skips nor repeats a person that exists throughout.

use std::collections::HashSet;

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn cursor_paging_under_concurrent_inserts_and_deletes_misses_and_repeats_nothing() {
    let app = TestApp::spawn().await;
    let mut stable = HashSet::new();
    let mut doomed = Vec::new();
    for i in 0..60 {
        let id = app
            .add_person_v2(json!({"name": format!("Stable {i}")}))
            .await["id"]
            .as_i64()
            .unwrap();
        stable.insert(id);
        let d = app
            .add_person_v2(json!({"name": format!("Doomed {i}")}))
            .await["id"]
            .as_i64()
            .unwrap();
        doomed.push(d);
    }

    for direction in ["asc", "desc"] {
        // A writer adds and deletes persons while the reader pages through.
        let writer = {
            let base = app.base.clone();
            let token = app.token.clone();
            let doomed = doomed.clone();
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                for (i, d) in doomed.iter().enumerate() {
                    let add = client
                        .post(format!("{base}/api/v2/persons"))
                        .header("x-api-token", &token)
                        .json(&json!({"name": format!("New {i}")}))
                        .send();
                    let del = client
                        .delete(format!("{base}/api/v2/persons/{d}"))
                        .header("x-api-token", &token)
                        .send();
                    let (a, _) = tokio::join!(add, del);
                    assert!(a.unwrap().status().is_success());
                }
            })
        };
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut url = format!("/api/v2/persons?limit=7&sort_direction={direction}");
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let r = app.get(&url).await;
            assert_eq!(r.status, 200, "{}", r.body);
            seen.extend(
                r.data()
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["id"].as_i64().unwrap()),
            );
            match r.body["additional_data"]["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
            tokio::task::yield_now().await;
        }
        writer.await.unwrap();
        let unique: HashSet<i64> = seen.iter().copied().collect();
        assert_eq!(
            unique.len(),
            seen.len(),
            "no person is listed twice ({direction})"
        );
        assert!(
            stable.is_subset(&unique),
            "every stable person is listed ({direction})"
        );
        // The next round deletes nothing new; persons deleted now are gone for good.
        doomed.clear();
    }
}

#[tokio::test]
async fn v1_offset_paging_lists_every_person_once_when_nothing_changes() {
    let app = TestApp::spawn().await;
    for i in 0..23 {
        app.add_person(json!({"name": format!("P{i:02}")})).await;
    }
    let mut seen = Vec::new();
    let mut start = 0;
    loop {
        let r = app
            .get(&format!(
                "/v1/persons?start={start}&limit=5&sort=name%20DESC"
            ))
            .await;
        seen.extend(
            r.data()
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["name"].as_str().unwrap().to_owned()),
        );
        let p = &r.body["additional_data"]["pagination"];
        if p["more_items_in_collection"] == false {
            break;
        }
        start = p["next_start"].as_i64().unwrap();
    }
    assert_eq!(seen.len(), 23);
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted);
}
