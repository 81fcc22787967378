//! What a webhook receives: an outbox event rendered in the webhook's version for the
//! webhook's user. v1 sends the object in v1's shape with plain ids (`owner_id: 1`, not v1
//! GET's object); v2 sends Pipedrive's slim webhook shape, which is not the REST v2 object:
//! typed custom fields, `visible_to` as a string, a person's first label as `label`.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::api::v1;
use crate::api::v2::deals::number;
use crate::domain::activity::Activity;
use crate::domain::activity::ActivityType;
use crate::domain::deal::Deal;
use crate::domain::fields::{FieldDef, FieldType, Fields};
use crate::domain::followers::can_see;
use crate::domain::note::Note;
use crate::domain::organization::Organization;
use crate::domain::person::Person;
use crate::domain::pipeline::{Pipeline, Stage};
use crate::domain::ports::Store;
use crate::domain::webhook::{Action, StoredEvent, Version, Webhook};
use crate::domain::{Kind, Session, Timestamp, User};
use crate::error::ApiError;

/// An event's object, read back from its snapshot.
#[derive(Debug, Clone)]
pub enum Object {
    Person(Person),
    Organization(Organization),
    Deal(Deal),
    Activity(Activity),
    Note(Note),
    /// A person field's definition.
    PersonField(FieldDef),
    User(User),
    Pipeline(Pipeline),
    Stage(Stage),
    ActivityType(ActivityType),
}

impl Object {
    pub fn from_snapshot(object: &str, v: &str) -> Result<Self, String> {
        let bad = |e: serde_json::Error| format!("outbox snapshot of a {object}: {e}");
        Ok(match object {
            "person" => Self::Person(serde_json::from_str(v).map_err(bad)?),
            "organization" => Self::Organization(serde_json::from_str(v).map_err(bad)?),
            "deal" => Self::Deal(serde_json::from_str(v).map_err(bad)?),
            "activity" => Self::Activity(serde_json::from_str(v).map_err(bad)?),
            "note" => Self::Note(serde_json::from_str(v).map_err(bad)?),
            "personField" => Self::PersonField(serde_json::from_str(v).map_err(bad)?),
            "user" => Self::User(serde_json::from_str(v).map_err(bad)?),
            "pipeline" => Self::Pipeline(serde_json::from_str(v).map_err(bad)?),
            "stage" => Self::Stage(serde_json::from_str(v).map_err(bad)?),
            "activityType" => Self::ActivityType(serde_json::from_str(v).map_err(bad)?),
            other => return Err(format!("no payload for {other} events")),
        })
    }

    /// Whether the session's user may see the object: persons, organizations and deals by
    /// their visibility; activities and notes as their lists show them (by what they are
    /// attached to, as stored now).
    pub async fn visible_to(&self, store: &dyn Store, session: &Session) -> Result<bool, ApiError> {
        let viewer = crate::domain::followers::viewer(session);
        Ok(match self {
            Self::Person(p) => can_see(session, p.owner_id, p.visible_to, &p.follower_ids),
            Self::Organization(o) => can_see(session, o.owner_id, o.visible_to, &o.follower_ids),
            Self::Deal(d) => can_see(session, d.owner_id, d.visible_to, &d.follower_ids),
            Self::Activity(a) => {
                viewer.is_none() || store.activity(a.company_id, a.id, viewer).await?.is_some()
            }
            Self::Note(n) => {
                viewer.is_none() || store.note(n.company_id, n.id, viewer).await?.is_some()
            }
            // Every user sees the company's setup and users.
            Self::PersonField(_)
            | Self::User(_)
            | Self::Pipeline(_)
            | Self::Stage(_)
            | Self::ActivityType(_) => true,
        })
    }

    /// The object as v1 shows it to the session's user, its references as plain ids.
    pub async fn v1(&self, store: &dyn Store, session: &Session) -> Result<Value, ApiError> {
        let mut v = match self {
            Self::Person(p) => v1::persons::render_one(store, session, p).await?,
            Self::Organization(o) => v1::organizations::render_one(store, session, o).await?,
            Self::Deal(d) => v1::deals::render_one(store, session, d).await?,
            Self::Activity(a) => v1::activities::render_one(store, session, a).await?,
            Self::Note(n) => v1::notes::render_one(store, session, n).await?,
            Self::PersonField(f) => v1::fields::field(f),
            // v1 sends a user as a list of one (Pipedrive's guide: read `current[0]`).
            Self::User(u) => json!([v1::render::user(u, session, false)]),
            Self::Pipeline(p) => pipeline(p, Timestamp::v1),
            Self::Stage(s) => stage(s, Timestamp::v1),
            Self::ActivityType(t) => v1::activity_types::render(t),
        };
        if let Value::Object(m) = &mut v {
            for key in [
                "owner_id",
                "org_id",
                "person_id",
                "user_id",
                "creator_user_id",
            ] {
                if let Some(Value::Object(reference)) = m.get(key) {
                    let id = reference
                        .get("value")
                        .or_else(|| reference.get("id"))
                        .cloned();
                    m.insert(key.into(), id.unwrap_or(Value::Null));
                }
            }
        }
        Ok(v)
    }

