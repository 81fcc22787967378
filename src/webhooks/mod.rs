//! The dispatcher: delivers the events changes wrote to the outbox, in the background.
//!
//! A change writes its event in its own transaction (`store::sql::webhooks`); nothing here is
//! on a request's path. The dispatcher turns each event into one delivery per webhook that
//! wants it and whose user may see the object, rendered for that webhook (deleting the event
//! in the same transaction), then sends the due deliveries: each the oldest left of its
//! webhook and object, so one object's events arrive in order. An attempt is leased for longer
//! than it may take, so that a dying instance's deliveries are taken up again by another (or
//! by itself after a restart), and two instances on one PostgreSQL never send the same
//! delivery at once. Pipedrive's policy: 10 s per attempt, any 2xx is success, three retries
//! (3, 30 and 150 s later by default), bans and removal as [`crate::domain::webhook`] says.

pub mod payload;
pub mod target;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::domain::ports::{Delivery, Outcome, Store};
use crate::domain::webhook::{Attempt, StoredEvent, Version, Webhook};
use crate::domain::{Fields, Session};
use payload::{Envelope, Object};
pub use target::Allow;

/// How deliveries are made.
#[derive(Debug, Clone)]
pub struct Config {
    /// The waits before the retries of a failed delivery (Pipedrive's: 3, 30 and 150 s).
    pub retry_delays: Vec<Duration>,
    /// Where deliveries may go (`--webhook-allow`).
    pub allow: Allow,
    /// How long an attempt may take (Pipedrive's: 10 s).
    pub timeout: Duration,
    /// How often the outbox is looked at when no write of this instance wakes the dispatcher
    /// (other instances' events, retries coming due).
    pub poll: Duration,
    /// How long the dispatcher waits, once a write wakes it, for more events to make
    /// deliveries of together (the delay this adds to a delivery).
    pub linger: Duration,
    /// Most deliveries in flight at once.
    pub concurrency: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            retry_delays: [3, 30, 150].map(Duration::from_secs).to_vec(),
            allow: Allow::default(),
            timeout: Duration::from_secs(10),
            poll: Duration::from_millis(200),
            linger: Duration::from_millis(20),
            concurrency: 32,
        }
    }
}

impl Config {
    /// Parses `--webhook-retry-delays`: seconds, comma-separated (fractions allowed).
    pub fn parse_delays(arg: &str) -> Result<Vec<Duration>, String> {
        arg.split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                s.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|d| d.is_finite() && *d >= 0.0 && *d <= 86_400.0)
                    .map(Duration::from_secs_f64)
                    .ok_or_else(|| {
                        format!(
                            "--webhook-retry-delays: {s:?} is not a number of seconds (0 to 86400)"
                        )
                    })
            })
            .collect()
    }

    /// How long a claimed delivery stays leased: past the attempt's timeout, so that only a
    /// dead instance's lease runs out.
    fn lease(&self) -> Duration {
        self.timeout + Duration::from_secs(5)
    }
}

/// Events made into deliveries at a time.
const EXPAND: i64 = 100;

/// Starts the dispatcher; it runs until the handle is aborted.
pub fn spawn(store: Arc<dyn Store>, config: Config) -> JoinHandle<()> {
    tokio::spawn(async move {
        let dispatcher = Dispatcher::new(store, config);
        dispatcher.run().await;
    })
}

struct Dispatcher {
    store: Arc<dyn Store>,
    config: Arc<Config>,
    client: reqwest::Client,
    permits: Arc<Semaphore>,
}

impl Dispatcher {
    fn new(store: Arc<dyn Store>, config: Config) -> Self {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("Pipedrive-Webhook")
            .build()
            .unwrap_or_default();
        Self {
            permits: Arc::new(Semaphore::new(config.concurrency.max(1))),
            store,
            config: Arc::new(config),
            client,
        }
    }

    async fn run(&self) {
        let signal = self.store.outbox_signal();
        loop {
            if let Err(e) = self.send_due().await {
                tracing::warn!(error = %e, "webhooks: claiming deliveries failed; will retry");
            }
            tokio::select! {
                // Woken by a write: wait a moment for the writes that follow it, so that one
                // claim takes the deliveries of many events.
                () = signal.notified() => tokio::time::sleep(self.config.linger).await,
                () = tokio::time::sleep(self.config.poll) => {}
            }
        }
    }

