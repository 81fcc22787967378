//! `/v1/activityTypes`: list, add, update and delete (current in Pipedrive's v1).

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::api::ApiResult;
use crate::api::envelope::success;
use crate::api::extract::{Caller, PathId};
use crate::api::parse::reject_fields;
use crate::api::payload::Payload;
use crate::domain::activity::ActivityType;
use crate::domain::activity::types::{self, TypeDraft};
use crate::domain::values;
use crate::error::ApiError;

/// A type in v1's shape.
pub fn render(t: &ActivityType) -> Value {
    json!({
        "id": t.id,
        "order_nr": t.order_nr,
        "name": t.name,
        "key_string": t.key_string,
        "icon_key": t.icon_key,
        "active_flag": t.active,
        "color": t.color,
        "is_custom_flag": t.is_custom,
        "add_time": t.add_time.v1(),
        "update_time": t.update_time.v1(),
    })
}

fn draft(body: Map<String, Value>) -> Result<TypeDraft, ApiError> {
    let mut d = TypeDraft::default();
    let mut invalid = Vec::new();
    for (key, v) in body {
        let k = key.as_str();
        match k {
            "name" => d.name = Some(values::string(k, &v)?.to_owned()),
            "icon_key" => d.icon_key = Some(values::string(k, &v)?.to_owned()),
            "color" => d.color = Some(values::opt_string(k, &v)?.map(str::to_owned)),
            "order_nr" => d.order_nr = Some(values::integer(k, &v)?),
            "id" | "key_string" | "active_flag" | "is_custom_flag" | "add_time" | "update_time" => {
                invalid.push(format!("{k} (read-only)"))
            }
            _ => invalid.push(format!("{key} (unknown field)")),
        }
    }
    reject_fields(&invalid)?;
    Ok(d)
}

/// `GET /v1/activityTypes`: every type, deleted ones too (`active_flag: false`).
pub async fn get_activity_types(Caller { session, store }: Caller) -> ApiResult {
    let list = types::list_types(store.as_ref(), &session).await?;
    let data: Vec<Value> = list.iter().map(render).collect();
    Ok(success(StatusCode::OK, data, None, None))
}

/// `POST /v1/activityTypes`: `name` and `icon_key` needed; 200 with the type.
pub async fn add_activity_type(
    Caller { session, store }: Caller,
    Payload(body): Payload,
) -> ApiResult {
    let t = types::add_type(store.as_ref(), &session, draft(body)?).await?;
    Ok(success(StatusCode::OK, render(&t), None, None))
}

/// `PUT /v1/activityTypes/{id}`.
pub async fn update_activity_type(
    Caller { session, store }: Caller,
    PathId(id): PathId,
    Payload(body): Payload,
) -> ApiResult {
    let t = types::update_type(store.as_ref(), &session, id, draft(body)?).await?;
    Ok(success(StatusCode::OK, render(&t), None, None))
}

/// `DELETE /v1/activityTypes/{id}`: the type, now with `active_flag: false`.
pub async fn delete_activity_type(
    Caller { session, store }: Caller,
    PathId(id): PathId,
) -> ApiResult {
    let t = types::delete_type(store.as_ref(), &session, id).await?;
    Ok(success(StatusCode::OK, render(&t), None, None))
}
