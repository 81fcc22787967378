//! The `pipestack` binary itself: first start, fixed tokens, admin commands, signals.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_pipestack");

struct Server {
    child: Child,
    base: String,
    /// Everything printed to stdout before the server was ready.
    banner: Vec<String>,
}

fn pipestack(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .env_remove("PIPESTACK_DATABASE")
        .env_remove("PIPESTACK_API_TOKEN")
        .env_remove("PIPESTACK_LISTEN")
        .env_remove("PIPESTACK_MEMORY");
    cmd
}

fn start(dir: &Path, extra: &[&str], envs: &[(&str, &str)]) -> Server {
    let mut cmd = pipestack(dir);
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .envs(envs.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut banner = Vec::new();
    let mut base = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(rest) = line.trim().strip_prefix("base URL: ") {
            base = Some(rest.split("/v1").next().unwrap().to_owned());
            banner.push(line);
            break;
        }
        banner.push(line);
    }
    Server {
        child,
        base: base.expect("the server printed its base URL"),
        banner,
    }
}

impl Server {
    fn token(&self) -> Option<String> {
        self.banner
            .iter()
            .find_map(|l| l.trim().strip_prefix("API token: ").map(str::to_owned))
    }

    /// SIGTERM, and the server must exit cleanly (status 0, not killed by the signal).
    fn terminate(mut self) {
        let kill = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "SIGTERM is a clean exit, got {status:?}");
    }
}

async fn get(base: &str, path: &str, token: &str) -> (u16, Value) {
    let res = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .header("x-api-token", token)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

async fn post(base: &str, path: &str, token: &str, body: Value) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("x-api-token", token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

fn run(dir: &Path, args: &[&str]) -> String {
    let out = pipestack(dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "pipestack {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn printed_token(out: &str) -> String {
    out.lines()
        .find_map(|l| l.trim().strip_prefix("API token: "))
        .expect("a token was printed")
        .to_owned()
}

#[tokio::test]
async fn first_start_creates_pipestack_db_and_prints_a_working_token_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[], &[]);
    let token = server.token().expect("the first start prints the token");
    assert_eq!(token.len(), 40);
    assert!(dir.path().join("pipestack.db").exists());
    let (status, me) = get(&server.base, "/v1/users/me", &token).await;
    assert_eq!(status, 200);
    assert_eq!(me["data"]["is_you"], true);
    let (status, created) =
        post(&server.base, "/v1/persons", &token, json!({"name": "Kept"})).await;
    assert_eq!(status, 201);
    server.terminate();

    let again = start(dir.path(), &[], &[]);
    assert_eq!(
        again.token(),
        None,
        "the token is printed only on the first start"
    );
    let id = created["data"]["id"].as_i64().unwrap();
    let (status, got) = get(&again.base, &format!("/v1/persons/{id}"), &token).await;
    assert_eq!(status, 200);
    assert_eq!(got["data"], created["data"]);
    again.terminate();
}

#[tokio::test]
async fn pipestack_api_token_fixes_the_admin_token_on_new_and_existing_databases() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[], &[("PIPESTACK_API_TOKEN", "ci-token-0001")]);
    assert_eq!(server.token().as_deref(), Some("ci-token-0001"));
    assert_eq!(
        get(&server.base, "/v1/users/me", "ci-token-0001").await.0,
        200
    );
    server.terminate();

    let server = start(dir.path(), &["--api-token", "ci-token-0002"], &[]);
    assert_eq!(
        get(&server.base, "/v1/users/me", "ci-token-0002").await.0,
        200
    );
    assert_eq!(
        get(&server.base, "/v1/users/me", "ci-token-0001").await.0,
        401
    );
    server.terminate();
}