    /// The object in v2 webhooks' own shape.
    pub fn v2(&self, fields: &Fields) -> Value {
        let time = |t: Timestamp| t.rfc3339();
        match self {
            Self::Person(p) => json!({
                "id": p.id,
                "name": p.name,
                "first_name": p.first_name,
                "last_name": p.last_name,
                "owner_id": p.owner_id,
                "org_id": p.org_id,
                "emails": p.emails,
                "phones": p.phones,
                "label": fields.live_labels(&p.label_ids).first(),
                "visible_to": p.visible_to.get().to_string(),
                "add_time": time(p.add_time),
                "update_time": time(p.update_time),
                "custom_fields": typed(fields, &p.custom_fields),
            }),
            Self::Organization(o) => json!({
                "id": o.id,
                "name": o.name,
                "owner_id": o.owner_id,
                "address": o.address,
                "label": fields.live_labels(&o.label_ids).first(),
                "picture_id": null,
                "visible_to": o.visible_to.get().to_string(),
                "add_time": time(o.add_time),
                "update_time": time(o.update_time),
                "custom_fields": typed(fields, &o.custom_fields),
            }),
            Self::Deal(d) => json!({
                "id": d.id,
                "title": d.title,
                "value": number(d.value),
                "currency": d.currency,
                "status": d.status.as_str(),
                "stage_id": d.stage_id,
                "pipeline_id": d.pipeline_id,
                "person_id": d.person_id,
                "org_id": d.org_id,
                "owner_id": d.owner_id,
                "creator_user_id": d.creator_user_id,
                "add_time": time(d.add_time),
                "update_time": time(d.update_time),
                "stage_change_time": d.stage_change_time.map(time),
                "close_time": d.closing.close_time.map(time),
                "won_time": d.closing.won_time.map(time),
                "first_won_time": d.closing.first_won_time.map(time),
                "lost_time": d.closing.lost_time.map(time),
                "lost_reason": d.closing.lost_reason,
                "expected_close_date": d.expected_close_date,
                "probability": d.probability,
                "label_ids": fields.live_labels(&d.label_ids),
                "visible_to": d.visible_to.get().to_string(),
                "origin": d.origin,
                "origin_id": null,
                "channel": null,
                "channel_id": null,
                "custom_fields": typed(fields, &d.custom_fields),
            }),
            Self::Activity(a) => {
                let v = &a.values;
                json!({
                    "id": a.id,
                    "subject": v.subject,
                    "type": v.type_key,
                    "owner_id": v.owner_id,
                    "deal_id": v.deal_id,
                    "lead_id": null,
                    "person_id": v.person_id,
                    "org_id": v.org_id,
                    "done": v.done,
                    "due_date": v.due_date,
                    "due_time": v.due_time,
                    "duration": v.duration,
                    "busy_flag": v.busy,
                    "location": v.location,
                    "public_description": v.public_description,
                    "active_flag": a.active,
                    "add_time": time(a.add_time),
                    "update_time": time(a.update_time),
                    "custom_fields": {},
                })
            }
            // REST v2's shape (the webhook's is not published), with the field's id.
            Self::Pipeline(p) => pipeline(p, Timestamp::rfc3339),
            Self::Stage(s) => stage(s, Timestamp::rfc3339),
            // Never sent (v2 has no activity types): v1's shape.
            Self::ActivityType(t) => v1::activity_types::render(t),
            Self::PersonField(f) => {
                let mut v = crate::api::v2::fields::field(f, &[]);
                v["id"] = json!(f.id);
                v
            }
            Self::User(u) => json!({
                "id": u.id.to_string(),
                "name": u.name,
                "email": u.email,
                "phone": null,
                "default_currency": "USD",
                "locale": "en_US",
                "lang": 1,
                "timezone_name": "UTC",
                "icon_url": null,
                "active_flag": u.active,
                "last_login": u.last_login.map(Timestamp::v1),
                "created": u.add_time.v1(),
                "modified": u.update_time.v1(),
                "access": [{"app": "sales", "admin": u.is_admin}, {"app": "global", "admin": u.is_admin}],
            }),
            Self::Note(n) => {
                let v = &n.values;
                json!({
                    "id": n.id,
                    "user_id": v.user_id,
                    "deal_id": v.deal_id,
                    "person_id": v.person_id,
                    "org_id": v.org_id,
                    "lead_id": null,
                    "project_id": null,
                    "active_flag": n.active,
                    "content": v.content,
                    "add_time": time(v.add_time),
                    "update_time": time(n.update_time),
                    "pinned_to_deal_flag": v.pinned_to_deal,
                    "pinned_to_person_flag": v.pinned_to_person,
                    "pinned_to_organization_flag": v.pinned_to_org,
                })
            }
        }
    }

