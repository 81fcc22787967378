//! A webhook receiver for tests: a real HTTP server on 127.0.0.1:0 that records what it is
//! sent and answers as scripted (fail the next N requests, answer slowly). Shared by the
//! test crates that deliver webhooks, each using part of it.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use serde_json::Value;
use tokio::sync::Notify;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
    /// The status it was answered with.
    pub answered: u16,
}

#[derive(Default)]
struct Shared {
    got: Mutex<Vec<Received>>,
    /// Requests still to be answered 500.
    failing: Mutex<usize>,
    delay: Mutex<Duration>,
    arrived: Notify,
}

pub struct Receiver {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Receiver {
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0").await
    }

    /// A receiver on a given address (to come back on the same port after a restart).
    pub async fn start_on(addr: &str) -> Self {
        let shared = Arc::new(Shared::default());
        let s = shared.clone();
        let app = Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let s = s.clone();
            async move {
                let delay = *s.delay.lock().unwrap();
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                let status = {
                    let mut failing = s.failing.lock().unwrap();
                    if *failing > 0 {
                        *failing -= 1;
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::OK
                    }
                };
                let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
                s.got.lock().unwrap().push(Received {
                    path: uri.path().to_owned(),
                    headers,
                    body,
                    answered: status.as_u16(),
                });
                s.arrived.notify_waiters();
                status
            }
        });
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            url,
            shared,
            server,
        }
    }

    /// Answers the next `n` requests with a 500.
    pub fn fail_next(&self, n: usize) {
        *self.shared.failing.lock().unwrap() = n;
    }

    /// Answers every request only after `d`.
    pub fn delay(&self, d: Duration) {
        *self.shared.delay.lock().unwrap() = d;
    }

    /// Everything received so far, in order of arrival.
    pub fn received(&self) -> Vec<Received> {
        self.shared.got.lock().unwrap().clone()
    }

    /// What was received and answered 2xx on `path`.
    pub fn delivered(&self, path: &str) -> Vec<Value> {
        self.received()
            .into_iter()
            .filter(|r| r.path == path && r.answered < 300)
            .map(|r| r.body)
            .collect()
    }

    /// Waits for the next request to arrive, at most `within`.
    pub async fn next_arrival(&self, within: Duration) {
        let _ = tokio::time::timeout(within, self.shared.arrived.notified()).await;
    }

    /// Waits until `n` requests on `path` were answered 2xx (at most `within`), then returns
    /// their bodies; fails the test with what came when they do not.
    pub async fn wait_for(&self, path: &str, n: usize, within: Duration) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let arrived = self.shared.arrived.notified();
            let got = self.delivered(path);
            if got.len() >= n {
                return got;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                let got = self.delivered(path);
                assert!(
                    got.len() >= n,
                    "expected {n} deliveries on {path} within {within:?}, got {}: {got:#?}",
                    got.len()
                );
                return got;
            }
        }
    }
}
