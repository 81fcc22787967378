//! Webhooks (v1, Pipedrive's management API) and pipestack's delivery log.

use serde_json::{Value, json};

use super::routes::Dialect;
use super::shared::{list, r};
use super::{Doc, doc};

/// The description of a webhook operation, if `operation` is one.
pub(super) fn describe(dialect: Dialect, operation: &str) -> Option<Doc> {
    if dialect != Dialect::V1 {
        return None;
    }
    Some(match operation {
        "get_webhooks" => doc(
            "List the webhooks the caller manages (all of the company's for admins)",
            vec![],
            None,
            200,
            list(r("Webhook")),
            None,
        ),
        "add_webhook" => doc(
            "Add a webhook (version \"2.0\" by default; at most 40 per user)",
            vec![],
            Some(add_body()),
            201,
            r("Webhook"),
            None,
        ),
        "delete_webhook" => doc("Delete a webhook", vec![], None, 200, json!({}), None),
        "get_webhook_deliveries" => doc(
            "The webhook's last 100 delivery attempts, newest first (pipestack's own)",
            vec![],
            None,
            200,
            list(r("WebhookAttempt")),
            None,
        ),
        _ => return None,
    })
}

fn add_body() -> Value {
    let text = json!({"type": ["string", "null"]});
    json!({
        "type": "object",
        "required": ["subscription_url", "event_action", "event_object"],
        "properties": {
            "subscription_url": {"type": "string", "description": "An http(s) URL"},
            "event_action": {
                "type": "string",
                "enum": ["create", "change", "delete", "added", "updated", "merged", "deleted", "*"],
                "description": "v2's actions with version 2.0, v1's with 1.0",
            },
            "event_object": {
                "type": "string",
                "enum": ["activity", "activityType", "deal", "lead", "note", "organization",
                         "person", "personField", "pipeline", "product", "stage", "user", "*"],
            },
            "name": {"type": "string"},
            "user_id": {"type": "integer", "description": "Whose permissions filter the events (default: the caller)"},
            "http_auth_user": text,
            "http_auth_password": text,
            "version": {"type": "string", "enum": ["1.0", "2.0"]},
        },
    })
}

pub(super) fn schemas() -> Vec<(&'static str, Value)> {
    let time = json!({"type": ["string", "null"], "format": "date-time"});
    let text = json!({"type": ["string", "null"]});
    vec![
        (
            "Webhook",
            json!({
                "type": "object",
                "required": ["id", "company_id", "owner_id", "user_id", "event_action",
                             "event_object", "subscription_url", "version", "is_active",
                             "add_time", "type", "name"],
                "properties": {
                    "id": {"type": "integer"},
                    "company_id": {"type": "integer"},
                    "owner_id": {"type": "integer"},
                    "user_id": {"type": "integer"},
                    "event_action": {"type": "string"},
                    "event_object": {"type": "string"},
                    "subscription_url": {"type": "string"},
                    "version": {"type": "string", "enum": ["1.0", "2.0"]},
                    "is_active": {"type": "integer", "enum": [0, 1],
                                  "description": "0 while banned or once removed"},
                    "add_time": {"type": "string", "format": "date-time"},
                    "remove_time": time,
                    "type": {"type": "string", "enum": ["general", "application", "automation"]},
                    "http_auth_user": text,
                    "http_auth_password": {"type": ["string", "null"],
                                           "description": "\"********\" when set"},
                    "remove_reason": text,
                    "last_delivery_time": time,
                    "last_http_status": {"type": ["integer", "null"]},
                    "admin_id": {"type": "integer"},
                    "name": {"type": "string"},
                },
            }),
        ),
        (
            "WebhookAttempt",
            json!({
                "type": "object",
                "required": ["id", "event", "object_id", "attempt", "time", "http_status",
                             "latency_ms", "error", "success"],
                "properties": {
                    "id": {"type": "integer"},
                    "event": {"type": "string", "description": "<v1 action>.<object>"},
                    "object_id": {"type": "integer"},
                    "attempt": {"type": "integer", "minimum": 1, "maximum": 4},
                    "time": {"type": "string", "format": "date-time"},
                    "http_status": {"type": ["integer", "null"],
                                    "description": "null when no answer came (timeout, refused)"},
                    "latency_ms": {"type": "integer"},
                    "error": text,
                    "success": {"type": "boolean"},
                },
            }),
        ),
    ]
}
