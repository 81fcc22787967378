//! The request journal: each company's recent API requests and their answers, newest last, in
//! a ring of `--journal-size` entries per company, kept in this process's memory.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::Value;

/// The most of a request's or a response's body an entry keeps.
pub const BODY_LIMIT: usize = 64 * 1024;

/// One request as the journal shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub id: u64,
    /// When the request arrived (RFC 3339, milliseconds, real time).
    pub time: String,
    pub user_id: i64,
    pub method: String,
    pub path: String,
    /// The route pattern it matched (`/api/v2/persons/{id}`), if any.
    pub route: Option<String>,
    /// The query string, `api_token` redacted.
    pub query: Option<String>,
    pub request_body: Value,
    pub request_body_truncated: bool,
    /// `null` when the connection was closed without an answer (a fault).
    pub status: Option<u16>,
    pub response_body: Value,
    pub response_body_truncated: bool,
    pub duration_ms: f64,
    /// The fault that answered or delayed it.
    pub fault_id: Option<u64>,
}

/// A body as an entry keeps it: JSON as JSON, anything else as text, `null` when empty; cut to
/// [`BODY_LIMIT`] bytes (then kept as text).
pub fn body(bytes: &[u8]) -> (Value, bool) {
    if bytes.is_empty() {
        return (Value::Null, false);
    }
    if bytes.len() > BODY_LIMIT {
        let mut end = BODY_LIMIT;
        while end > 0 && !is_char_boundary(bytes, end) {
            end -= 1;
        }
        return (
            Value::String(String::from_utf8_lossy(&bytes[..end]).into_owned()),
            true,
        );
    }
    match serde_json::from_slice(bytes) {
        Ok(v) => (v, false),
        Err(_) => (
            Value::String(String::from_utf8_lossy(bytes).into_owned()),
            false,
        ),
    }
}

fn is_char_boundary(bytes: &[u8], i: usize) -> bool {
    bytes.get(i).is_none_or(|b| (*b as i8) >= -0x40)
}

/// The keys whose values the journal never keeps: a token, and a webhook's Basic password
/// (which the API itself never shows either).
const SECRETS: &[&str] = &["api_token", "http_auth_password"];

fn is_secret(key: &str) -> bool {
    let key = key.trim_end_matches("[]");
    SECRETS.iter().any(|s| key.eq_ignore_ascii_case(s))
}

/// A request body as the journal keeps it: [`body`], with secrets in it (a form field, or a
/// key of a JSON object at any depth) replaced; a body cut short that names one is not kept.
pub fn request_body(bytes: &[u8]) -> (Value, bool) {
    let (mut v, cut) = body(bytes);
    match &mut v {
        Value::String(s) if cut => {
            let lower = s.to_ascii_lowercase();
            if SECRETS.iter().any(|k| lower.contains(k)) {
                *s = "(not kept: cut short, and it names a secret)".into();
            }
        }
        Value::String(s) => *s = redact(s),
        other => hide(other),
    }
    (v, cut)
}

