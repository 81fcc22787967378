//! v2 shapes: the person object and the optional parts every item has (`include_fields`,
//! `custom_fields`, `include_labels`).

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Value, json};

use crate::api::parse::QueryParams;
use std::collections::HashMap;

use crate::domain::fields::{self, FieldType, Fields};
use crate::domain::person::Person;
use crate::domain::ports::Store;
use crate::domain::summary::{self, Summary};
use crate::domain::{Company, Kind, MarketingStatus, Session};
use crate::error::ApiError;

/// The optional fields `include_fields` may name on a person.
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
    /// How a person just added or changed is answered: with `marketing_status` (where
    /// Campaigns is on), as Pipedrive's v2 spec says these endpoints "accept and return" it,
    /// so the client sees what its status became.
    pub fn written() -> Self {
        Self {
            include: vec!["marketing_status".to_owned()],
            ..Self::default()
        }
    }

    /// How a read of persons renders them.
    pub fn parse(q: &QueryParams) -> Result<Self, ApiError> {
        Self::parse_among(q, INCLUDABLE)
    }

    /// How a read renders its items, whose optional fields are `includable`.
    pub fn parse_among(q: &QueryParams, includable: &[&str]) -> Result<Self, ApiError> {
        let mut include = q.list("include_fields");
        // Each key once, where it was first named.
        let mut seen = std::collections::HashSet::new();
        include.retain(|f| seen.insert(f.clone()));
        if let Some(bad) = include.iter().find(|f| !includable.contains(&f.as_str())) {
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

/// What rendering needs besides the item: the company, the item kind's fields and, when the
/// read includes a summary field, the items' summaries.
pub struct Context<'a> {
    pub company: &'a Company,
    pub fields: &'a Fields,
    summaries: HashMap<i64, Summary>,
}

impl<'a> Context<'a> {
    pub fn new(company: &'a Company, fields: &'a Fields) -> Self {
        Self {
            company,
            fields,
            summaries: HashMap::new(),
        }
    }

    /// The context with the summaries of the persons, organizations or deals (`kind`) `ids`:
    /// the parts `opts` includes, read only then.
    pub async fn with_summaries(
        mut self,
        store: &dyn Store,
        session: &Session,
        kind: Kind,
        ids: &[i64],
        opts: &Options,
    ) -> Result<Self, ApiError> {
        let needs = summary::needs(&opts.include);
        if needs.0 || needs.1 {
            self.summaries = summary::summaries(store, session, kind, ids, needs).await?;
        }
        Ok(self)
    }

    /// The value of `key` for item `id` if `key` is a summary field.
    pub fn summary(&self, id: i64, key: &str) -> Option<Value> {
        match self.summaries.get(&id) {
            Some(s) => s.get(key),
            None => Summary::default().get(key),
        }
    }
}

/// A person in the v2 shape, serialized straight to the response body.
pub struct PersonV2<'a> {
    p: &'a Person,
    opts: &'a Options,
    ctx: &'a Context<'a>,
}

/// The v2 shape of `p` under the read's options.
pub fn person<'a>(p: &'a Person, opts: &'a Options, ctx: &'a Context<'a>) -> PersonV2<'a> {
    PersonV2 { p, opts, ctx }
}

impl Serialize for PersonV2<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let PersonV2 { p, opts, ctx } = *self;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &p.id)?;
        m.serialize_entry("name", &p.name)?;
        m.serialize_entry("first_name", &p.first_name)?;
        m.serialize_entry("last_name", &p.last_name)?;
        m.serialize_entry("owner_id", &p.owner_id)?;
        m.serialize_entry("org_id", &p.org_id)?;
        m.serialize_entry("add_time", &p.add_time.rfc3339())?;
        m.serialize_entry("update_time", &p.update_time.rfc3339())?;
        m.serialize_entry("emails", &p.emails)?;
        m.serialize_entry("phones", &p.phones)?;
        m.serialize_entry("is_deleted", &!p.active)?;
        m.serialize_entry("visible_to", &p.visible_to.get())?;
        let label_ids = ctx.fields.live_labels(&p.label_ids);
        m.serialize_entry("label_ids", &label_ids)?;
        m.serialize_entry("picture_id", &())?;
        m.serialize_entry("custom_fields", &custom_values(ctx, &p.custom_fields, opts))?;
        for field in &opts.include {
            let value = match field.as_str() {
                "followers_count" => json!(p.followers_count()),
                f if let Some(v) = ctx.summary(p.id, f) => v,
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
            m.serialize_entry(field, &value)?;
        }
        if opts.include_labels {
            m.serialize_entry("labels", &labels(ctx, &label_ids))?;
        }
        m.end()
    }
}

/// The keys of several objects, in order, as one (long objects are past `json!`'s recursion
/// limit in one literal).
pub fn merged_keys<const N: usize>(parts: [Value; N]) -> Value {
    let mut out = serde_json::Map::new();
    for part in parts {
        if let Value::Object(keys) = part {
            out.extend(keys);
        }
    }
    Value::Object(out)
}

/// `labels`: the names of the (live) label ids, as `include_labels` adds them.
pub fn labels(ctx: &Context<'_>, live_ids: &[i64]) -> Vec<Value> {
    live_ids
        .iter()
        .filter_map(|id| ctx.fields.labels().iter().find(|l| l.id == *id))
        .map(|l| json!({"id": l.id, "label": l.label}))
        .collect()
}

/// `custom_fields` of an item: every custom field of its kind (or those `custom_fields=`
/// names), `null` when empty; with `include_option_labels`, enum and set options as
/// `{"id", "label"}`.
pub fn custom_values<'a>(
    ctx: &'a Context<'a>,
    values: &'a serde_json::Map<String, Value>,
    opts: &'a Options,
) -> CustomValues<'a> {
    CustomValues { ctx, values, opts }
}

pub struct CustomValues<'a> {
    ctx: &'a Context<'a>,
    values: &'a serde_json::Map<String, Value>,
    opts: &'a Options,
}

impl Serialize for CustomValues<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let CustomValues { ctx, values, opts } = *self;
        let mut m = s.serialize_map(None)?;
        for def in ctx.fields.custom() {
            let wanted = opts
                .custom_keys
                .as_ref()
                .is_none_or(|keys| keys.contains(&def.key));
            if !wanted {
                continue;
            }
            let mut v = fields::live_value(def, values.get(&def.key)).unwrap_or(Value::Null);
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
            m.serialize_entry(&def.key, &v)?;
        }
        m.end()
    }
}
