//! A database written by an earlier release opens in this one: pending migrations run, and
//! what a migration derives for existing rows (the sort keys of names, the default pipeline)
//! is filled in.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pipestack::domain::organization::{OrganizationFilter, OrganizationQuery};
use pipestack::domain::pipeline::StageFilter;
use pipestack::domain::query::{Direction, ListQuery, Page, PersonFilter, PersonQuery, SortField};
use pipestack::domain::summary::SummaryParts;
use pipestack::domain::{Fields, Kind};
use pipestack::store;

/// The schema of release 3 (the migrations before the sort keys), with a company, a user,
/// persons and organizations written the way that release wrote them.
fn release_3_database(path: &std::path::Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);",
    )
    .unwrap();
    for (version, sql) in [
        (1, include_str!("../migrations/sqlite/0001_init.sql")),
        (
            2,
            include_str!("../migrations/sqlite/0002_field_settings.sql"),
        ),
        (
            3,
            include_str!("../migrations/sqlite/0003_organization_profile.sql"),
        ),
    ] {
        conn.execute_batch(sql).unwrap();
        conn.execute("INSERT INTO schema_migrations VALUES (?1, 0)", [version])
            .unwrap();
    }
    conn.execute_batch(
        "INSERT INTO companies VALUES (1, 'Acme', 'acme-1', 1, 0);
         INSERT INTO field_options (id, company_id, field_key, label, color, order_nr, add_time,
           update_time) VALUES (1, 1, 'label', 'Person label', 'green', 1, 0, 0),
           (2, 1, 'organization.label', 'Org label', 'red', 1, 0, 0);
         INSERT INTO users (id, company_id, name, email, is_admin, api_token, add_time, update_time)
           VALUES (1, 1, 'Admin', 'admin@example.com', 1, 'upgrade-token-1', 0, 0);",
    )
    .unwrap();
    for (id, name, first, last, email) in [
        (1, "zoe", "zoe", None, "zoe@example.com"),
        (2, "Zoë", "Zoë", None, "ZOË@example.com"),
        (3, "émile Été", "émile", Some("Été"), "e@example.com"),
        (
            4,
            "Ångström Öberg",
            "Ångström",
            Some("Öberg"),
            "a@example.com",
        ),
        (5, "Bob Ant", "Bob", Some("Ant"), "b@example.com"),
    ] {
        conn.execute(
            "INSERT INTO persons (id, company_id, owner_id, name, first_name, last_name, emails,
                primary_email, visible_to, add_time, update_time)
             VALUES (?1, 1, 1, ?2, ?3, ?4, ?5, ?6, 3, 0, 0)",
            rusqlite::params![
                id,
                name,
                first,
                last,
                format!("[{{\"value\":\"{email}\",\"primary\":true,\"label\":\"\"}}]"),
                email
            ],
        )
        .unwrap();
    }
    for (id, name) in [(1, "Zoë AG"), (2, "Ångström AB"), (3, "Bob Ltd")] {
        conn.execute(
            "INSERT INTO organizations (id, company_id, owner_id, name, visible_to, add_time, update_time)
             VALUES (?1, 1, 1, ?2, 3, 0, 0)",
            rusqlite::params![id, name],
        )
        .unwrap();
    }
}

fn by(field: SortField) -> PersonQuery {
    PersonQuery {
        filter: PersonFilter::default(),
        order: vec![(field, Direction::Asc)],
        page: Page::Offset { start: 0 },
        limit: 100,
    }
}

#[tokio::test]
async fn a_release_3_database_gets_the_sort_keys_of_its_names_filled_in() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    release_3_database(&path);
    let store = store::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();

    let names = |persons: Vec<pipestack::domain::person::Person>| {
        persons.into_iter().map(|p| p.name).collect::<Vec<_>>()
    };
    let persons = store.list_persons(1, by(SortField::Name)).await.unwrap();
    assert_eq!(
        names(persons),
        ["Ångström Öberg", "Bob Ant", "émile Été", "zoe", "Zoë"]
    );
    let persons = store
        .list_persons(1, by(SortField::LastName))
        .await
        .unwrap();
    assert_eq!(
        names(persons),
        ["zoe", "Zoë", "Bob Ant", "émile Été", "Ångström Öberg"]
    );
    let persons = store
        .list_persons(1, by(SortField::PrimaryEmail))
        .await
        .unwrap();
    assert_eq!(
        names(persons),
        ["Ångström Öberg", "Bob Ant", "émile Été", "zoe", "Zoë"]
    );
    let orgs = store
        .list_organizations(
            1,
            OrganizationQuery {
                filter: OrganizationFilter::default(),
                order: vec![(SortField::Name, Direction::Asc)],
                page: Page::Offset { start: 0 },
                limit: 100,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        orgs.into_iter().map(|o| o.name).collect::<Vec<_>>(),
        ["Ångström AB", "Bob Ltd", "Zoë AG"]
    );
    // The data itself is untouched.
    let zoe = store.person(1, 2).await.unwrap().unwrap();
    assert_eq!(zoe.emails[0].value, "ZOË@example.com");
}