    /// Claims the due deliveries there are free hands for and sends each in its own task.
    async fn send_due(&self) -> Result<(), String> {
        let free = self.permits.available_permits() as i64;
        if free == 0 {
            return Ok(());
        }
        let now = now_ms();
        let lease = now + self.config.lease().as_millis() as i64;
        let mut due = self
            .store
            .claim_deliveries(now, lease, free)
            .await
            .map_err(|e| e.to_string())?;
        // Events are made into deliveries only when there are hands to send them: a slow
        // receiver leaves its events as one row each, not one per webhook.
        if (due.len() as i64) < free
            && self
                .store
                .expand_events(EXPAND)
                .await
                .map_err(|e| e.to_string())?
                > 0
        {
            let more = free - due.len() as i64;
            due.extend(
                self.store
                    .claim_deliveries(now, lease, more)
                    .await
                    .map_err(|e| e.to_string())?,
            );
        }
        for d in due {
            let Ok(permit) = self.permits.clone().acquire_owned().await else {
                return Ok(());
            };
            let (store, config, client) =
                (self.store.clone(), self.config.clone(), self.client.clone());
            tokio::spawn(async move {
                // Whatever happens, the attempt ends before its lease does, and counts.
                let limit = config.timeout + Duration::from_secs(2);
                let outcome = match tokio::time::timeout(
                    limit,
                    deliver(store.as_ref(), &client, &config, &d),
                )
                .await
                {
                    Ok(Ok(outcome)) => outcome,
                    Ok(Err(e)) => failed(&config, &d, e),
                    Err(_) => failed(&config, &d, "timed out".into()),
                };
                if let Err(e) = store.finish_delivery(outcome).await {
                    tracing::warn!(error = %e, delivery = d.id, "webhooks: recording an attempt failed; it is tried again when its lease runs out");
                }
                drop(permit);
                store.outbox_signal().notify_one();
            });
        }
        Ok(())
    }
}

