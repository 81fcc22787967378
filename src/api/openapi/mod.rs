//! The API's contract, `GET /openapi.json` (OpenAPI 3.1), generated from the route table: every
//! path and method comes from [`routes::table`], the same table the router is built from, so
//! the document cannot list a route the server lacks or miss one it has. What each operation
//! takes and answers (parameters, bodies, schemas) is described here, next to the shapes the
//! dialects render; schemathesis checks in CI that the answers conform.
//!
//! Each resource describes its own operations and schemas in its own module; this one builds
//! the document around them: paths from the route table, operation ids, tags, path parameters,
//! the error answers every operation shares, and the rate-limit headers.

mod activities;
mod deals;
mod fields;
mod followers;
mod item_search;
mod organizations;
mod persons;
mod pipelines;
mod service;
mod shared;
mod users;
mod webhooks;

use serde_json::{Map, Value, json};

use super::routes::{self, Dialect, Entry};

/// The document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for e in routes::table() {
        for prefix in e.dialect.prefixes() {
            let path = format!("{prefix}{}", e.path);
            let item = paths
                .entry(path)
                .or_insert_with(|| Value::Object(Map::new()));
            item[e.method.as_str().to_ascii_lowercase()] = operation(&e, prefix);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "pipestack",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Pipedrive's persons API (v1 and v2 dialects over one data model), \
                with organizations, deals in pipelines and stages, activities and their \
                types, notes, the fields of each, followers, users and one search across \
                them (itemSearch). Errors use \
                Pipedrive's envelope. `/v1/...` is the same API as `/api/v1/...`.",
        },
        "servers": [{"url": "/"}],
        "security": [{"api_token": []}, {"api_token_query": []}, {"bearer": []}],
        "tags": [
            {"name": "Persons"}, {"name": "PersonFields"}, {"name": "Organizations"},
            {"name": "OrganizationFields"},
            {"name": "Deals"}, {"name": "DealFields"}, {"name": "ItemSearch"},
            {"name": "Activities"}, {"name": "ActivityTypes"}, {"name": "ActivityFields"},
            {"name": "Notes"}, {"name": "NoteFields"},
            {"name": "Users"}, {"name": "Pipelines"}, {"name": "Stages"}, {"name": "Webhooks"},
            {"name": "Service"},
        ],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "api_token": {"type": "apiKey", "in": "header", "name": "x-api-token"},
                "api_token_query": {"type": "apiKey", "in": "query", "name": "api_token"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
            "schemas": schemas(),
        },
    })
}

/// What one operation takes and answers, beyond its path.
struct Doc {
    summary: std::borrow::Cow<'static, str>,
    query: Vec<Value>,
    body: Option<Value>,
    /// The success status and the schema of `data` (plus `additional_data`, if any).
    status: u16,
    data: Value,
    additional: Option<Value>,
}

/// A `Doc`, argument for argument, so that each description reads as one call.
fn doc(
    summary: &'static str,
    query: Vec<Value>,
    body: Option<Value>,
    status: u16,
    data: Value,
    additional: Option<Value>,
) -> Doc {
    Doc {
        summary: summary.into(),
        query,
        body,
        status,
        data,
        additional,
    }
}

/// What the resource modules say about a route; a route none of them knows still appears,
/// with a generic answer, and the route/document test fails on it so that none ships
/// undescribed.
fn describe(e: &Entry) -> Doc {
    let (dialect, name) = (e.dialect, e.name);
    let described = match dialect {
        Dialect::Service => service::describe(name),
        _ => persons::describe(dialect, name)
            .or_else(|| followers::describe(dialect, name))
            .or_else(|| fields::describe(dialect, name))
            .or_else(|| organizations::describe(dialect, name))
            .or_else(|| users::describe(dialect, name))
            .or_else(|| pipelines::describe(dialect, name))
            .or_else(|| deals::describe(dialect, name))
            .or_else(|| item_search::describe(dialect, name))
            .or_else(|| activities::describe(dialect, name))
            .or_else(|| webhooks::describe(dialect, name)),
    };
    described.unwrap_or_else(|| doc("Undescribed", vec![], None, 200, json!({}), None))
}

