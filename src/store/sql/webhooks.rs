//! Webhooks, the outbox events changes write, the deliveries made of them and the log of
//! attempts.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{Db, FromRow, Row, first, insert_id, lock, share, sql, to_json, vanished};
use crate::domain::Timestamp;
use crate::domain::ports::{Delivery, Outcome, StoreError};
use crate::domain::webhook::{
    self, Action, Attempt, ChangeSource, Event, NewWebhook, Stamp, StoredEvent, Version, Webhook,
};

const COLUMNS: &str = "w.id, w.company_id, w.owner_id, w.user_id, w.name, w.event_action, \
     w.event_object, w.subscription_url, w.version, w.http_auth_user, w.http_auth_password, \
     w.add_time, w.remove_time, w.remove_reason, w.last_delivery_time, w.last_http_status, \
     w.last_success_time, w.ban_counter, w.banned_until, w.failing_since";

fn version(s: &str) -> Result<Version, StoreError> {
    Version::parse(s).ok_or_else(|| StoreError::Internal(format!("webhook version {s}")))
}

impl FromRow for Webhook {
    fn from_row(r: &impl Row) -> Result<Self, StoreError> {
        Ok(Webhook {
            id: r.int(0)?,
            company_id: r.int(1)?,
            owner_id: r.int(2)?,
            user_id: r.int(3)?,
            name: r.string(4)?,
            event_action: r.string(5)?,
            event_object: r.string(6)?,
            subscription_url: r.string(7)?,
            version: version(r.text(8)?)?,
            http_auth_user: r.opt_string(9)?,
            http_auth_password: r.opt_string(10)?,
            add_time_ms: r.int(11)?,
            remove_time: r.opt_time(12)?,
            remove_reason: r.opt_string(13)?,
            last_delivery_time: r.opt_time(14)?,
            last_http_status: r.opt_int(15)?,
            last_success_time: r.opt_time(16)?,
            ban_counter: r.int(17)?,
            banned_until: r.opt_time(18)?,
            failing_since: r.opt_time(19)?,
        })
    }
}

pub async fn get(db: &impl Db, company_id: i64, id: i64) -> Result<Option<Webhook>, StoreError> {
    first(
        db,
        sql!(
            format!("SELECT {COLUMNS} FROM webhooks w WHERE w.company_id = ? AND w.id = ?"),
            company_id,
            id
        ),
    )
    .await
}

pub async fn list(db: &impl Db, company_id: i64) -> Result<Vec<Webhook>, StoreError> {
    db.rows(sql!(
        format!("SELECT {COLUMNS} FROM webhooks w WHERE w.company_id = ? ORDER BY w.id"),
        company_id
    ))
    .await
}

/// Inserts a webhook unless its user has the most a user may have (counted with the user's
/// row locked, so that two adds at once cannot both take the last place).
pub async fn insert<D: Db>(db: &D, w: &NewWebhook) -> Result<Webhook, StoreError> {
    let mut user = sql!("SELECT u.id FROM users u WHERE u.id = ?", w.user_id);
    lock::<D>(&mut user, "u");
    db.rows::<i64>(user).await?;
    let count: Option<i64> = first(
        db,
        sql!(
            "SELECT COUNT(*) FROM webhooks WHERE company_id = ? AND user_id = ? \
             AND remove_time IS NULL",
            w.company_id,
            w.user_id
        ),
    )
    .await?;
    if count.unwrap_or(0) >= webhook::MAX_PER_USER {
        return Err(StoreError::refused(webhook::too_many()));
    }
    let id = insert_id(
        db,
        sql!(
            "INSERT INTO webhooks (company_id, owner_id, user_id, name, event_action, \
             event_object, subscription_url, version, http_auth_user, http_auth_password, \
             add_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            w.company_id,
            w.owner_id,
            w.user_id,
            &w.name,
            &w.event_action,
            &w.event_object,
            &w.subscription_url,
            w.version.as_str(),
            w.http_auth_user.as_deref(),
            w.http_auth_password.as_deref(),
            w.add_time_ms
        ),
    )
    .await?;
    get(db, w.company_id, id)
        .await?
        .ok_or_else(|| vanished("webhook"))
}

