//! v2 fields of every kind (personFields, organizationFields): list, get, add, update,
//! delete, and atomic option changes. Each handler serves every kind; the route says which.

use crate::api::extract::{Caller, FieldCode, ItemKind};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::api::ApiResult;
use crate::api::envelope::{cursor_page, success};
use crate::api::parse::{QueryParams, keyset_page, reject_fields};
use crate::api::payload::{JsonBody, Payload};
use crate::domain::field_admin::{self, FieldUpdate};
use crate::domain::fields::{FieldDef, FieldOption, FieldSettings};
use crate::domain::ports::FieldChanges;
use crate::domain::values;
use crate::error::ApiError;

const NAMESPACES: [&str; 3] = ["ui_visibility", "important_fields", "required_fields"];

fn option(o: &FieldOption) -> Value {
    json!({
        "id": o.id,
        "label": o.label,
        "color": o.color,
        "update_time": o.update_time.rfc3339(),
        "add_time": o.add_time.rfc3339(),
    })
}

/// A field in v2's shape; `include` adds the requested namespaces.
pub fn field(f: &FieldDef, include: &[String]) -> Value {
    let subfields = f.subfields();
    let mut v = json!({
        "field_name": f.name,
        "field_code": f.field_code(),
        "description": f.settings.description,
        "field_type": f.field_type.as_str(),
        "options": f.has_options().then(|| f.options.iter().map(option).collect::<Vec<_>>()),
        "subfields": (!subfields.is_empty()).then(|| subfields.iter().map(|s| json!({
            "field_code": format!("{}_{s}", f.key),
            "field_name": format!("{} ({s})", f.name),
            "field_type": if *s == "until" { f.field_type.as_str() } else { "varchar" },
        })).collect::<Vec<_>>()),
        "is_custom_field": f.is_custom,
        "is_optional_response_field": matches!(f.key.as_str(), "marketing_status" | "followers_count"),
    });
    for ns in include {
        v[ns.as_str()] = match ns.as_str() {
            "ui_visibility" => json!({
                "add_visible_flag": f.add_visible_flag,
                "details_visible_flag": f.settings.details_visible_flag,
                "show_in_add_deal_dialog": {"show": f.settings.show_in_add_deal_dialog, "order": null},
            }),
            "important_fields" => json!({"enabled": f.settings.important, "stage_ids": []}),
            _ => json!({"enabled": f.required()}),
        };
    }
    v
}

fn namespaces(q: &QueryParams) -> Result<Vec<String>, ApiError> {
    let include = q.list("include_fields");
    if let Some(bad) = include.iter().find(|n| !NAMESPACES.contains(&n.as_str())) {
        return Err(ApiError::invalid(
            "include_fields",
            format!("{bad:?} is not one of ui_visibility, important_fields, required_fields"),
        ));
    }
    Ok(include)
}

pub async fn get_fields<K: ItemKind>(
    Caller { session, store }: Caller,
    q: QueryParams,
) -> ApiResult {
    let include = namespaces(&q)?;
    let fields = field_admin::shown_fields(store.as_ref(), &session, K::KIND).await?;
    // Fields come built-in first, then by their order and id.
    let (page, next_cursor) = keyset_page(
        &q,
        &fields,
        |f| (f.is_custom, f.order_nr, f.id),
        "field list",
    )?;
    let page: Vec<Value> = page.iter().map(|f| field(f, &include)).collect();
    Ok(cursor_page(Value::Array(page), next_cursor))
}

pub async fn get_field<K: ItemKind>(
    Caller { session, store }: Caller,
    FieldCode(code): FieldCode,
    q: QueryParams,
) -> ApiResult {
    let include = namespaces(&q)?;
    let f = field_admin::field_by_code(store.as_ref(), &session, K::KIND, &code).await?;
    Ok(success(StatusCode::OK, field(&f, &include), None, None))
}

pub async fn add_field<K: ItemKind>(
    Caller { session, store }: Caller,
    Payload(body): Payload,
) -> ApiResult {
    let mut name = None;
    let mut field_type = None;
    let mut options = Vec::new();
    let mut invalid = Vec::new();
    for (k, v) in &body {
        match k.as_str() {
            "field_name" => name = values::opt_string("field_name", v)?,
            "field_type" => field_type = values::opt_string("field_type", v)?,
            "options" => options = labels(v)?,
            k if SETTINGS.contains(&k) => {}
            _ => invalid.push(format!("{k} (unknown field)")),
        }
    }
    reject_fields(&invalid)?;
    let (settings, add_visible) = settings(&body, &FieldSettings::default())?;
    let draft = field_admin::FieldDraft {
        name,
        field_type,
        options,
        add_visible_flag: add_visible.unwrap_or(false),
        settings,
    };
    let f = field_admin::add_field(store.as_ref(), &session, K::KIND, draft, false).await?;
    Ok(success(StatusCode::OK, field(&f, &[]), None, None))
}

