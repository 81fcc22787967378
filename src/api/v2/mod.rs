//! The current v2 dialect, served under `/api/v2`: plain ids, `emails`/`phones`,
//! `custom_fields`, RFC 3339 times, cursor paging, no `related_objects`.

pub mod persons;
pub mod render;

use axum::Router;
use axum::routing::get;

use super::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/persons",
            get(persons::get_persons).post(persons::add_person),
        )
        .route("/persons/search", get(persons::search_persons))
        .route(
            "/persons/{id}",
            get(persons::get_person)
                .patch(persons::update_person)
                .delete(persons::delete_person),
        )
}