    /// The kind whose fields type its custom values.
    pub fn kind(&self) -> Option<Kind> {
        match self {
            Self::Person(_) => Some(Kind::Person),
            Self::Organization(_) => Some(Kind::Organization),
            Self::Deal(_) => Some(Kind::Deal),
            _ => None,
        }
    }
}

/// A pipeline as webhooks show it, in both versions: v1's names (Pipedrive's v2 examples use
/// them too), times written by `time`.
fn pipeline(p: &Pipeline, time: fn(Timestamp) -> String) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "url_title": p.name.split_whitespace().collect::<Vec<_>>().join("-"),
        "order_nr": p.order_nr,
        "active_flag": p.active,
        "deal_probability": p.deal_probability,
        "add_time": time(p.add_time),
        "update_time": time(p.update_time),
    })
}

/// A stage as webhooks show it, in both versions (v1's names, as [`pipeline`]).
fn stage(s: &Stage, time: fn(Timestamp) -> String) -> Value {
    json!({
        "id": s.id,
        "name": s.name,
        "pipeline_id": s.pipeline_id,
        "order_nr": s.order_nr,
        "active_flag": s.active,
        "deal_probability": s.deal_probability,
        "rotten_flag": s.rotten,
        "rotten_days": s.rotten_days,
        "add_time": time(s.add_time),
        "update_time": time(s.update_time),
    })
}

/// Custom values in v2 webhooks' typed form (`{"type": "varchar", "value": "x"}`); empty
/// ones left out.
fn typed(fields: &Fields, values: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    for def in fields.custom() {
        let Some(v) = crate::domain::fields::live_value(def, values.get(&def.key)) else {
            continue;
        };
        if v.is_null() {
            continue;
        }
        let t = def.field_type.as_str();
        let part = |name: &str| v.get(name).cloned().unwrap_or(Value::Null);
        let typed = match def.field_type {
            FieldType::Monetary => {
                json!({"type": t, "value": part("value"), "currency": part("currency")})
            }
            FieldType::People | FieldType::Org | FieldType::User | FieldType::Enum => {
                json!({"type": t, "id": v})
            }
            FieldType::Set => {
                let ids: Vec<Value> = v
                    .as_array()
                    .map(|a| a.iter().map(|id| json!({"id": id})).collect())
                    .unwrap_or_default();
                json!({"type": t, "values": ids})
            }
            FieldType::Daterange | FieldType::Timerange => {
                json!({"type": t, "from": part("value"), "until": part("until")})
            }
            FieldType::Time => json!({"type": t, "value": v, "timezone_id": null}),
            FieldType::Address => {
                let mut m = match &v {
                    Value::Object(m) => m.clone(),
                    other => Map::from_iter([("value".to_owned(), other.clone())]),
                };
                m.insert("type".into(), json!(t));
                Value::Object(m)
            }
            _ => json!({"type": t, "value": v}),
        };
        out.insert(def.key.clone(), typed);
    }
    Value::Object(out)
}

/// What a delivery's body is made of besides the object.
pub struct Envelope<'a> {
    pub event: &'a StoredEvent,
    pub webhook: &'a Webhook,
    pub session: &'a Session,
    pub permitted: &'a [i64],
    pub delivery_id: i64,
    /// 1 for the first try.
    pub attempt: i64,
}

