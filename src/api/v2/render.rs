//! v2 shapes: the person object and its optional parts (`include_fields`, `custom_fields`,
//! `include_labels`).

use serde_json::{Map, Value, json};

use crate::api::parse::QueryParams;
use crate::domain::fields::{self, FieldType, Fields};
use crate::domain::person::{Contact, Person};
use crate::domain::{Company, MarketingStatus};
use crate::error::ApiError;

/// The optional fields `include_fields` may name.
pub const INCLUDABLE: &[&str] = &[
    "next_activity_id",
    "last_activity_id",
    "open_deals_count",
    "related_open_deals_count",
    "closed_deals_count",
    "related_closed_deals_count",
    "participant_open_deals_count",
    "participant_closed_deals_count",
    "email_messages_count",
    "activities_count",
    "done_activities_count",
    "undone_activities_count",
    "files_count",
    "notes_count",
    "followers_count",
    "won_deals_count",
    "related_won_deals_count",
    "lost_deals_count",
    "related_lost_deals_count",
    "last_incoming_mail_time",
    "last_outgoing_mail_time",
    "marketing_status",
    "doi_status",
    "smart_bcc_email",
];

/// The most custom field keys `custom_fields` may name.
pub const MAX_CUSTOM_KEYS: usize = 15;

/// How persons are rendered, from the query string of a read.
#[derive(Debug, Default)]
pub struct Options {
    pub include: Vec<String>,
    pub custom_keys: Option<Vec<String>>,
    pub include_labels: bool,
    pub include_option_labels: bool,
}

impl Options {
    pub fn parse(q: &QueryParams) -> Result<Self, ApiError> {
        let include = q.list("include_fields");
        if let Some(bad) = include.iter().find(|f| !INCLUDABLE.contains(&f.as_str())) {
            return Err(ApiError::invalid(
                "include_fields",
                format!("{bad:?} cannot be included"),
            ));
        }
        let custom = q.list("custom_fields");
        if custom.len() > MAX_CUSTOM_KEYS {
            return Err(ApiError::invalid(
                "custom_fields",
                format!("at most {MAX_CUSTOM_KEYS} keys are allowed"),
            ));
        }
        Ok(Self {
            include,
            custom_keys: (!custom.is_empty()).then_some(custom),
            include_labels: q.bool("include_labels")?,
            include_option_labels: q.bool("include_option_labels")?,
        })
    }
}

/// What rendering needs besides the person.
pub struct Context<'a> {
    pub company: &'a Company,
    pub fields: &'a Fields,
}

fn contacts(list: &[Contact]) -> Value {
    Value::Array(
        list.iter()
            .map(|c| json!({"value": c.value, "primary": c.primary, "label": c.label}))
            .collect(),
    )
}

pub fn person(p: &Person, opts: &Options, ctx: &Context) -> Value {
    let mut m = Map::with_capacity(24 + opts.include.len());
    m.insert("id".into(), json!(p.id));
    m.insert("name".into(), json!(p.name));
    m.insert("first_name".into(), json!(p.first_name));
    m.insert("last_name".into(), json!(p.last_name));
    m.insert("owner_id".into(), json!(p.owner_id));
    m.insert("org_id".into(), json!(p.org_id));
    m.insert("add_time".into(), json!(p.add_time.rfc3339()));
    m.insert("update_time".into(), json!(p.update_time.rfc3339()));
    m.insert("emails".into(), contacts(&p.emails));
    m.insert("phones".into(), contacts(&p.phones));
    m.insert("is_deleted".into(), json!(!p.active));
    m.insert("visible_to".into(), json!(p.visible_to.get()));
    let label_ids = ctx.fields.live_labels(&p.label_ids);
    m.insert("label_ids".into(), json!(label_ids));
    m.insert("picture_id".into(), Value::Null);
    let mut custom = Map::new();
    for def in ctx.fields.custom() {
        let wanted = opts
            .custom_keys
            .as_ref()
            .is_none_or(|keys| keys.contains(&def.key));
        if !wanted {
            continue;
        }
        let mut v = fields::live_value(def, p.custom_fields.get(&def.key)).unwrap_or(Value::Null);
        if opts.include_option_labels {
            let labelled = |id: &Value| {
                let label = def
                    .options
                    .iter()
                    .find(|o| Some(o.id) == id.as_i64())
                    .map(|o| o.label.clone());
                json!({"id": id, "label": label})
            };
            v = match (def.field_type, &v) {
                (FieldType::Enum, id @ Value::Number(_)) => labelled(id),
                (FieldType::Set, Value::Array(ids)) => {
                    Value::Array(ids.iter().map(labelled).collect())
                }
                _ => v,
            };
        }
        custom.insert(def.key.clone(), v);
    }
    m.insert("custom_fields".into(), Value::Object(custom));
    for field in &opts.include {
        let value = match field.as_str() {
            "followers_count" => json!(p.followers_count()),
            f if f.ends_with("_count") => json!(0),
            "marketing_status" if ctx.company.campaigns_enabled => json!(
                p.marketing_status
                    .unwrap_or(MarketingStatus::NoConsent)
                    .as_str()
            ),
            "marketing_status" | "doi_status" if !ctx.company.campaigns_enabled => continue,
            "smart_bcc_email" => json!(ctx.company.cc_email()),
            _ => Value::Null,
        };
        m.insert(field.clone(), value);
    }
    if opts.include_labels {
        let labels: Vec<Value> = label_ids
            .iter()
            .filter_map(|id| ctx.fields.labels().iter().find(|l| l.id == *id))
            .map(|l| json!({"id": l.id, "label": l.label}))
            .collect();
        m.insert("labels".into(), Value::Array(labels));
    }
    Value::Object(m)
}
