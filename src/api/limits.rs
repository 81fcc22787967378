//! What one request or connection may take: body, headers, JSON shape, time, and connections.
//! Every limit is answered in Pipedrive's envelope (413, 414, 431, 400, 408, 503): the router
//! checks the URI, headers and announced body size ([`check_head`]), the body extractor size,
//! time and shape ([`check_shape`]), the
//! accept loop (`crate::server`) connections and idle time. The README's
//! limits table lists them with their defaults and options. Per-field string lengths and list
//! sizes are domain rules ([`crate::domain::values`]), not here.

use std::time::Duration;

use axum::extract::Request;
use serde_json::Value;

use crate::error::ApiError;

/// The limits of the HTTP surface (the defaults are [`Limits::default`]).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest request body, in bytes (413 past it).
    pub max_body_bytes: usize,
    /// Largest total size of a request's header names and values, in bytes (431).
    pub max_header_bytes: usize,
    /// Most header fields in one request (431).
    pub max_headers: usize,
    /// Deepest nesting of arrays and objects in a body (400).
    pub max_json_depth: usize,
    /// Longest array anywhere in a body (400); the domain has tighter per-field limits.
    pub max_array_items: usize,
    /// The longest a client may take to send a request's body once its headers are in (408).
    pub request_timeout: Duration,
    /// The longest a connection may take to send a request's headers, and the longest an idle
    /// keep-alive connection is kept open.
    pub idle_timeout: Duration,
    /// Most connections served at once. Past it, the connection that has kept the server
    /// waiting longest is closed to make room (`crate::server`); with none to close, the
    /// newcomer gets one 503 (`/healthz` and `/readyz` are still answered) and is closed.
    pub max_connections: usize,
    /// Most connections served at once for one client address, the same way.
    pub max_connections_per_address: usize,
    /// The least a connection must have kept the server waiting before it may be closed to
    /// make room: any client sends a request head far faster.
    pub evict_after: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            max_header_bytes: 16 * 1024,
            max_headers: 100,
            max_json_depth: 32,
            max_array_items: 1000,
            request_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1024,
            max_connections_per_address: 512,
            evict_after: Duration::from_millis(250),
        }
    }
}

/// The longest request URI (path and query) answered; past it a 414. Pipedrive's own URIs
/// stay far below it (a v2 `ids` list of 100 ids is under 1 KiB).
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// Checks the URI (414) and header (431) limits, and a body announced larger than the body
/// limit (413 at once, before any of it is read).
pub fn check_head(req: &Request, limits: &Limits) -> Result<(), ApiError> {
    let uri = req.uri();
    let length = uri.path().len() + uri.query().map_or(0, |q| q.len() + 1);
    if length > MAX_URI_BYTES {
        return Err(ApiError::UriTooLong(format!(
            "Request URI is too long: {length} bytes (the limit is {MAX_URI_BYTES} bytes)"
        )));
    }
    check_headers(req, limits)?;
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_body_bytes as u64) {
        return Err(ApiError::PayloadTooLarge(limits.max_body_bytes));
    }
    Ok(())
}

/// Checks the header limits (431).
fn check_headers(req: &Request, limits: &Limits) -> Result<(), ApiError> {
    let headers = req.headers();
    if headers.len() > limits.max_headers {
        return Err(ApiError::HeadersTooLarge(format!(
            "Too many request headers: {} (the limit is {})",
            headers.len(),
            limits.max_headers
        )));
    }
    let size: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len())
        .sum();
    if size > limits.max_header_bytes {
        return Err(ApiError::HeadersTooLarge(format!(
            "Request headers are too large: {size} bytes (the limit is {} bytes)",
            limits.max_header_bytes
        )));
    }
    Ok(())
}

/// Checks a parsed body against the depth and array-length limits, and for NUL characters
/// (which no stored text may hold), naming where it broke.
pub fn check_shape(body: &Value, limits: &Limits) -> Result<(), ApiError> {
    walk(body, "body", 1, limits)
}

/// Refuses NUL characters in every key and string of a body read outside the API (the
/// importer's rows), naming where.
pub fn check_texts(body: &serde_json::Map<String, Value>) -> Result<(), ApiError> {
    fn value(path: &str, v: &Value) -> Result<(), ApiError> {
        match v {
            Value::String(s) => check_text(path, s),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .try_for_each(|(i, x)| value(&format!("{path}[{i}]"), x)),
            Value::Object(map) => map.iter().try_for_each(|(k, x)| {
                let path = format!("{path}.{k}");
                check_text(&path, k)?;
                value(&path, x)
            }),
            _ => Ok(()),
        }
    }
    body.iter().try_for_each(|(k, v)| {
        check_text(k, k)?;
        value(k, v)
    })
}

/// Text a client sends may not hold NUL characters: PostgreSQL cannot store them, and on
/// SQLite they cut names short and break the search index.
pub fn check_text(name: &str, text: &str) -> Result<(), ApiError> {
    if text.contains('\0') {
        let name = name.replace('\0', "\\0");
        return Err(ApiError::invalid(&name, "must not contain NUL characters"));
    }
    Ok(())
}

fn walk(v: &Value, path: &str, depth: usize, limits: &Limits) -> Result<(), ApiError> {
    let children: Box<dyn Iterator<Item = (String, &Value)>> = match v {
        Value::Array(items) => {
            if items.len() > limits.max_array_items {
                return Err(ApiError::invalid(
                    path,
                    format!(
                        "too many items ({}; the limit is {})",
                        items.len(),
                        limits.max_array_items
                    ),
                ));
            }
            Box::new(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| (format!("{path}[{i}]"), x)),
            )
        }
        Value::Object(map) => Box::new(map.iter().map(|(k, x)| {
            let p = if path == "body" {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            (p, x)
        })),
        Value::String(s) => return check_text(path, s),
        _ => return Ok(()),
    };
    if depth > limits.max_json_depth {
        return Err(depth_error(limits));
    }
    for (p, child) in children {
        check_text(&p, &p)?;
        if child.is_array() || child.is_object() || child.is_string() {
            walk(child, &p, depth + 1, limits)?;
        }
    }
    Ok(())
}

pub fn depth_error(limits: &Limits) -> ApiError {
    ApiError::bad_request(format!(
        "Malformed request body: nested deeper than {} levels",
        limits.max_json_depth
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn limits() -> Limits {
        Limits {
            max_json_depth: 3,
            max_array_items: 2,
            ..Limits::default()
        }
    }

    #[test]
    fn shape_limits_name_the_place() {
        let l = limits();
        assert!(check_shape(&json!({"a": [{"b": 1}]}), &l).is_ok());
        let e = check_shape(&json!({"emails": [1, 2, 3]}), &l).unwrap_err();
        assert_eq!(e.to_string(), "emails: too many items (3; the limit is 2)");
        let e = check_shape(&json!({"a": {"b": {"c": {"d": 1}}}}), &l).unwrap_err();
        assert!(e.to_string().contains("deeper than 3"), "{e}");
        let e = check_shape(&json!([[1], [1, 2, 3]]), &l).unwrap_err();
        assert_eq!(e.to_string(), "body[1]: too many items (3; the limit is 2)");
    }
}
