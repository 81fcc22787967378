//! v1 fields of every kind (personFields, organizationFields): list, get, add, update,
//! delete (one and bulk). Each handler serves every kind; the route says which.

use crate::api::extract::{Caller, ItemKind, PathId};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::api::ApiResult;
use crate::api::envelope::success;
use crate::api::parse::{QueryParams, reject_fields};
use crate::api::payload::Payload;
use crate::domain::field_admin::{self, FieldUpdate, OptionInput};
use crate::domain::fields::{FieldDef, FieldSettings};
use crate::domain::values;
use crate::error::ApiError;

/// A field in v1's shape.
pub fn field(f: &FieldDef) -> Value {
    // "When there are no options, `null` is returned."
    let options = (f.has_options() && !f.options.is_empty()).then(|| {
        f.options
            .iter()
            .map(|o| json!({"id": o.id, "label": o.label}))
            .collect::<Vec<_>>()
    });
    let mut v = json!({
        "id": f.id,
        "key": f.key,
        "name": f.name,
        "order_nr": f.order_nr,
        "field_type": f.field_type.as_str(),
        "add_time": f.add_time.v1(),
        "update_time": f.update_time.v1(),
        "last_updated_by_user_id": f.updated_by_user_id,
        "created_by_user_id": f.created_by_user_id,
        "active_flag": true,
        "edit_flag": f.is_custom,
        "index_visible_flag": true,
        "details_visible_flag": f.settings.details_visible_flag,
        "add_visible_flag": f.add_visible_flag,
        "important_flag": f.settings.important,
        "bulk_edit_allowed": f.key != "id",
        "searchable_flag": f.searchable() || matches!(f.key.as_str(), "name" | "email" | "phone"),
        "filtering_allowed": true,
        "sortable_flag": true,
        "mandatory_flag": f.required(),
        "options": options,
    });
    if !f.deleted_options.is_empty() {
        v["options_deleted"] = json!(
            f.deleted_options
                .iter()
                .map(|o| json!({"id": o.id, "label": o.label}))
                .collect::<Vec<_>>()
        );
    }
    let subfields: Vec<Value> = f
        .subfields()
        .iter()
        .map(|s| json!({"key": format!("{}_{s}", f.key), "name": format!("{} ({s})", f.name), "field_type": if *s == "until" { f.field_type.as_str() } else { "varchar" }}))
        .collect();
    if !subfields.is_empty() {
        v["subfields"] = json!(subfields);
    }
    v
}

pub async fn get_fields<K: ItemKind>(
    Caller { session, store }: Caller,
    q: QueryParams,
) -> ApiResult {
    let (start, limit) = super::paging(&q)?;
    let fields = field_admin::shown_fields(store.as_ref(), &session, K::KIND).await?;
    let (page, more) = super::page_of(&fields, start, limit);
    let page: Vec<Value> = page.iter().map(field).collect();
    let pagination = super::pagination(start, limit, page.len(), more);
    Ok(success(
        StatusCode::OK,
        Value::Array(page),
        Some(json!({ "pagination": pagination })),
        None,
    ))
}

pub async fn get_field<K: ItemKind>(
    Caller { session, store }: Caller,
    PathId(id): PathId,
) -> ApiResult {
    let f = field_admin::field_by_id(store.as_ref(), &session, K::KIND, id).await?;
    Ok(success(StatusCode::OK, field(&f), None, None))
}

pub async fn add_field<K: ItemKind>(
    Caller { session, store }: Caller,
    Payload(body): Payload,
) -> ApiResult {
    let mut name = None;
    let mut field_type = None;
    let mut options = Vec::new();
    let mut add_visible = true;
    let mut invalid = Vec::new();
    for (k, v) in &body {
        match k.as_str() {
            "name" => name = values::opt_string("name", v)?,
            "field_type" => field_type = values::opt_string("field_type", v)?,
            "options" => {
                options = option_inputs(v)?
                    .into_iter()
                    .map(|o| o.label.unwrap_or_default())
                    .collect()
            }
            "add_visible_flag" => add_visible = values::boolean("add_visible_flag", v)?,
            _ => invalid.push(format!("{k} (unknown field)")),
        }
    }
    reject_fields(&invalid)?;
    let draft = field_admin::FieldDraft {
        name,
        field_type,
        options,
        add_visible_flag: add_visible,
        settings: FieldSettings::default(),
    };
    let f = field_admin::add_field(store.as_ref(), &session, K::KIND, draft, true).await?;
    Ok(success(StatusCode::OK, field(&f), None, None))
}