#[tokio::test]
async fn users_add_prints_a_token_once_that_the_api_accepts_and_the_database_does_not_hold() {
    let dir = tempfile::tempdir().unwrap();
    let admin = start(dir.path(), &[], &[]);
    let admin_token = admin.token().unwrap();
    admin.terminate();

    let out = run(
        dir.path(),
        &[
            "users",
            "add",
            "--name",
            "Jane Doe",
            "--email",
            "jane@example.com",
        ],
    );
    let token = printed_token(&out);
    let listed = run(dir.path(), &["tokens"]);
    assert!(
        !listed.contains(&token) && !listed.contains(&admin_token),
        "{listed}"
    );
    assert!(listed.contains("jane@example.com"));
    assert!(listed.contains("users token ID"), "{listed}");
    // Only digests are stored: the database file holds neither token.
    let db = std::fs::read(dir.path().join("pipestack.db")).unwrap();
    for t in [&token, &admin_token] {
        assert!(!db.windows(t.len()).any(|w| w == t.as_bytes()));
    }

    let server = start(dir.path(), &[], &[]);
    let (status, me) = get(&server.base, "/v1/users/me", &token).await;
    assert_eq!(status, 200);
    assert_eq!(me["data"]["name"], "Jane Doe");
    assert_eq!(me["data"]["is_you"], true);
    server.terminate();
}

