//! The server's own routes: health, readiness, metrics, this document and its page. They need
//! no token and answer outside Pipedrive's envelope, except health and readiness.

use serde_json::{Value, json};

use super::shared::r;
use super::{Doc, doc};

/// The description of a service route, if `name` is one.
pub(super) fn describe(name: &str) -> Option<Doc> {
    Some(match name {
        "index" => doc(
            "What this server is: a page for browsers, this JSON for other clients",
            vec![],
            None,
            200,
            json!({"type": "object"}),
            None,
        ),
        "healthz" => doc("The process is alive", vec![], None, 200, r("Status"), None),
        "readyz" => doc("The store answers", vec![], None, 200, r("Status"), None),
        "metrics" => doc("Prometheus metrics", vec![], None, 200, json!({}), None),
        "openapi_json" => doc("This document", vec![], None, 200, json!({}), None),
        "docs" => doc("The documentation page", vec![], None, 200, json!({}), None),
        _ => return None,
    })
}

/// The component schemas of the service routes.
pub(super) fn schemas() -> Vec<(&'static str, Value)> {
    vec![(
        "Status",
        json!({"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}}),
    )]
}
