//! The current v2 dialect, served under `/api/v2`: plain ids, `emails`/`phones`,
//! `custom_fields`, RFC 3339 times, cursor paging, no `related_objects`.

pub mod activities;
pub mod deals;
pub mod fields;
pub mod organizations;
pub mod persons;
pub mod pipelines;
pub mod render;

use serde_json::{Value, json};

use super::parse::{QueryParams, decode_cursor, encode_cursor};
use crate::domain::query::{Direction, SortField};
use crate::domain::{Timestamp, values};
use crate::error::ApiError;

/// The order and position of a v2 list page: `sort_by` (`id`, `update_time`, `add_time`),
/// `sort_direction`, and the keyset `cursor`, which carries its own order (a cursor issued for
/// another order is a 400).
pub struct ListOrder {
    pub sort_by: SortField,
    pub direction: Direction,
    /// The (sort key, id) the page starts after.
    pub after: Option<(i64, i64)>,
}

/// What most v2 lists can be sorted by.
pub const SORTS: &[SortField] = &[SortField::Id, SortField::UpdateTime, SortField::AddTime];

impl ListOrder {
    pub fn parse(q: &QueryParams) -> Result<Self, ApiError> {
        Self::parse_among(q, SORTS)
    }

    /// The order of a list that can be sorted by `allowed` (integer keys only).
    pub fn parse_among(q: &QueryParams, allowed: &[SortField]) -> Result<Self, ApiError> {
        let sortable = |f: &SortField| allowed.contains(f);
        let mut sort_by = q
            .str("sort_by")
            .map(|s| {
                SortField::from_name(s).filter(sortable).ok_or_else(|| {
                    let names: Vec<&str> = allowed.iter().map(|f| f.name()).collect();
                    ApiError::invalid("sort_by", format!("must be one of {}", names.join(", ")))
                })
            })
            .transpose()?;
        let mut direction = q
            .str("sort_direction")
            .map(|d| {
                Direction::from_name(d)
                    .ok_or_else(|| ApiError::invalid("sort_direction", "must be asc or desc"))
            })
            .transpose()?;
        let mut after = None;
        if let Some(c) = q.str("cursor") {
            let v = decode_cursor(c)?;
            let bad = || ApiError::invalid("cursor", "is not a list cursor");
            let field = v["field"]
                .as_str()
                .and_then(SortField::from_name)
                .filter(sortable)
                .ok_or_else(bad)?;
            let dir = v["sortDirection"]
                .as_str()
                .and_then(Direction::from_name)
                .ok_or_else(bad)?;
            if sort_by.is_some_and(|s| s != field) || direction.is_some_and(|d| d != dir) {
                return Err(ApiError::invalid(
                    "cursor",
                    "was issued for another sort_by or sort_direction",
                ));
            }
            sort_by = Some(field);
            direction = Some(dir);
            after = Some((
                v["fieldValue"].as_i64().ok_or_else(bad)?,
                v["id"].as_i64().ok_or_else(bad)?,
            ));
        }
        Ok(Self {
            sort_by: sort_by.unwrap_or(SortField::Id),
            direction: direction.unwrap_or(Direction::Asc),
            after,
        })
    }

    /// The cursor of the page after one ending at `last` = (sort key, id), when more follow.
    pub fn next_cursor(&self, last: Option<(i64, i64)>, more: bool) -> Option<String> {
        let (key, id) = last.filter(|_| more)?;
        Some(encode_cursor(&json!({
            "field": self.sort_by.name(),
            "fieldValue": key,
            "sortDirection": self.direction.name(),
            "id": id,
        })))
    }
}

/// A body's `custom_fields`: an object of values by field key (`null`: none given), kept for
/// the domain to check against the item kind's fields.
pub fn custom_fields_body(v: Value, into: &mut Vec<(String, Value)>) -> Result<(), ApiError> {
    match v {
        Value::Object(map) => into.extend(map),
        Value::Null => {}
        other => {
            return Err(ApiError::invalid(
                "custom_fields",
                format!("must be an object, got {}", values::describe(&other)),
            ));
        }
    }
    Ok(())
}

/// An RFC 3339 time parameter (`updated_since`, `updated_until`).
pub fn time_param(q: &QueryParams, name: &str) -> Result<Option<Timestamp>, ApiError> {
    q.str(name)
        .map(|s| {
            Timestamp::parse_rfc3339(s).ok_or_else(|| {
                ApiError::invalid(name, "must be an RFC 3339 time, e.g. 2025-01-01T10:20:00Z")
            })
        })
        .transpose()
}