pub async fn delete(db: &impl Db, company_id: i64, id: i64) -> Result<bool, StoreError> {
    let deleted = db
        .execute(sql!(
            "DELETE FROM webhooks WHERE company_id = ? AND id = ?",
            company_id,
            id
        ))
        .await?;
    if deleted == 0 {
        return Ok(false);
    }
    drop_deliveries(db, id).await?;
    db.execute(sql!(
        "DELETE FROM webhook_attempts WHERE webhook_id = ?",
        id
    ))
    .await?;
    Ok(true)
}

/// Drops a webhook's deliveries (it was deleted or removed), and the events no delivery is
/// left of.
async fn drop_deliveries(db: &impl Db, webhook_id: i64) -> Result<(), StoreError> {
    let mut events: Vec<i64> = db
        .rows(sql!(
            "DELETE FROM webhook_deliveries WHERE webhook_id = ? RETURNING event_id",
            webhook_id
        ))
        .await?;
    // In id order, as every writer of events takes them, so that two drops cannot deadlock.
    events.sort_unstable();
    for event_id in events {
        delivery_done(db, event_id).await?;
    }
    Ok(())
}

/// One delivery of an event is done: the event goes once none is left.
async fn delivery_done(db: &impl Db, event_id: i64) -> Result<(), StoreError> {
    db.execute(sql!(
        "UPDATE webhook_events SET pending = pending - 1 WHERE id = ?",
        event_id
    ))
    .await?;
    db.execute(sql!(
        "DELETE FROM webhook_events WHERE id = ? AND pending <= 0",
        event_id
    ))
    .await?;
    Ok(())
}

impl FromRow for Attempt {
    fn from_row(r: &impl Row) -> Result<Self, StoreError> {
        Ok(Attempt {
            id: r.int(0)?,
            event: r.string(1)?,
            object_id: r.int(2)?,
            attempt: r.int(3)?,
            time_ms: r.int(4)?,
            http_status: r.opt_int(5)?,
            latency_ms: r.int(6)?,
            error: r.opt_string(7)?,
        })
    }
}

pub async fn attempts(
    db: &impl Db,
    company_id: i64,
    webhook_id: i64,
    limit: i64,
) -> Result<Vec<Attempt>, StoreError> {
    db.rows(sql!(
        "SELECT a.id, a.event, a.object_id, a.attempt, a.time_ms, a.http_status, a.latency_ms, \
         a.error FROM webhook_attempts a JOIN webhooks w ON w.id = a.webhook_id \
         WHERE w.company_id = ? AND a.webhook_id = ? ORDER BY a.id DESC LIMIT ?",
        company_id,
        webhook_id,
        limit
    ))
    .await
}

/// Whether a write stored a webhook event: set inside the write, read once it committed (to
/// wake the dispatcher).
#[derive(Clone, Default)]
pub struct Emits(Arc<AtomicBool>);

