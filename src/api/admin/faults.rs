//! Injected faults: answers, delays and dropped connections for a company's requests that match
//! a method and a path (exact, or a route pattern such as `/api/v2/persons/{id}`), counted down
//! by `times`, kept in this process's memory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::ApiError;

/// The methods a fault may name.
const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// The longest delay a fault may add, in milliseconds.
pub const MAX_DELAY_MS: u64 = 120_000;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Fault {
    pub id: u64,
    /// `None`: any method.
    pub method: Option<String>,
    pub path: String,
    /// The answer's status; `None`: the request is served as usual (after the delay).
    pub status: Option<u16>,
    /// The answer's body; `None`: Pipedrive's envelope for the status.
    pub body: Option<Value>,
    pub delay_ms: u64,
    /// How many more requests it acts on; `None`: every one until deleted.
    pub times: Option<u64>,
    pub probability: f64,
    pub close_connection: bool,
    /// How many requests it acted on.
    pub hits: u64,
}

impl Fault {
    /// A fault from `POST /_pipestack/faults`'s body; the message names the field and why.
    pub fn parse(body: &Map<String, Value>) -> Result<Self, ApiError> {
        const KNOWN: &[&str] = &[
            "method",
            "path",
            "status",
            "body",
            "delay_ms",
            "times",
            "probability",
            "close_connection",
        ];
        if let Some(k) = body.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(ApiError::invalid(
                k,
                format!("is not a fault's field (known: {})", KNOWN.join(", ")),
            ));
        }
        let method = match body.get("method") {
            None | Some(Value::Null) => None,
            Some(Value::String(m)) if m == "*" => None,
            Some(Value::String(m)) if METHODS.contains(&m.to_ascii_uppercase().as_str()) => {
                Some(m.to_ascii_uppercase())
            }
            Some(_) => {
                return Err(ApiError::invalid(
                    "method",
                    format!("must be one of {} or \"*\"", METHODS.join(", ")),
                ));
            }
        };
        let path = match body.get("path") {
            Some(Value::String(p)) if super::is_admin_path(p) => {
                return Err(ApiError::invalid(
                    "path",
                    "the admin API itself cannot be faulted",
                ));
            }
            Some(Value::String(p)) if p.starts_with('/') => p.clone(),
            None | Some(Value::Null) => return Err(ApiError::invalid("path", "is required")),
            Some(_) => {
                return Err(ApiError::invalid(
                    "path",
                    "must be a path starting with '/' (exact, or a route pattern such as /api/v2/persons/{id})",
                ));
            }
        };
        let status = match body.get("status") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_u64() {
                Some(s @ 200..=599) => Some(s as u16),
                _ => {
                    return Err(ApiError::invalid(
                        "status",
                        "must be an HTTP status from 200 to 599",
                    ));
                }
            },
        };
        let answer = match body.get("body") {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.clone()),
        };
        if answer.is_some() && status.is_none() {
            return Err(ApiError::invalid(
                "body",
                "needs a status to be answered with",
            ));
        }
        let delay_ms = match body.get("delay_ms") {
            None | Some(Value::Null) => 0,
            Some(v) => match v.as_u64() {
                Some(d) if d <= MAX_DELAY_MS => d,
                _ => {
                    return Err(ApiError::invalid(
                        "delay_ms",
                        format!("must be a whole number of milliseconds from 0 to {MAX_DELAY_MS}"),
                    ));
                }
            },
        };
        let times = match body.get("times") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_u64() {
                Some(t) if t >= 1 => Some(t),
                _ => {
                    return Err(ApiError::invalid(
                        "times",
                        "must be a whole number of 1 or more",
                    ));
                }
            },
        };
        let probability = match body.get("probability") {
            None | Some(Value::Null) => 1.0,
            Some(v) => match v.as_f64() {
                Some(p) if (0.0..=1.0).contains(&p) => p,
                _ => {
                    return Err(ApiError::invalid(
                        "probability",
                        "must be a number from 0 to 1",
                    ));
                }
            },
        };
        let close_connection = match body.get("close_connection") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(ApiError::invalid(
                    "close_connection",
                    "must be true or false",
                ));
            }
        };
        if close_connection && status.is_some() {
            return Err(ApiError::invalid(
                "close_connection",
                "closes the connection without an answer: give no status with it",
            ));
        }
        if status.is_none() && delay_ms == 0 && !close_connection {
            return Err(ApiError::bad_request(
                "A fault must do something: give a status, a delay_ms or close_connection",
            ));
        }
        Ok(Self {
            id: 0,
            method,
            path,
            status,
            body: answer,
            delay_ms,
            times,
            probability,
            close_connection,
            hits: 0,
        })
    }

    fn matches(&self, method: &str, path: &str, route: Option<&str>) -> bool {
        self.method.as_deref().is_none_or(|m| m == method)
            && (self.path == path || route.is_some_and(|r| r == self.path))
    }
}

