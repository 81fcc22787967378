//! A custom field's value: checked by type and turned into the canonical form stored and
//! rendered; what is left of it once options are deleted; how an update merges with it; what
//! it refers to and how search reads it.

use serde_json::{Map, Value, json};

use super::{ADDRESS_PARTS, FieldDef, FieldType};
use crate::domain::error::DomainError;
use crate::domain::person::{RefKind, Reference};
use crate::domain::{Visibility, values};

/// The canonical stored value of a custom field, with deleted options left out; `None` when
/// the person has no (live) value.
pub fn live_value(def: &FieldDef, stored: Option<&Value>) -> Option<Value> {
    let v = stored?;
    let has = |id: i64| def.options.iter().any(|o| o.id == id);
    match def.field_type {
        FieldType::Enum => v.as_i64().filter(|id| has(*id)).map(Value::from),
        FieldType::Set => {
            let ids: Vec<i64> = v
                .as_array()?
                .iter()
                .filter_map(Value::as_i64)
                .filter(|id| has(*id))
                .collect();
            (!ids.is_empty()).then(|| json!(ids))
        }
        _ => Some(v.clone()),
    }
}

/// An update of a value made of parts (a monetary amount and its currency, a range's start and
/// end, an address and its parts) keeps the stored parts it does not name, so that sending v1's
/// `<key>` alone keeps `<key>_currency`, and `<key>_until` alone keeps the start. A new address
/// text drops the stored parts: they described the old address. Anything else replaces.
pub fn merge_update(def: &FieldDef, stored: Option<&Value>, given: Value) -> Value {
    let Some(Value::Object(stored)) = stored else {
        return given;
    };
    if def.subfields().is_empty() || values::is_blank(&given) {
        return given;
    }
    let given = match given {
        Value::Object(o) => o,
        other => Map::from_iter([("value".to_owned(), other)]),
    };
    let mut merged = if def.field_type == FieldType::Address && given.contains_key("value") {
        Map::new()
    } else {
        stored.clone()
    };
    merged.extend(given);
    Value::Object(merged)
}

/// The default currency of a monetary value given without one.
pub const DEFAULT_CURRENCY: &str = "USD";

/// Checks a custom value against its field and turns it into the canonical stored form;
/// `Ok(None)` clears the value. v1's sibling keys arrive grouped by the dialect as an object
/// `{"value": …, "currency"|"until"|<address part>: …}`.
pub fn parse_value(def: &FieldDef, v: &Value) -> Result<Option<Value>, DomainError> {
    // `null`, or every part `null` (v1's `<k>: null, <k>_currency: null`), clears.
    let all_null = |o: &Map<String, Value>| !o.is_empty() && o.values().all(Value::is_null);
    if v.is_null() || v.as_object().is_some_and(all_null) {
        return Ok(None);
    }
    match def.field_type {
        FieldType::Varchar | FieldType::VarcharAuto | FieldType::Phone => text(def, v, 255),
        FieldType::Text => text(def, v, 65_535),
        FieldType::Double => number(def, v).map(Some),
        FieldType::Monetary => monetary(def, v).map(Some),
        FieldType::Date => date(def, v).map(|d| Some(json!(d))),
        FieldType::Time => time_of_day(def, v).map(|t| Some(json!(t))),
        FieldType::Daterange | FieldType::Timerange => range(def, v).map(Some),
        FieldType::Enum => option_id(def, v).map(|id| Some(json!(id))),
        FieldType::Set => option_ids(def, v).map(|ids| Some(json!(ids))),
        FieldType::User | FieldType::Org | FieldType::People => {
            let id =
                values::id("value", v).map_err(|_| def.invalid("must be a positive integer id"))?;
            Ok(Some(json!(id)))
        }
        FieldType::Address => address(def, v),
        FieldType::VisibleTo => {
            Visibility::parse(&def.label(), v).map(|vis| Some(json!(vis.get())))
        }
        FieldType::Int | FieldType::Status => Err(def.invalid("is read-only")),
    }
}

/// Text of at most `max` characters (a number is taken as its text); empty clears.
fn text(def: &FieldDef, v: &Value, max: usize) -> Result<Option<Value>, DomainError> {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => {
            return Err(def.invalid(format!("must be a string, got {}", values::describe(other))));
        }
    };
    if s.chars().count() > max {
        return Err(def.invalid(format!("must be at most {max} characters")));
    }
    Ok((!s.is_empty()).then(|| Value::String(s)))
}