impl Emits {
    pub fn any(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// The object a change is to.
#[derive(Debug, Clone, Copy)]
pub struct On {
    pub company_id: i64,
    pub object: &'static str,
    pub id: i64,
}

impl On {
    pub fn new(company_id: i64, object: &'static str, id: i64) -> Self {
        Self {
            company_id,
            object,
            id,
        }
    }
}

/// The webhooks an event of `action` on `on`'s object goes to now: the company's that
/// subscribed to it and are neither removed nor banned (an event during a ban is lost, as in
/// Pipedrive). One index lookup when the company has none, which is what most writes pay.
pub async fn subscribers(db: &impl Db, on: On, action: Action) -> Result<Vec<i64>, StoreError> {
    let now = Timestamp::now();
    // Two lookups rather than `event_object IN (?, '*')`: SQLite builds a temporary B-tree of
    // an `IN` list for every run, and this runs in every write that may emit (a few percent of
    // the writer's time in person creates).
    let live = "SELECT id, event_object, event_action, version FROM webhooks WHERE company_id = ? \
                AND remove_time IS NULL AND event_object = ? \
                AND (banned_until IS NULL OR banned_until <= ?)";
    let hooks: Vec<Subscriber> = db
        .rows(sql!(
            format!("{live} UNION ALL {live}"),
            on.company_id,
            "*",
            now,
            on.company_id,
            on.object,
            now
        ))
        .await?;
    Ok(hooks
        .iter()
        .filter(|s| webhook::wants((&s.object, &s.action, s.version), on.object, action))
        .map(|s| s.id)
        .collect())
}

/// What a change needs of a webhook to know whether it goes to it.
struct Subscriber {
    id: i64,
    object: String,
    action: String,
    version: Version,
}

impl FromRow for Subscriber {
    fn from_row(r: &impl Row) -> Result<Self, StoreError> {
        Ok(Subscriber {
            id: r.int(0)?,
            object: r.string(1)?,
            action: r.string(2)?,
            version: version(r.text(3)?)?,
        })
    }
}

/// Writes a change's event to the outbox, naming the webhooks it goes to, in the change's
/// transaction (one row, whatever their number); the snapshots are JSON text.
pub async fn record(
    db: &impl Db,
    emits: &Emits,
    e: &Event,
    hooks: &[i64],
) -> Result<(), StoreError> {
    emits.0.store(true, Ordering::Relaxed);
    let names: Vec<String> = hooks.iter().map(i64::to_string).collect();
    // Stamped by the company's clock (read here, so only changes with subscribers pay it).
    let stamp = e.stamp.on(super::tenants::clock(db, e.company_id).await?);
    db.execute(sql!(
        "INSERT INTO webhook_events (company_id, object, object_id, action, user_id, time_ms, \
         change_source, previous, current, merged_id, hooks, pending) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        e.company_id,
        e.object,
        e.object_id,
        e.action.v1(),
        stamp.user_id,
        stamp.time_ms,
        stamp.source.as_str(),
        e.previous.as_deref(),
        e.current.as_deref(),
        e.merged_id,
        names.join(","),
        hooks.len() as i64
    ))
    .await?;
    Ok(())
}

/// An event still naming the webhooks it goes to.
struct Waiting {
    id: i64,
    object: String,
    object_id: i64,
    hooks: Vec<i64>,
}

impl FromRow for Waiting {
    fn from_row(r: &impl Row) -> Result<Self, StoreError> {
        Ok(Waiting {
            id: r.int(0)?,
            object: r.string(1)?,
            object_id: r.int(2)?,
            hooks: r.ids(3)?,
        })
    }
}

/// Makes up to `limit` of the oldest events into deliveries, one per webhook each names that
/// is still there (the others' are counted done); how many events. Another instance doing the
/// same at once takes other events (they are locked, and skipped, until this one commits).
pub async fn expand<D: Db>(db: &D, limit: i64) -> Result<usize, StoreError> {
    let mut read = sql!(
        "SELECT id, object, object_id, hooks FROM webhook_events \
         WHERE hooks IS NOT NULL ORDER BY id LIMIT ?",
        limit
    );
    // Locked without skipping: another instance expanding at once waits for this one, then
    // finds these taken and goes on with later ones. Expansions so follow each other in the
    // order of the events, and deliveries of one object get ids in the order of its events.
    if D::DIALECT.row_locks {
        read.push(" FOR UPDATE");
    }
    let waiting: Vec<Waiting> = db.rows(read).await?;
    if waiting.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = waiting.iter().map(|w| w.id).collect();
    let mut clear = sql!("UPDATE webhook_events SET hooks = NULL WHERE ");
    clear.push_in("id", &ids);
    db.execute(clear).await?;
    let mut named: Vec<i64> = waiting.iter().flat_map(|w| w.hooks.clone()).collect();
    named.sort_unstable();
    named.dedup();
    // Held (shared) until this commits, so that a delete cannot miss the deliveries made here;
    // a banned webhook's are dropped, as events during a ban are.
    let mut q = sql!(
        "SELECT w.id FROM webhooks w WHERE w.remove_time IS NULL \
         AND (w.banned_until IS NULL OR w.banned_until <= ?) AND ",
        Timestamp::now()
    );
    q.push_in("w.id", &named);
    share::<D>(&mut q, "w");
    let live: Vec<i64> = db.rows(q).await?;
    let mut rows = Vec::new();
    for w in &waiting {
        let (kept, gone): (Vec<i64>, Vec<i64>) = w.hooks.iter().partition(|h| live.contains(h));
        for hook in kept {
            rows.push((hook, w));
        }
        for _ in gone {
            delivery_done(db, w.id).await?;
        }
    }
    for chunk in rows.chunks(100) {
        let mut q = sql!(
            "INSERT INTO webhook_deliveries (webhook_id, event_id, object, object_id, due_ms) VALUES "
        );
        for (i, (hook, w)) in chunk.iter().enumerate() {
            q.push(if i == 0 { "" } else { ", " });
            q.push_arg("(?", *hook)
                .push_arg(", ?", w.id)
                .push_arg(", ?", &w.object)
                .push_arg(", ?, 0)", w.object_id);
        }
        db.execute(q).await?;
    }
    Ok(waiting.len())
}

/// An event of `on`'s object, snapshots still to make.
pub fn event(on: On, action: Action, by: Stamp) -> Event {
    Event {
        company_id: on.company_id,
        object: on.object,
        object_id: on.id,
        action,
        stamp: by,
        previous: None,
        current: None,
        merged_id: None,
    }
}

/// The event of an object a write just inserted, if a webhook wants it.
pub async fn added<T: serde::Serialize>(
    db: &impl Db,
    emits: &Emits,
    on: On,
    by: Stamp,
    item: &T,
) -> Result<(), StoreError> {
    let hooks = subscribers(db, on, Action::Added).await?;
    if hooks.is_empty() {
        return Ok(());
    }
    let e = Event {
        current: Some(to_json(item)?),
        ..event(on, Action::Added, by)
    };
    record(db, emits, &e, &hooks).await
}

/// The event of an object a write changed (none when nothing changed), if a webhook wants it.
pub async fn updated<T: serde::Serialize + PartialEq>(
    db: &impl Db,
    emits: &Emits,
    on: On,
    by: Stamp,
    (before, after): (&T, &T),
) -> Result<(), StoreError> {
    if before == after {
        return Ok(());
    }
    let hooks = subscribers(db, on, Action::Updated).await?;
    if hooks.is_empty() {
        return Ok(());
    }
    let e = Event {
        previous: Some(to_json(before)?),
        current: Some(to_json(after)?),
        ..event(on, Action::Updated, by)
    };
    record(db, emits, &e, &hooks).await
}

/// The event of an object a write deleted, if a webhook wants it: `previous` is what `last`
/// reads, its state as deleted (Pipedrive's `previous` of a delete shows `active_flag: false`).
/// `merged_into` names the person kept when a merge deleted it.
pub async fn deleted<T, F>(
    db: &impl Db,
    emits: &Emits,
    (on, by): (On, Stamp),
    merged_into: Option<i64>,
    last: F,
) -> Result<(), StoreError>
where
    T: serde::Serialize,
    F: Future<Output = Result<Option<T>, StoreError>>,
{
    let hooks = subscribers(db, on, Action::Deleted).await?;
    if hooks.is_empty() {
        return Ok(());
    }
    let e = Event {
        previous: last.await?.map(|t| to_json(&t)).transpose()?,
        merged_id: merged_into,
        ..event(on, Action::Deleted, by)
    };
    record(db, emits, &e, &hooks).await
}

/// The event of the person a merge kept, if a webhook wants it.
pub async fn merged<T: serde::Serialize>(
    db: &impl Db,
    emits: &Emits,
    (on, by): (On, Stamp),
    merged_from: i64,
    (before, after): (&T, &T),
) -> Result<(), StoreError> {
    let hooks = subscribers(db, on, Action::Merged).await?;
    if hooks.is_empty() {
        return Ok(());
    }
    let e = Event {
        previous: Some(to_json(before)?),
        current: Some(to_json(after)?),
        merged_id: Some(merged_from),
        ..event(on, Action::Merged, by)
    };
    record(db, emits, &e, &hooks).await
}

/// The objects whose names events use, as `&'static str` again (read back from the outbox).
fn object_name(s: &str) -> Result<&'static str, StoreError> {
    webhook::OBJECTS
        .iter()
        .find(|o| **o == s)
        .copied()
        .ok_or_else(|| StoreError::Internal(format!("outbox: unknown object {s}")))
}

const EVENT_COLUMNS: &str = "e.id, e.company_id, e.object, e.object_id, e.action, e.user_id, \
     e.time_ms, e.previous, e.current, e.merged_id, e.change_source";

impl FromRow for StoredEvent {
    fn from_row(r: &impl Row) -> Result<Self, StoreError> {
        let action = r.text(4)?;
        let time_ms = r.int(6)?;
        Ok(StoredEvent {
            id: r.int(0)?,
            event: Event {
                company_id: r.int(1)?,
                object: object_name(r.text(2)?)?,
                object_id: r.int(3)?,
                action: Action::parse(action)
                    .ok_or_else(|| StoreError::Internal(format!("outbox: action {action}")))?,
                stamp: Stamp {
                    user_id: r.int(5)?,
                    time: Timestamp(time_ms.div_euclid(1000)),
                    source: ChangeSource::parse(r.text(10)?),
                    time_ms,
                },
                previous: r.opt_string(7)?,
                current: r.opt_string(8)?,
                merged_id: r.opt_int(9)?,
            },
        })
    }
}

/// Whether any event waits to be made into deliveries (read first, as [`any_due`]).
pub async fn any_waiting(db: &impl Db) -> Result<bool, StoreError> {
    let any: Option<i64> = first(
        db,
        sql!("SELECT id FROM webhook_events WHERE hooks IS NOT NULL LIMIT 1"),
    )
    .await?;
    Ok(any.is_some())
}

/// Whether any delivery is due: read first, so that an idle dispatcher does not take the
/// writer to find nothing.
pub async fn any_due(db: &impl Db, now_ms: i64) -> Result<bool, StoreError> {
    let any: Option<i64> = first(
        db,
        sql!(
            "SELECT id FROM webhook_deliveries WHERE due_ms <= ? \
             AND (leased_until IS NULL OR leased_until < ?) LIMIT 1",
            now_ms,
            now_ms
        ),
    )
    .await?;
    Ok(any.is_some())
}

/// A claimed delivery's row: its id, attempts, event and webhook.
struct Claimed(Delivery);

impl FromRow for Claimed {
    fn from_row(r: &impl Row) -> Result<Self, StoreError> {
        // The delivery's two columns come first, then the event's, then the webhook's.
        let shifted = Shifted { row: r, by: 2 };
        let event = StoredEvent::from_row(&shifted)?;
        let by = 2 + EVENT_COLUMNS.split(',').count();
        let webhook = Webhook::from_row(&Shifted { row: r, by })?;
        Ok(Claimed(Delivery {
            id: r.int(0)?,
            attempts: r.int(1)?,
            event,
            webhook,
        }))
    }
}

/// A row read from column `by` on, so that one query's columns map to several types.
struct Shifted<'r, R> {
    row: &'r R,
    by: usize,
}

