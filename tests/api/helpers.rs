//! The test harness: the real router on 127.0.0.1:0 over a fresh SQLite file per test.

use std::sync::Arc;

use pipestack::AppState;
use pipestack::api::Options;
use pipestack::domain::{Company, FieldOption, Fields, Kind, User};
use pipestack::setup::{self, Bootstrap};
use pipestack::store::{self, Store};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct TestApp {
    pub base: String,
    pub token: String,
    pub company: Company,
    pub admin: User,
    pub store: Arc<dyn Store>,
    /// The database URL: a fresh SQLite file, or (with `PIPESTACK_TEST_DATABASE=postgres://…`)
    /// a fresh PostgreSQL database.
    pub db_url: String,
    client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
    _dir: Option<tempfile::TempDir>,
}

/// A user and its API token (which the store keeps only as a digest).
pub type TestUser = setup::Issued;

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Resp {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// A followers changelog answer's entries as (action, follower, actor).
    pub fn follower_changes(&self) -> Vec<(String, i64, i64)> {
        self.data()
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["action"].as_str().unwrap().to_owned(),
                    c["follower_user_id"].as_i64().unwrap(),
                    c["actor_user_id"].as_i64().unwrap(),
                )
            })
            .collect()
    }

    /// Asserts Pipedrive's error envelope with this status and an `error` containing `needle`.
    #[track_caller]
    pub fn assert_error(&self, status: u16, needle: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.body["success"], false, "body: {}", self.body);
        let error = self.body["error"].as_str().unwrap_or_default();
        assert!(
            error.contains(needle),
            "error {error:?} should contain {needle:?}"
        );
        assert_eq!(self.body["data"], Value::Null);
        assert!(self.body.get("error_info").is_some());
        assert!(
            self.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
    }
}

impl TestApp {
    /// A server on a fresh database: a SQLite file, or a new PostgreSQL database when
    /// `PIPESTACK_TEST_DATABASE` names a PostgreSQL server (the same suite runs on both).
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// A fresh server whose options (limits, rate limiter) `configure` adjusts.
    pub async fn spawn_with(configure: impl FnOnce(&mut Options)) -> Self {
        if let Ok(base) = std::env::var("PIPESTACK_TEST_DATABASE")
            && base.starts_with("postgres")
        {
            return Self::spawn_url_with(fresh_postgres(&base).await, configure).await;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pipestack.db");
        let mut app = Self::spawn_url_with(format!("sqlite://{}", path.display()), configure).await;
        app._dir = Some(dir);
        app
    }

    /// A server again on the database at `url`, its admin keeping the token it had.
    pub async fn restart(url: String, token: &str) -> Self {
        Self::start(url, token.to_owned(), |_| {}).await
    }

    pub async fn spawn_url_with(url: String, configure: impl FnOnce(&mut Options)) -> Self {
        // A token of this server's own: on a database that exists already, the admin is given
        // it, as `--api-token` does.
        let token = pipestack::domain::random_hex40().unwrap();
        Self::start(url, token, configure).await
    }

    /// Like [`Self::restart`], with options.
    pub async fn start_with(
        url: String,
        token: &str,
        configure: impl FnOnce(&mut Options),
    ) -> Self {
        Self::start(url, token.to_owned(), configure).await
    }

    async fn start(url: String, token: String, configure: impl FnOnce(&mut Options)) -> Self {
        let store = store::open(&url).await.unwrap();
        let (company, admin) = match setup::bootstrap(store.as_ref(), Some(&token))
            .await
            .unwrap()
        {
            Bootstrap::Created { company, admin } => (company, admin.user),
            Bootstrap::Existing { company, admin, .. } => (company, admin),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        let mut options = Options::default();
        configure(&mut options);
        let state = AppState::with_options(store.clone(), options);
        let server = tokio::spawn(pipestack::serve_state(listener, state, async {
            let _ = rx.await;
        }));
        Self {
            base,
            token,
            company,
            admin,
            store,
            db_url: url,
            client: reqwest::Client::new(),
            shutdown: Some(tx),
            server: Some(server),
            _dir: None,
        }
    }

    /// Stops the server gracefully; returns the temp dir so the file outlives the server.
    pub async fn stop(mut self) -> Option<tempfile::TempDir> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
        self._dir.take()
    }

    /// Any request; `body` is sent as JSON when given.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Resp {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.header("x-api-token", t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        read(req.send().await.unwrap()).await
    }

    /// A request with a raw body and content type.
    pub async fn raw(&self, method: Method, path: &str, content_type: &str, body: Vec<u8>) -> Resp {
        let req = self
            .client
            .request(method, format!("{}{}", self.base, path))
            .header("x-api-token", &self.token)
            .header("content-type", content_type)
            .body(body);
        read(req.send().await.unwrap()).await
    }

