//! Several pipestack processes on one PostgreSQL database: they migrate once, never collide on
//! ids, read each other's writes, keep counts right under concurrent writes, and accept each
//! other's cursors. Each test is `#[ignore]`d (reported as skipped) unless the ignored tests are
//! run with `PIPESTACK_TEST_DATABASE` naming a PostgreSQL server, as `.ci/run`'s PostgreSQL pass
//! does; run without one, they fail saying so.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

#[path = "api/receiver.rs"]
mod receiver;

const BIN: &str = env!("CARGO_BIN_EXE_pipestack");
const TOKEN: &str = "multi-instance-token";

async fn fresh_database(base: &str) -> String {
    let (client, conn) = tokio_postgres::connect(base, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let name = format!(
        "pipestack_test_{}",
        &pipestack::domain::random_hex40().unwrap()[..16]
    );
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let (server, _) = base.rsplit_once('/').unwrap();
    format!("{server}/{name}")
}

struct Instance {
    child: Child,
    base: String,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(url: &str) -> Child {
    Command::new(BIN)
        .args([
            "--database",
            url,
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--api-token",
            TOKEN,
        ])
        .env("PIPESTACK_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn ready(mut child: Child) -> Instance {
    let stdout = child.stdout.take().unwrap();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(rest) = line.trim().strip_prefix("base URL: ") {
            let base = rest.split("/v1").next().unwrap().to_owned();
            return Instance { child, base };
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("an instance did not start");
}

async fn call(method: reqwest::Method, url: String, body: Option<Value>) -> Value {
    let mut req = reqwest::Client::new()
        .request(method, url)
        .header("x-api-token", TOKEN);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let v: Value = res.json().await.unwrap();
    assert!(status.is_success(), "{status}: {v}");
    v
}

/// Why these tests are ignored unless asked for: they need a PostgreSQL server.
const NEEDS_POSTGRES: &str = "set PIPESTACK_TEST_DATABASE=postgres://… and run the ignored tests (.ci/run's PostgreSQL pass does)";

/// The PostgreSQL server to test on: these tests are `#[ignore]`d, and fail saying why when
/// run without one.
fn postgres_base() -> String {
    match std::env::var("PIPESTACK_TEST_DATABASE") {
        Ok(base) if base.starts_with("postgres") => base,
        _ => panic!("{NEEDS_POSTGRES}"),
    }
}

/// The person ids a receiver got creates of (2xx answers only), with repeats.
fn created_ids(rx: &receiver::Receiver) -> Vec<i64> {
    rx.delivered("/hook")
        .iter()
        .map(|e| e["meta"]["entity_id"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// Creates persons through every instance at once; their ids.
async fn create_through(bases: &[String], per_instance: usize) -> Vec<i64> {
    let mut writers = Vec::new();
    for base in bases {
        for w in 0..4 {
            let base = base.clone();
            writers.push(tokio::spawn(async move {
                let mut ids = Vec::new();
                for i in 0..per_instance / 4 {
                    let r = call(
                        reqwest::Method::POST,
                        format!("{base}/api/v2/persons"),
                        Some(json!({"name": format!("W{w} P{i}")})),
                    )
                    .await;
                    ids.push(r["data"]["id"].as_i64().unwrap());
                }
                ids
            }));
        }
    }
    let mut ids = Vec::new();
    for w in writers {
        ids.extend(w.await.unwrap());
    }
    ids
}

/// Waits until the receiver has a create of every person in `ids`.
async fn wait_for_all(rx: &receiver::Receiver, ids: &[i64], within: std::time::Duration) {
    let deadline = std::time::Instant::now() + within;
    loop {
        let got: HashSet<i64> = created_ids(rx).into_iter().collect();
        let missing: Vec<&i64> = ids.iter().filter(|id| !got.contains(id)).collect();
        if missing.is_empty() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never delivered: {missing:?}"
        );
        rx.next_arrival(std::time::Duration::from_secs(1)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: PIPESTACK_TEST_DATABASE=postgres://… (.ci/run runs it)"]
async fn two_instances_deliver_each_webhook_event_exactly_once() {
    let base = postgres_base();
    let url = fresh_database(&base).await;
    let a = ready(spawn(&url));
    let b = ready(spawn(&url));
    let bases = vec![a.base.clone(), b.base.clone()];
    let rx = receiver::Receiver::start().await;
    call(
        reqwest::Method::POST,
        format!("{}/v1/webhooks", bases[0]),
        Some(
            json!({"subscription_url": format!("{}/hook", rx.url), "event_action": "create",
                    "event_object": "person"}),
        ),
    )
    .await;
    // Some first attempts fail, so that retries are claimed by either instance too (fewer
    // than the ten that would ban the webhook).
    rx.fail_next(5);
    let ids = create_through(&bases, 200).await;
    assert_eq!(ids.len(), 400);
    wait_for_all(&rx, &ids, std::time::Duration::from_secs(60)).await;
    // Both instances keep polling: give a duplicate every chance to show up.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let mut got = created_ids(&rx);
    got.sort_unstable();
    let mut expected = ids.clone();
    expected.sort_unstable();
    assert_eq!(got, expected, "each event delivered exactly once");
    assert_eq!(
        rx.received().len(),
        400 + 5,
        "each failed attempt retried once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: PIPESTACK_TEST_DATABASE=postgres://… (.ci/run runs it)"]
async fn an_instance_dying_mid_delivery_loses_no_webhook_event() {
    let base = postgres_base();
    let url = fresh_database(&base).await;
    let mut a = ready(spawn(&url));
    let b = ready(spawn(&url));
    let rx = receiver::Receiver::start().await;
    call(
        reqwest::Method::POST,
        format!("{}/v1/webhooks", a.base),
        Some(
            json!({"subscription_url": format!("{}/hook", rx.url), "event_action": "create",
                    "event_object": "person"}),
        ),
    )
    .await;
    // A receiver slow enough that deliveries are on their way when instance A dies.
    rx.delay(std::time::Duration::from_secs(2));
    let ids = create_through(std::slice::from_ref(&a.base), 40).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let _ = a.child.kill();
    let _ = a.child.wait();
    rx.delay(std::time::Duration::ZERO);
    // B takes up A's deliveries once their leases (the 10 s timeout and 5 s) run out.
    wait_for_all(&rx, &ids, std::time::Duration::from_secs(60)).await;
    drop(b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: PIPESTACK_TEST_DATABASE=postgres://… (.ci/run runs it)"]
async fn three_instances_share_one_postgresql_database() {
    let base = postgres_base();
    let url = fresh_database(&base).await;
    // The first start creates the company; then two more start at the same moment (their
    // migrations run under the advisory lock).
    let a = ready(spawn(&url));
    let (b, c) = (spawn(&url), spawn(&url));
    let instances = [a, ready(b), ready(c)];
    let bases: Vec<String> = instances.iter().map(|i| i.base.clone()).collect();

    let org = call(
        reqwest::Method::POST,
        format!("{}/v1/organizations", bases[0]),
        Some(json!({"name": "Shared"})),
    )
    .await["data"]["id"]
        .as_i64()
        .unwrap();
    let mut writers = Vec::new();
    for (n, base) in bases.iter().enumerate() {
        let base = base.clone();
        writers.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..40 {
                let v = call(
                    reqwest::Method::POST,
                    format!("{base}/v1/persons"),
                    Some(json!({"name": format!("Instance {n} Person {i}"), "org_id": org})),
                )
                .await;
                ids.push((
                    v["data"]["id"].as_i64().unwrap(),
                    format!("Instance {n} Person {i}"),
                ));
            }
            ids
        }));
    }
    let mut all = Vec::new();
    for w in writers {
        all.extend(w.await.unwrap());
    }
    let unique: HashSet<i64> = all.iter().map(|(id, _)| *id).collect();
    assert_eq!(unique.len(), 120, "ids never collide");

    // Every person written through one instance is read through another.
    for (k, (id, name)) in all.iter().enumerate() {
        let base = &bases[(k + 1) % 3];
        let v = call(
            reqwest::Method::GET,
            format!("{base}/v1/persons/{id}"),
            None,
        )
        .await;
        assert_eq!(v["data"]["name"], name.as_str());
    }
    for base in &bases {
        let v = call(
            reqwest::Method::GET,
            format!("{base}/v1/organizations/{org}"),
            None,
        )
        .await;
        assert_eq!(
            v["data"]["people_count"], 120,
            "people_count through {base}"
        );
    }

    // Concurrent deletes through different instances keep the count right.
    let mut deleters = Vec::new();
    for (k, (id, _)) in all.iter().enumerate().filter(|(k, _)| k % 4 == 0) {
        let base = bases[k % 3].clone();
        let id = *id;
        deleters.push(tokio::spawn(async move {
            call(
                reqwest::Method::DELETE,
                format!("{base}/v1/persons/{id}"),
                None,
            )
            .await;
        }));
    }
    for d in deleters {
        d.await.unwrap();
    }
    for base in &bases {
        let v = call(
            reqwest::Method::GET,
            format!("{base}/v1/organizations/{org}"),
            None,
        )
        .await;
        assert_eq!(v["data"]["people_count"], 90);
    }

    // A cursor from one instance works on the others.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for k in 0.. {
        let base = &bases[k % 3];
        let mut url = format!("{base}/api/v2/persons?limit=25");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let v = call(reqwest::Method::GET, url, None).await;
        seen.extend(
            v["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_i64().unwrap()),
        );
        match v["additional_data"]["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let seen_set: HashSet<i64> = seen.iter().copied().collect();
    assert_eq!(seen.len(), 90);
    assert_eq!(seen_set.len(), 90);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: PIPESTACK_TEST_DATABASE=postgres://… (.ci/run runs it)"]
async fn migrate_copies_a_sqlite_store_into_postgresql_identically() {
    let base = postgres_base();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}/source.db", dir.path().display());
    let source = ready(spawn(&sqlite));
    let org = call(
        reqwest::Method::POST,
        format!("{}/v1/organizations", source.base),
        Some(json!({"name": "Acme"})),
    )
    .await["data"]["id"]
        .as_i64()
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..5 {
        let v = call(
            reqwest::Method::POST,
            format!("{}/v1/persons", source.base),
            Some(json!({"name": format!("Moved {i}"), "email": format!("m{i}@example.com"), "org_id": org})),
        )
        .await;
        ids.push(v["data"]["id"].as_i64().unwrap());
    }
    call(
        reqwest::Method::DELETE,
        format!("{}/v1/persons/{}", source.base, ids[4]),
        None,
    )
    .await;
    // Everything around the persons: a pipeline, a deal, activities of a custom type, a note.
    let post = |path: &str, body: Value| {
        call(
            reqwest::Method::POST,
            format!("{}{path}", source.base),
            Some(body),
        )
    };
    post("/api/v2/pipelines", json!({"name": "Second"})).await;
    let deal = post(
        "/api/v2/deals",
        json!({"title": "Moved deal", "person_id": ids[0], "org_id": org}),
    )
    .await["data"]["id"]
        .clone();
    post(
        "/v1/activityTypes",
        json!({"name": "Site visit", "icon_key": "car"}),
    )
    .await;
    for (done, date) in [(false, "2030-01-01"), (true, "2026-01-01")] {
        let a = post(
            "/api/v2/activities",
            json!({"type": "site_visit", "person_id": ids[0], "deal_id": deal, "done": done,
                   "due_date": date, "participants": [{"person_id": ids[0], "primary": true}, {"person_id": ids[1]}]}),
        )
        .await;
        assert_eq!(a["success"], true, "{a}");
    }
    post(
        "/v1/notes",
        json!({"content": "<b>moved</b>", "person_id": ids[0], "deal_id": deal}),
    )
    .await;
    let lists = [
        "/api/v2/deals",
        "/api/v2/pipelines",
        "/api/v2/stages",
        "/api/v2/activities",
        "/v1/activityTypes",
        "/v1/notes",
        "/v1/dealFields",
    ];
    let mut listed = Vec::new();
    for path in lists {
        let v = call(reqwest::Method::GET, format!("{}{path}", source.base), None).await;
        listed.push(v["data"].clone());
    }
    let mut before = Vec::new();
    for id in &ids {
        before.push(
            call(
                reqwest::Method::GET,
                format!("{}/v1/persons/{id}", source.base),
                None,
            )
            .await["data"]
                .clone(),
        );
    }
    drop(source);

    let pg = fresh_database(&base).await;
    let out = Command::new(BIN)
        .args(["migrate", "--from", &sqlite, "--to", &pg])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    for copied in [
        "persons: 5 rows copied and verified",
        "deals: 1 rows copied and verified",
        "activities: 2 rows copied and verified",
        "activity_participants: 4 rows copied and verified",
        "notes: 1 rows copied and verified",
        "pipelines: 2 rows copied and verified",
    ] {
        assert!(text.contains(copied), "{copied}: {text}");
    }
    let again = Command::new(BIN)
        .args(["migrate", "--from", &sqlite, "--to", &pg])
        .output()
        .unwrap();
    assert!(
        !again.status.success(),
        "a second migrate into a non-empty database is refused"
    );

    let target = ready(spawn(&pg));
    for (id, expected) in ids.iter().zip(&before) {
        let got = call(
            reqwest::Method::GET,
            format!("{}/v1/persons/{id}", target.base),
            None,
        )
        .await;
        assert_eq!(
            &got["data"], expected,
            "person {id} reads the same after the move"
        );
    }
    for (path, expected) in lists.iter().zip(&listed) {
        let got = call(reqwest::Method::GET, format!("{}{path}", target.base), None).await;
        assert_eq!(
            &got["data"], expected,
            "{path} reads the same after the move"
        );
    }
    // New ids continue after the copied ones.
    let v = call(
        reqwest::Method::POST,
        format!("{}/v1/persons", target.base),
        Some(json!({"name": "After"})),
    )
    .await;
    assert!(v["data"]["id"].as_i64().unwrap() > ids[4]);
    let s = call(
        reqwest::Method::GET,
        format!("{}/api/v2/persons/search?term=moved", target.base),
        None,
    )
    .await;
    assert_eq!(
        s["data"]["items"].as_array().unwrap().len(),
        4,
        "search works on the moved store"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: PIPESTACK_TEST_DATABASE=postgres://… (.ci/run runs it)"]
async fn sslmode_require_connects_over_tls() {
    let base = postgres_base();
    let (client, conn) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let ssl_on: String = client.query_one("SHOW ssl", &[]).await.unwrap().get(0);
    if ssl_on != "on" {
        eprintln!("not run: this PostgreSQL server has ssl = off");
        return;
    }
    let url = fresh_database(&base).await;
    let name = url.rsplit('/').next().unwrap().to_owned();
    let server = ready(spawn(&format!("{url}?sslmode=require")));
    let v = call(
        reqwest::Method::POST,
        format!("{}/v1/persons", server.base),
        Some(json!({"name": "Over TLS"})),
    )
    .await;
    assert_eq!(v["data"]["name"], "Over TLS");
    let encrypted: i64 = client
        .query_one(
            "SELECT COUNT(*) FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid
             WHERE a.datname = $1 AND s.ssl",
            &[&name],
        )
        .await
        .unwrap()
        .get(0);
    assert!(encrypted > 0, "the instance's connections are encrypted");
}

/// Starts an instance that must fail to start (within 20 s); its stderr.
fn refused(url: &str) -> String {
    let mut child = Command::new(BIN)
        .args(["--database", url, "serve", "--listen", "127.0.0.1:0"])
        .env("PIPESTACK_LOG", "warn")
        .env("PIPESTACK_STATEMENT_TIMEOUT_MS", "3000")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(!status.success(), "{url}: exited 0");
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            return err;
        }
        if start.elapsed() > std::time::Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{url}: started instead of refusing the server");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: PIPESTACK_TEST_DATABASE=postgres://… (.ci/run runs it)"]
async fn sslmode_verify_ca_and_verify_full_check_the_servers_certificate() {
    let base = postgres_base();
    let (client, conn) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let ssl_on: String = client.query_one("SHOW ssl", &[]).await.unwrap().get(0);
    let cert: String = client
        .query_one("SHOW ssl_cert_file", &[])
        .await
        .unwrap()
        .get(0);
    if ssl_on != "on" || std::fs::metadata(&cert).is_err() {
        eprintln!("not run: this PostgreSQL server has no TLS certificate this test can read");
        return;
    }
    let url = fresh_database(&base).await;
    // The server's own (self-signed) certificate as the root: verify-ca connects whatever the
    // host is called.
    let server = ready(spawn(&format!(
        "{url}?sslmode=verify-ca&sslrootcert={cert}"
    )));
    let v = call(
        reqwest::Method::POST,
        format!("{}/v1/persons", server.base),
        Some(json!({"name": "Verified"})),
    )
    .await;
    assert_eq!(v["data"]["name"], "Verified");
    drop(server);
    // Roots that are not the server's certificate's (the public CAs' bundle, which holds no
    // self-signed certificate) refuse it.
    let bundle = "/etc/ssl/certs/ca-certificates.crt";
    if std::fs::metadata(bundle).is_ok() {
        let err = refused(&format!("{url}?sslmode=verify-ca&sslrootcert={bundle}"));
        assert!(err.contains("certificate"), "{err}");
    }
    // verify-full also wants the certificate to name the host (Debian's names localhost).
    if url.contains("@127.0.0.1:") {
        let err = refused(&format!("{url}?sslmode=verify-full&sslrootcert={cert}"));
        assert!(err.contains("not valid for name"), "{err}");
        let local = url.replace("@127.0.0.1:", "@localhost:");
        drop(ready(spawn(&format!(
            "{local}?sslmode=verify-full&sslrootcert={cert}"
        ))));
    }
}