impl<R: Row> Row for Shifted<'_, R> {
    fn int(&self, i: usize) -> Result<i64, StoreError> {
        self.row.int(i + self.by)
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        self.row.opt_int(i + self.by)
    }
    fn flag(&self, i: usize) -> Result<bool, StoreError> {
        self.row.flag(i + self.by)
    }
    fn text(&self, i: usize) -> Result<&str, StoreError> {
        self.row.text(i + self.by)
    }
    fn opt_text(&self, i: usize) -> Result<Option<&str>, StoreError> {
        self.row.opt_text(i + self.by)
    }
    fn opt_real(&self, i: usize) -> Result<Option<f64>, StoreError> {
        self.row.opt_real(i + self.by)
    }
}

/// Leases the due deliveries, each the oldest left of its webhook and object.
pub async fn claim<D: Db>(
    db: &D,
    now_ms: i64,
    lease_until_ms: i64,
    limit: i64,
) -> Result<Vec<Delivery>, StoreError> {
    let mut pick = sql!(
        "SELECT d.id FROM webhook_deliveries d WHERE d.due_ms <= ? \
         AND (d.leased_until IS NULL OR d.leased_until < ?) \
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.object_id = d.object_id \
         AND e.webhook_id = d.webhook_id AND e.object = d.object AND e.id < d.id) \
         ORDER BY d.id LIMIT ?",
        now_ms,
        now_ms,
        limit
    );
    if D::DIALECT.row_locks {
        pick.push(" FOR UPDATE SKIP LOCKED");
    }
    let ids: Vec<i64> = db.rows(pick).await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut lease = sql!(
        "UPDATE webhook_deliveries SET leased_until = ? WHERE ",
        lease_until_ms
    );
    lease.push_in("id", &ids);
    db.execute(lease).await?;
    let mut q = sql!(format!(
        "SELECT d.id, d.attempts, {EVENT_COLUMNS}, {COLUMNS} FROM webhook_deliveries d \
         JOIN webhook_events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id \
         WHERE "
    ));
    q.push_in("d.id", &ids);
    q.push(" ORDER BY d.id");
    let claimed: Vec<Delivery> = db
        .rows::<Claimed>(q)
        .await?
        .into_iter()
        .map(|c| c.0)
        .collect();
    // Deliveries of a webhook deleted, removed or banned since they were made are dropped.
    let now = Timestamp(now_ms.div_euclid(1000));
    let keep: Vec<Delivery> = claimed
        .into_iter()
        .filter(|d| d.webhook.is_active() && !d.webhook.is_banned(now))
        .collect();
    let mut gone: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|id| !keep.iter().any(|d| d.id == *id))
        .collect();
    gone.sort_unstable();
    for id in gone {
        let event: Option<i64> = first(
            db,
            sql!(
                "DELETE FROM webhook_deliveries WHERE id = ? RETURNING event_id",
                id
            ),
        )
        .await?;
        if let Some(event_id) = event {
            delivery_done(db, event_id).await?;
        }
    }
    Ok(keep)
}