    /// A request with a raw body, as another user.
    pub async fn raw_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Resp {
        let req = self
            .client
            .request(method, format!("{}{}", self.base, path))
            .header("x-api-token", token)
            .header("content-type", content_type)
            .body(body);
        read(req.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.call(Method::GET, path, Some(&self.token), None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.call(Method::POST, path, Some(&self.token), Some(body))
            .await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Resp {
        self.call(Method::PUT, path, Some(&self.token), Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Resp {
        self.call(Method::PATCH, path, Some(&self.token), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.call(Method::DELETE, path, Some(&self.token), None)
            .await
    }

    /// Adds a person through v2 and returns its data, asserting 200.
    pub async fn add_person_v2(&self, body: Value) -> Value {
        let r = self.post("/api/v2/persons", &body).await;
        assert_eq!(r.status, StatusCode::OK, "body: {}", r.body);
        r.body["data"].clone()
    }

    pub async fn get_as(&self, token: &str, path: &str) -> Resp {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post_as(&self, token: &str, path: &str, body: &Value) -> Resp {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    /// Adds a person through v1 and returns its data, asserting 201.
    pub async fn add_person(&self, body: Value) -> Value {
        let r = self.post("/v1/persons", &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "body: {}", r.body);
        r.body["data"].clone()
    }

    /// Adds an organization through v1 and returns its id.
    pub async fn add_org(&self, name: &str) -> i64 {
        let r = self
            .post("/v1/organizations", &serde_json::json!({"name": name}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "body: {}", r.body);
        r.body["data"]["id"].as_i64().unwrap()
    }

    /// Adds a (non-admin) user of the test company, `<name>@example.com`.
    pub async fn add_user(&self, name: &str) -> TestUser {
        setup::add_user(
            self.store.as_ref(),
            self.company.id,
            name,
            &format!("{}@example.com", name.to_lowercase()),
        )
        .await
        .unwrap()
    }

    /// The labels of a kind of a company: the options of its label field.
    pub async fn labels_of(&self, company_id: i64, kind: Kind) -> Vec<FieldOption> {
        Fields::load(self.store.as_ref(), kind, company_id)
            .await
            .unwrap()
            .labels()
            .to_vec()
    }

    /// Rows in a table, read straight from the database.
    /// Runs a statement on the test's database directly (either engine).
    pub async fn execute_sql(&self, sql: &str) {
        if let Some(path) = self.db_url.strip_prefix("sqlite://") {
            rusqlite::Connection::open(path)
                .unwrap()
                .execute(sql, [])
                .unwrap();
            return;
        }
        let (client, conn) = tokio_postgres::connect(&self.db_url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client.execute(sql, &[]).await.unwrap();
    }

    pub async fn count_rows(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        if let Some(path) = self.db_url.strip_prefix("sqlite://") {
            let conn = rusqlite::Connection::open(path).unwrap();
            return conn.query_row(&sql, [], |r| r.get(0)).unwrap();
        }
        let (client, conn) = tokio_postgres::connect(&self.db_url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client.query_one(&sql, &[]).await.unwrap().get(0)
    }

    /// Sends two requests released together: each waits on its own task at a barrier, so
    /// that both reach the server at the same moment and race there.
    pub async fn race(
        &self,
        a: (Method, String, Option<Value>),
        b: (Method, String, Option<Value>),
    ) -> (Resp, Resp) {
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let send = |(method, path, body): (Method, String, Option<Value>)| {
            let barrier = barrier.clone();
            let mut req = self
                .client
                .request(method, format!("{}{}", self.base, path))
                .header("x-api-token", &self.token);
            if let Some(b) = body {
                req = req.json(&b);
            }
            tokio::spawn(async move {
                barrier.wait().await;
                read(req.send().await.unwrap()).await
            })
        };
        let (a, b) = (send(a), send(b));
        (a.await.unwrap(), b.await.unwrap())
    }

    /// A second company with its own admin.
    pub async fn other_company(&self, name: &str) -> (Company, TestUser) {
        let (company, admin) = setup::add_company(self.store.as_ref(), name, None)
            .await
            .unwrap();
        (company, admin)
    }
}

/// Creates a new, empty database on the PostgreSQL server `base` names; returns its URL.
async fn fresh_postgres(base: &str) -> String {
    let (client, conn) = tokio_postgres::connect(base, tokio_postgres::NoTls)
        .await
        .expect("PIPESTACK_TEST_DATABASE names a reachable PostgreSQL server");
    tokio::spawn(conn);
    let name = format!(
        "pipestack_test_{}",
        &pipestack::domain::random_hex40().unwrap()[..16]
    );
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let (server, _) = base.rsplit_once('/').expect("a URL with a database name");
    let query = base
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{server}/{name}{query}")
}

async fn read(res: reqwest::Response) -> Resp {
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.bytes().await.unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
        panic!(
            "response is not JSON ({status}): {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    Resp {
        status,
        headers,
        body,
    }
}
