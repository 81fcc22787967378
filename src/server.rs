//! The HTTP/1.1 server loop: accepts connections up to a cap, gives each the header and idle
//! timeouts, serves the router on it, and on shutdown stops accepting and lets in-flight
//! requests finish.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::response::IntoResponse;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::api::limits::Limits;
use crate::error::ApiError;

/// How long shutdown waits for in-flight requests before closing their connections.
const DRAIN: Duration = Duration::from_secs(30);

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
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let service = TowerToHyperService::new(app);
    let refusal = hyper::service::service_fn(|_req| async {
        Ok::<_, std::convert::Infallible>(
            ApiError::Unavailable("Too many connections: try again shortly".into()).into_response(),
        )
    });
    tokio::pin!(shutdown);
    loop {
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(stream);
        match slots.clone().try_acquire_owned() {
            Ok(slot) => {
                let conn = graceful.watch(builder.serve_connection(io, service.clone()));
                tokio::spawn(async move {
                    let _ = conn.await;
                    drop(slot);
                });
            }
            Err(_) => {
                tracing::warn!(
                    max_connections = limits.max_connections,
                    "connection refused: at the cap"
                );
                let conn = graceful.watch(refuse.serve_connection(io, refusal));
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(Duration::from_secs(5), conn).await;
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