/// Renders a delivery for its webhook's user and sends it, unless that user may not see the
/// object (then it is dropped, unsent).
async fn deliver(
    store: &dyn Store,
    client: &reqwest::Client,
    config: &Config,
    d: &Delivery,
) -> Result<Outcome, String> {
    let err = |e: crate::error::ApiError| e.to_string();
    let (stored, w) = (&d.event, &d.webhook);
    let e = &stored.event;
    let dropped = Outcome {
        delivery_id: d.id,
        webhook_id: w.id,
        event_id: stored.id,
        attempt: None,
        retry_at_ms: None,
    };
    let company = store
        .company(e.company_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the company is gone")?;
    let sessions: Vec<Session> = store
        .users(e.company_id)
        .await
        .map_err(|e| e.to_string())?
        .iter()
        .filter(|u| u.active)
        .map(|u| Session {
            company: company.clone(),
            user: u.clone(),
            source: Default::default(),
        })
        .collect();
    let Some(session) = sessions.iter().find(|s| s.user.id == w.user_id) else {
        return Ok(dropped);
    };
    let snapshot = |v: &Option<String>| {
        v.as_deref()
            .map(|v| Object::from_snapshot(e.object, v))
            .transpose()
    };
    let (current, previous) = (snapshot(&e.current)?, snapshot(&e.previous)?);
    let Some(object) = current.as_ref().or(previous.as_ref()) else {
        return Ok(dropped);
    };
    let mut permitted = Vec::new();
    for s in &sessions {
        if object.visible_to(store, s).await.map_err(err)? {
            permitted.push(s.user.id);
        }
    }
    if !permitted.contains(&w.user_id) {
        return Ok(dropped);
    }
    let (cur, prev) = match w.version {
        Version::V1 => (
            render_v1(store, current.as_ref(), session)
                .await
                .map_err(err)?,
            render_v1(store, previous.as_ref(), session)
                .await
                .map_err(err)?,
        ),
        Version::V2 => {
            let fields = match object.kind() {
                Some(kind) => Fields::load(store, kind, e.company_id)
                    .await
                    .map_err(|e| e.to_string())?,
                // Activities and notes have no custom fields in pipestack.
                None => Fields {
                    kind: crate::domain::Kind::Person,
                    defs: Arc::from([]),
                },
            };
            let cur = current.as_ref().map(|o| o.v2(&fields));
            let prev = previous.as_ref().map(|o| o.v2(&fields));
            let prev = match (&cur, prev) {
                (Some(c), Some(p)) => Some(payload::changed_keys(&p, c)),
                (_, p) => p,
            };
            (cur, prev)
        }
    };
    let number = d.attempts + 1;
    let envelope = Envelope {
        event: stored,
        webhook: w,
        session,
        permitted: &permitted,
        delivery_id: d.id,
        attempt: number,
    };
    let body = payload::body(&envelope, cur, prev).to_string();
    let attempt = send(client, config, w, body, number, stored).await;
    Ok(outcome(config, d, attempt))
}

/// An attempt's outcome: done when it succeeded or was the last, else due again after the
/// next of the retry delays.
fn outcome(config: &Config, d: &Delivery, attempt: Attempt) -> Outcome {
    let retry_at_ms = match config.retry_delays.get(attempt.attempt as usize - 1) {
        Some(delay) if !attempt.succeeded() => Some(now_ms() + delay.as_millis() as i64),
        _ => None,
    };
    Outcome {
        delivery_id: d.id,
        webhook_id: d.webhook.id,
        event_id: d.event.id,
        attempt: Some(attempt),
        retry_at_ms,
    }
}

/// An attempt that could not be made (its body could not be rendered, or it took too long):
/// a failure like any other, logged with why.
fn failed(config: &Config, d: &Delivery, error: String) -> Outcome {
    let e = &d.event.event;
    let attempt = Attempt {
        id: 0,
        event: format!("{}.{}", e.action.v1(), e.object),
        object_id: e.object_id,
        attempt: d.attempts + 1,
        time_ms: now_ms(),
        http_status: None,
        latency_ms: 0,
        error: Some(error),
    };
    outcome(config, d, attempt)
}

async fn render_v1(
    store: &dyn Store,
    o: Option<&Object>,
    session: &Session,
) -> Result<Option<serde_json::Value>, crate::error::ApiError> {
    match o {
        Some(o) => o.v1(store, session).await.map(Some),
        None => Ok(None),
    }
}

/// Sends a body once: how it went.
async fn send(
    client: &reqwest::Client,
    config: &Config,
    w: &Webhook,
    body: String,
    number: i64,
    stored: &StoredEvent,
) -> Attempt {
    let started = Instant::now();
    let time_ms = now_ms();
    let result = match config.allow.check(&w.subscription_url).await {
        Err(refused) => Err(refused),
        Ok(()) => {
            let mut request = client
                .post(&w.subscription_url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
            if let Some(user) = &w.http_auth_user {
                request = request.basic_auth(user, w.http_auth_password.as_ref());
            }
            request
                .send()
                .await
                .map(|r| r.status().as_u16())
                .map_err(|e| describe(&e))
        }
    };
    let (http_status, error) = match result {
        Ok(status) => (Some(i64::from(status)), None),
        Err(e) => (None, Some(e)),
    };
    let e = &stored.event;
    Attempt {
        id: 0,
        event: format!("{}.{}", e.action.v1(), e.object),
        object_id: e.object_id,
        attempt: number,
        time_ms,
        http_status,
        latency_ms: started.elapsed().as_millis() as i64,
        error,
    }
}

/// An attempt's failure in a few words.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        let mut msg = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            msg = format!("{msg}: {s}");
            source = s.source();
        }
        msg
    }
}

fn now_ms() -> i64 {
    let ns = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    i64::try_from(ns / 1_000_000).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_are_seconds_with_fractions() {
        let d = Config::parse_delays("3,30,150").unwrap();
        assert_eq!(d, [3, 30, 150].map(Duration::from_secs).to_vec());
        let d = Config::parse_delays("0.05, 0.1").unwrap();
        assert_eq!(
            d,
            vec![Duration::from_millis(50), Duration::from_millis(100)]
        );
        assert!(Config::parse_delays("3,soon").is_err());
        assert!(Config::parse_delays("-1").is_err());
    }
}