/// The body of a delivery: v1's `retry` counts from 0, v2's `meta.attempt` from 1.
pub fn body(e: &Envelope<'_>, current: Option<Value>, previous: Option<Value>) -> Value {
    let stored = e.event;
    let event = &stored.event;
    let company = &e.session.company;
    let host = format!("{}.pipedrive.com", company.domain);
    match e.webhook.version {
        Version::V1 => {
            let action = event.action.v1();
            let filters = json!({"current": []});
            json!({
                "v": 1,
                "matches_filters": filters,
                "meta": {
                    "v": 1,
                    "action": action,
                    "object": event.object,
                    "change_source": event.stamp.source.as_str(),
                    "id": event.object_id,
                    "company_id": company.id,
                    "user_id": event.stamp.user_id,
                    "host": host,
                    "timestamp": event.stamp.time.0,
                    "timestamp_micro": event.stamp.time_ms * 1000,
                    "permitted_user_ids": e.permitted,
                    "trans_pending": false,
                    "is_bulk_update": false,
                    "pipedrive_service_name": false,
                    "matches_filters": filters,
                    "webhook_id": e.webhook.id.to_string(),
                    "type": "general",
                },
                "retry": e.attempt - 1,
                "current": current,
                "previous": previous,
                "event": format!("{action}.{}", event.object),
            })
        }
        Version::V2 => {
            let mut meta = json!({
                "action": event.action.v2(),
                "entity": event.object,
                "company_id": company.id.to_string(),
                "correlation_id": uuid_of(&format!("event:{}:{}", company.id, stored.id)),
                "entity_id": event.object_id.to_string(),
                "id": uuid_of(&format!("delivery:{}:{}", company.id, e.delivery_id)),
                "is_bulk_edit": false,
                "timestamp": Timestamp::rfc3339_ms(event.stamp.time_ms),
                "type": "general",
                "user_id": event.stamp.user_id.to_string(),
                "version": "2.0",
                "webhook_id": e.webhook.id.to_string(),
                "webhook_owner_id": e.webhook.owner_id.to_string(),
                "change_source": event.stamp.source.as_str(),
                "attempt": e.attempt,
                "host": host,
                "permitted_user_ids": e.permitted.iter().map(i64::to_string).collect::<Vec<_>>(),
            });
            if event.object == "user" {
                // Pipedrive's user events carry no `permitted_user_ids`, and a 10-digit
                // timestamp.
                if let Some(m) = meta.as_object_mut() {
                    m.remove("permitted_user_ids");
                }
                meta["timestamp"] = json!(event.stamp.time.0);
            }
            match (event.action, event.merged_id) {
                (Action::Deleted, Some(kept)) => meta["merged_to_id"] = json!(kept.to_string()),
                (Action::Merged, Some(gone)) => meta["merged_from_id"] = json!(gone.to_string()),
                _ => {}
            }
            json!({"meta": meta, "data": current, "previous": previous})
        }
    }
}

/// v2's `previous` of a change: only the keys whose values changed (custom fields by key).
pub fn changed_keys(before: &Value, after: &Value) -> Value {
    let (Value::Object(b), Value::Object(a)) = (before, after) else {
        return before.clone();
    };
    let mut out = Map::new();
    for (k, old) in b {
        if k == "custom_fields" {
            let empty = Map::new();
            let old_cf = old.as_object().unwrap_or(&empty);
            let new_cf = a.get(k).and_then(Value::as_object).unwrap_or(&empty);
            let mut changed = Map::new();
            for key in old_cf.keys().chain(new_cf.keys()) {
                if old_cf.get(key) != new_cf.get(key) {
                    changed.insert(key.clone(), old_cf.get(key).cloned().unwrap_or(Value::Null));
                }
            }
            if !changed.is_empty() {
                out.insert(k.clone(), Value::Object(changed));
            }
        } else if a.get(k) != Some(old) {
            out.insert(k.clone(), old.clone());
        }
    }
    Value::Object(out)
}

/// A UUID (version 4 in form) made from `what`: the same every time, so that a retried
/// delivery carries the same `meta.id` and every delivery of an event the same
/// `correlation_id`, whichever instance sends it.
pub fn uuid_of(what: &str) -> String {
    let digest = Sha256::digest(what.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_keys_keeps_only_what_changed_with_its_old_value() {
        let before = json!({"name": "A", "owner_id": 1, "custom_fields": {"k": 1, "j": 2}});
        let after = json!({"name": "B", "owner_id": 1, "custom_fields": {"k": 1, "j": 3}});
        assert_eq!(
            changed_keys(&before, &after),
            json!({"name": "A", "custom_fields": {"j": 2}})
        );
    }

    #[test]
    fn ids_are_uuids_made_from_what_they_name() {
        let u = uuid_of("delivery:1:7");
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_eq!(u, uuid_of("delivery:1:7"));
        assert_ne!(u, uuid_of("delivery:1:8"));
    }
}
