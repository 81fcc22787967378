//! The legacy v1 dialect, served under `/v1` and `/api/v1`.

pub mod organizations;
pub mod person_fields;
pub mod persons;
pub mod render;
pub mod users;

use axum::Router;
use axum::routing::{get, post, put};

use serde_json::Value;

use super::AppState;
use crate::domain::{Timestamp, values};
use crate::error::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/persons",
            post(persons::add_person)
                .get(persons::list_persons)
                .delete(persons::delete_persons),
        )
        .route("/persons/search", get(persons::search_persons_v1))
        .route(
            "/persons/{id}",
            get(persons::get_person)
                .put(persons::update_person)
                .delete(persons::delete_person),
        )
        .route("/persons/{id}/merge", put(persons::merge_persons))
        .route(
            "/personFields",
            get(person_fields::get_person_fields)
                .post(person_fields::add_person_field)
                .delete(person_fields::delete_person_fields),
        )
        .route(
            "/personFields/{id}",
            get(person_fields::get_person_field)
                .put(person_fields::update_person_field)
                .delete(person_fields::delete_person_field),
        )
        .route("/organizations", post(organizations::add_organization))
        .route("/organizations/{id}", get(organizations::get_organization))
        .route("/users", get(users::get_users))
        .route("/users/me", get(users::get_current_user))
}

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