/// One operation of the document: a route under one of its dialect's prefixes.
fn operation(e: &Entry, prefix: &str) -> Value {
    let doc = describe(e);
    let mut params = path_params(e.path);
    params.extend(doc.query);
    let mut responses = Map::new();
    responses.insert(
        doc.status.to_string(),
        success_response(e, doc.data, doc.additional),
    );
    responses.extend(error_responses(e, doc.body.is_some()));
    let mut op = json!({
        "operationId": operation_id(e, prefix),
        "summary": doc.summary,
        "tags": [tag(e)],
        "parameters": params,
        "responses": responses,
    });
    if e.dialect == Dialect::Service {
        op["security"] = json!([]);
    } else {
        op["x-token-cost"] = json!(e.cost);
    }
    if e.dialect == Dialect::V1 && prefix == "/v1" {
        op["description"] = json!("The same operation as under /api/v1.");
    }
    if let Some(body) = doc.body {
        let mut content = json!({"application/json": {"schema": body}});
        if e.dialect == Dialect::V1 {
            content["application/x-www-form-urlencoded"] = json!({"schema": {"type": "object"}});
        }
        op["requestBody"] = json!({"required": false, "content": content});
    }
    op
}

/// Unique across the document: v1 routes appear twice, under `/v1` and `/api/v1`.
fn operation_id(e: &Entry, prefix: &str) -> String {
    match (e.dialect, prefix) {
        (Dialect::V1, "/v1") => format!("v1_{}_short", e.name),
        (Dialect::V1, _) => format!("v1_{}", e.name),
        (Dialect::V2, _) => format!("v2_{}", e.name),
        (Dialect::Service, _) => e.name.to_owned(),
    }
}

/// The `{placeholders}` of a path: ids, except v2 person fields' codes.
fn path_params(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let schema = if name == "field_code" {
                json!({"type": "string", "minLength": 1})
            } else {
                json!({"type": "integer", "minimum": 1, "format": "int64"})
            };
            json!({"name": name, "in": "path", "required": true, "schema": schema})
        })
        .collect()
}

/// The tag a route is listed under, by the resource its path names.
fn tag(e: &Entry) -> &'static str {
    if e.path.starts_with("/personFields") {
        "PersonFields"
    } else if e.path.starts_with("/organizationFields") {
        "OrganizationFields"
    } else if e.path.starts_with("/itemSearch") {
        "ItemSearch"
    } else if e.path.starts_with("/dealFields") {
        "DealFields"
    } else if e.path.ends_with("/activities") || e.path.starts_with("/activities") {
        "Activities"
    } else if e.path.starts_with("/activityTypes") {
        "ActivityTypes"
    } else if e.path.starts_with("/activityFields") {
        "ActivityFields"
    } else if e.path.starts_with("/noteFields") {
        "NoteFields"
    } else if e.path.starts_with("/notes") {
        "Notes"
    } else if e.path.starts_with("/deals") {
        "Deals"
    } else if e.path.starts_with("/organizations") {
        "Organizations"
    } else if e.path.starts_with("/users") {
        "Users"
    } else if e.path.starts_with("/pipelines") {
        "Pipelines"
    } else if e.path.starts_with("/stages") {
        "Stages"
    } else if e.path.starts_with("/webhooks") {
        "Webhooks"
    } else if e.dialect == Dialect::Service {
        "Service"
    } else {
        "Persons"
    }
}

/// The success answer: Pipedrive's envelope around `data`, except for the service routes that
/// answer text, a page or this document.
fn success_response(e: &Entry, data: Value, additional: Option<Value>) -> Value {
    match e.dialect {
        Dialect::Service if e.name == "metrics" => json!({
            "description": "Prometheus text format 0.0.4",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }),
        Dialect::Service if e.name == "docs" => json!({
            "description": "The documentation page",
            "content": {"text/html": {"schema": {"type": "string"}}},
        }),
        Dialect::Service if e.name == "openapi_json" => json!({
            "description": "This document",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }),
        _ if e.path.starts_with("/webhooks") => json!({
            "description": "Success",
            "headers": rate_headers(e),
            "content": {"application/json": {"schema": webhook_success(e, data)}},
        }),
        _ => json!({
            "description": "Success",
            "headers": rate_headers(e),
            "content": {"application/json": {"schema": success(data, additional)}},
        }),
    }
}

/// The error answers, each in the error envelope; all but 401 carry the rate-limit headers.
fn error_responses(e: &Entry, has_body: bool) -> Map<String, Value> {
    let mut out = Map::new();
    for (status, why) in errors(e, has_body) {
        let mut r = json!({
            "description": why,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        });
        if e.dialect != Dialect::Service && status != 401 {
            r["headers"] = rate_headers(e);
        }
        out.insert(status.to_string(), r);
    }
    out
}

