//! The legacy v1 dialect, served under `/v1` and `/api/v1`.

pub mod organizations;
pub mod person_fields;
pub mod persons;
pub mod render;
pub mod users;

use serde_json::{Value, json};

use crate::api::parse::QueryParams;
use crate::domain::query;
use crate::domain::{Timestamp, values};
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