/// `{"value": <number>, "currency": <three letters>}` (a bare number is in USD).
fn monetary(def: &FieldDef, v: &Value) -> Result<Value, DomainError> {
    let (value, currency) = match v {
        Value::Object(o) => (
            o.get("value").unwrap_or(&Value::Null),
            o.get("currency").cloned(),
        ),
        other => (other, None),
    };
    if value.is_null() {
        return Err(def.invalid("value is required"));
    }
    let n = number(def, value)?;
    let currency = match currency {
        None | Some(Value::Null) => DEFAULT_CURRENCY.to_owned(),
        Some(Value::String(c)) if c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic()) => {
            c.to_ascii_uppercase()
        }
        Some(_) => {
            return Err(def.invalid("currency must be a three-letter code such as USD"));
        }
    };
    check_keys(def, v, &["value", "currency"])?;
    Ok(json!({"value": n, "currency": currency}))
}

/// A date or time range: `{"value": <start>, "until": <end>}`, the end not before the start.
fn range(def: &FieldDef, v: &Value) -> Result<Value, DomainError> {
    let both = || {
        def.invalid(format!(
            "needs a start (value) and an end (until; in v1 the key {}_until)",
            def.key
        ))
    };
    let Value::Object(o) = v else {
        return Err(both());
    };
    check_keys(def, v, &["value", "until"])?;
    let parse = |x: Option<&Value>| match x {
        None | Some(Value::Null) => Err(both()),
        Some(x) if def.field_type == FieldType::Daterange => date(def, x),
        Some(x) => time_of_day(def, x),
    };
    let start = parse(o.get("value"))?;
    let until = parse(o.get("until"))?;
    if until < start {
        return Err(def.invalid("until must not be before value"));
    }
    Ok(json!({"value": start, "until": until}))
}

/// A set's option ids: an array, a comma-separated string or one id; not empty, no repeats.
fn option_ids(def: &FieldDef, v: &Value) -> Result<Vec<i64>, DomainError> {
    let items: Vec<Value> = match v {
        Value::Array(a) => a.clone(),
        Value::String(s) => s
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| Value::String(p.into()))
            .collect(),
        Value::Number(_) => vec![v.clone()],
        other => {
            return Err(def.invalid(format!(
                "must be an array of option ids, got {}",
                values::describe(other)
            )));
        }
    };
    if items.is_empty() {
        return Err(def.invalid("must not be empty: send null to clear it"));
    }
    let mut ids = Vec::new();
    for item in &items {
        let id = option_id(def, item)?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// An address: its text, or an object with `value` and its parts (every part present,
/// `null` when not given); a blank text clears.
fn address(def: &FieldDef, v: &Value) -> Result<Option<Value>, DomainError> {
    let mut out = Map::new();
    match v {
        Value::String(s) if s.trim().is_empty() => return Ok(None),
        Value::String(s) => {
            out.insert("value".into(), json!(s));
        }
        Value::Object(o) => address_parts(def, v, o, &mut out)?,
        other => {
            return Err(def.invalid(format!(
                "must be a string or an object with value, got {}",
                values::describe(other)
            )));
        }
    }
    if out["value"]
        .as_str()
        .is_some_and(|s| s.chars().count() > 255)
    {
        return Err(def.invalid("must be at most 255 characters"));
    }
    for part in ADDRESS_PARTS {
        out.entry(part).or_insert(Value::Null);
    }
    Ok(Some(Value::Object(out)))
}

fn address_parts(
    def: &FieldDef,
    v: &Value,
    o: &Map<String, Value>,
    out: &mut Map<String, Value>,
) -> Result<(), DomainError> {
    let mut allowed = vec!["value"];
    allowed.extend(ADDRESS_PARTS);
    check_keys(def, v, &allowed)?;
    match o.get("value") {
        Some(Value::String(s)) if !s.trim().is_empty() => {
            out.insert("value".into(), json!(s));
        }
        _ => return Err(def.invalid("value is required and must be a string")),
    }
    for part in ADDRESS_PARTS {
        match o.get(part) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => {
                out.insert(part.into(), json!(s));
            }
            Some(_) => return Err(def.invalid(format!("{part} must be a string"))),
        }
    }
    Ok(())
}

fn check_keys(def: &FieldDef, v: &Value, allowed: &[&str]) -> Result<(), DomainError> {
    if let Value::Object(o) = v
        && let Some(k) = o.keys().find(|k| !allowed.contains(&k.as_str()))
    {
        return Err(def.invalid(format!("unknown key {k:?}")));
    }
    Ok(())
}

/// A number, kept an integer when it is one (`500`, not `500.0`).
fn number(def: &FieldDef, v: &Value) -> Result<Value, DomainError> {
    let bad = || def.invalid(format!("must be a number, got {}", values::describe(v)));
    match v {
        Value::Number(_) => Ok(v.clone()),
        Value::String(s) => {
            let s = s.trim();
            if let Ok(i) = s.parse::<i64>() {
                return Ok(json!(i));
            }
            s.parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map(|n| json!(n))
                .ok_or_else(bad)
        }
        _ => Err(bad()),
    }
}

