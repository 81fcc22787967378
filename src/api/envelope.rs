//! Success envelopes: `{"success": true, "data": …, "additional_data": …, "related_objects": …}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// `{"success":true,"data":data}` with optional extras, in Pipedrive's key order.
pub fn success(
    status: StatusCode,
    data: Value,
    additional_data: Option<Value>,
    related_objects: Option<Map<String, Value>>,
) -> Response {
    let mut body = Map::new();
    body.insert("success".into(), json!(true));
    body.insert("data".into(), data);
    if let Some(a) = additional_data {
        body.insert("additional_data".into(), a);
    }
    if let Some(r) = related_objects {
        body.insert("related_objects".into(), Value::Object(r));
    }
    (status, Json(Value::Object(body))).into_response()
}