/// The error statuses an operation can answer, each in the error envelope.
fn errors(e: &Entry, has_body: bool) -> Vec<(u16, &'static str)> {
    if e.dialect == Dialect::Service {
        let mut out = vec![(408, "Request timeout"), (431, "Headers too large")];
        if e.name == "readyz" {
            out.push((503, "The store does not answer"));
        }
        return out;
    }
    let mut out = vec![
        (
            400,
            "A parameter or body value is invalid; the message names it",
        ),
        (401, "No token, or not a token of an active user"),
        (404, "Not found, or not visible to this token"),
        (408, "The request was not received in time"),
        (
            429,
            "A rate limit is exhausted (only with --rate-limits); see Retry-After",
        ),
        (431, "Request headers over the limits"),
        (
            503,
            "The database is unreachable or too slow; safe to retry",
        ),
    ];
    if has_body {
        out.push((413, "The body is over the size limit"));
        out.push((415, "The body is neither JSON nor form-encoded"));
    }
    let setup = [
        "/personFields",
        "/organizationFields",
        "/dealFields",
        "/pipelines",
        "/stages",
        "/activityTypes",
    ];
    if setup.iter().any(|p| e.path.starts_with(p)) && e.method != axum::http::Method::GET {
        out.push((403, "Only admins manage the company's setup"));
    }
    if e.path.starts_with("/webhooks/") {
        out.push((403, "The webhook is another user's"));
    }
    if e.path.starts_with("/webhooks") && has_body {
        out.push((403, "Only admins add webhooks for other users"));
        out.push((422, "The user has 40 webhooks already"));
    }
    if e.path.starts_with("/notes") && has_body {
        out.push((403, "Only admins write a note in another user's name"));
    }
    out
}

/// The rate-limit headers every API answer carries (the service routes are not limited).
fn rate_headers(e: &Entry) -> Value {
    if e.dialect == Dialect::Service {
        return json!({});
    }
    let h = |d: &str| json!({"description": d, "schema": {"type": "integer"}});
    json!({
        "x-ratelimit-limit": h("Requests allowed per window (with --rate-limits)"),
        "x-ratelimit-remaining": h("Requests left in the window"),
        "x-ratelimit-reset": h("Seconds until a request leaves the window"),
        "x-daily-ratelimit-token-limit": h("The company's daily token budget"),
        "x-daily-ratelimit-token-remaining": h("Tokens left today"),
    })
}

/// Webhooks' own envelope: `status: "ok"` besides `success`, and no `data` for a delete.
fn webhook_success(e: &Entry, data: Value) -> Value {
    let mut schema = json!({
        "type": "object",
        "required": ["status", "success"],
        "properties": {
            "status": {"type": "string", "const": "ok"},
            "success": {"type": "boolean", "const": true},
        },
    });
    if e.method != axum::http::Method::DELETE {
        schema["required"] = json!(["status", "success", "data"]);
        schema["properties"]["data"] = data;
    }
    schema
}

/// Pipedrive's success envelope around `data` (and `additional_data`, if any).
fn success(data: Value, additional: Option<Value>) -> Value {
    let mut props = json!({
        "success": {"type": "boolean", "const": true},
        "data": data,
        "related_objects": {"type": "object"},
    });
    if let Some(a) = additional {
        props["additional_data"] = a;
    }
    json!({"type": "object", "required": ["success", "data"], "properties": props})
}

/// The component schemas, resource by resource.
fn schemas() -> Value {
    let mut out = Map::new();
    out.insert("Error".into(), error_schema());
    let by_resource = [
        service::schemas(),
        persons::schemas(),
        organizations::schemas(),
        fields::schemas(),
        users::schemas(),
        followers::schemas(),
        pipelines::schemas(),
        deals::schemas(),
        activities::schemas(),
        webhooks::schemas(),
    ];
    for (name, schema) in by_resource.into_iter().flatten() {
        out.insert(name.into(), schema);
    }
    Value::Object(out)
}

/// Pipedrive's error envelope, which every failure answers with.
fn error_schema() -> Value {
    json!({
        "type": "object",
        "required": ["success", "error", "error_info", "data"],
        "properties": {
            "success": {"type": "boolean", "const": false},
            // An object (message, code, failed_fields) where v1 search misses its term.
            "error": {"type": ["string", "object"]},
            "errorCode": {"type": "integer"},
            "error_info": {"type": "string"},
            "data": {"type": "null"},
            "additional_data": {"type": "null"},
        },
    })
}

/// Whether every route has its own description (for the route/document test).
pub fn undescribed() -> Vec<String> {
    routes::table()
        .iter()
        .filter(|e| describe(e).summary == "Undescribed")
        .map(|e| format!("{:?} {} {}", e.dialect, e.method, e.path))
        .collect()
}
