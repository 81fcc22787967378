//! The deal counts persons and organizations show, live in v1 and v2 (`include_fields`):
//! through create, status change, a move to another person, delete and person merge.

use serde_json::{Value, json};

use crate::helpers::TestApp;

const PERSON_KEYS: [&str; 10] = [
    "open_deals_count",
    "related_open_deals_count",
    "closed_deals_count",
    "related_closed_deals_count",
    "participant_open_deals_count",
    "participant_closed_deals_count",
    "won_deals_count",
    "related_won_deals_count",
    "lost_deals_count",
    "related_lost_deals_count",
];

/// The non-zero deal counts of a person or organization, the same in v1 and v2 (asserted).
async fn counts(app: &TestApp, kind: &str, id: i64) -> Value {
    let keys: Vec<&str> = PERSON_KEYS
        .iter()
        .copied()
        .filter(|k| kind == "persons" || !k.starts_with("participant_"))
        .collect();
    let v1 = app.get(&format!("/v1/{kind}/{id}")).await;
    assert_eq!(v1.status, 200, "{}", v1.body);
    let url = format!("/api/v2/{kind}/{id}?include_fields={}", keys.join(","));
    let v2 = app.get(&url).await;
    assert_eq!(v2.status, 200, "{}", v2.body);
    let mut out = serde_json::Map::new();
    for k in &keys {
        assert_eq!(
            v1.data()[*k],
            v2.data()[*k],
            "{k} of {kind}/{id}: v1 and v2 differ"
        );
        let n = v1.data()[*k]
            .as_i64()
            .unwrap_or_else(|| panic!("{k}: {}", v1.body));
        if n != 0 {
            out.insert((*k).to_owned(), json!(n));
        }
    }
    Value::Object(out)
}

