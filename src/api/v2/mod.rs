//! The current v2 dialect, served under `/api/v2`: plain ids, `emails`/`phones`,
//! `custom_fields`, RFC 3339 times, cursor paging, no `related_objects`.

pub mod person_fields;
pub mod persons;
pub mod render;

use axum::Router;
use axum::routing::{get, post};

use super::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/persons",
            get(persons::get_persons).post(persons::add_person),
        )
        .route("/persons/search", get(persons::search_persons))
        .route(
            "/personFields",
            get(person_fields::get_person_fields).post(person_fields::add_person_field),
        )
        .route(
            "/personFields/{field_code}",
            get(person_fields::get_person_field)
                .patch(person_fields::update_person_field)
                .delete(person_fields::delete_person_field),
        )
        .route(
            "/personFields/{field_code}/options",
            post(person_fields::add_person_field_options)
                .patch(person_fields::update_person_field_options)
                .delete(person_fields::delete_person_field_options),
        )
        .route(
            "/persons/{id}",
            get(persons::get_person)
                .patch(persons::update_person)
                .delete(persons::delete_person),
        )
}
