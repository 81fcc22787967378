//! Webhooks, the outbox events changes write, the deliveries made of them and the log of
//! attempts.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{Db, FromRow, Query, Row, first, insert_id, lock, sql, to_json, vanished};
use crate::domain::Timestamp;
use crate::domain::ports::{Delivery, NewDelivery, Outcome, StoreError};
use crate::domain::webhook::{
    self, Action, Attempt, Event, NewWebhook, Stamp, StoredEvent, Version, Webhook,
};

const COLUMNS: &str = "w.id, w.company_id, w.owner_id, w.user_id, w.name, w.event_action, \
     w.event_object, w.subscription_url, w.version, w.http_auth_user, w.http_auth_password, \
     w.add_time, w.remove_time, w.remove_reason, w.last_delivery_time, w.last_http_status, \
     w.last_success_time, w.ban_counter, w.banned_until";

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
    db.execute(sql!(
        "DELETE FROM webhook_deliveries WHERE webhook_id = ?",
        id
    ))
    .await?;
    db.execute(sql!(
        "DELETE FROM webhook_attempts WHERE webhook_id = ?",
        id
    ))
    .await?;
    Ok(true)
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

/// Whether any webhook of the company may want events of `object`: a change writes its event
/// only then (one index lookup), and builds its snapshots only then.
pub async fn subscribed(db: &impl Db, company_id: i64, object: &str) -> Result<bool, StoreError> {
    let any: Option<i64> = first(
        db,
        sql!(
            "SELECT id FROM webhooks WHERE company_id = ? AND remove_time IS NULL \
             AND event_object IN (?, '*') LIMIT 1",
            company_id,
            object
        ),
    )
    .await?;
    Ok(any.is_some())
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

/// Writes a change's event to the outbox, in the change's transaction.
pub async fn record(db: &impl Db, emits: &Emits, e: &Event) -> Result<(), StoreError> {
    emits.0.store(true, Ordering::Relaxed);
    db.execute(sql!(
        "INSERT INTO webhook_events (company_id, object, object_id, action, user_id, time_ms, \
         previous, current, merged_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        e.company_id,
        e.object,
        e.object_id,
        e.action.v1(),
        e.stamp.user_id,
        e.stamp.time_ms,
        e.previous.as_ref().map(to_json).transpose()?,
        e.current.as_ref().map(to_json).transpose()?,
        e.merged_id
    ))
    .await?;
    Ok(())
}

/// Records the event of a change to `object` when the company has a webhook that may want it,
/// building it (and its snapshots) only then.
pub async fn emit(
    db: &impl Db,
    emits: &Emits,
    company_id: i64,
    object: &'static str,
    build: impl FnOnce() -> Event,
) -> Result<(), StoreError> {
    if subscribed(db, company_id, object).await? {
        record(db, emits, &build()).await?;
    }
    Ok(())
}

/// The object a change is to.
#[derive(Debug, Clone, Copy)]
pub struct On {
    pub company_id: i64,
    pub object: &'static str,
    pub id: i64,
}

/// The event of an object a write just inserted.
pub async fn added<T: serde::Serialize>(
    db: &impl Db,
    emits: &Emits,
    on: On,
    by: Stamp,
    item: &T,
) -> Result<(), StoreError> {
    emit(db, emits, on.company_id, on.object, || {
        Event::new(
            on.company_id,
            on.object,
            on.id,
            Action::Added,
            by,
            None,
            Some(item),
        )
    })
    .await
}

/// The event of an object a write changed (none when nothing changed).
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
    emit(db, emits, on.company_id, on.object, || {
        let action = Action::Updated;
        Event::new(
            on.company_id,
            on.object,
            on.id,
            action,
            by,
            Some(before),
            Some(after),
        )
    })
    .await
}

/// The event of an object a write deleted: `last`, its state as deleted (Pipedrive's
/// `previous` of a delete shows `active_flag: false`).
pub async fn deleted<T: serde::Serialize>(
    db: &impl Db,
    emits: &Emits,
    on: On,
    by: Stamp,
    last: Option<&T>,
) -> Result<(), StoreError> {
    emit(db, emits, on.company_id, on.object, || {
        Event::new(
            on.company_id,
            on.object,
            on.id,
            Action::Deleted,
            by,
            last,
            None,
        )
    })
    .await
}

/// The objects whose names events use, as `&'static str` again (read back from the outbox).
fn object_name(s: &str) -> Result<&'static str, StoreError> {
    webhook::OBJECTS
        .iter()
        .find(|o| **o == s)
        .copied()
        .ok_or_else(|| StoreError::Internal(format!("outbox: unknown object {s}")))
}