/// Records an attempt, and the webhook's state and the delivery's as they follow from it.
pub async fn finish<D: Db>(db: &D, o: &Outcome) -> Result<(), StoreError> {
    // A delivery dropped while it was being sent (its webhook deleted, its company reset or
    // restored, another instance done with it) leaves nothing to record: a restored webhook of
    // the same id must not take on an attempt made before the restore.
    // Read without a lock: a webhook's delete locks the webhook, then its deliveries, and the
    // attempt below locks the webhook; locking the delivery first here would invert that order.
    let still = sql!(
        "SELECT id FROM webhook_deliveries WHERE id = ?",
        o.delivery_id
    );
    if first::<i64, _>(db, still).await?.is_none() {
        return Ok(());
    }
    let removed = match &o.attempt {
        Some(a) => record_attempt(db, o.webhook_id, a).await?,
        None => false,
    };
    match o.retry_at_ms {
        _ if removed => drop_deliveries(db, o.webhook_id).await,
        Some(at) if o.attempt.is_some() => {
            db.execute(sql!(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, due_ms = ?, \
                 leased_until = NULL WHERE id = ?",
                at,
                o.delivery_id
            ))
            .await?;
            Ok(())
        }
        _ => {
            let gone = db
                .execute(sql!(
                    "DELETE FROM webhook_deliveries WHERE id = ?",
                    o.delivery_id
                ))
                .await?;
            if gone == 1 {
                delivery_done(db, o.event_id).await?;
            }
            Ok(())
        }
    }
}

