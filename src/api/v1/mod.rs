//! The legacy v1 dialect, served under `/v1` and `/api/v1`.

pub mod activities;
pub mod activity_types;
pub mod deals;
pub mod fields;
pub mod notes;
pub mod organizations;
pub mod persons;
pub mod render;
pub mod users;
pub mod webhooks;

use serde_json::{Map, Value, json};

use crate::api::parse::QueryParams;
use crate::domain::fields::ADDRESS_PARTS;
use crate::domain::query;
use crate::domain::{Timestamp, is_custom_field_key, values};
use crate::error::ApiError;

/// v1's optional `add_time`: `YYYY-MM-DD HH:MM:SS` in UTC; blank means "now".
pub fn add_time(v: &Value) -> Result<Option<Timestamp>, ApiError> {
    if values::is_blank(v) {
        return Ok(None);
    }
    let s = values::string("add_time", v)?;
    Timestamp::parse_v1(s).map(Some).ok_or_else(|| {
        ApiError::invalid(
            "add_time",
            "must be a UTC date and time in the format YYYY-MM-DD HH:MM:SS",
        )
    })
}

/// v1's offset paging parameters: `start` (default 0, not negative) and `limit` (1–500,
/// default 100).
pub fn paging(q: &QueryParams) -> Result<(i64, i64), ApiError> {
    let start = q.int("start")?.unwrap_or(0);
    if start < 0 {
        return Err(ApiError::invalid("start", "must not be negative"));
    }
    Ok((start, query::limit(q.int("limit")?)?))
}

/// One offset page of a fully loaded list: the items from `start`, at most `limit`, and
/// whether more follow.
pub fn page_of<T>(items: &[T], start: i64, limit: i64) -> (&[T], bool) {
    let from = usize::try_from(start)
        .unwrap_or(usize::MAX)
        .min(items.len());
    let to = from.saturating_add(limit as usize).min(items.len());
    (&items[from..to], to < items.len())
}

/// `additional_data.pagination`; `next_start` only when more items follow.
pub fn pagination(start: i64, limit: i64, count: usize, more: bool) -> Value {
    let mut p = json!({"start": start, "limit": limit, "more_items_in_collection": more});
    if more {
        p["next_start"] = json!(start + count as i64);
    }
    p
}

/// Custom values as a v1 body writes them: `<hash>` at the root, and its sibling parts
/// `<hash>_currency`, `<hash>_until` and `<hash>_<address part>`, gathered per field.
#[derive(Default)]
pub struct CustomParts(Vec<(String, Map<String, Value>)>);

impl CustomParts {
    /// Keeps `v` if `key` is a custom key or a sibling part of one; gives it back if not.
    pub fn take(&mut self, key: &str, v: Value) -> Option<Value> {
        let Some((base, part)) = custom_key(key) else {
            return Some(v);
        };
        let at = match self.0.iter().position(|(k, _)| k == base) {
            Some(i) => i,
            None => {
                self.0.push((base.to_owned(), Map::new()));
                self.0.len() - 1
            }
        };
        self.0[at].1.insert(part.to_owned(), v);
        None
    }

    /// The values by key: a value alone stays as sent; with siblings the parts travel
    /// together as `{"value": …, "<part>": …}`.
    pub fn into_values(self) -> Vec<(String, Value)> {
        self.0
            .into_iter()
            .map(|(key, mut parts)| {
                let value = if parts.len() == 1 && parts.contains_key("value") {
                    parts.remove("value").unwrap_or(Value::Null)
                } else {
                    Value::Object(parts)
                };
                (key, value)
            })
            .collect()
    }
}

/// Splits a v1 custom key: `<hash>` → (`<hash>`, `value`); `<hash>_<part>` for the sibling
/// parts Pipedrive uses → (`<hash>`, `<part>`).
fn custom_key(key: &str) -> Option<(&str, &str)> {
    let base = key.get(..40)?;
    if !is_custom_field_key(base) {
        return None;
    }
    match &key[40..] {
        "" => Some((base, "value")),
        rest => {
            let part = rest.strip_prefix('_')?;
            let known = part == "currency" || part == "until" || ADDRESS_PARTS.contains(&part);
            known.then_some((base, part))
        }
    }
}