/// A calendar date written `YYYY-MM-DD`: four-digit years only (0001 to 9999), no sign.
fn date(def: &FieldDef, v: &Value) -> Result<String, DomainError> {
    v.as_str()
        .and_then(values::parse_date)
        .ok_or_else(|| def.invalid("must be a date in the format YYYY-MM-DD"))
}

fn time_of_day(def: &FieldDef, v: &Value) -> Result<String, DomainError> {
    let full = time::macros::format_description!("[hour]:[minute]:[second]");
    let short = time::macros::format_description!("[hour]:[minute]");
    v.as_str()
        .and_then(|s| {
            time::Time::parse(s.trim(), full)
                .or_else(|_| time::Time::parse(s.trim(), short))
                .ok()
        })
        .map(|t| t.format(full).unwrap_or_default())
        .ok_or_else(|| def.invalid("must be a time in the format HH:MM:SS"))
}

fn option_id(def: &FieldDef, v: &Value) -> Result<i64, DomainError> {
    let id = values::id("value", v).map_err(|_| def.invalid("must be an option id"))?;
    if !def.options.iter().any(|o| o.id == id) {
        return Err(def.invalid(format!("{id} is not an option of this field")));
    }
    Ok(id)
}

/// The reference a user, org or people value makes, to be checked against the company.
pub fn reference(def: &FieldDef, value: &Value) -> Option<Reference> {
    let kind = match def.field_type {
        FieldType::User => RefKind::User,
        FieldType::Org => RefKind::Org,
        FieldType::People => RefKind::Person,
        _ => return None,
    };
    let id = value.as_i64()?;
    Some(Reference {
        kind,
        id,
        error: format!("{}: {id} does not exist in this company", def.label()),
    })
}

/// A value's text for search, for the searchable types.
pub fn search_text(def: &FieldDef, value: &Value) -> Option<String> {
    if !def.searchable() {
        return None;
    }
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Object(o) => o.get("value").map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Timestamp;
    use crate::domain::fields::{FieldOption, FieldSettings};

    fn def(t: FieldType) -> FieldDef {
        FieldDef {
            id: 1,
            key: "a".repeat(40),
            name: "F".into(),
            field_type: t,
            is_custom: true,
            order_nr: 0,
            add_visible_flag: true,
            created_by_user_id: None,
            updated_by_user_id: None,
            add_time: Timestamp(0),
            update_time: Timestamp(0),
            options: vec![FieldOption {
                id: 7,
                field_key: "a".repeat(40),
                label: "Seven".into(),
                color: None,
                add_time: Timestamp(0),
                update_time: Timestamp(0),
            }],
            deleted_options: Vec::new(),
            settings: FieldSettings::default(),
        }
    }

    #[test]
    fn values_take_their_canonical_form() {
        let p = |t, v| parse_value(&def(t), &v);
        assert_eq!(
            p(FieldType::Double, json!("1.5")).unwrap(),
            Some(json!(1.5))
        );
        assert_eq!(p(FieldType::Double, json!("2")).unwrap(), Some(json!(2)));
        assert_eq!(
            p(FieldType::Monetary, json!(5)).unwrap(),
            Some(json!({"value": 5, "currency": "USD"}))
        );
        assert_eq!(
            p(FieldType::Time, json!("09:30")).unwrap(),
            Some(json!("09:30:00"))
        );
        assert_eq!(p(FieldType::Enum, json!("7")).unwrap(), Some(json!(7)));
        assert_eq!(p(FieldType::Set, json!("7,7")).unwrap(), Some(json!([7])));
        assert_eq!(p(FieldType::Varchar, json!("")).unwrap(), None);
    }

    #[test]
    fn wrong_values_are_refused_naming_the_field() {
        let p = |t, v| parse_value(&def(t), &v).unwrap_err().to_string();
        assert!(p(FieldType::Double, json!("x")).contains("(F): must be a number"));
        assert!(p(FieldType::Date, json!("2024-02-30")).contains("YYYY-MM-DD"));
        for before_year_one in ["-2024-01-01", "0000-01-01", "+2024-01-01", "20240-01-01"] {
            assert!(
                p(FieldType::Date, json!(before_year_one)).contains("YYYY-MM-DD"),
                "{before_year_one}"
            );
        }
        assert!(p(FieldType::Set, json!([])).contains("must not be empty"));
        assert!(p(FieldType::Enum, json!(8)).contains("8 is not an option"));
        assert!(
            p(
                FieldType::Monetary,
                json!({"value": 1, "currency": "DOLLARS"})
            )
            .contains("currency")
        );
        assert!(
            p(
                FieldType::Daterange,
                json!({"value": "2024-02-01", "until": "2024-01-01"})
            )
            .contains("until")
        );
        assert!(p(FieldType::Varchar, json!("x".repeat(256))).contains("255"));
    }
}
