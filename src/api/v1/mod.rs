//! The legacy v1 dialect, served under `/v1` and `/api/v1`.

pub mod organizations;
pub mod person_fields;
pub mod persons;
pub mod render;
pub mod users;

use serde_json::Value;

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
