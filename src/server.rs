//! The HTTP/1.1 server loop: accepts connections up to a cap (in all, and per client address),
//! gives each the header and idle timeouts, serves the router on it, and on shutdown stops
//! accepting and lets in-flight requests finish.
//!
//! No client can starve the others. When a new connection finds the server at a cap, the
//! connection that has kept the server waiting longest (idle between requests, trickling its
//! request head, or stalling its body) is closed to make room, provided it has waited at least
//! `Limits::evict_after` (250 ms); one whose request the server is working on is never closed. Only when no
//! connection can make room does the newcomer get a 503, and even then `/healthz` and
//! `/readyz` are answered. Accept errors (out of file descriptors) back off instead of
//! spinning, and are logged once a second at most.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use hyper::body::{Body as _, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use crate::api::CloseConnection;
use crate::api::limits::Limits;
use crate::error::ApiError;

/// How long shutdown waits for in-flight requests before closing their connections.
const DRAIN: Duration = Duration::from_secs(30);
/// How long a newcomer waits for the room an eviction makes.
const ROOM_WAIT: Duration = Duration::from_millis(200);

/// Serves `app` on `listener` until `shutdown` resolves.
pub async fn run(
    listener: TcpListener,
    app: Router,
    limits: &Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.idle_timeout)
        // The router answers 431 in the envelope up to `max_headers`; hyper's own bare 431
        // only past twice that.
        .max_headers(limits.max_headers.saturating_mul(2).max(1));
    let mut refuse = builder.clone();
    refuse.keep_alive(false);
    let registry = Arc::new(Registry::new(limits));
    let graceful = GracefulShutdown::new();
    let service = TowerToHyperService::new(app);
    let mut backoff = Backoff::default();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    backoff.failed(&e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        backoff.reset();
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(stream);
        let addr = peer.ip();
        match registry.admit(addr).await {
            Some(slot) => {
                let conn = registry.open(addr);
                let service = Tracked {
                    app: service.clone(),
                    conn: conn.clone(),
                };
                let serving = graceful.watch(builder.serve_connection(io, service));
                let registry = registry.clone();
                tokio::spawn(async move {
                    tokio::select! {
                        _ = serving => {}
                        () = conn.evicted.notified() => {}
                    }
                    registry.close(&conn);
                    drop(slot);
                });
            }
            None => {
                tracing::warn!(%addr, "connection refused: at the cap, none to close");
                let service = AtCap {
                    app: service.clone(),
                };
                let serving = graceful.watch(refuse.serve_connection(io, service));
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(Duration::from_secs(5), serving).await;
                });
            }
        }
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("shutdown: connections still open after {DRAIN:?}, closing them");
    }
    Ok(())
}

/// Raises this process's soft limit of open files to its hard limit (each connection holds
/// one), and says what it is.
pub fn raise_open_files_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => Some(n),
        Err(e) => {
            tracing::warn!(error = %e, "cannot raise the open files limit");
            None
        }
    }
}

/// Accept failures: waits longer after each (10 ms to 1 s) and logs once a second at most.
#[derive(Default)]
struct Backoff {
    wait: Duration,
    failures: u64,
    last_log: Option<Instant>,
}

impl Backoff {
    async fn failed(&mut self, e: &std::io::Error) {
        self.failures += 1;
        if self
            .last_log
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(1))
        {
            tracing::warn!(error = %e, failures = self.failures, "accept failed; backing off");
            self.last_log = Some(Instant::now());
            self.failures = 0;
        }
        self.wait = (self.wait * 2).clamp(Duration::from_millis(10), Duration::from_secs(1));
        tokio::time::sleep(self.wait).await;
    }

    fn reset(&mut self) {
        self.wait = Duration::ZERO;
    }
}

/// A served connection, as far as making room goes.
pub struct Conn {
    id: u64,
    addr: IpAddr,
    /// The registry's clock.
    started: Instant,
    /// Set when the connection is closed to make room.
    evicted: Notify,
    /// Milliseconds since the registry started at which the server began waiting on the
    /// client (the connection opened, or its last response was sent, or its request began with
    /// a body still to come); `u64::MAX` while the server is working on its request.
    waiting_since: AtomicU64,
}

const WORKING: u64 = u64::MAX;

impl Conn {
    /// From now on the server waits on the client.
    fn waits(&self) {
        let now = self.started.elapsed().as_millis() as u64;
        self.waiting_since.store(now, Ordering::Relaxed);
    }

    /// From now on the server works on the client's request.
    fn works(&self) {
        self.waiting_since.store(WORKING, Ordering::Relaxed);
    }
}

/// Every served connection, the caps, and who may be closed to make room.
struct Registry {
    started: Instant,
    slots: Arc<Semaphore>,
    per_address: usize,
    evict_after: Duration,
    next_id: AtomicU64,
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
}