fn hide(v: &mut Value) {
    match v {
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                if is_secret(k) {
                    *x = Value::String("REDACTED".into());
                } else {
                    hide(x);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(hide),
        _ => {}
    }
}

/// A query string (or form body) with every secret's value replaced; keys are compared as the
/// server reads them (percent-decoded), and kept as sent.
pub fn redact(query: &str) -> String {
    query
        .split('&')
        .map(|pair| {
            let raw = pair.split('=').next().unwrap_or("");
            let decoded = form_urlencoded::parse(raw.as_bytes())
                .next()
                .map_or_else(|| raw.to_owned(), |(k, _)| k.into_owned());
            if is_secret(&decoded) {
                format!("{raw}=REDACTED")
            } else {
                pair.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// What `GET /_pipestack/requests` asks for.
#[derive(Debug, Default)]
pub struct Filter {
    pub limit: usize,
    pub method: Option<String>,
    pub path: Option<String>,
    pub status: Option<u16>,
}

impl Filter {
    fn keeps(&self, e: &Entry) -> bool {
        self.method
            .as_ref()
            .is_none_or(|m| m.eq_ignore_ascii_case(&e.method))
            && self.path.as_ref().is_none_or(|p| e.path.starts_with(p))
            && self.status.is_none_or(|s| e.status == Some(s))
    }
}

pub struct Journal {
    size: usize,
    next_id: AtomicU64,
    companies: Mutex<HashMap<i64, VecDeque<Arc<Entry>>>>,
}

impl Journal {
    pub fn new(size: usize) -> Self {
        Self {
            size,
            next_id: AtomicU64::new(1),
            companies: Mutex::new(HashMap::new()),
        }
    }

    pub fn size(&self) -> usize {
        self.size
    }

    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub fn record(&self, company_id: i64, entry: Entry) {
        if self.size == 0 {
            return;
        }
        if let Ok(mut companies) = self.companies.lock() {
            let ring = companies.entry(company_id).or_default();
            if ring.len() >= self.size {
                ring.pop_front();
            }
            ring.push_back(Arc::new(entry));
        }
    }

    /// The company's entries that `filter` keeps, newest first.
    pub fn list(&self, company_id: i64, filter: &Filter) -> Vec<Arc<Entry>> {
        let Ok(companies) = self.companies.lock() else {
            return Vec::new();
        };
        companies.get(&company_id).map_or_else(Vec::new, |ring| {
            ring.iter()
                .rev()
                .filter(|e| filter.keeps(e))
                .take(filter.limit)
                .cloned()
                .collect()
        })
    }

    pub fn count(&self, company_id: i64) -> usize {
        self.companies
            .lock()
            .map(|c| c.get(&company_id).map_or(0, VecDeque::len))
            .unwrap_or(0)
    }

    /// Forgets the company's entries; how many there were.
    pub fn clear(&self, company_id: i64) -> usize {
        self.companies
            .lock()
            .map(|mut c| c.remove(&company_id).map_or(0, |r| r.len()))
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_redacted_and_the_rest_kept() {
        assert_eq!(
            redact("start=0&api_token=secret&limit=5&API_TOKEN=x"),
            "start=0&api_token=REDACTED&limit=5&API_TOKEN=REDACTED"
        );
    }

    #[test]
    fn secrets_are_redacted_however_they_are_spelled_or_nested() {
        assert_eq!(redact("api%5Ftoken=s&a=1"), "api%5Ftoken=REDACTED&a=1");
        assert_eq!(redact("api_%74oken=s"), "api_%74oken=REDACTED");
        assert_eq!(
            request_body(br#"{"a":{"http_auth_password":"p"},"b":[{"API_TOKEN":"t"}]}"#).0,
            serde_json::json!({"a": {"http_auth_password": "REDACTED"}, "b": [{"API_TOKEN": "REDACTED"}]})
        );
        let big = format!("x={}&api_token=s", "y".repeat(BODY_LIMIT));
        let (v, cut) = request_body(big.as_bytes());
        assert!(cut);
        assert!(!v.as_str().unwrap_or_default().contains("=s"));
    }

    #[test]
    fn tokens_in_bodies_are_redacted() {
        assert_eq!(
            request_body(b"name=a&api_token=s").0,
            "name=a&api_token=REDACTED"
        );
        assert_eq!(
            request_body(br#"{"api_token":"s","n":1}"#).0,
            serde_json::json!({"api_token": "REDACTED", "n": 1})
        );
    }

    #[test]
    fn bodies_are_json_text_or_cut() {
        assert_eq!(body(b""), (Value::Null, false));
        assert_eq!(body(br#"{"a":1}"#).0["a"], 1);
        assert_eq!(body(b"name=x").0, "name=x");
        let big = "é".repeat(BODY_LIMIT);
        let (v, cut) = body(big.as_bytes());
        assert!(cut);
        assert!(
            v.as_str()
                .is_some_and(|s| s.len() <= BODY_LIMIT && s.ends_with('é'))
        );
    }

    #[test]
    fn the_ring_keeps_the_newest() {
        let j = Journal::new(2);
        for n in 0..3 {
            let mut e = entry(n);
            e.id = j.next_id();
            j.record(7, e);
        }
        let all = j.list(
            7,
            &Filter {
                limit: 10,
                ..Filter::default()
            },
        );
        assert_eq!(all.iter().map(|e| e.id).collect::<Vec<_>>(), [3, 2]);
        assert!(
            j.list(
                8,
                &Filter {
                    limit: 10,
                    ..Filter::default()
                }
            )
            .is_empty()
        );
        assert_eq!(j.clear(7), 2);
        assert_eq!(j.count(7), 0);
    }

    fn entry(n: u64) -> Entry {
        Entry {
            id: n,
            time: String::new(),
            user_id: 1,
            method: "GET".into(),
            path: "/v1/persons".into(),
            route: None,
            query: None,
            request_body: Value::Null,
            request_body_truncated: false,
            status: Some(200),
            response_body: Value::Null,
            response_body_truncated: false,
            duration_ms: 0.0,
            fault_id: None,
        }
    }
}
