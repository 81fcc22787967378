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

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::domain::ports::{Delivery, NewDelivery, Outcome, Store};
use crate::domain::webhook::{Attempt, StoredEvent, Version, Webhook};
use crate::domain::{Fields, Session, Timestamp};
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

/// Events made into deliveries per transaction.
const BATCH: i64 = 200;

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
            if let Err(e) = self.fan_out().await {
                tracing::warn!(error = %e, "webhooks: making deliveries failed; will retry");
            }
            if let Err(e) = self.send_due().await {
                tracing::warn!(error = %e, "webhooks: claiming deliveries failed; will retry");
            }
            tokio::select! {
                () = signal.notified() => {}
                () = tokio::time::sleep(self.config.poll) => {}
            }
        }
    }

    /// Makes deliveries of the pending events, a batch at a time.
    async fn fan_out(&self) -> Result<(), String> {
        loop {
            let events = self
                .store
                .pending_events(BATCH)
                .await
                .map_err(|e| e.to_string())?;
            if events.is_empty() {
                return Ok(());
            }
            let full = events.len() as i64 == BATCH;
            let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
            let mut deliveries = Vec::new();
            let mut companies: HashMap<i64, Company> = HashMap::new();
            for e in &events {
                let company_id = e.event.company_id;
                let company = match companies.entry(company_id) {
                    Entry::Occupied(known) => known.into_mut(),
                    Entry::Vacant(slot) => {
                        slot.insert(Company::load(self.store.as_ref(), company_id).await?)
                    }
                };
                self.deliveries_of(company, e, &mut deliveries).await?;
            }
            self.store
                .fan_out(ids, deliveries)
                .await
                .map_err(|e| e.to_string())?;
            if !full {
                return Ok(());
            }
        }
    }

    /// The deliveries of one event: one per webhook that wants it and may see its object.
    async fn deliveries_of(
        &self,
        company: &Company,
        stored: &StoredEvent,
        out: &mut Vec<NewDelivery>,
    ) -> Result<(), String> {
        let e = &stored.event;
        let now = Timestamp::now();
        let wanted: Vec<&Webhook> = company
            .webhooks
            .iter()
            .filter(|w| w.is_active() && !w.is_banned(now) && w.wants(e.object, e.action))
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let snapshot = |v: &Option<serde_json::Value>| {
            v.clone()
                .map(|v| Object::from_snapshot(e.object, v))
                .transpose()
        };
        let (current, previous) = (snapshot(&e.current)?, snapshot(&e.previous)?);
        let Some(object) = current.as_ref().or(previous.as_ref()) else {
            return Ok(());
        };
        let mut permitted = Vec::new();
        for session in &company.sessions {
            if object
                .visible_to(self.store.as_ref(), session)
                .await
                .map_err(|e| e.to_string())?
            {
                permitted.push(session.user.id);
            }
        }
        let fields = match object.kind() {
            Some(kind) => Fields::load(self.store.as_ref(), kind, company.id)
                .await
                .map_err(|e| e.to_string())?,
            // Activities and notes have no custom fields in pipestack.
            None => Fields {
                kind: crate::domain::Kind::Person,
                defs: Arc::from([]),
            },
        };
        let correlation_id = payload::uuid();
        for w in wanted {
            let Some(session) = company.sessions.iter().find(|s| s.user.id == w.user_id) else {
                continue;
            };
            if !permitted.contains(&w.user_id) {
                continue;
            }
            let (cur, prev) = match w.version {
                Version::V1 => (
                    self.v1(current.as_ref(), session).await?,
                    self.v1(previous.as_ref(), session).await?,
                ),
                Version::V2 => {
                    let cur = current.as_ref().map(|o| o.v2(&fields));
                    let prev = previous.as_ref().map(|o| o.v2(&fields));
                    let prev = match (&cur, prev) {
                        (Some(c), Some(p)) => Some(payload::changed_keys(&p, c)),
                        (_, p) => p,
                    };
                    (cur, prev)
                }
            };
            let envelope = Envelope {
                event: e,
                webhook: w,
                session,
                permitted: &permitted,
                correlation_id: &correlation_id,
            };
            out.push(NewDelivery {
                event_id: stored.id,
                webhook_id: w.id,
                object_key: format!("{}:{}", e.object, e.object_id),
                event: format!("{}.{}", e.action.v1(), e.object),
                object_id: e.object_id,
                payload: payload::body(&envelope, cur, prev).to_string(),
                due_ms: now_ms(),
            });
        }
        Ok(())
    }

    async fn v1(
        &self,
        o: Option<&Object>,
        session: &Session,
    ) -> Result<Option<serde_json::Value>, String> {
        match o {
            Some(o) => o
                .v1(self.store.as_ref(), session)
                .await
                .map(Some)
                .map_err(|e| e.to_string()),
            None => Ok(None),
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
        let due = self
            .store
            .claim_deliveries(now, lease, free)
            .await
            .map_err(|e| e.to_string())?;
        for d in due {
            let Ok(permit) = self.permits.clone().acquire_owned().await else {
                return Ok(());
            };
            let (store, config, client) =
                (self.store.clone(), self.config.clone(), self.client.clone());
            tokio::spawn(async move {
                let outcome = attempt(&client, &config, &d).await;
                if let Err(e) = store.finish_delivery(outcome).await {
                    tracing::warn!(error = %e, delivery = d.id, "webhooks: recording an attempt failed; it will be retried when its lease runs out");
                }
                drop(permit);
                store.outbox_signal().notify_one();
            });
        }
        Ok(())
    }
}

/// What the dispatcher needs of a company to make its deliveries.
struct Company {
    id: i64,
    webhooks: Vec<Webhook>,
    /// A session per active user, to render and check visibility as that user.
    sessions: Vec<Session>,
}

impl Company {
    async fn load(store: &dyn Store, id: i64) -> Result<Self, String> {
        let err = |e: crate::domain::ports::StoreError| e.to_string();
        let company = store.company(id).await.map_err(err)?;
        let webhooks = store.webhooks(id).await.map_err(err)?;
        let sessions = match company {
            Some(company) => store
                .users(id)
                .await
                .map_err(err)?
                .iter()
                .filter(|u| u.active)
                .map(|u| Session {
                    company: company.clone(),
                    user: u.clone(),
                })
                .collect(),
            None => Vec::new(),
        };
        Ok(Self {
            id,
            webhooks,
            sessions,
        })
    }
}

/// Sends a delivery once: how it went, and when to try again.
async fn attempt(client: &reqwest::Client, config: &Config, d: &Delivery) -> Outcome {
    let number = d.attempts + 1;
    let started = Instant::now();
    let time_ms = now_ms();
    let body = payload::set_attempt(&d.payload, d.version, number);
    let result = match config.allow.check(&d.url).await {
        Err(refused) => Err(refused),
        Ok(()) => {
            let mut request = client
                .post(&d.url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
            if let Some(user) = &d.http_auth_user {
                request = request.basic_auth(user, d.http_auth_password.as_ref());
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
    let attempt = Attempt {
        id: 0,
        event: d.event.clone(),
        object_id: d.object_id,
        attempt: number,
        time_ms,
        http_status,
        latency_ms: started.elapsed().as_millis() as i64,
        error,
    };
    let retry_at_ms = match config.retry_delays.get(number as usize - 1) {
        Some(delay) if !attempt.succeeded() => Some(now_ms() + delay.as_millis() as i64),
        _ => None,
    };
    Outcome {
        delivery_id: d.id,
        webhook_id: d.webhook_id,
        attempt,
        retry_at_ms,
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