#[derive(Default)]
pub struct Faults {
    next_id: AtomicU64,
    companies: Mutex<HashMap<i64, Vec<Fault>>>,
}

impl Faults {
    pub fn add(&self, company_id: i64, mut fault: Fault) -> Fault {
        fault.id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        if let Ok(mut companies) = self.companies.lock() {
            companies.entry(company_id).or_default().push(fault.clone());
        }
        fault
    }

    pub fn list(&self, company_id: i64) -> Vec<Fault> {
        self.companies
            .lock()
            .map(|c| c.get(&company_id).cloned().unwrap_or_default())
            .unwrap_or_default()
    }

    /// Deletes one (`Some(id)`) or all; how many.
    pub fn delete(&self, company_id: i64, id: Option<u64>) -> usize {
        let Ok(mut companies) = self.companies.lock() else {
            return 0;
        };
        let Some(list) = companies.get_mut(&company_id) else {
            return 0;
        };
        let before = list.len();
        list.retain(|f| id.is_some_and(|id| f.id != id));
        before - list.len()
    }

    /// The first fault that acts on this request, counted (and dropped when its `times` are
    /// used up); `roll` is a number in [0, 1) drawn for the request.
    pub fn take(
        &self,
        company_id: i64,
        method: &str,
        path: &str,
        route: Option<&str>,
        roll: f64,
    ) -> Option<Fault> {
        let mut companies = self.companies.lock().ok()?;
        let list = companies.get_mut(&company_id)?;
        let i = list.iter().position(|f| f.matches(method, path, route))?;
        if roll >= list[i].probability {
            return None;
        }
        let fault = &mut list[i];
        fault.hits += 1;
        if let Some(t) = &mut fault.times {
            *t -= 1;
        }
        let taken = fault.clone();
        if taken.times == Some(0) {
            list.remove(i);
        }
        Some(taken)
    }
}

/// A number in [0, 1), for a fault's probability.
pub fn roll() -> f64 {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        return 0.0;
    }
    (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(v: Value) -> Result<Fault, ApiError> {
        Fault::parse(v.as_object().expect("an object"))
    }

    #[test]
    fn bad_faults_name_their_field() {
        let cases = [
            (json!({"status": 500}), "path: is required"),
            (json!({"path": "x", "status": 500}), "path: must be"),
            (json!({"path": "/a", "status": 99}), "status: must be"),
            (json!({"path": "/a", "body": {}}), "body: needs a status"),
            (
                json!({"path": "/a", "status": 500, "times": 0}),
                "times: must be",
            ),
            (
                json!({"path": "/a", "status": 500, "probability": 2}),
                "probability:",
            ),
            (json!({"path": "/a", "delay_ms": -1}), "delay_ms:"),
            (
                json!({"path": "/a", "status": 500, "close_connection": true}),
                "close_connection:",
            ),
            (json!({"path": "/a"}), "must do something"),
            (
                json!({"path": "/a", "status": 500, "colour": 1}),
                "colour: is not",
            ),
            (
                json!({"path": "/a", "status": 500, "method": "G E"}),
                "method:",
            ),
        ];
        for (body, needle) in cases {
            let e = parse(body.clone()).expect_err("refused");
            assert!(e.to_string().contains(needle), "{body}: {e}");
        }
    }

    #[test]
    fn faults_match_by_pattern_and_count_down() {
        let faults = Faults::default();
        let f = parse(
            json!({"method": "get", "path": "/api/v2/persons/{id}", "status": 503, "times": 2}),
        )
        .expect("a fault");
        let f = faults.add(1, f);
        assert_eq!(f.method.as_deref(), Some("GET"));
        let route = Some("/api/v2/persons/{id}");
        assert!(
            faults
                .take(2, "GET", "/api/v2/persons/5", route, 0.0)
                .is_none()
        );
        assert!(
            faults
                .take(1, "POST", "/api/v2/persons/5", route, 0.0)
                .is_none()
        );
        assert_eq!(
            faults
                .take(1, "GET", "/api/v2/persons/5", route, 0.0)
                .map(|f| f.times),
            Some(Some(1))
        );
        assert!(
            faults
                .take(1, "GET", "/api/v2/persons/6", route, 0.0)
                .is_some()
        );
        assert!(
            faults
                .take(1, "GET", "/api/v2/persons/5", route, 0.0)
                .is_none()
        );
        assert!(faults.list(1).is_empty());
    }

    #[test]
    fn probability_is_rolled_and_exact_paths_match() {
        let faults = Faults::default();
        let f = parse(json!({"path": "/v1/persons", "status": 500, "probability": 0.5}))
            .expect("a fault");
        faults.add(1, f);
        assert!(faults.take(1, "GET", "/v1/persons", None, 0.7).is_none());
        assert!(faults.take(1, "DELETE", "/v1/persons", None, 0.2).is_some());
        assert_eq!(faults.list(1)[0].hits, 1);
        assert_eq!(faults.delete(1, None), 1);
        let r = roll();
        assert!((0.0..1.0).contains(&r));
    }
}