pub async fn update_field<K: ItemKind>(
    Caller { session, store }: Caller,
    FieldCode(code): FieldCode,
    Payload(body): Payload,
) -> ApiResult {
    let existing = field_admin::field_by_code(store.as_ref(), &session, K::KIND, &code).await?;
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "At least one field must be provided in the request body",
        ));
    }
    let mut name = None;
    let mut invalid = Vec::new();
    for (k, v) in &body {
        match k.as_str() {
            "field_name" => name = values::opt_string("field_name", v)?,
            k if SETTINGS.contains(&k) => {}
            "field_code" | "field_type" => invalid.push(format!("{k} (cannot be changed)")),
            _ => invalid.push(format!("{k} (unknown field)")),
        }
    }
    reject_fields(&invalid)?;
    let (settings, add_visible) = settings(&body, &existing.settings)?;
    let update = FieldUpdate {
        name: name.map(str::to_owned),
        add_visible_flag: add_visible,
        settings: (settings != existing.settings).then_some(settings),
        options: None,
    };
    let f = field_admin::update_field(store.as_ref(), &session, K::KIND, &existing, update).await?;
    Ok(success(StatusCode::OK, field(&f, &[]), None, None))
}

pub async fn delete_field<K: ItemKind>(
    Caller { session, store }: Caller,
    FieldCode(code): FieldCode,
) -> ApiResult {
    let f = field_admin::field_by_code(store.as_ref(), &session, K::KIND, &code).await?;
    field_admin::delete_fields(store.as_ref(), &session, K::KIND, &[f.id]).await?;
    Ok(success(StatusCode::OK, field(&f, &[]), None, None))
}

/// `POST …/options`: adds labels; answers with the new options only.
pub async fn add_field_options<K: ItemKind>(
    Caller { session, store }: Caller,
    FieldCode(code): FieldCode,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let items = items(&body)?;
    let mut add = Vec::new();
    for item in items {
        add.push(values::string("label", item.get("label").unwrap_or(&Value::Null))?.to_owned());
    }
    let before = field_admin::field_by_code(store.as_ref(), &session, K::KIND, &code).await?;
    let changes = FieldChanges {
        add_options: add,
        ..FieldChanges::default()
    };
    let after =
        field_admin::change_options(store.as_ref(), &session, K::KIND, &before, changes).await?;
    let added: Vec<Value> = after
        .options
        .iter()
        .filter(|o| !before.options.iter().any(|b| b.id == o.id))
        .map(|o| json!({"id": o.id, "label": o.label}))
        .collect();
    Ok(success(
        StatusCode::OK,
        Value::Array(added),
        Some(Value::Null),
        None,
    ))
}

/// `PATCH …/options`: relabels existing options; answers with them.
pub async fn update_field_options<K: ItemKind>(
    Caller { session, store }: Caller,
    FieldCode(code): FieldCode,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let mut rename = Vec::new();
    for item in items(&body)? {
        let id = values::id("id", item.get("id").unwrap_or(&Value::Null))?;
        let label = values::string("label", item.get("label").unwrap_or(&Value::Null))?;
        rename.push((id, label.to_owned()));
    }
    let before = field_admin::field_by_code(store.as_ref(), &session, K::KIND, &code).await?;
    let ids: Vec<i64> = rename.iter().map(|(id, _)| *id).collect();
    let changes = FieldChanges {
        rename_options: rename,
        ..FieldChanges::default()
    };
    let after =
        field_admin::change_options(store.as_ref(), &session, K::KIND, &before, changes).await?;
    let updated: Vec<Value> = after
        .options
        .iter()
        .filter(|o| ids.contains(&o.id))
        .map(|o| json!({"id": o.id, "label": o.label}))
        .collect();
    Ok(success(
        StatusCode::OK,
        Value::Array(updated),
        Some(Value::Null),
        None,
    ))
}

