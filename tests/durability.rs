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

fn kill9(child: &mut Child) {
    let ok = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    child.wait().unwrap();
}

/// Whole-database checks: SQLite's own, the search index against its content, and every
/// person's owner among its followers (a person is written with its follower or not at all).
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
    .expect("the search index matches the persons");
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
    let client = reqwest::Client::new();
    for (id, name) in &acked {
        let r: Value = client
            .get(format!("{base}/v1/persons/{id}"))
            .header("x-api-token", TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            r["data"]["name"],
            name.as_str(),
            "acknowledged person {id} is intact"
        );
        assert_eq!(r["data"]["followers_count"], 1);
    }
    kill9(&mut child);
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

fn import(dir: &Path, file: &str, extra: &[&str]) -> String {
    let out = pipestack(dir)
        .args(["import", file, "--quiet"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
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
    let r: Value = reqwest::Client::new()
        .get(format!("{base}/v1/persons?sort=name%20ASC"))
        .header("x-api-token", TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
    let fields: Value = reqwest::Client::new()
        .get(format!("{base}/v1/dealFields"))
        .header("x-api-token", TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
    let get = |path: String| {
        let base = base.clone();
        async move {
            reqwest::Client::new()
                .get(format!("{base}{path}"))
                .header("x-api-token", TOKEN)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let r = get("/api/v2/deals?status=open,won".into()).await;
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
    let p = get("/v1/persons/1".into()).await;
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
    let ann: Value = reqwest::Client::new()
        .get(format!("{base}/v1/persons/1"))
        .header("x-api-token", TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