#[tokio::test]
async fn a_release_3_database_keeps_its_tokens_working_as_digests_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    release_3_database(&path);
    let store = store::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let digest = pipestack::domain::user::token_digest("upgrade-token-1");
    let session = store.session_by_digest(&digest).await.unwrap().unwrap();
    assert_eq!(session.user.email, "admin@example.com");
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let stored: String = conn
        .query_row("SELECT api_token_sha256 FROM users WHERE id = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(stored, digest);
}

#[tokio::test]
async fn a_release_3_database_gets_the_default_pipeline_for_its_company() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    release_3_database(&path);
    let store = store::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let query = ListQuery {
        filter: (),
        order: vec![],
        page: Page::Offset { start: 0 },
        limit: 10,
    };
    let pipelines = store.list_pipelines(1, query).await.unwrap();
    assert_eq!(pipelines.len(), 1);
    assert_eq!(pipelines[0].name, "Pipeline");
    let stages = store
        .list_stages(
            1,
            ListQuery {
                filter: StageFilter {
                    pipeline_id: Some(pipelines[0].id),
                },
                order: vec![(SortField::OrderNr, Direction::Asc)],
                page: Page::Offset { start: 0 },
                limit: 10,
            },
        )
        .await
        .unwrap();
    let names: Vec<&str> = stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, pipestack::domain::pipeline::DEFAULT_STAGES);
}

#[tokio::test]
async fn a_release_3_database_gets_organization_fields_and_keeps_its_organization_labels() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    release_3_database(&path);
    let store = store::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let orgs = Fields::load(store.as_ref(), Kind::Organization, 1)
        .await
        .unwrap();
    assert!(orgs.defs.iter().any(|f| f.key == "name" && !f.is_custom));
    let labels: Vec<&str> = orgs.labels().iter().map(|l| l.label.as_str()).collect();
    assert_eq!(labels, ["Org label"], "the person label stays the persons'");
}

#[tokio::test]
async fn a_release_3_database_gets_deal_fields_and_keeps_its_followers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    release_3_database(&path);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "INSERT INTO followers (company_id, kind, item_id, user_id, add_time)
               VALUES (1, 'person', 1, 1, 0), (1, 'organization', 2, 1, 0);",
        )
        .unwrap();
    }
    let store = store::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let deals = Fields::load(store.as_ref(), Kind::Deal, 1).await.unwrap();
    assert!(deals.defs.iter().any(|f| f.key == "title" && !f.is_custom));
    let labels: Vec<&str> = deals.labels().iter().map(|l| l.label.as_str()).collect();
    assert_eq!(labels, ["Hot", "Warm", "Cold"]);
    let person = store.person(1, 1).await.unwrap().unwrap();
    assert_eq!(
        person.follower_ids,
        [1],
        "the followers table was rebuilt with its rows"
    );
    let parts = SummaryParts {
        deals: Some(Vec::new()),
        activities: false,
        viewer: None,
    };
    let counts = store.summaries(1, Kind::Person, &[1], parts).await.unwrap();
    assert!(counts.is_empty());
}

#[tokio::test]
async fn a_release_3_database_gets_the_default_activity_types_and_empty_summaries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    release_3_database(&path);
    let store = store::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let types = store.activity_types(1).await.unwrap();
    let keys: Vec<&str> = types.iter().map(|t| t.key_string.as_str()).collect();
    assert_eq!(
        keys,
        ["call", "meeting", "task", "deadline", "email", "lunch"]
    );
    assert!(types.iter().all(|t| t.active && !t.is_custom));
    let parts = SummaryParts {
        deals: Some(Vec::new()),
        activities: true,
        viewer: None,
    };
    let summaries = store
        .summaries(1, Kind::Person, &[1, 2], parts)
        .await
        .unwrap();
    assert!(summaries.is_empty());
}
