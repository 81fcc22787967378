//! Fixtures (`serve --fixtures FILE`): users, fields, organizations, persons, deals, activities
//! and notes applied to the first company when the database is created and at each of its
//! resets, each object through the same handler as its API's create (v2 bodies; notes, which
//! v2 has not, as v1 bodies).
//!
//! An object may be named with `"$id": "acme"`; a later object refers to it with the string
//! `"$acme"` wherever an id goes (`"org_id": "$acme"`), and to a field by its name the same way,
//! as a value or as a key of `custom_fields` (`{"$tier": "Gold"}`).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::super::extract::{Caller, Deals, Organizations, Persons};
use super::super::payload::Payload;
use super::super::{v1, v2};
use crate::domain::Session;
use crate::domain::ports::{NewUser, Store};
use crate::domain::user::token_digest;
use crate::domain::{Timestamp, random_hex40};
use crate::error::ApiError;

/// The sections of a fixtures file, in the order they are applied.
const SECTIONS: &[&str] = &[
    "users",
    "person_fields",
    "organization_fields",
    "deal_fields",
    "organizations",
    "persons",
    "deals",
    "activities",
    "notes",
];

#[derive(Debug, Clone)]
pub struct Fixtures {
    /// The file they were read from.
    pub file: String,
    sections: Vec<(&'static str, Vec<Map<String, Value>>)>,
}

impl Fixtures {
    /// Reads and checks a fixtures file; the message names the file, the entry and the fault.
    pub fn load(path: &str) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the fixtures file {path}: {e}"))?;
        Self::parse(path, &text)
    }

    pub fn parse(file: &str, text: &str) -> Result<Self, String> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("fixtures {file}: not JSON: {e}"))?;
        let Value::Object(top) = value else {
            return Err(format!(
                "fixtures {file}: expected an object of sections ({})",
                SECTIONS.join(", ")
            ));
        };
        if let Some(k) = top.keys().find(|k| !SECTIONS.contains(&k.as_str())) {
            return Err(format!(
                "fixtures {file}: {k:?} is not a section (known: {})",
                SECTIONS.join(", ")
            ));
        }
        let mut names = Vec::new();
        let mut sections = Vec::new();
        for section in SECTIONS {
            let Some(items) = top.get(*section) else {
                continue;
            };
            let Value::Array(items) = items else {
                return Err(format!("fixtures {file}: {section} must be an array"));
            };
            let mut objects = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let at = format!("fixtures {file}: {section}[{i}]");
                let Value::Object(o) = item else {
                    return Err(format!("{at}: must be an object"));
                };
                match o.get("$id") {
                    None => {}
                    Some(Value::String(n)) if is_name(n) => {
                        if names.contains(n) {
                            return Err(format!("{at}: $id {n:?} is used twice"));
                        }
                        names.push(n.clone());
                    }
                    Some(_) => {
                        return Err(format!(
                            "{at}: $id must be a name of letters, digits and '_'"
                        ));
                    }
                }
                if *section == "users" {
                    for key in ["name", "email"] {
                        if !o.get(key).is_some_and(Value::is_string) {
                            return Err(format!("{at}: {key} is required"));
                        }
                    }
                }
                objects.push(o.clone());
            }
            sections.push((*section, objects));
        }
        Ok(Self {
            file: file.to_owned(),
            sections,
        })
    }

    /// How many objects each section has.
    pub fn counts(&self) -> Value {
        Value::Object(
            self.sections
                .iter()
                .map(|(s, items)| ((*s).to_owned(), json!(items.len())))
                .collect(),
        )
    }

    /// Creates every object as `session`'s admin would through the API; the error names the
    /// entry and the API's message.
    pub async fn apply(
        &self,
        store: &Arc<dyn Store>,
        session: &Arc<Session>,
    ) -> Result<(), ApiError> {
        let mut refs: HashMap<String, Value> = HashMap::new();
        for (section, items) in &self.sections {
            for (i, item) in items.iter().enumerate() {
                let mut body = item.clone();
                let name = body.remove("$id");
                let body = resolve(Value::Object(body), &refs).map_err(|r| {
                    ApiError::bad_request(format!(
                        "fixtures: {section}[{i}]: no earlier object has \"$id\": {r:?}"
                    ))
                })?;
                let Value::Object(body) = body else { continue };
                let made = create(store, session, section, body)
                    .await
                    .map_err(|e| ApiError::bad_request(format!("fixtures: {section}[{i}]: {e}")))?;
                if let Some(Value::String(n)) = name {
                    refs.insert(n, made);
                }
            }
        }
        Ok(())
    }
}

