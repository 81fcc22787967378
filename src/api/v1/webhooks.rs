//! `/v1/webhooks`: list, add and delete (Pipedrive's; there is no get or update), and
//! `GET /v1/webhooks/{id}/deliveries`, pipestack's own log of delivery attempts.
//!
//! Pipedrive answers these with an extra `"status": "ok"` (or `"error"`, with an `errors` map
//! of field to messages): pipestack adds both to its usual envelopes.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::api::AppState;
use crate::api::extract::{Caller, PathId};
use crate::api::parse::reject_fields;
use crate::api::payload::Payload;
use crate::domain::values;
use crate::domain::webhook::{self, Attempt, Webhook, WebhookDraft};
use crate::domain::{DomainError, Timestamp};
use crate::error::ApiError;

fn iso(t: Option<Timestamp>) -> Option<String> {
    t.map(|t| Timestamp::rfc3339_ms(t.0 * 1000))
}

/// A webhook as Pipedrive shows it. A password set is not shown again (`"********"`).
pub fn render(w: &Webhook) -> Value {
    let delivering = w.is_active() && !w.is_banned(Timestamp::now());
    json!({
        "id": w.id,
        "company_id": w.company_id,
        "owner_id": w.owner_id,
        "user_id": w.user_id,
        "event_action": w.event_action,
        "event_object": w.event_object,
        "subscription_url": w.subscription_url,
        "version": w.version.as_str(),
        "is_active": i64::from(delivering),
        "add_time": Timestamp::rfc3339_ms(w.add_time_ms),
        "remove_time": iso(w.remove_time),
        "type": "general",
        "http_auth_user": w.http_auth_user,
        "http_auth_password": w.http_auth_password.as_ref().map(|_| "********"),
        "remove_reason": w.remove_reason,
        "last_delivery_time": iso(w.last_delivery_time),
        "last_http_status": w.last_http_status,
        "admin_id": w.owner_id,
        "name": w.name,
    })
}

fn render_attempt(a: &Attempt) -> Value {
    json!({
        "id": a.id,
        "event": a.event,
        "object_id": a.object_id,
        "attempt": a.attempt,
        "time": Timestamp::rfc3339_ms(a.time_ms),
        "http_status": a.http_status,
        "latency_ms": a.latency_ms,
        "error": a.error,
        "success": a.succeeded(),
    })
}

/// `{"status":"ok","success":true,"data":…}`.
fn ok(status: StatusCode, data: Option<Value>) -> Response {
    let mut body = json!({"status": "ok", "success": true});
    if let Some(data) = data {
        body["data"] = data;
    }
    (status, axum::Json(body)).into_response()
}

/// The usual error envelope, with Pipedrive's `status` and `errors` (field to messages) for
/// these routes.
fn failed(e: ApiError) -> Response {
    let status = e.status();
    let mut body = e.body();
    let message = e.to_string();
    let (field, reason) = match message.split_once(": ") {
        Some((field, reason)) if !field.contains(' ') => (field.to_owned(), reason.to_owned()),
        _ if status == StatusCode::NOT_FOUND => ("id".to_owned(), "not found".to_owned()),
        _ => ("webhook".to_owned(), message.clone()),
    };
    body["status"] = json!("error");
    body["errors"] = json!({ field: [reason] });
    if status == StatusCode::FORBIDDEN {
        body["message"] = json!("Forbidden");
    }
    (status, axum::Json(body)).into_response()
}

fn draft(body: Map<String, Value>) -> Result<WebhookDraft, ApiError> {
    let mut d = WebhookDraft::default();
    let mut invalid = Vec::new();
    let text = |k: &str, v: &Value| -> Result<Option<String>, DomainError> {
        Ok(values::opt_string(k, v)?.map(str::to_owned))
    };
    for (key, v) in body {
        let k = key.as_str();
        match k {
            "subscription_url" => d.subscription_url = text(k, &v)?,
            "event_action" => d.event_action = text(k, &v)?,
            "event_object" => d.event_object = text(k, &v)?,
            "name" => d.name = text(k, &v)?,
            "http_auth_user" => d.http_auth_user = text(k, &v)?,
            "http_auth_password" => d.http_auth_password = text(k, &v)?,
            "user_id" => d.user_id = values::opt_id(k, &v)?,
            "version" => {
                d.version = match &v {
                    Value::Number(n) if n.as_f64() == Some(1.0) => Some("1.0".into()),
                    Value::Number(n) if n.as_f64() == Some(2.0) => Some("2.0".into()),
                    _ => text(k, &v)?,
                }
            }
            _ => invalid.push(format!("{key} (unknown field)")),
        }
    }
    reject_fields(&invalid)?;
    Ok(d)
}

/// `GET /v1/webhooks`: the webhooks the caller manages (every one of the company for admins).
pub async fn get_webhooks(Caller { session, store }: Caller) -> Response {
    match webhook::list(store.as_ref(), &session).await {
        Ok(list) => ok(StatusCode::OK, Some(list.iter().map(render).collect())),
        Err(e) => failed(e.into()),
    }
}

/// `POST /v1/webhooks`: 201 with the webhook.
pub async fn add_webhook(
    State(state): State<AppState>,
    Caller { session, store }: Caller,
    Payload(body): Payload,
) -> Response {
    let added = async {
        let d = draft(body)?;
        if let Some(url) = &d.subscription_url {
            webhook::check_url(url)?;
            state
                .webhooks
                .allow
                .check(url)
                .await
                .map_err(|why| ApiError::invalid("subscription_url", why))?;
        }
        Ok::<_, ApiError>(webhook::add(store.as_ref(), &session, d).await?)
    };
    match added.await {
        Ok(w) => ok(StatusCode::CREATED, Some(render(&w))),
        Err(e) => failed(e),
    }
}

/// `DELETE /v1/webhooks/{id}`: `{"status":"ok","success":true}`.
pub async fn delete_webhook(Caller { session, store }: Caller, PathId(id): PathId) -> Response {
    match webhook::delete(store.as_ref(), &session, id).await {
        Ok(()) => ok(StatusCode::OK, None),
        Err(e) => failed(e.into()),
    }
}

/// `GET /v1/webhooks/{id}/deliveries` (pipestack's own): the last 100 attempts, newest first.
pub async fn get_webhook_deliveries(
    Caller { session, store }: Caller,
    PathId(id): PathId,
) -> Response {
    match webhook::deliveries(store.as_ref(), &session, id).await {
        Ok((_, attempts)) => ok(
            StatusCode::OK,
            Some(attempts.iter().map(render_attempt).collect()),
        ),
        Err(e) => failed(e.into()),
    }
}