/// Logs an attempt and updates the webhook's delivery state; whether that removed it.
async fn record_attempt<D: Db>(db: &D, webhook_id: i64, a: &Attempt) -> Result<bool, StoreError> {
    // The webhook locked before its log is written or trimmed: a reset and a webhook's delete
    // lock the webhook before its attempts, so taking an old attempt's row first (the trim of
    // a full log) would invert that order.
    let mut read = sql!(
        format!("SELECT {COLUMNS} FROM webhooks w WHERE w.id = ?"),
        webhook_id
    );
    lock::<D>(&mut read, "w");
    let Some(w) = first::<Webhook, _>(db, read).await? else {
        // Deleted while the attempt ran: nothing left to record on.
        return Ok(true);
    };
    db.execute(sql!(
        "INSERT INTO webhook_attempts (webhook_id, event, object_id, attempt, time_ms, \
         http_status, latency_ms, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        webhook_id,
        &a.event,
        a.object_id,
        a.attempt,
        a.time_ms,
        a.http_status,
        a.latency_ms,
        a.error.as_deref()
    ))
    .await?;
    db.execute(sql!(
        "DELETE FROM webhook_attempts WHERE webhook_id = ? AND id <= (SELECT id FROM \
         webhook_attempts WHERE webhook_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
        webhook_id,
        webhook_id,
        webhook::LOG_SIZE
    ))
    .await?;
    let s = webhook::after_attempt(&w, a);
    db.execute(sql!(
        "UPDATE webhooks SET last_delivery_time = ?, last_http_status = ?, \
         last_success_time = ?, failing_since = ?, ban_counter = ?, banned_until = ?, \
         remove_time = ?, remove_reason = ? WHERE id = ?",
        s.last_delivery_time,
        s.last_http_status,
        s.last_success_time,
        s.failing_since,
        s.ban_counter,
        s.banned_until,
        s.remove_time,
        s.remove_reason.as_deref(),
        w.id
    ))
    .await?;
    Ok(s.remove_time.is_some())
}