pub async fn update_field<K: ItemKind>(
    Caller { session, store }: Caller,
    PathId(id): PathId,
    Payload(body): Payload,
) -> ApiResult {
    let existing = field_admin::field_by_id(store.as_ref(), &session, K::KIND, id).await?;
    let mut name = None;
    let mut options = None;
    let mut add_visible = None;
    let mut invalid = Vec::new();
    for (k, v) in &body {
        match k.as_str() {
            "name" => name = values::opt_string("name", v)?,
            "options" => options = Some(option_inputs(v)?),
            "add_visible_flag" => add_visible = Some(values::boolean("add_visible_flag", v)?),
            "field_type" | "key" => invalid.push(format!("{k} (cannot be changed)")),
            _ => invalid.push(format!("{k} (unknown field)")),
        }
    }
    reject_fields(&invalid)?;
    let update = FieldUpdate {
        name: name.map(str::to_owned),
        add_visible_flag: add_visible,
        settings: None,
        options,
    };
    let f = field_admin::update_field(store.as_ref(), &session, K::KIND, &existing, update).await?;
    Ok(success(StatusCode::OK, field(&f), None, None))
}

pub async fn delete_field<K: ItemKind>(
    Caller { session, store }: Caller,
    PathId(id): PathId,
) -> ApiResult {
    let deleted = field_admin::delete_fields(store.as_ref(), &session, K::KIND, &[id]).await?;
    if deleted.is_empty() {
        return Err(field_admin::field_not_found().into());
    }
    Ok(success(StatusCode::OK, json!({ "id": id }), None, None))
}

pub async fn delete_fields<K: ItemKind>(
    Caller { session, store }: Caller,
    q: QueryParams,
) -> ApiResult {
    let ids = q.ids("ids", 1000)?.unwrap_or_default();
    if ids.is_empty() {
        return Err(ApiError::bad_request(
            "Please provide at least one item to delete",
        ));
    }
    let deleted = field_admin::delete_fields(store.as_ref(), &session, K::KIND, &ids).await?;
    Ok(success(
        StatusCode::OK,
        json!({ "id": deleted }),
        None,
        None,
    ))
}

/// `options`: an array of `{label}` / `{id, label}` objects (or a JSON-encoded string of one,
/// as Pipedrive's docs describe it), or plain label strings.
fn option_inputs(v: &Value) -> Result<Vec<OptionInput>, ApiError> {
    let parsed;
    let v = match v {
        Value::String(s) => {
            parsed = serde_json::from_str::<Value>(s)
                .map_err(|_| ApiError::invalid("options", "must be an array of {label} objects"))?;
            &parsed
        }
        other => other,
    };
    let Value::Array(items) = v else {
        return Err(ApiError::invalid(
            "options",
            "must be an array of {label} objects",
        ));
    };
    items
        .iter()
        .map(|item| match item {
            Value::String(s) => Ok(OptionInput {
                id: None,
                label: Some(s.clone()),
            }),
            Value::Object(o) => option_object(o),
            _ => Err(ApiError::invalid(
                "options",
                "each option must be an object with a label",
            )),
        })
        .collect()
}

fn option_object(o: &Map<String, Value>) -> Result<OptionInput, ApiError> {
    let id = o
        .get("id")
        .map(|v| values::id("options[].id", v))
        .transpose()?;
    let label = o
        .get("label")
        .map(|v| values::string("options[].label", v).map(str::to_owned))
        .transpose()?;
    Ok(OptionInput { id, label })
}
