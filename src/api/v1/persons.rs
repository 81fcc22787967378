//! v1 persons: `POST /persons` (the seed) and `GET /persons/{id}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, response::Response};
use serde_json::{Map, Value, json};

use super::render::{self, Related};
use crate::api::envelope::success;
use crate::api::payload::Payload;
use crate::api::{ApiResult, AppState, path_id};
use crate::domain::person::{self, ContactInput, Person, PersonDraft};
use crate::domain::{MarketingStatus, Session, Visibility, is_custom_field_key, values};
use crate::error::ApiError;

/// Keys of the v1 person object that a client may not write.
const READ_ONLY: &[&str] = &[
    "id",
    "company_id",
    "active_flag",
    "primary_email",
    "first_char",
    "update_time",
    "delete_time",
    "picture_id",
    "org_name",
    "owner_name",
    "cc_email",
    "next_activity_date",
    "next_activity_time",
    "next_activity_id",
    "last_activity_id",
    "last_activity_date",
    "last_incoming_mail_time",
    "last_outgoing_mail_time",
    "related_objects",
];

/// `POST /v1/persons`: 201 with the person and its `related_objects`.
pub async fn add_person(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Payload(body): Payload,
) -> ApiResult {
    let draft = draft(body)?;
    let person = person::add_person(state.store.as_ref(), &session, draft).await?;
    respond(&state, &session, &person, StatusCode::CREATED, None).await
}

/// `GET /v1/persons/{id}`: the person, with `related_objects` and `additional_data.dropbox_email`.
pub async fn get_person(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
) -> ApiResult {
    let id = path_id(&id)?;
    let person = state
        .store
        .person(session.company.id, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("Person not found".into()))?;
    let additional = json!({ "dropbox_email": session.company.cc_email() });
    respond(&state, &session, &person, StatusCode::OK, Some(additional)).await
}

async fn respond(
    state: &AppState,
    session: &Session,
    person: &Person,
    status: StatusCode,
    additional: Option<Value>,
) -> Result<Response, ApiError> {
    let related = Related::load(state.store.as_ref(), session, &[person]).await?;
    Ok(success(
        status,
        render::person(person, &related),
        additional,
        Some(related.objects()),
    ))
}

/// Parses a v1 body (JSON or form, already a JSON object) into the domain's command.
pub fn draft(body: Map<String, Value>) -> Result<PersonDraft, ApiError> {
    let mut d = PersonDraft::default();
    let mut label: Option<Option<i64>> = None;
    let mut label_ids: Option<Vec<i64>> = None;
    let mut invalid: Vec<String> = Vec::new();
    for (key, v) in body {
        match key.as_str() {
            "name" => d.name = values::opt_string("name", &v)?.map(str::to_owned),
            "first_name" => d.first_name = values::opt_string("first_name", &v)?.map(str::to_owned),
            "last_name" => d.last_name = values::opt_string("last_name", &v)?.map(str::to_owned),
            "owner_id" => d.owner_id = values::opt_id("owner_id", &v)?,
            "org_id" => d.org_id = Some(values::opt_id("org_id", &v)?),
            "email" => d.emails = Some(contacts("email", &v)?),
            "phone" => d.phones = Some(contacts("phone", &v)?),
            "label" => label = Some(values::opt_id("label", &v)?),
            "label_ids" => label_ids = Some(values::id_list("label_ids", &v)?),
            "visible_to" => d.visible_to = Some(Visibility::parse("visible_to", &v)?),
            "marketing_status" if !v.is_null() => {
                d.marketing_status = Some(MarketingStatus::parse("marketing_status", &v)?)
            }
            "marketing_status" => {}
            "add_time" => d.add_time = super::add_time(&v)?,
            k if is_custom_field_key(k) => d.custom_fields.push((key, v)),
            k if READ_ONLY.contains(&k) || k.ends_with("_count") => {
                invalid.push(format!("{k} (read-only)"))
            }
            _ => invalid.push(format!("{key} (unknown field)")),
        }
    }
    super::reject_fields(&invalid)?;
    d.label_ids = labels(label, label_ids)?;
    Ok(d)
}

/// v1's two ways of writing labels: `label` (one id, overwriting the list) and `label_ids`
/// (the list; `label` reads as its first element). Both at once must agree.
fn labels(
    label: Option<Option<i64>>,
    label_ids: Option<Vec<i64>>,
) -> Result<Option<Vec<i64>>, ApiError> {
    match (label, label_ids) {
        (None, ids) => Ok(ids),
        (Some(l), None) => Ok(Some(l.into_iter().collect())),
        (Some(l), Some(ids)) if ids.first().copied() == l => Ok(Some(ids)),
        (Some(_), Some(_)) => Err(ApiError::invalid(
            "label",
            "disagrees with label_ids: send one of them, or label equal to the first of label_ids",
        )),
    }
}

/// v1 email/phone: a string, an array of strings, or an array of `{value, primary, label}`.
fn contacts(field: &str, v: &Value) -> Result<Vec<ContactInput>, ApiError> {
    let plain = |value: &str| ContactInput {
        value: value.to_owned(),
        primary: None,
        label: String::new(),
    };
    match v {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(vec![plain(s)]),
        Value::Object(_) => contacts(field, &Value::Array(vec![v.clone()])),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(plain(s)),
                Value::Object(o) => {
                    let at = |k: &str| format!("{field}[{i}].{k}");
                    let value = match o.get("value") {
                        Some(Value::String(s)) => s.clone(),
                        Some(Value::Number(n)) => n.to_string(),
                        Some(other) => {
                            return Err(ApiError::invalid(
                                &at("value"),
                                format!("must be a string, got {}", values::describe(other)),
                            ));
                        }
                        None => return Err(ApiError::invalid(&at("value"), "is required")),
                    };
                    let primary = match o.get("primary") {
                        None | Some(Value::Null) => None,
                        Some(p) => Some(values::boolean(&at("primary"), p)?),
                    };
                    let label = match o.get("label") {
                        None | Some(Value::Null) => String::new(),
                        Some(l) => values::string(&at("label"), l)?.trim().to_owned(),
                    };
                    if let Some(extra) = o
                        .keys()
                        .find(|k| !matches!(k.as_str(), "value" | "primary" | "label"))
                    {
                        return Err(ApiError::invalid(&at(extra), "unknown key"));
                    }
                    Ok(ContactInput {
                        value,
                        primary,
                        label,
                    })
                }
                other => Err(ApiError::invalid(
                    &format!("{field}[{i}]"),
                    format!(
                        "must be a string or an object with value, primary and label, got {}",
                        values::describe(other)
                    ),
                )),
            })
            .collect(),
        other => Err(ApiError::invalid(
            field,
            format!(
                "must be a string or an array, got {}",
                values::describe(other)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_overwrites_and_label_ids_lead() {
        assert_eq!(labels(Some(Some(3)), None).unwrap(), Some(vec![3]));
        assert_eq!(labels(Some(None), None).unwrap(), Some(vec![]));
        assert_eq!(labels(None, Some(vec![1, 2])).unwrap(), Some(vec![1, 2]));
        assert_eq!(
            labels(Some(Some(1)), Some(vec![1, 2])).unwrap(),
            Some(vec![1, 2])
        );
        assert!(labels(Some(Some(2)), Some(vec![1, 2])).is_err());
    }
}
