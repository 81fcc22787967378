//! The real binary on a real file: acknowledged writes survive `kill -9`, and the bulk loader's
//! summary, rejections and interruptions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

#[path = "api/receiver.rs"]
mod receiver;

const BIN: &str = env!("CARGO_BIN_EXE_pipestack");
const TOKEN: &str = "durability-token-1";

fn pipestack(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .env_remove("PIPESTACK_DATABASE")
        .env_remove("PIPESTACK_API_TOKEN")
        .env("PIPESTACK_LOG", "warn");
    cmd
}

/// Starts `serve` on `pipestack.db` in `dir`; returns the child and its base URL.
fn serve(dir: &Path) -> (Child, String) {
    let mut child = pipestack(dir)
        .args(["serve", "--listen", "127.0.0.1:0", "--api-token", TOKEN])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(rest) = line.trim().strip_prefix("base URL: ") {
            return (child, rest.split("/v1").next().unwrap().to_owned());
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not start");
}

/// `GET base + path` with the test's token; the answer's JSON.
async fn get(base: &str, path: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{base}{path}"))
        .header("x-api-token", TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn kill9(child: &mut Child) {
    signal(child, "-KILL");
}

fn signal(child: &mut Child, which: &str) {
    let ok = Command::new("kill")
        .args([which, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    child.wait().unwrap();
}

/// Whole-database checks: SQLite's own, the search index's own (it may trail the persons: those
/// it has not caught up with are queued), and every person's owner among its followers (a
/// person is written with its follower or not at all).
fn assert_consistent(db: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    conn.execute(
        "INSERT INTO persons_fts (persons_fts) VALUES ('integrity-check')",
        [],
    )
    .expect("the search index is whole");
    let orphans: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM persons p WHERE NOT EXISTS (SELECT 1 FROM followers f
             WHERE f.kind = 'person' AND f.item_id = p.id AND f.user_id = p.owner_id)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orphans, 0, "no person is missing its owner's follow");
}

fn count(db: &Path, sql: &str) -> i64 {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_person_survives_kill_9_in_the_middle_of_concurrent_creates() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = serve(dir.path());
    let acked: Arc<Mutex<Vec<(i64, String)>>> = Arc::default();
    let mut writers = Vec::new();
    for w in 0..16 {
        let (base, acked) = (base.clone(), acked.clone());
        writers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for i in 0..10_000 {
                let name = format!("Writer {w} Person {i}");
                let res = client
                    .post(format!("{base}/v1/persons"))
                    .header("x-api-token", TOKEN)
                    .json(&json!({"name": name, "email": format!("w{w}.{i}@example.com")}))
                    .send()
                    .await;
                let Ok(res) = res else { return };
                if res.status() != 201 {
                    return;
                }
                let Ok(body) = res.json::<Value>().await else {
                    return;
                };
                acked
                    .lock()
                    .unwrap()
                    .push((body["data"]["id"].as_i64().unwrap(), name));
            }
        }));
    }
    // Kill the server once a good number of writes have been acknowledged, mid-stream.
    loop {
        if acked.lock().unwrap().len() >= 600 {
            break;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    kill9(&mut child);
    for w in writers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 600);

    let db = dir.path().join("pipestack.db");
    assert_consistent(&db);
    let (mut child, base) = serve(dir.path());
    for (id, name) in &acked {
        let r = get(&base, &format!("/v1/persons/{id}")).await;
        assert_eq!(
            r["data"]["name"],
            name.as_str(),
            "acknowledged person {id} is intact"
        );
        assert_eq!(r["data"]["followers_count"], 1);
        let term = name.replace(' ', "%20");
        let found = get(
            &base,
            &format!("/api/v2/persons/search?term={term}&fields=name&limit=500"),
        )
        .await;
        let items = found["data"]["items"].as_array().unwrap();
        assert!(
            items.iter().any(|i| i["item"]["id"] == *id),
            "search finds acknowledged person {id}"
        );
    }
    // The search index caught up with what was queued when the server was killed: once the
    // server has stopped it holds exactly the persons' texts.
    signal(&mut child, "-TERM");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let queued: i64 = conn
        .query_row("SELECT COUNT(*) FROM person_search_queue", [], |r| r.get(0))
        .unwrap();
    assert_eq!(queued, 0, "nothing is left queued for the index");
    conn.execute(
        "INSERT INTO persons_fts (persons_fts, rank) VALUES ('integrity-check', 1)",
        [],
    )
    .expect("the search index holds exactly the persons' texts");
}

/// Every change acknowledged before a `kill -9` has its webhook event delivered once the
/// server is back, those that were on their way included (their lease runs out and they are
/// sent again); and no event arrives for a change that is not in the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_change_has_its_webhook_event_delivered_after_kill_9_and_restart() {
    let rx = receiver::Receiver::start().await;
    // A slow receiver: deliveries fall behind the creates, so that some are waiting in the
    // outbox, some leased and on their way, when the server dies.
    rx.delay(std::time::Duration::from_millis(40));
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = serve(dir.path());
    let client = reqwest::Client::new();
    let r = client
        .post(format!("{base}/v1/webhooks"))
        .header("x-api-token", TOKEN)
        .json(
            &json!({"subscription_url": format!("{}/hook", rx.url), "event_action": "create",
                      "event_object": "person"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let acked: Arc<Mutex<Vec<i64>>> = Arc::default();
    let mut writers = Vec::new();
    for w in 0..8 {
        let (base, acked, client) = (base.clone(), acked.clone(), client.clone());
        writers.push(tokio::spawn(async move {
            for i in 0..10_000 {
                let res = client
                    .post(format!("{base}/api/v2/persons"))
                    .header("x-api-token", TOKEN)
                    .json(&json!({"name": format!("W{w} P{i}")}))
                    .send()
                    .await;
                let Ok(res) = res else { return };
                let Ok(body) = res.json::<Value>().await else {
                    return;
                };
                let Some(id) = body["data"]["id"].as_i64() else {
                    return;
                };
                acked.lock().unwrap().push(id);
            }
        }));
    }
    while acked.lock().unwrap().len() < 400 {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    kill9(&mut child);
    for w in writers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let before_restart = rx.delivered("/hook").len();
    assert!(
        before_restart < acked.len(),
        "some events must be undelivered at the kill for this test to mean anything"
    );
    rx.delay(std::time::Duration::ZERO);
    let (mut child, _) = serve(dir.path());
    // Leased deliveries come back once their lease (the 10 s timeout and 5 s) runs out.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let (got, delivered) = loop {
        let got = rx.delivered("/hook");
        let delivered: std::collections::BTreeSet<i64> = got
            .iter()
            .map(|e| e["meta"]["entity_id"].as_str().unwrap().parse().unwrap())
            .collect();
        let missing: Vec<&i64> = acked.iter().filter(|id| !delivered.contains(id)).collect();
        if missing.is_empty() {
            break (got, delivered);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never delivered: {missing:?}"
        );
        rx.next_arrival(std::time::Duration::from_secs(1)).await;
    };
    let db = dir.path().join("pipestack.db");
    let stored = count(&db, "SELECT COUNT(*) FROM persons");
    for id in &delivered {
        assert!(
            *id <= stored,
            "an event for person {id}, which was never stored"
        );
    }
    // At most the deliveries on their way at the kill arrive twice (at least once, never lost).
    assert!(
        got.len() - delivered.len() <= 32,
        "{} duplicates",
        got.len() - delivered.len()
    );
    kill9(&mut child);
}

fn write_file(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    path.display().to_string()
}

/// Runs `pipestack import FILE --quiet EXTRA…`: its exit status, stdout and stderr.
fn run_import(dir: &Path, file: &str, extra: &[&str]) -> (Option<i32>, String, String) {
    let out = pipestack(dir)
        .args(["import", file, "--quiet"])
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// An import that imports something: its stdout. The exit status is checked against the
/// summary: 0 when no row was rejected, 2 when some were.
fn import(dir: &Path, file: &str, extra: &[&str]) -> String {
    let (code, stdout, stderr) = run_import(dir, file, extra);
    let expected = if stdout.contains(", rejected 0 rows") {
        0
    } else {
        2
    };
    assert_eq!(code, Some(expected), "{stdout}{stderr}");
    stdout
}

/// A fresh database with its company (the first start creates it).
fn fresh(dir: &Path) {
    let (mut child, _) = serve(dir);
    kill9(&mut child);
}

#[tokio::test]
async fn a_spreadsheet_export_imports_with_its_own_headers_and_an_all_rejected_file_fails() {
    let dir = tempfile::tempdir().unwrap();
    fresh(dir.path());
    // A spreadsheet's export: capitalised headers, words for underscores.
    let file = write_file(
        dir.path(),
        "export.csv",
        "Name,Email,Visible To\nGrace Hopper,grace@example.com,3\n",
    );
    let out = import(dir.path(), &file, &[]);
    assert!(out.contains("imported 1 person, rejected 0 rows"), "{out}");
    // Every row rejected: said, and the exit status says it too.
    let file = write_file(dir.path(), "bad.csv", "name,visible_to\nAda,9\n");
    let out = pipestack(dir.path())
        .args(["import", &file, "--quiet"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("imported 0 persons, rejected 1 row"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no row of"), "{stderr}");
}

/// What the person exports' names resolve to in a fresh company: a second user, an enum custom
/// field `Tier`, the person labels and an organization.
struct Names {
    sam: i64,
    admin: i64,
    tier_key: String,
    tier: std::collections::HashMap<String, i64>,
    labels: std::collections::HashMap<String, i64>,
    engines: i64,
}

/// A fresh database with [`Names`]' user, field and organization.
async fn company_with_names(dir: &Path) -> Names {
    let (mut child, base) = serve(dir);
    let client = reqwest::Client::new();
    let post = |path: &str, body: Value| {
        client
            .post(format!("{base}{path}"))
            .header("x-api-token", TOKEN)
            .json(&body)
            .send()
    };
    let tier: Value = post(
        "/v1/personFields",
        json!({"name": "Tier", "field_type": "enum",
               "options": [{"label": "Gold"}, {"label": "Silver"}, {"label": "Bronze"}]}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let org: Value = post("/v1/organizations", json!({"name": "Analytical Engines"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fields = get(&base, "/v1/personFields").await;
    kill9(&mut child);
    let options = |field: &Value| {
        field["options"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["label"].as_str().unwrap().to_owned(),
                    o["id"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let label = fields["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "label")
        .unwrap();
    let added = pipestack(dir)
        .args([
            "users",
            "add",
            "--name",
            "Sam Seller",
            "--email",
            "sam@example.com",
        ])
        .output()
        .unwrap();
    let added = String::from_utf8(added.stdout).unwrap();
    let sam = added
        .strip_prefix("added user ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("{added}"));
    Names {
        sam,
        admin: 1,
        tier_key: tier["data"]["key"].as_str().unwrap().to_owned(),
        tier: options(&tier["data"]),
        labels: options(label),
        engines: org["data"]["id"].as_i64().unwrap(),
    }
}

/// A person as stored: `(org's name, owner, label ids, custom values, emails, phones,
/// visible_to, marketing_status)`.
type Stored = (
    Option<String>,
    i64,
    Vec<i64>,
    Value,
    Value,
    Value,
    i64,
    Option<String>,
);

fn stored(db: &Path, name: &str) -> Stored {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row(
            "SELECT o.name, p.owner_id, p.label_ids, p.custom_fields, p.emails, p.phones,
                    p.visible_to, p.marketing_status
             FROM persons p LEFT JOIN organizations o ON o.id = p.org_id WHERE p.name = ?1",
            [name],
            |r| {
                let json = |i: usize| -> rusqlite::Result<Value> {
                    Ok(serde_json::from_str(&r.get::<_, String>(i)?).unwrap())
                };
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    serde_json::from_value(json(2)?).unwrap(),
                    json(3)?,
                    json(4)?,
                    json(5)?,
                    r.get(6)?,
                    r.get(7)?,
                ))
            },
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[tokio::test]
async fn a_pipedrive_export_imports_by_its_labels_and_names_and_says_once_what_it_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let names = company_with_names(dir.path()).await;
    let file = write_file(
        dir.path(),
        "people.csv",
        "Name,First name,Last name,Email,Email - Work,Email - Home,Phone,Phone - Work,\
         Phone - Mobile,Organization,Owner,Label,Visible to,Marketing status,Tier,\
         Favourite colour,ID\n\
         Ada Lovelace,,,,ada@work.example,ada@home.example,,+44 1,+44 2,analytical  ENGINES,\
         SAM@example.com,\"Customer; Hot lead\",Owner & followers,Subscribed,gold,blue,17\n\
         Bad Label,,,,,,,,,,Sam Seller,Nope,,,,green,18\n\
         Bad Owner,,,,,,,,,,Nobody,,,,,,19\n\
         New Org,,,,,,,,,Difference Engines Ltd,,,,,,,20\n\
         Bad Tier,,,,,,,,,,,,,,Platinum,,21\n\
         ,Charles,Babbage,charles@example.com,,,+44 3,,,,admin,Cold lead,Entire company,,\
         Silver,red,22\n",
    );
    let (code, out, err) = run_import(dir.path(), &file, &[]);
    assert_eq!(code, Some(2), "some rows rejected: {out}{err}");
    assert!(err.contains("4 rows of"), "{err}");
    // Unknown and read-only columns: said once, before the summary, and the rows imported.
    let warning =
        "warning: column \"Favourite colour\" is not a person field; its values were ignored";
    assert_eq!(out.matches("Favourite colour").count(), 1, "{out}");
    assert!(out.starts_with(warning), "{out}");
    assert!(
        out.contains("warning: column \"ID\" is read-only; its values were ignored"),
        "{out}"
    );
    assert!(
        out.contains("rejected line 3: Label: \"Nope\" is not a person label"),
        "{out}"
    );
    assert!(
        out.contains("rejected line 4: Owner: \"Nobody\" is not a user of this company"),
        "{out}"
    );
    assert!(
        out.contains(
            "rejected line 5: Organization: \"Difference Engines Ltd\" is not an organization \
             of this company (pass --create-organizations to create it)"
        ),
        "{out}"
    );
    assert!(
        out.contains("rejected line 6: Tier: \"Platinum\" is not an option of this field"),
        "{out}"
    );
    assert!(out.contains("imported 2 persons, rejected 4 rows"), "{out}");
    let db = dir.path().join("pipestack.db");
    let (org, owner, labels, custom, emails, phones, visible_to, marketing) =
        stored(&db, "Ada Lovelace");
    assert_eq!(org.as_deref(), Some("Analytical Engines"));
    assert_eq!(owner, names.sam);
    assert_eq!(
        labels,
        vec![names.labels["Customer"], names.labels["Hot lead"]]
    );
    assert_eq!(custom[&names.tier_key], names.tier["Gold"]);
    assert_eq!(
        emails,
        json!([{"value": "ada@work.example", "primary": true, "label": "work"},
               {"value": "ada@home.example", "primary": false, "label": "home"}])
    );
    assert_eq!(
        phones,
        json!([{"value": "+44 1", "primary": true, "label": "work"},
               {"value": "+44 2", "primary": false, "label": "mobile"}])
    );
    assert_eq!(visible_to, 1);
    assert_eq!(marketing.as_deref(), Some("subscribed"));
    let (org, owner, labels, custom, ..) = stored(&db, "Charles Babbage");
    assert_eq!(org, None);
    assert_eq!(owner, names.admin);
    assert_eq!(labels, vec![names.labels["Cold lead"]]);
    assert_eq!(custom[&names.tier_key], names.tier["Silver"]);
    let before = count(&db, "SELECT COUNT(*) FROM organizations");

    // With --create-organizations, a name the company does not have is created once
    // (names matched case aside), owned by the row's owner.
    let file = write_file(
        dir.path(),
        "more.csv",
        "Name,Organization - Name,Owner\n\
         Grace,Difference Engines Ltd,Sam Seller\n\
         Joan,DIFFERENCE ENGINES LTD,\n\
         Alan,Analytical Engines,\n",
    );
    let out = import(dir.path(), &file, &["--create-organizations"]);
    assert!(out.contains("created 1 organization\n"), "{out}");
    assert!(out.contains("imported 3 persons, rejected 0 rows"), "{out}");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM organizations"), before + 1);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM persons p JOIN organizations o ON o.id = p.org_id
             WHERE o.name = 'Difference Engines Ltd' AND o.owner_id = 2"
        ),
        2
    );
    assert_eq!(
        count(
            &db,
            &format!(
                "SELECT COUNT(*) FROM persons WHERE name = 'Alan' AND org_id = {}",
                names.engines
            )
        ),
        1
    );
    assert_consistent(&db);
}

#[test]
fn a_crlf_file_reports_each_rejected_row_on_its_own_line() {
    let dir = tempfile::tempdir().unwrap();
    fresh(dir.path());
    // Line 3 is bad; a quoted name spans lines 4 and 5, line 6 is blank, line 7 is bad.
    let file = write_file(
        dir.path(),
        "windows.csv",
        "Name,Visible to\r\nAda,3\r\nBad,9\r\n\"Two\r\nLines\",3\r\n\r\nAlso bad,8\r\nLast,1\r\n",
    );
    let out = import(dir.path(), &file, &[]);
    assert!(
        out.contains("rejected line 3: visible_to: must be one of"),
        "{out}"
    );
    assert!(
        out.contains("rejected line 7: visible_to: must be one of"),
        "{out}"
    );
    assert!(out.contains("imported 3 persons, rejected 2 rows"), "{out}");
}

#[tokio::test]
async fn fifty_thousand_rows_of_a_pipedrive_export_all_import_with_their_organizations() {
    const ROWS: usize = 50_000;
    const ORGS: usize = 200;
    let dir = tempfile::tempdir().unwrap();
    let names = company_with_names(dir.path()).await;
    let tiers = ["Gold", "Silver", "Bronze"];
    let labels = ["Customer", "Hot lead", "Warm lead; Cold lead"];
    // Organization 0 is the company's own (named in another case); the others are new, each
    // named in two cases.
    let org = |i: usize| match i % ORGS {
        0 => "ANALYTICAL ENGINES".to_owned(),
        n if i.is_multiple_of(2) => format!("Company {n} Ltd"),
        n => format!("company {n} LTD"),
    };
    let mut text =
        String::from("Name,Email - Work,Phone - Mobile,Organization,Label,Owner,Tier\r\n");
    for i in 0..ROWS {
        let owner = if i.is_multiple_of(2) {
            "Sam Seller"
        } else {
            "admin"
        };
        text.push_str(&format!(
            "Person {i},p{i}@example.com,+1 555 {i:06},{},\"{}\",{owner},{}\r\n",
            org(i),
            labels[i % 3],
            tiers[i % 3]
        ));
    }
    let file = write_file(dir.path(), "export.csv", &text);
    let started = std::time::Instant::now();
    let out = import(dir.path(), &file, &["--create-organizations"]);
    eprintln!("imported {ROWS} rows in {:?}", started.elapsed());
    assert!(
        out.contains(&format!("created {} organizations", ORGS - 1)),
        "{out}"
    );
    assert!(
        out.contains(&format!("imported {ROWS} persons, rejected 0 rows")),
        "{out}"
    );
    let db = dir.path().join("pipestack.db");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM persons"), ROWS as i64);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM persons WHERE org_id IS NULL"),
        0
    );
    assert_eq!(
        count(&db, "SELECT COUNT(DISTINCT org_id) FROM persons"),
        ORGS as i64
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM organizations"),
        ORGS as i64
    );
    for i in [0, 1, 2, 199, 200, 201, 12_345, 33_333, ROWS - 2, ROWS - 1] {
        let (org_name, owner, label_ids, custom, emails, phones, ..) =
            stored(&db, &format!("Person {i}"));
        let expected_org = match i % ORGS {
            0 => "Analytical Engines".to_owned(),
            // Created with the spelling of the first row naming it.
            n if n.is_multiple_of(2) => format!("Company {n} Ltd"),
            n => format!("company {n} LTD"),
        };
        assert_eq!(org_name.as_deref(), Some(expected_org.as_str()), "row {i}");
        let expected_owner = if i.is_multiple_of(2) {
            names.sam
        } else {
            names.admin
        };
        assert_eq!(owner, expected_owner, "row {i}");
        let expected_labels: Vec<i64> =
            labels[i % 3].split("; ").map(|l| names.labels[l]).collect();
        assert_eq!(label_ids, expected_labels, "row {i}");
        assert_eq!(custom[&names.tier_key], names.tier[tiers[i % 3]], "row {i}");
        assert_eq!(emails[0]["value"], format!("p{i}@example.com"));
        assert_eq!(emails[0]["label"], "work");
        assert_eq!(phones[0]["label"], "mobile");
    }
    assert_consistent(&db);
}

#[tokio::test]
async fn a_csv_import_loads_valid_rows_and_reports_each_rejected_one_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    fresh(dir.path());
    let file = write_file(
        dir.path(),
        "persons.csv",
        "name,email,phone,visible_to,label_ids\n\
         Will Smith,will@example.com,+1 555 0100,3,1\n\
         ,nobody@example.com,,,\n\
         Jada Smith,jada@example.com,,9,\n\
         Ada Lovelace,ada@example.com,,1,2\n\
         Bad Label,bad@example.com,,,999\n",
    );
    let out = import(dir.path(), &file, &[]);
    assert!(
        out.contains("rejected line 3: Name must be given."),
        "{out}"
    );
    assert!(
        out.contains("rejected line 4: visible_to: must be one of"),
        "{out}"
    );
    assert!(
        out.contains("rejected line 6: label_ids: label 999 is not an option"),
        "{out}"
    );
    assert!(out.contains("imported 2 persons, rejected 3 rows"), "{out}");

    let (mut child, base) = serve(dir.path());
    let r = get(&base, "/v1/persons?sort=name%20ASC").await;
    let data = r["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["name"], "Ada Lovelace");
    assert_eq!(data[0]["visible_to"], "1");
    assert_eq!(data[0]["label"], 2);
    assert_eq!(data[1]["primary_email"], "will@example.com");
    assert_eq!(data[1]["phone"][0]["value"], "+1 555 0100");
    assert_eq!(data[1]["followers_count"], 1);
    kill9(&mut child);
    assert_consistent(&dir.path().join("pipestack.db"));
}

#[tokio::test]
async fn a_json_lines_import_takes_v1_bodies_and_rejects_malformed_lines() {
    let dir = tempfile::tempdir().unwrap();
    fresh(dir.path());
    let file = write_file(
        dir.path(),
        "persons.jsonl",
        "{\"name\":\"One\",\"email\":[{\"value\":\"one@example.com\",\"label\":\"work\"}]}\n\
         not json\n\
         \n\
         [1,2]\n\
         {\"name\":\"Two\",\"org_id\":12345}\n\
         {\"name\":\"Three\",\"primary_email\":\"x@example.com\"}\n\
         {\"first_name\":\"Four\",\"last_name\":\"Last\"}\n",
    );
    let out = import(dir.path(), &file, &["--batch", "1"]);
    assert!(out.contains("rejected line 2: malformed JSON"), "{out}");
    assert!(
        out.contains("rejected line 4: expected a JSON object"),
        "{out}"
    );
    assert!(
        out.contains("rejected line 5: org_id: organization 12345 not found"),
        "{out}"
    );
    assert!(
        out.contains("rejected line 6: Invalid field(s) in the payload: primary_email (read-only)"),
        "{out}"
    );
    assert!(out.contains("imported 2 persons, rejected 4 rows"), "{out}");
    let db = dir.path().join("pipestack.db");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM persons"), 2);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM persons WHERE name = 'Four Last'"),
        1
    );
}

#[test]
fn an_interrupted_import_leaves_whole_batches_and_nothing_half_written() {
    let dir = tempfile::tempdir().unwrap();
    fresh(dir.path());
    let mut text = String::from("name,email\n");
    for i in 0..200_000 {
        text.push_str(&format!("Person {i},p{i}@example.com\n"));
    }
    let file = write_file(dir.path(), "big.csv", &text);
    let db = dir.path().join("pipestack.db");
    let mut child = pipestack(dir.path())
        .args(["import", &file, "--quiet", "--batch", "1000"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it as soon as some batches are committed.
    loop {
        let n = count(&db, "SELECT COUNT(*) FROM persons");
        if n >= 3000 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import finished before it could be interrupted"
        );
    }
    kill9(&mut child);
    let n = count(&db, "SELECT COUNT(*) FROM persons");
    assert!(n < 200_000, "interrupted before the end ({n})");
    assert_eq!(n % 1000, 0, "only whole batches are stored ({n})");
    assert_consistent(&db);
    // The store works on: a second import of the rest is accepted.
    let out = import(
        dir.path(),
        &write_file(dir.path(), "more.csv", "name\nAfter\n"),
        &[],
    );
    assert!(out.contains("imported 1 person,"), "{out}");
}

#[tokio::test]
async fn a_deals_import_takes_v2_bodies_and_text_columns_with_the_apis_rules() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = serve(dir.path());
    let fields = get(&base, "/v1/dealFields").await;
    kill9(&mut child);
    let hot = fields["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "label")
        .unwrap()["options"][0]["id"]
        .as_i64()
        .unwrap();
    let persons = write_file(dir.path(), "p.jsonl", "{\"name\":\"Buyer\"}\n");
    import(dir.path(), &persons, &[]);
    let csv = write_file(
        dir.path(),
        "deals.csv",
        &format!(
            "title,value,currency,person_id,status,stage_id,label_ids\n\
         Big sale,1500.5,EUR,1,won,,{hot}\n\
         ,10,EUR,,,,\n\
         No stage,10,EUR,,,99999,\n\
         No person,10,EUR,424242,,,\n\
         Bad value,lots,EUR,,,,\n\
         Plain,,,,,2,\n"
        ),
    );
    let out = import(dir.path(), &csv, &["--items", "deals", "--batch", "2"]);
    assert!(out.contains("rejected line 3: title"), "{out}");
    assert!(
        out.contains("rejected line 4: stage_id: stage 99999 not found"),
        "{out}"
    );
    assert!(out.contains("rejected line 5: person_id"), "{out}");
    assert!(
        out.contains("rejected line 6: value: must be a number"),
        "{out}"
    );
    assert!(out.contains("imported 2 deals, rejected 4 rows"), "{out}");
    let jsonl = write_file(
        dir.path(),
        "deals.jsonl",
        "{\"title\":\"From JSON\",\"value\":7,\"probability\":50}\n\
         {\"title\":\"Bad status\",\"status\":\"maybe\"}\n",
    );
    let out = import(dir.path(), &jsonl, &["--items", "deals"]);
    assert!(out.contains("rejected line 2: status"), "{out}");
    assert!(out.contains("imported 1 deal, rejected 1 row"), "{out}");

    let (mut child, base) = serve(dir.path());
    let r = get(&base, "/api/v2/deals?status=open,won").await;
    let data = r["data"].as_array().unwrap();
    assert_eq!(data.len(), 3, "{r}");
    assert_eq!(data[0]["title"], "Big sale");
    assert_eq!(data[0]["value"], 1500.5);
    assert_eq!(data[0]["status"], "won");
    assert!(data[0]["won_time"].is_string());
    assert_eq!(data[0]["label_ids"], serde_json::json!([hot]));
    assert_eq!(data[0]["origin"], "Import");
    assert_eq!(data[1]["stage_id"], 2);
    assert_eq!(data[2]["probability"], 50);
    // The buyer's counts include the imported deal.
    let p = get(&base, "/v1/persons/1").await;
    assert_eq!(p["data"]["won_deals_count"], 1);
    kill9(&mut child);
    assert_consistent(&dir.path().join("pipestack.db"));
}

#[tokio::test]
async fn activities_and_notes_import_with_the_apis_rules_and_show_in_the_summaries() {
    let dir = tempfile::tempdir().unwrap();
    fresh(dir.path());
    let persons = write_file(
        dir.path(),
        "p.jsonl",
        "{\"name\":\"Ann\"}\n{\"name\":\"Bob\"}\n",
    );
    import(dir.path(), &persons, &[]);
    let csv = write_file(
        dir.path(),
        "activities.csv",
        "subject,type,person_id,due_date,due_time,done,participants\n\
         Call Ann,call,1,2026-05-01,09:00,0,\n\
         Met Ann,meeting,,2026-01-01,,1,\"1,2\"\n\
         Faxed,fax,1,,,,\n\
         Late,call,1,2026-02-30,,,\n\
         Nobody,call,424242,,,,\n",
    );
    let out = import(dir.path(), &csv, &["--items", "activities", "--batch", "2"]);
    assert!(out.contains("rejected line 4: type"), "{out}");
    assert!(out.contains("rejected line 5: due_date"), "{out}");
    assert!(out.contains("rejected line 6: person_id"), "{out}");
    assert!(
        out.contains("imported 2 activities, rejected 3 rows"),
        "{out}"
    );
    let notes = write_file(
        dir.path(),
        "notes.jsonl",
        "{\"content\":\"<b>Likes golf</b><script>x()</script>\",\"person_id\":1}\n\
         {\"content\":\"orphan\"}\n\
         {\"content\":\"pinned\",\"person_id\":\"2\",\"pinned_to_person_flag\":\"1\"}\n",
    );
    let out = import(dir.path(), &notes, &["--items", "notes"]);
    assert!(
        out.contains("rejected line 2: A note must be attached"),
        "{out}"
    );
    assert!(out.contains("imported 2 notes, rejected 1 row"), "{out}");

    let (mut child, base) = serve(dir.path());
    let ann = get(&base, "/v1/persons/1").await;
    let d = &ann["data"];
    assert_eq!(d["activities_count"], 2, "{ann}");
    assert_eq!(d["done_activities_count"], 1);
    assert_eq!(d["next_activity_date"], "2026-05-01");
    assert_eq!(d["next_activity_time"], "09:00");
    assert_eq!(d["last_activity_date"], "2026-01-01");
    assert_eq!(d["notes_count"], 1);
    kill9(&mut child);
    let db = dir.path().join("pipestack.db");
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM notes WHERE content = '<b>Likes golf</b>'"
        ),
        1
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM activity_participants"), 3);
    assert_consistent(&db);
}
