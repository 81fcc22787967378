//! Request parsing shared by both dialects: query strings, emails/phones, cursors.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::limits::check_text;
use crate::domain::person::ContactInput;
use crate::domain::values;
use crate::error::ApiError;

/// A query string, decoded. Repeated keys keep their last value.
#[derive(Debug, Default)]
pub struct QueryParams(HashMap<String, String>);

impl QueryParams {
    pub fn parse(query: Option<&str>) -> Self {
        Self(
            form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// Refuses a parameter (name or value) with a NUL character, naming it.
    pub fn check_text(&self) -> Result<(), ApiError> {
        for (name, value) in &self.0 {
            check_text(name, name)?;
            check_text(name, value)?;
        }
        Ok(())
    }

    /// A parameter's value; a blank one counts as absent.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
    }

    pub fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.str(name)
            .map(|s| {
                s.parse::<i64>()
                    .map_err(|_| ApiError::invalid(name, format!("must be an integer, got {s:?}")))
            })
            .transpose()
    }

    /// A positive id.
    pub fn id(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.int(name)? {
            Some(n) if n <= 0 => Err(ApiError::invalid(name, "must be a positive integer id")),
            other => Ok(other),
        }
    }

    pub fn bool(&self, name: &str) -> Result<bool, ApiError> {
        match self.str(name) {
            None => Ok(false),
            Some(s) => Ok(values::boolean(name, &Value::String(s.to_owned()))?),
        }
    }

    /// One of v1's `0`/`1` flags (`done`, `pinned_to_…_flag`, `owned_by_you`); `None` when
    /// absent, a 400 naming it for anything else.
    pub fn zero_one(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.int(name)? {
            None => Ok(None),
            Some(0) => Ok(Some(false)),
            Some(1) => Ok(Some(true)),
            Some(_) => Err(ApiError::invalid(name, "must be 0 or 1")),
        }
    }

    /// A comma-separated list of positive ids, at most `max`.
    pub fn ids(&self, name: &str, max: usize) -> Result<Option<Vec<i64>>, ApiError> {
        let Some(s) = self.str(name) else {
            return Ok(None);
        };
        let ids = values::id_list(name, &Value::String(s.to_owned()))?;
        if ids.len() > max {
            return Err(ApiError::invalid(
                name,
                format!("at most {max} ids are allowed"),
            ));
        }
        Ok(Some(ids))
    }

    /// A comma-separated list of words.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.str(name)
            .map(|s| {
                s.split(',')
                    .map(|p| p.trim().to_owned())
                    .filter(|p| !p.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Emails or phones: an array of `{value, primary, label}` objects; with `allow_plain`, also a
/// single string, an array of strings, or a single object (v1's forms).
pub fn contacts(
    field: &str,
    v: &Value,
    allow_plain: bool,
    default_label: &str,
) -> Result<Vec<ContactInput>, ApiError> {
    let plain = |value: &str| ContactInput {
        value: value.to_owned(),
        primary: None,
        label: default_label.to_owned(),
    };
    let items = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        Value::String(s) if allow_plain => return Ok(vec![plain(s)]),
        Value::Object(_) if allow_plain => {
            return contacts(field, &json!([v]), true, default_label);
        }
        other => {
            let expected = if allow_plain {
                "a string or an array"
            } else {
                "an array of objects with value, primary and label"
            };
            return Err(ApiError::invalid(
                field,
                format!("must be {expected}, got {}", values::describe(other)),
            ));
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::String(s) if allow_plain => Ok(plain(s)),
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
                    None | Some(Value::Null) => default_label.to_owned(),
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
                    "must be {}an object with value, primary and label, got {}",
                    if allow_plain { "a string or " } else { "" },
                    values::describe(other)
                ),
            )),
        })
        .collect()
}

/// The 400 for body keys that may not be written, listed together.
pub fn reject_fields(invalid: &[String]) -> Result<(), ApiError> {
    if invalid.is_empty() {
        return Ok(());
    }
    let mut listed = invalid[..invalid.len().min(MAX_LISTED_FIELDS)].join(", ");
    if invalid.len() > MAX_LISTED_FIELDS {
        listed.push_str(&format!(" and {} more", invalid.len() - MAX_LISTED_FIELDS));
    }
    Err(ApiError::bad_request(format!(
        "Invalid field(s) in the payload: {listed}"
    )))
}

/// The most invalid fields an error lists (a body of 100,000 unknown keys gets a short answer).
const MAX_LISTED_FIELDS: usize = 20;

/// A required positive integer field of a body (`merge_with_id`, `user_id`).
pub fn required_id(body: &serde_json::Map<String, Value>, field: &str) -> Result<i64, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Err(ApiError::invalid(field, "is required")),
        Some(v) => Ok(values::id(field, v)?),
    }
}

/// An opaque page cursor: base64url of a small JSON object, as Pipedrive's look.
pub fn encode_cursor(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

/// Decodes a cursor made by [`encode_cursor`]; anything else is a 400.
pub fn decode_cursor(s: &str) -> Result<Value, ApiError> {
    let bad = || ApiError::invalid("cursor", "is not a cursor this server issued");
    let bytes = URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if v.is_object() { Ok(v) } else { Err(bad()) }
}

/// A page of a fully loaded list kept in ascending order of `key`, cursor-paged the way v2
/// pages everything: the cursor holds the key of the last item returned and the next page
/// starts at the first item after it, so items added or removed between pages are neither
/// skipped nor repeated. Returns the page and the next cursor (`None` on the last page).
pub fn keyset_page<'a, T, K>(
    q: &QueryParams,
    items: &'a [T],
    key: impl Fn(&T) -> K,
    what: &str,
) -> Result<(&'a [T], Option<String>), ApiError>
where
    K: PartialOrd + serde::Serialize + serde::de::DeserializeOwned,
{
    let limit = crate::domain::query::limit(q.int("limit")?)? as usize;
    let from = match q.str("cursor") {
        None => 0,
        Some(c) => {
            let cursor = decode_cursor(c)?;
            let after: K = (cursor.get("list") == Some(&json!(what)))
                .then(|| cursor.get("after").cloned())
                .flatten()
                .and_then(|k| serde_json::from_value(k).ok())
                .ok_or_else(|| ApiError::invalid("cursor", format!("is not a {what} cursor")))?;
            items.partition_point(|it| key(it) <= after)
        }
    };
    let to = from.saturating_add(limit).min(items.len());
    let page = &items[from..to];
    let next = match page.last() {
        Some(last) if to < items.len() => {
            Some(encode_cursor(&json!({ "list": what, "after": key(last) })))
        }
        _ => None,
    };
    Ok((page, next))
}

/// A search score as a key that sorts best first: scores are not negative, so their bits
/// order like the numbers, and subtracting from the largest value reverses that order (exact,
/// where a float in JSON could come back one unit off).
pub fn best_first(score: f64) -> u64 {
    u64::MAX - score.max(0.0).to_bits()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = encode_cursor(&json!({"field": "id", "id": 7}));
        assert_eq!(decode_cursor(&c).unwrap()["id"], 7);
        assert!(decode_cursor("not a cursor!").is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("[1]")).is_err());
    }
}
