#![allow(clippy::expect_used)]
//! The ceiling for the benchmarks: a minimal HTTP server (same stack as pipestack: tokio, hyper
//! through axum, pipestack's own accept loop) answering the benchmarked routes with fixed responses of the same size as
//! pipestack's, doing no work. Run by `bench/run.py`, which captures pipestack's responses first.
//!
//! Usage: pipestack-null-server ADDR DIR [FLOOR], where DIR holds `<name>.status` and
//! `<name>.body` files for the names below.
//!
//! With FLOOR (a file path) the two POST routes become the *durable floor*: each request's
//! body is inserted as one row of one table (no index) in the SQLite file FLOOR (WAL,
//! `synchronous=FULL`) by one writer thread that commits whatever has queued meanwhile as one
//! transaction, and is answered after that commit, as pipestack's writes are. It is what any
//! durable write costs on this stack and this machine, with nothing of a person's own work.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

#[derive(Clone)]
struct Canned {
    status: StatusCode,
    body: Bytes,
}

impl IntoResponse for Canned {
    fn into_response(self) -> Response {
        (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            self.body,
        )
            .into_response()
    }
}

fn load(dir: &str, name: &str) -> Canned {
    let status = std::fs::read_to_string(format!("{dir}/{name}.status"))
        .ok()
        .and_then(|s| s.trim().parse::<u16>().ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let body = std::fs::read(format!("{dir}/{name}.body")).unwrap_or_default();
    Canned {
        status,
        body: Bytes::from(body),
    }
}

/// A body and whom to tell once it is committed.
type Queued = (Bytes, tokio::sync::oneshot::Sender<()>);

/// The durable floor's writer: group commits of whatever has queued, until the senders go.
fn floor_writer(path: &str, jobs: &std::sync::mpsc::Receiver<Queued>) {
    let mut db = rusqlite::Connection::open(path).expect("open the floor's file");
    db.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
         CREATE TABLE IF NOT EXISTS bodies (id INTEGER PRIMARY KEY, body BLOB NOT NULL);",
    )
    .expect("set up the floor's file");
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        batch.extend(jobs.try_iter());
        let tx = db.transaction().expect("begin");
        {
            let mut insert = tx
                .prepare_cached("INSERT INTO bodies (body) VALUES (?)")
                .expect("prepare");
            for (body, _) in &batch {
                insert.execute([body.as_ref()]).expect("insert");
            }
        }
        tx.commit().expect("commit");
        for (_, done) in batch {
            let _ = done.send(());
        }
    }
}

/// The two POST routes' handler on the durable floor: answers `canned` once the body is
/// committed.
fn floor_route(
    jobs: std::sync::mpsc::Sender<Queued>,
    canned: Canned,
) -> axum::routing::MethodRouter {
    post(move |body: Bytes| {
        let (jobs, canned) = (jobs.clone(), canned.clone());
        async move {
            let (done, committed) = tokio::sync::oneshot::channel();
            jobs.send((body, done)).expect("the floor's writer is gone");
            committed.await.expect("the floor's writer is gone");
            canned
        }
    })
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let addr: SocketAddr = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
    let dir = args.next().unwrap_or_else(|| ".".into());
    let floor = args.next();
    let r = Arc::new(
        [
            "post_v1_person",
            "post_v2_person",
            "get_v1_person",
            "list_v1",
            "list_v2",
            "search_v2",
            "search_v2_exact",
        ]
        .map(|n| load(&dir, n)),
    );
    let c = |i: usize| {
        let r = r.clone();
        move || {
            let canned = r[i].clone();
            async move { canned }
        }
    };
    let (v1_post, v2_post) = match floor {
        Some(path) => {
            let (jobs, queue) = std::sync::mpsc::channel();
            std::thread::spawn(move || floor_writer(&path, &queue));
            (
                floor_route(jobs.clone(), r[0].clone()),
                floor_route(jobs, r[1].clone()),
            )
        }
        None => (post(c(0)), post(c(1))),
    };
    let app = Router::new()
        .route("/v1/persons", v1_post.get(c(3)))
        .route("/api/v2/persons", v2_post.get(c(4)))
        .route("/v1/persons/{id}", get(c(2)))
        .route(
            "/api/v2/persons/search",
            get({
                let (sub, exact) = (r[5].clone(), r[6].clone());
                move |q: axum::extract::RawQuery| {
                    let pick = if q.0.unwrap_or_default().contains("exact_match=true") {
                        exact.clone()
                    } else {
                        sub.clone()
                    };
                    async move { pick }
                }
            }),
        )
        .route("/v1/users/me", get(c(2)));
    let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
    println!("listening on {}", listener.local_addr().expect("addr"));
    let limits = pipestack::api::limits::Limits::default();
    pipestack::server::run(listener, app, &limits, std::future::pending())
        .await
        .expect("serve");
}
