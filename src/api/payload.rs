//! Request bodies: JSON or form-encoded (Pipedrive v1 takes both), within the size, depth and
//! array limits of [`Limits`], always read into a JSON object so that a dialect parses one shape.

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{Map, Value};

use super::AppState;
use super::limits::{self, Limits};
use crate::error::ApiError;

/// A request body as a JSON object (form fields become strings, arrays and nested objects).
#[derive(Debug, Default)]
pub struct Payload(pub Map<String, Value>);

/// A JSON body of any shape (v2's option endpoints take arrays); empty reads as `null`.
#[derive(Debug)]
pub struct JsonBody(pub Value);

impl FromRequest<AppState> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|v| {
                v.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("application/json")
            });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType(
                "Unsupported content type: send application/json".into(),
            ));
        }
        let limits = &state.limits;
        let bytes = read_body(req, limits).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(Value::Null));
        }
        let value = super::json::parse(&bytes, limits.max_json_depth)
            .map_err(|e| ApiError::bad_request(format!("Malformed JSON in request body: {e}")))?;
        limits::check_shape(&value, limits)?;
        Ok(Self(value))
    }
}

impl FromRequest<AppState> for Payload {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let limits = &state.limits;
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            });
        let bytes = read_body(req, limits).await?;
        let kind = match content_type.as_deref() {
            None | Some("application/json") => Kind::Json,
            Some(t) if t.starts_with("application/") && t.ends_with("+json") => Kind::Json,
            Some("application/x-www-form-urlencoded") => Kind::Form,
            Some(other) => {
                return Err(ApiError::UnsupportedMediaType(format!(
                    "Unsupported content type {other:?}: send application/json or application/x-www-form-urlencoded"
                )));
            }
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        let map = match kind {
            Kind::Json => parse_json(&bytes, limits.max_json_depth)?,
            Kind::Form => parse_form(&bytes, limits.max_json_depth)
                .ok_or_else(|| limits::depth_error(limits))?,
        };
        let map = Value::Object(map);
        limits::check_shape(&map, limits)?;
        match map {
            Value::Object(map) => Ok(Self(map)),
            _ => Ok(Self::default()),
        }
    }
}

enum Kind {
    Json,
    Form,
}

/// Reads the whole body within the size and time limits (413, 408).
async fn read_body(req: Request, limits: &Limits) -> Result<Vec<u8>, ApiError> {
    read_whole(req.into_body(), limits).await
}

/// Reads a whole body within the size and time limits (413, 408).
pub async fn read_whole(body: Body, limits: &Limits) -> Result<Vec<u8>, ApiError> {
    let read = read_limited(body, limits.max_body_bytes);
    tokio::time::timeout(limits.request_timeout, read)
        .await
        .unwrap_or(Err(ApiError::RequestTimeout(
            limits.request_timeout.as_secs(),
        )))
}

async fn read_limited(body: Body, max: usize) -> Result<Vec<u8>, ApiError> {
    match Limited::new(body, max).collect().await {
        Ok(collected) => Ok(collected.to_bytes().to_vec()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(ApiError::PayloadTooLarge(max))
        }
        Err(e) => Err(ApiError::bad_request(format!(
            "Could not read the request body: {e}"
        ))),
    }
}

fn parse_json(bytes: &[u8], max_depth: usize) -> Result<Map<String, Value>, ApiError> {
    match super::json::parse(bytes, max_depth) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_request(
            "Malformed request body: expected a JSON object",
        )),
        Err(e) => Err(ApiError::bad_request(format!(
            "Malformed JSON in request body: {e}"
        ))),
    }
}

/// Parses `a=1&email[]=x&email[0][value]=y` into JSON: bracketed keys nest, numeric or empty
/// brackets make arrays, and a plain key given twice becomes an array of its values. `None`
/// when a key nests deeper than `max_depth`.
pub fn parse_form(bytes: &[u8], max_depth: usize) -> Option<Map<String, Value>> {
    let mut root = Value::Object(Map::new());
    for (key, value) in form_urlencoded::parse(bytes) {
        let path = split_key(&key);
        if path.len() > max_depth {
            return None;
        }
        insert(&mut root, &path, Value::String(value.into_owned()));
    }
    match arrays(root) {
        Value::Object(map) => Some(map),
        _ => Some(Map::new()),
    }
}

fn split_key(key: &str) -> Vec<String> {
    let Some(open) = key.find('[') else {
        return vec![key.to_owned()];
    };
    let mut path = vec![key[..open].to_owned()];
    let mut rest = &key[open..];
    while let Some(stripped) = rest.strip_prefix('[') {
        let Some(close) = stripped.find(']') else {
            break;
        };
        path.push(stripped[..close].to_owned());
        rest = &stripped[close + 1..];
    }
    path
}

fn insert(node: &mut Value, path: &[String], value: Value) {
    let Value::Object(map) = node else { return };
    let Some((head, tail)) = path.split_first() else {
        return;
    };
    // `key[]` appends: give it the next free index.
    let head = if head.is_empty() {
        map.len().to_string()
    } else {
        head.clone()
    };
    if tail.is_empty() {
        match map.get_mut(&head) {
            Some(Value::Array(items)) => items.push(value),
            Some(existing @ Value::String(_)) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, value]);
            }
            _ => {
                map.insert(head, value);
            }
        }
        return;
    }
    let child = map.entry(head).or_insert_with(|| Value::Object(Map::new()));
    if !child.is_object() {
        *child = Value::Object(Map::new());
    }
    insert(child, tail, value);
}

/// Objects whose keys are all indices become arrays, in index order.
fn arrays(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let all_indices = !map.is_empty() && map.keys().all(|k| k.parse::<usize>().is_ok());
            if all_indices {
                let mut items: Vec<(usize, Value)> = map
                    .into_iter()
                    .map(|(k, v)| (k.parse().unwrap_or(0), arrays(v)))
                    .collect();
                items.sort_by_key(|(i, _)| *i);
                Value::Array(items.into_iter().map(|(_, v)| v).collect())
            } else {
                Value::Object(map.into_iter().map(|(k, v)| (k, arrays(v))).collect())
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn forms_nest_and_make_arrays() {
        let m = parse_form(
            b"name=Will+Smith&email[0][value]=a%40x.io&email[0][primary]=true&email[1][value]=b&phone[]=1&phone[]=2&label_ids=1&label_ids=2",
            32,
        )
        .unwrap();
        assert_eq!(
            Value::Object(m),
            json!({
                "name": "Will Smith",
                "email": [{"value": "a@x.io", "primary": "true"}, {"value": "b"}],
                "phone": ["1", "2"],
                "label_ids": ["1", "2"],
            })
        );
    }

    #[test]
    fn deep_form_keys_are_refused_not_recursed() {
        let key = format!("a{}", "[b]".repeat(100_000));
        assert!(parse_form(format!("{key}=1").as_bytes(), 32).is_none());
        assert!(parse_form(b"a[b][c]=1", 3).is_some());
    }
}