fn is_name(n: &str) -> bool {
    !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Replaces `"$name"` strings (values, and keys of objects) with what the named object became;
/// the unknown name, if one is.
fn resolve(v: Value, refs: &HashMap<String, Value>) -> Result<Value, String> {
    let lookup = |s: &str| -> Result<Option<Value>, String> {
        match s.strip_prefix('$') {
            Some(n) if is_name(n) => refs.get(n).cloned().map(Some).ok_or_else(|| n.to_owned()),
            _ => Ok(None),
        }
    };
    Ok(match v {
        Value::String(s) => lookup(&s)?.unwrap_or(Value::String(s)),
        Value::Array(a) => Value::Array(
            a.into_iter()
                .map(|x| resolve(x, refs))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(o) => {
            let mut out = Map::new();
            for (k, x) in o {
                let key = match lookup(&k)? {
                    Some(Value::String(s)) => s,
                    Some(other) => other.to_string(),
                    None => k,
                };
                out.insert(key, resolve(x, refs)?);
            }
            Value::Object(out)
        }
        other => other,
    })
}

/// Creates one object; what a reference to it stands for (an id, or a field's code).
async fn create(
    store: &Arc<dyn Store>,
    session: &Arc<Session>,
    section: &str,
    body: Map<String, Value>,
) -> Result<Value, String> {
    if section == "users" {
        return add_user(store, session, &body).await;
    }
    let caller = Caller {
        session: session.clone(),
        store: store.clone(),
    };
    let payload = Payload(body);
    let answered = match section {
        "person_fields" => v2::fields::add_field::<Persons>(caller, payload).await,
        "organization_fields" => v2::fields::add_field::<Organizations>(caller, payload).await,
        "deal_fields" => v2::fields::add_field::<Deals>(caller, payload).await,
        "organizations" => v2::organizations::add_organization(caller, payload).await,
        "persons" => v2::persons::add_person(caller, payload).await,
        "deals" => v2::deals::add_deal(caller, payload).await,
        "activities" => v2::activities::add_activity(caller, payload).await,
        "notes" => v1::notes::add_note(caller, payload).await,
        _ => return Err(format!("unknown section {section}")),
    };
    let response = answered.map_err(|e| e.to_string())?;
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .map_err(|e| e.to_string())?;
    let body: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    let data = &body["data"];
    Ok(if section.ends_with("_fields") {
        data["field_code"].clone()
    } else {
        data["id"].clone()
    })
}

/// A fixture user: made when the company has none with that email, given the fixture's token
/// when it has one.
async fn add_user(
    store: &Arc<dyn Store>,
    session: &Session,
    body: &Map<String, Value>,
) -> Result<Value, String> {
    let text = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_owned()
    };
    let (name, email) = (text("name"), text("email"));
    if let Some(k) = body
        .keys()
        .find(|k| !matches!(k.as_str(), "name" | "email" | "is_admin" | "api_token"))
    {
        return Err(format!(
            "{k}: is not a user's field (name, email, is_admin, api_token)"
        ));
    }
    if !crate::domain::person::is_valid_email(&email) {
        return Err("email: must be an email address".into());
    }
    let token = match body.get("api_token") {
        None | Some(Value::Null) => None,
        Some(Value::String(t)) if t.len() >= 8 && t.len() <= 128 => Some(t.clone()),
        Some(_) => return Err("api_token: must be 8 to 128 characters".into()),
    };
    let company_id = session.company.id;
    let users = store.users(company_id).await.map_err(|e| e.to_string())?;
    if let Some(u) = users.iter().find(|u| u.email.eq_ignore_ascii_case(&email)) {
        if let Some(t) = &token {
            store
                .set_token_digest(u.id, &token_digest(t))
                .await
                .map_err(|e| e.to_string())?;
        }
        return Ok(json!(u.id));
    }
    let token = match token {
        Some(t) => t,
        None => random_hex40().map_err(|e| e.to_string())?,
    };
    let user = store
        .add_user(NewUser {
            company_id,
            name,
            email,
            is_admin: body
                .get("is_admin")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            token_digest: token_digest(&token),
            add_time: Timestamp::now(),
        })
        .await
        .map_err(|e| e.to_string())?;
    Ok(json!(user.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_files_are_refused_with_the_entry() {
        let cases = [
            ("[]", "expected an object"),
            (r#"{"people": []}"#, "\"people\" is not a section"),
            (r#"{"persons": {}}"#, "persons must be an array"),
            (r#"{"persons": [1]}"#, "persons[0]: must be an object"),
            (
                r#"{"users": [{"name": "A"}]}"#,
                "users[0]: email is required",
            ),
            (r#"{"persons": [{"$id": "a b"}]}"#, "$id must be"),
            (r#"{"persons": [{"$id": "a"}, {"$id": "a"}]}"#, "used twice"),
        ];
        for (text, needle) in cases {
            let e = Fixtures::parse("f.json", text).expect_err(text);
            assert!(e.contains(needle), "{text}: {e}");
        }
    }

    #[test]
    fn references_become_ids_and_codes() {
        let refs = HashMap::from([
            ("acme".to_owned(), json!(7)),
            ("tier".to_owned(), json!("abc123")),
        ]);
        let v = resolve(
            json!({"org_id": "$acme", "custom_fields": {"$tier": "$5 off"}, "name": "$acme"}),
            &refs,
        )
        .expect("resolved");
        assert_eq!(
            v,
            json!({"org_id": 7, "custom_fields": {"abc123": "$5 off"}, "name": 7})
        );
        assert_eq!(resolve(json!({"x": "$nope"}), &refs), Err("nope".into()));
    }
}