#[tokio::test]
async fn companies_add_and_campaigns_off_are_honoured_by_the_api() {
    let dir = tempfile::tempdir().unwrap();
    start(dir.path(), &[], &[]).terminate();
    let out = run(dir.path(), &["companies", "add", "Second Co"]);
    let second = printed_token(&out);
    run(
        dir.path(),
        &["companies", "campaigns", "off", "--company", "2"],
    );
    let list = run(dir.path(), &["companies", "list"]);
    assert!(list.contains("Second Co") && list.contains("off"), "{list}");

    let server = start(dir.path(), &[], &[]);
    let (status, p) = post(
        &server.base,
        "/v1/persons",
        &second,
        json!({"name": "No Campaigns", "email": "a@example.com"}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(p["data"]["company_id"], 2);
    assert!(p["data"].get("marketing_status").is_none());
    server.terminate();
}

#[tokio::test]
async fn memory_mode_writes_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--memory"], &[]);
    let token = server.token().unwrap();
    let (status, _) = post(
        &server.base,
        "/v1/persons",
        &token,
        json!({"name": "Fleeting"}),
    )
    .await;
    assert_eq!(status, 201);
    server.terminate();
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn an_unsupported_database_url_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = pipestack(dir.path())
        .args(["--database", "mysql://x", "tokens"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unsupported database URL"), "{stderr}");
    assert!(
        stderr.contains("postgres://"),
        "names every kind of URL: {stderr}"
    );
}

#[tokio::test]
async fn fixtures_fill_a_new_database_once_and_a_bad_file_stops_the_start_naming_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = dir.path().join("fixtures.json");
    std::fs::write(
        &fixtures,
        r#"{"organizations": [{"$id": "acme", "name": "Acme"}],
            "persons": [{"name": "Bob", "org_id": "$acme"}]}"#,
    )
    .unwrap();
    let file = fixtures.to_str().unwrap();
    let args = [
        "--api-token",
        "fixture-token-1",
        "--fixtures",
        file,
        "--admin-api",
    ];
    let server = start(dir.path(), &args, &[]);
    assert!(
        server.banner.iter().any(|l| l.contains("fixtures from")),
        "{:?}",
        server.banner
    );
    let (status, body) = get(&server.base, "/api/v2/persons", "fixture-token-1").await;
    assert_eq!(status, 200);
    assert_eq!(body["data"][0]["name"], "Bob");
    let (_, orgs) = get(&server.base, "/api/v2/organizations", "fixture-token-1").await;
    assert_eq!(body["data"][0]["org_id"], orgs["data"][0]["id"]);
    server.terminate();
    // On an existing database they are not applied again.
    let server = start(dir.path(), &args, &[]);
    let (_, body) = get(&server.base, "/api/v2/persons", "fixture-token-1").await;
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    server.terminate();

    // A file that is not fixtures, and one the API refuses, stop a first start saying where.
    for (text, needle) in [
        (r#"{"people": []}"#, "\"people\" is not a section"),
        (
            r#"{"persons": [{"name": ""}]}"#,
            "fixtures: persons[0]: Name must be given",
        ),
    ] {
        let fresh = tempfile::tempdir().unwrap();
        let path = fresh.path().join("f.json");
        std::fs::write(&path, text).unwrap();
        let out = pipestack(fresh.path())
            .args(["serve", "--listen", "127.0.0.1:0", "--fixtures"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{text}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{text}: {stderr}");
    }
}

#[test]
fn a_sqlite_urls_options_are_read_and_never_end_up_in_the_file_name() {
    let dir = tempfile::tempdir().unwrap();
    // mode=rw opens an existing file only; mode=ro is refused saying why; unknown options named.
    for (url, needle) in [
        ("sqlite://new.db?mode=rw", "new.db does not exist (mode=rw"),
        ("sqlite://x.db?mode=ro", "cannot serve a read-only database"),
        (
            "sqlite://x.db?cache=shared",
            "unknown option \"cache=shared\"",
        ),
    ] {
        let out = pipestack(dir.path())
            .args(["--database", url, "companies", "list"])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{url}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{url}: {stderr}");
    }
    // mode=rwc (the default) creates the file the URL names, and mode=rw opens it then.
    run(
        dir.path(),
        &[
            "--database",
            "sqlite://made.db?mode=rwc",
            "companies",
            "add",
            "Acme",
        ],
    );
    run(
        dir.path(),
        &[
            "--database",
            "sqlite://made.db?mode=rw",
            "companies",
            "list",
        ],
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n == "made.db"), "{names:?}");
    assert!(
        !names
            .iter()
            .any(|n| n.contains('?') || n.starts_with("new.db") || n.starts_with("x.db")),
        "{names:?}"
    );
}

#[test]
fn a_cli_error_is_one_line_without_a_backtrace_even_with_rust_backtrace_set() {
    let dir = tempfile::tempdir().unwrap();
    let out = pipestack(dir.path())
        .args(["--database", "mysql://x", "tokens"])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("pipestack: "), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(!stderr.contains("backtrace"), "{stderr}");
}

#[tokio::test]
async fn listen_takes_a_bare_port_and_memory_takes_off_and_on_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut cmd = pipestack(dir.path());
    cmd.args(["serve", "--listen", &port.to_string()])
        .env("PIPESTACK_MEMORY", "on")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let done = line.contains("base URL");
        lines.push(line);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let banner = lines.join("\n");
    assert!(
        banner.contains(&format!("http://127.0.0.1:{port}/v1")),
        "{banner}"
    );
    assert!(
        banner.contains("memory"),
        "the banner says the store is in memory: {banner}"
    );
    assert!(
        !banner.contains("users token"),
        "no command reaches a memory store: {banner}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    // `off` is a value, not an error.
    let server = start(dir.path(), &[], &[("PIPESTACK_MEMORY", "off")]);
    server.terminate();
    assert!(dir.path().join("pipestack.db").exists());
}

#[test]
fn listen_refuses_what_is_not_an_address_saying_what_it_takes_and_an_address_in_use_names_listen() {
    let dir = tempfile::tempdir().unwrap();
    let out = pipestack(dir.path())
        .args(["serve", "--memory", "--listen", "nonsense"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("give a port"), "{stderr}");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = pipestack(dir.path())
        .args(["serve", "--memory", "--listen", &port])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("in use") && stderr.contains("--listen"),
        "{stderr}"
    );
}

#[tokio::test]
async fn users_token_gives_a_new_token_and_the_old_one_stops_working() {
    let dir = tempfile::tempdir().unwrap();
    let admin = start(dir.path(), &[], &[]);
    let old = admin.token().unwrap();
    admin.terminate();
    let out = run(dir.path(), &["users", "token", "1"]);
    let new = out
        .lines()
        .find_map(|l| l.split("(the old one no longer works): ").nth(1))
        .expect("a token was printed")
        .trim()
        .to_owned();
    let server = start(dir.path(), &[], &[]);
    assert_eq!(get(&server.base, "/v1/users/me", &new).await.0, 200);
    assert_eq!(get(&server.base, "/v1/users/me", &old).await.0, 401);
    server.terminate();
}

#[tokio::test]
async fn companies_profile_sets_what_users_me_says_of_the_company() {
    let dir = tempfile::tempdir().unwrap();
    let admin = start(dir.path(), &[], &[]);
    let token = admin.token().unwrap();
    let (_, me) = get(&admin.base, "/v1/users/me", &token).await;
    assert_eq!(me["data"]["company_country"], "US");
    assert_eq!(me["data"]["company_industry"], "Other");
    admin.terminate();
    run(
        dir.path(),
        &[
            "companies",
            "profile",
            "--country",
            "EE",
            "--industry",
            "IT Services",
        ],
    );
    let server = start(dir.path(), &[], &[]);
    let (_, me) = get(&server.base, "/v1/users/me", &token).await;
    assert_eq!(me["data"]["company_country"], "EE");
    assert_eq!(me["data"]["company_industry"], "IT Services");
    server.terminate();
}

#[tokio::test]
async fn serve_refuses_a_damaged_database_file_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[], &[]);
    let token = server.token().unwrap();
    for i in 0..200 {
        post(
            &server.base,
            "/v1/persons",
            &token,
            json!({"name": format!("Person {i}"), "email": format!("p{i}@example.com")}),
        )
        .await;
    }
    server.terminate();
    // Fold the write-ahead log in, then overwrite pages in the middle of the file.
    let db = dir.path().join("pipestack.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    let mut bytes = std::fs::read(&db).unwrap();
    let page = 4096;
    assert!(bytes.len() > 8 * page, "a file of several pages");
    for b in &mut bytes[3 * page..6 * page] {
        *b = 0xA5;
    }
    std::fs::write(&db, bytes).unwrap();
    let out = pipestack(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("damaged") || stderr.contains("malformed"),
        "{stderr}"
    );
}

#[tokio::test]
async fn serve_refuses_a_database_file_it_cannot_write_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    start(dir.path(), &[], &[]).terminate();
    let db = dir.path().join("pipestack.db");
    // Root writes whatever the permissions say: the immutable attribute stops even root.
    let locked = Command::new("chattr").arg("+i").arg(&db).status();
    if !locked.is_ok_and(|s| s.success()) {
        eprintln!("chattr +i is not available on this file system: this test cannot run here");
        return;
    }
    let out = pipestack(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    Command::new("chattr").arg("-i").arg(&db).status().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot write the database file"),
        "{stderr}"
    );
}

#[tokio::test]
async fn out_of_file_descriptors_the_server_backs_off_logs_little_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    // A hard limit of 64 open files, which the server cannot raise: 100 connections exhaust it.
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "ulimit -n 64 && exec {BIN} serve --listen 127.0.0.1:0 --api-token fd-test-token-1"
        ))
        .current_dir(dir.path())
        .env_remove("PIPESTACK_DATABASE")
        .env("PIPESTACK_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let base = BufReader::new(stdout)
        .lines()
        .find_map(|l| {
            l.unwrap()
                .trim()
                .strip_prefix("base URL: ")
                .map(|r| r.split("/v1").next().unwrap().to_owned())
        })
        .expect("the server printed its base URL");
    let addr = base.trim_start_matches("http://").to_owned();
    let held: Vec<std::net::TcpStream> = (0..100)
        .filter_map(|_| std::net::TcpStream::connect(&addr).ok())
        .collect();
    // The server runs out of descriptors accepting them, for a while.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    drop(held);
    let (status, _) = get(&base, "/v1/users/me", "fd-test-token-1").await;
    assert_eq!(
        status, 200,
        "the server serves again once descriptors are free"
    );
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    let failures = log.matches("accept failed").count();
    assert!(
        (1..=4).contains(&failures),
        "accept failures are logged, once a second at most: {failures} lines\n{log}"
    );
}