impl Registry {
    fn new(limits: &Limits) -> Self {
        Self {
            started: Instant::now(),
            slots: Arc::new(Semaphore::new(limits.max_connections)),
            per_address: limits.max_connections_per_address.max(1),
            evict_after: limits.evict_after,
            next_id: AtomicU64::new(0),
            conns: Mutex::new(HashMap::new()),
        }
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn count_of(&self, addr: IpAddr) -> usize {
        self.conns
            .lock()
            .map(|c| c.values().filter(|x| x.addr == addr).count())
            .unwrap_or(0)
    }

    /// A slot for a new connection from `addr`, making room if the server is at a cap.
    async fn admit(&self, addr: IpAddr) -> Option<OwnedSemaphorePermit> {
        if self.count_of(addr) >= self.per_address && !self.evict(Some(addr)) {
            return None;
        }
        if let Ok(slot) = self.slots.clone().try_acquire_owned() {
            return Some(slot);
        }
        if !self.evict(None) {
            return None;
        }
        tokio::time::timeout(ROOM_WAIT, self.slots.clone().acquire_owned())
            .await
            .ok()?
            .ok()
    }

    /// Closes the connection (of `addr`, or any) that has kept the server waiting longest, if
    /// one has for `evict_after` or more.
    fn evict(&self, addr: Option<IpAddr>) -> bool {
        let now = self.now_ms();
        let grace = self.evict_after.as_millis() as u64;
        let Ok(mut conns) = self.conns.lock() else {
            return false;
        };
        let victim = conns
            .values()
            .filter(|c| addr.is_none_or(|a| c.addr == a))
            .filter_map(|c| {
                let since = c.waiting_since.load(Ordering::Relaxed);
                (since != WORKING && now.saturating_sub(since) >= grace).then_some((since, c.id))
            })
            .min();
        let Some((_, id)) = victim else { return false };
        if let Some(conn) = conns.remove(&id) {
            conn.evicted.notify_one();
            tracing::debug!(addr = %conn.addr, "closed a waiting connection to make room");
        }
        true
    }

    fn open(&self, addr: IpAddr) -> Arc<Conn> {
        let conn = Arc::new(Conn {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            addr,
            started: self.started,
            evicted: Notify::new(),
            waiting_since: AtomicU64::new(self.now_ms()),
        });
        if let Ok(mut conns) = self.conns.lock() {
            conns.insert(conn.id, conn.clone());
        }
        conn
    }

    fn close(&self, conn: &Conn) {
        if let Ok(mut conns) = self.conns.lock() {
            conns.remove(&conn.id);
        }
    }
}

/// The router on one connection, telling the registry when the server waits on the client.
#[derive(Clone)]
struct Tracked {
    app: TowerToHyperService<Router>,
    conn: Arc<Conn>,
}

/// What makes hyper close a connection without an answer.
type Closed = Box<dyn std::error::Error + Send + Sync>;

impl hyper::service::Service<hyper::Request<Incoming>> for Tracked {
    type Response = Response;
    type Error = Closed;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Self::Error>> + Send>>;

    fn call(&self, req: hyper::Request<Incoming>) -> Self::Future {
        // The head is in: the server works on the request, unless a body is still to come,
        // which keeps the server waiting on the client until it is read.
        let conn = self.conn.clone();
        let body_pending = !req.body().is_end_stream();
        if body_pending {
            conn.waits();
        } else {
            conn.works();
        }
        let (parts, body) = req.into_parts();
        let body = BodyWatch {
            inner: body,
            conn: conn.clone(),
            done: !body_pending,
        };
        let answer = self.app.call(hyper::Request::from_parts(parts, body));
        Box::pin(async move {
            let response = answer.await;
            conn.waits();
            match response {
                Ok(r) if r.extensions().get::<CloseConnection>().is_some() => {
                    Err("closed by an injected fault".into())
                }
                Ok(r) => Ok(r),
                Err(never) => match never {},
            }
        })
    }
}

/// A request body that tells its connection when the client has sent all of it.
struct BodyWatch {
    inner: Incoming,
    conn: Arc<Conn>,
    done: bool,
}

impl hyper::body::Body for BodyWatch {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if !self.done && (matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream()) {
            self.done = true;
            self.conn.works();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A connection past the caps with none to close: `/healthz` and `/readyz` are answered as
/// ever (a load balancer must see the server alive), everything else gets a 503.
#[derive(Clone)]
struct AtCap {
    app: TowerToHyperService<Router>,
}

impl hyper::service::Service<hyper::Request<Incoming>> for AtCap {
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Self::Error>> + Send>>;

    fn call(&self, req: hyper::Request<Incoming>) -> Self::Future {
        if matches!(req.uri().path(), "/healthz" | "/readyz") {
            return Box::pin(self.app.call(req));
        }
        Box::pin(async {
            Ok(
                ApiError::Unavailable("Too many connections: try again shortly".into())
                    .into_response(),
            )
        })
    }
}