async fn add_deal(app: &TestApp, body: Value) -> i64 {
    let r = app.post("/api/v2/deals", &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.data()["id"].as_i64().unwrap()
}

#[tokio::test]
async fn counts_follow_create_status_change_move_and_delete() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Acme").await;
    let ann = app.add_person(json!({"name": "Ann", "org_id": org})).await["id"]
        .as_i64()
        .unwrap();
    let bob = app.add_person(json!({"name": "Bob"})).await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(counts(&app, "persons", ann).await, json!({}));

    let a = add_deal(&app, json!({"title": "A", "person_id": ann})).await;
    let b = add_deal(
        &app,
        json!({"title": "B", "person_id": ann, "status": "won"}),
    )
    .await;
    assert_eq!(
        counts(&app, "persons", ann).await,
        json!({"open_deals_count": 1, "closed_deals_count": 1, "won_deals_count": 1})
    );
    // The organization's deals through its person are related, not its own.
    assert_eq!(
        counts(&app, "organizations", org).await,
        json!({"related_open_deals_count": 1, "related_closed_deals_count": 1,
               "related_won_deals_count": 1})
    );
    // A deal both for the organization and its person counts once, as the organization's.
    add_deal(&app, json!({"title": "C", "person_id": ann, "org_id": org})).await;
    assert_eq!(
        counts(&app, "organizations", org).await,
        json!({"open_deals_count": 1, "related_open_deals_count": 1,
               "related_closed_deals_count": 1, "related_won_deals_count": 1})
    );

    // Status change: A lost.
    let r = app
        .patch(&format!("/api/v2/deals/{a}"), &json!({"status": "lost"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        counts(&app, "persons", ann).await,
        json!({"open_deals_count": 1, "closed_deals_count": 2, "won_deals_count": 1,
               "lost_deals_count": 1})
    );

    // Move B to Bob.
    let r = app
        .patch(&format!("/api/v2/deals/{b}"), &json!({"person_id": bob}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        counts(&app, "persons", ann).await,
        json!({"open_deals_count": 1, "closed_deals_count": 1, "lost_deals_count": 1})
    );
    assert_eq!(
        counts(&app, "persons", bob).await,
        json!({"closed_deals_count": 1, "won_deals_count": 1})
    );

    // Delete A: no longer counted.
    assert_eq!(app.delete(&format!("/api/v2/deals/{a}")).await.status, 200);
    assert_eq!(
        counts(&app, "persons", ann).await,
        json!({"open_deals_count": 1})
    );
    // Lists show the same counts as single reads.
    let list = app.get("/v1/persons?limit=10").await;
    let ann_row = list
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == ann)
        .unwrap();
    assert_eq!(ann_row["open_deals_count"], 1);
    assert_eq!(ann_row["closed_deals_count"], 0);
    let list = app
        .get("/api/v2/persons?include_fields=won_deals_count,open_deals_count")
        .await;
    let bob_row = list
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == bob)
        .unwrap();
    assert_eq!(bob_row["won_deals_count"], 1);
    assert_eq!(bob_row["open_deals_count"], 0);
    // Without include_fields, v2 shows none of them.
    let plain = app.get(&format!("/api/v2/persons/{bob}")).await;
    assert!(
        plain.data().get("won_deals_count").is_none(),
        "{}",
        plain.body
    );
}

#[tokio::test]
async fn a_people_or_organization_custom_field_makes_a_deal_related() {
    let app = TestApp::spawn().await;
    let partner = app
        .post(
            "/v1/dealFields",
            &json!({"name": "Partner", "field_type": "people"}),
        )
        .await;
    assert_eq!(partner.status, 200, "{}", partner.body);
    let partner = partner.data()["key"].as_str().unwrap().to_owned();
    let reseller = app
        .post(
            "/v1/dealFields",
            &json!({"name": "Reseller", "field_type": "org"}),
        )
        .await;
    let reseller = reseller.data()["key"].as_str().unwrap().to_owned();
    let org = app.add_org("Resell Ltd").await;
    let eve = app.add_person(json!({"name": "Eve"})).await["id"]
        .as_i64()
        .unwrap();
    let d = add_deal(
        &app,
        json!({"title": "Via partner", "status": "lost",
               "custom_fields": {partner.clone(): eve, reseller.clone(): org}}),
    )
    .await;
    assert_eq!(
        counts(&app, "persons", eve).await,
        json!({"related_closed_deals_count": 1, "related_lost_deals_count": 1})
    );
    assert_eq!(
        counts(&app, "organizations", org).await,
        json!({"related_closed_deals_count": 1, "related_lost_deals_count": 1})
    );
    // The organization's deal list includes related deals unless asked for its own only.
    let all = app.get(&format!("/v1/organizations/{org}/deals")).await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(all.data().as_array().unwrap().len(), 1);
    let own = app
        .get(&format!(
            "/v1/organizations/{org}/deals?only_primary_association=1"
        ))
        .await;
    assert_eq!(own.data(), &json!([]), "{}", own.body);
    // A deleted field's values relate nothing any more.
    let reseller_id = app
        .get("/v1/dealFields")
        .await
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == reseller.as_str())
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let gone = app.delete(&format!("/v1/dealFields/{reseller_id}")).await;
    assert_eq!(gone.status, 200, "{}", gone.body);
    assert_eq!(counts(&app, "organizations", org).await, json!({}));
    let all = app.get(&format!("/v1/organizations/{org}/deals")).await;
    assert_eq!(all.data(), &json!([]), "{}", all.body);
    // Clearing the value ends the relation.
    let r = app
        .patch(
            &format!("/api/v2/deals/{d}"),
            &json!({"custom_fields": {partner: null}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(counts(&app, "persons", eve).await, json!({}));
}

#[tokio::test]
async fn a_merge_moves_the_merged_persons_deals_to_the_kept_one() {
    let app = TestApp::spawn().await;
    let kept = app.add_person(json!({"name": "Kept"})).await["id"]
        .as_i64()
        .unwrap();
    let gone = app.add_person(json!({"name": "Gone"})).await["id"]
        .as_i64()
        .unwrap();
    add_deal(&app, json!({"title": "K", "person_id": kept})).await;
    let g1 = add_deal(&app, json!({"title": "G1", "person_id": gone})).await;
    add_deal(
        &app,
        json!({"title": "G2", "person_id": gone, "status": "won"}),
    )
    .await;
    let r = app
        .put(
            &format!("/v1/persons/{gone}/merge"),
            &json!({"merge_with_id": kept}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        counts(&app, "persons", kept).await,
        json!({"open_deals_count": 2, "closed_deals_count": 1, "won_deals_count": 1})
    );
    let g1 = app.get(&format!("/api/v2/deals/{g1}")).await;
    assert_eq!(g1.data()["person_id"], kept);
    let listed = app.get(&format!("/api/v2/deals?person_id={kept}")).await;
    assert_eq!(listed.data().as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn a_deleted_person_keeps_its_deals_which_still_name_it() {
    let app = TestApp::spawn().await;
    let p = app.add_person(json!({"name": "Leaving"})).await["id"]
        .as_i64()
        .unwrap();
    let d = add_deal(&app, json!({"title": "Stays", "person_id": p})).await;
    assert_eq!(app.delete(&format!("/v1/persons/{p}")).await.status, 200);
    let got = app.get(&format!("/api/v2/deals/{d}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.data()["person_id"], p);
    assert_eq!(got.data()["is_deleted"], false);
}
