#![allow(clippy::expect_used)]
//! The ceiling for the benchmarks: a minimal HTTP server (same stack as pipestack: tokio, hyper
//! through axum, pipestack's own accept loop) answering the benchmarked routes with fixed responses of the same size as
//! pipestack's, doing no work. Run by `bench/run.py`, which captures pipestack's responses first.
//!
//! Usage: pipestack-null-server ADDR DIR, where DIR holds `<name>.status` and `<name>.body`
//! files for the names below.

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

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let addr: SocketAddr = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
    let dir = args.next().unwrap_or_else(|| ".".into());
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
    let app = Router::new()
        .route("/v1/persons", post(c(0)).get(c(3)))
        .route("/api/v2/persons", post(c(1)).get(c(4)))
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