impl FromRow for StoredEvent {
    fn from_row(r: &impl Row) -> Result<Self, StoreError> {
        let snapshot = |i: usize| -> Result<Option<serde_json::Value>, StoreError> {
            match r.opt_text(i)? {
                Some(_) => r.json(i).map(Some),
                None => Ok(None),
            }
        };
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
                    time_ms,
                },
                previous: snapshot(7)?,
                current: snapshot(8)?,
                merged_id: r.opt_int(9)?,
            },
        })
    }
}

pub async fn pending_events(db: &impl Db, limit: i64) -> Result<Vec<StoredEvent>, StoreError> {
    db.rows(sql!(
        "SELECT id, company_id, object, object_id, action, user_id, time_ms, previous, \
         current, merged_id FROM webhook_events ORDER BY id LIMIT ?",
        limit
    ))
    .await
}

/// Deletes the events still there and stores the deliveries made of them.
pub async fn fan_out(
    db: &impl Db,
    event_ids: &[i64],
    deliveries: &[NewDelivery],
) -> Result<usize, StoreError> {
    let mut q = sql!("DELETE FROM webhook_events WHERE ");
    q.push_in("id", event_ids);
    q.push(" RETURNING id");
    let won: Vec<i64> = db.rows(q).await?;
    let mut stored = 0;
    for d in deliveries.iter().filter(|d| won.contains(&d.event_id)) {
        db.execute(sql!(
            "INSERT INTO webhook_deliveries (webhook_id, object_key, event, object_id, payload, \
             due_ms) VALUES (?, ?, ?, ?, ?, ?)",
            d.webhook_id,
            &d.object_key,
            &d.event,
            d.object_id,
            &d.payload,
            d.due_ms
        ))
        .await?;
        stored += 1;
    }
    Ok(stored)
}

impl FromRow for Delivery {
    fn from_row(r: &impl Row) -> Result<Self, StoreError> {
        Ok(Delivery {
            id: r.int(0)?,
            webhook_id: r.int(1)?,
            event: r.string(2)?,
            object_id: r.int(3)?,
            payload: r.string(4)?,
            attempts: r.int(5)?,
            url: r.string(6)?,
            version: version(r.text(7)?)?,
            http_auth_user: r.opt_string(8)?,
            http_auth_password: r.opt_string(9)?,
        })
    }
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
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.webhook_id = d.webhook_id \
         AND e.object_key = d.object_key AND e.id < d.id) ORDER BY d.id LIMIT ?",
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
    let mut q = Query::default();
    q.push(
        "SELECT d.id, d.webhook_id, d.event, d.object_id, d.payload, d.attempts, \
         w.subscription_url, w.version, w.http_auth_user, w.http_auth_password \
         FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
         WHERE w.remove_time IS NULL AND ",
    );
    q.push_in("d.id", &ids);
    q.push(" ORDER BY d.id");
    db.rows(q).await
}

/// Records an attempt, and the webhook's state and the delivery's as they follow from it.
pub async fn finish<D: Db>(db: &D, o: &Outcome) -> Result<(), StoreError> {
    let a = &o.attempt;
    db.execute(sql!(
        "INSERT INTO webhook_attempts (webhook_id, event, object_id, attempt, time_ms, \
         http_status, latency_ms, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        o.webhook_id,
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
        o.webhook_id,
        o.webhook_id,
        webhook::LOG_SIZE
    ))
    .await?;
    let mut read = sql!(
        format!("SELECT {COLUMNS} FROM webhooks w WHERE w.id = ?"),
        o.webhook_id
    );
    lock::<D>(&mut read, "w");
    let Some(w) = first::<Webhook, _>(db, read).await? else {
        // Deleted while the attempt ran: nothing left to record on.
        return Ok(());
    };
    let s = webhook::after_attempt(&w, a);
    db.execute(sql!(
        "UPDATE webhooks SET last_delivery_time = ?, last_http_status = ?, \
         last_success_time = ?, ban_counter = ?, banned_until = ?, remove_time = ?, \
         remove_reason = ? WHERE id = ?",
        s.last_delivery_time,
        s.last_http_status,
        s.last_success_time,
        s.ban_counter,
        s.banned_until,
        s.remove_time,
        s.remove_reason.as_deref(),
        w.id
    ))
    .await?;
    let done = match o.retry_at_ms {
        _ if s.remove_time.is_some() => {
            sql!("DELETE FROM webhook_deliveries WHERE webhook_id = ?", w.id)
        }
        None => sql!("DELETE FROM webhook_deliveries WHERE id = ?", o.delivery_id),
        Some(at) => sql!(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, due_ms = ?, \
             leased_until = NULL WHERE id = ?",
            at,
            o.delivery_id
        ),
    };
    db.execute(done).await?;
    Ok(())
}
