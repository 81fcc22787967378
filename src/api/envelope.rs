//! Success envelopes: `{"success": true, "data": …, "additional_data": …, "related_objects": …}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::error::ApiError;

#[derive(Serialize)]
struct Envelope<D> {
    success: bool,
    data: D,
    #[serde(skip_serializing_if = "Option::is_none")]
    additional_data: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    related_objects: Option<Map<String, Value>>,
}

/// `{"success":true,"data":data}` with optional extras, in Pipedrive's key order. `data` is
/// serialized straight into the body: a list page of persons never becomes a `Value` tree.
pub fn success(
    status: StatusCode,
    data: impl Serialize,
    additional_data: Option<Value>,
    related_objects: Option<Map<String, Value>>,
) -> Response {
    let envelope = Envelope {
        success: true,
        data,
        additional_data,
        related_objects,
    };
    let mut body = Vec::with_capacity(1024);
    match serde_json::to_writer(&mut body, &envelope) {
        Ok(()) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response(),
        Err(e) => ApiError::Internal(format!("rendering a response: {e}")).into_response(),
    }
}

/// A page of a cursor-paged list: `additional_data.next_cursor` says where the next page
/// starts, `null` after the last one.
pub fn cursor_page(data: impl Serialize, next_cursor: Option<String>) -> Response {
    success(
        StatusCode::OK,
        data,
        Some(json!({ "next_cursor": next_cursor })),
        None,
    )
}