/// `DELETE …/options`: deletes options (and so their values on persons); answers with them.
pub async fn delete_field_options<K: ItemKind>(
    Caller { session, store }: Caller,
    FieldCode(code): FieldCode,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let mut ids = Vec::new();
    for item in items(&body)? {
        ids.push(values::id("id", item.get("id").unwrap_or(&Value::Null))?);
    }
    let before = field_admin::field_by_code(store.as_ref(), &session, K::KIND, &code).await?;
    let deleted: Vec<Value> = before
        .options
        .iter()
        .filter(|o| ids.contains(&o.id))
        .map(|o| json!({"id": o.id, "label": o.label}))
        .collect();
    let changes = FieldChanges {
        delete_options: ids,
        ..FieldChanges::default()
    };
    field_admin::change_options(store.as_ref(), &session, K::KIND, &before, changes).await?;
    Ok(success(
        StatusCode::OK,
        Value::Array(deleted),
        Some(Value::Null),
        None,
    ))
}

/// The body of an option operation: a non-empty array of objects.
fn items(body: &Value) -> Result<Vec<&serde_json::Map<String, Value>>, ApiError> {
    let Value::Array(items) = body else {
        return Err(ApiError::bad_request(
            "The request body must be a non-empty JSON array of options",
        ));
    };
    if items.is_empty() {
        return Err(ApiError::bad_request("At least one option is required"));
    }
    items
        .iter()
        .map(|i| {
            i.as_object()
                .ok_or_else(|| ApiError::bad_request("Each option must be a JSON object"))
        })
        .collect()
}

fn labels(v: &Value) -> Result<Vec<String>, ApiError> {
    let Value::Array(items) = v else {
        return Err(ApiError::invalid(
            "options",
            "must be an array of {label} objects",
        ));
    };
    items
        .iter()
        .map(|i| {
            i.get("label")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| ApiError::invalid("options", "each option needs a label"))
        })
        .collect()
}

/// The body keys that hold a field's settings.
const SETTINGS: [&str; 4] = [
    "description",
    "ui_visibility",
    "important_fields",
    "required_fields",
];

/// v2's settings keys in `body` applied over `base` (a key not sent leaves its setting alone),
/// and `ui_visibility.add_visible_flag` when sent. pipestack has no deal stages, so
/// `important_fields.stage_ids` can only be empty; `show_in_add_deal_dialog.order` is the
/// system's to manage and is ignored on write.
fn settings(
    body: &Map<String, Value>,
    base: &FieldSettings,
) -> Result<(FieldSettings, Option<bool>), ApiError> {
    fn object<'a>(name: &str, v: &'a Value) -> Result<Option<&'a Map<String, Value>>, ApiError> {
        match v {
            Value::Object(o) => Ok(Some(o)),
            Value::Null => Ok(None),
            _ => Err(ApiError::invalid(name, "must be an object")),
        }
    }
    let unknown = |name: String| Err(ApiError::invalid(&name, "is not a setting of a field"));
    let mut s = base.clone();
    let mut add_visible = None;
    for (key, v) in body {
        let entries = match key.as_str() {
            "description" => {
                s.description = values::opt_string("description", v)?.map(str::to_owned);
                continue;
            }
            k if SETTINGS.contains(&k) => object(k, v)?.into_iter().flatten(),
            _ => continue,
        };
        for (part, v) in entries {
            let name = format!("{key}.{part}");
            match (key.as_str(), part.as_str()) {
                ("ui_visibility", "add_visible_flag") => {
                    add_visible = Some(values::boolean(&name, v)?);
                }
                ("ui_visibility", "details_visible_flag") => {
                    s.details_visible_flag = values::boolean(&name, v)?;
                }
                ("ui_visibility", "show_in_add_deal_dialog") => {
                    for (k, v) in object(&name, v)?.into_iter().flatten() {
                        match k.as_str() {
                            "show" => {
                                s.show_in_add_deal_dialog =
                                    values::boolean(&format!("{name}.show"), v)?;
                            }
                            "order" => {}
                            _ => return unknown(format!("{name}.{k}")),
                        }
                    }
                }
                ("important_fields", "enabled") => s.important = values::boolean(&name, v)?,
                ("important_fields", "stage_ids") => match v {
                    Value::Array(ids) if ids.is_empty() => {}
                    Value::Null => {}
                    _ => {
                        return Err(ApiError::invalid(
                            &name,
                            "pipestack has no deal stages: only [] (important everywhere)",
                        ));
                    }
                },
                ("required_fields", "enabled") => s.required = values::boolean(&name, v)?,
                _ => return unknown(name),
            }
        }
    }
    Ok((s, add_visible))
}
