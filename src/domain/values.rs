//! Reading loosely-typed request values the way Pipedrive does.
//!
//! v1 accepts JSON and form-encoded bodies, so an integer may arrive as `7` or `"7"` and a boolean
//! as `true`, `"true"` or `"1"`. These readers accept exactly those spellings and turn anything
//! else into a 400 that names the field.

use serde_json::Value;

use super::error::DomainError;

/// A positive integer id (`7` or `"7"`).
pub fn id(field: &str, v: &Value) -> Result<i64, DomainError> {
    let n = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    match n {
        Some(n) if n > 0 => Ok(n),
        _ => Err(DomainError::invalid(
            field,
            format!("must be a positive integer id, got {}", describe(v)),
        )),
    }
}

/// An optional id: `null` and `""` (how forms clear a value) mean none.
pub fn opt_id(field: &str, v: &Value) -> Result<Option<i64>, DomainError> {
    if is_blank(v) {
        Ok(None)
    } else {
        id(field, v).map(Some)
    }
}

/// A list of ids: a JSON array, or a comma-separated string (forms, v1 captures).
pub fn id_list(field: &str, v: &Value) -> Result<Vec<i64>, DomainError> {
    let items: Vec<Value> = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items.clone(),
        Value::String(s) if s.trim().is_empty() => return Ok(Vec::new()),
        Value::String(s) => s.split(',').map(|p| Value::String(p.into())).collect(),
        Value::Number(_) => vec![v.clone()],
        _ => {
            return Err(DomainError::invalid(
                field,
                format!("must be an array of integer ids, got {}", describe(v)),
            ));
        }
    };
    let mut out = Vec::with_capacity(items.len());
    // A blank item is how a form sends an empty list (`label_ids[]=`).
    for item in items.iter().filter(|i| !is_blank(i)) {
        let n = id(field, item)?;
        if !out.contains(&n) {
            out.push(n);
        }
    }
    Ok(out)
}

/// A boolean: `true`/`false`, `"true"`/`"false"`, `1`/`0`, `"1"`/`"0"`.
pub fn boolean(field: &str, v: &Value) -> Result<bool, DomainError> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Number(n) if n.as_i64() == Some(1) => Ok(true),
        Value::Number(n) if n.as_i64() == Some(0) => Ok(false),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            _ => Err(DomainError::invalid(field, "must be a boolean")),
        },
        _ => Err(DomainError::invalid(
            field,
            format!("must be a boolean, got {}", describe(v)),
        )),
    }
}

/// An integer (`7` or `"7"`).
pub fn integer(field: &str, v: &Value) -> Result<i64, DomainError> {
    let n = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    n.ok_or_else(|| DomainError::invalid(field, format!("must be an integer, got {}", describe(v))))
}

/// A finite number (`1.5` or `"1.5"`).
pub fn number(field: &str, v: &Value) -> Result<f64, DomainError> {
    let n = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    n.filter(|n| n.is_finite()).ok_or_else(|| {
        DomainError::invalid(field, format!("must be a number, got {}", describe(v)))
    })
}

/// A calendar date `YYYY-MM-DD` (years 0001–9999), in its canonical form; `None` if it is not
/// one.
pub fn parse_date(s: &str) -> Option<String> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let s = s.trim();
    let shaped =
        s.len() == 10 && s.as_bytes()[..4].iter().all(u8::is_ascii_digit) && !s.starts_with("0000");
    shaped
        .then(|| time::Date::parse(s, fmt).ok())
        .flatten()
        .map(|d| d.format(fmt).unwrap_or_default())
}

/// A string (numbers are not silently turned into strings).
pub fn string<'a>(field: &str, v: &'a Value) -> Result<&'a str, DomainError> {
    v.as_str().ok_or_else(|| {
        DomainError::invalid(field, format!("must be a string, got {}", describe(v)))
    })
}

/// A string value, or `None` for `null`.
pub fn opt_string<'a>(field: &str, v: &'a Value) -> Result<Option<&'a str>, DomainError> {
    if v.is_null() {
        Ok(None)
    } else {
        string(field, v).map(Some)
    }
}

/// A string that `null` clears: `null` reads as `""`.
pub fn clearable_string(field: &str, v: &Value) -> Result<String, DomainError> {
    Ok(opt_string(field, v)?.unwrap_or("").to_owned())
}

/// Most emails, and most phones, one person may have.
pub const MAX_CONTACTS: usize = 100;
/// Most labels on one person.
pub const MAX_LABELS: usize = 100;
/// Most options one enum or set field (or the label field) may have.
pub const MAX_OPTIONS: usize = 1000;

/// Checks a list's length, naming the field when it is too long.
pub fn max_items(field: &str, len: usize, max: usize) -> Result<(), DomainError> {
    if len > max {
        Err(DomainError::invalid(
            field,
            format!("at most {max} items are allowed, got {len}"),
        ))
    } else {
        Ok(())
    }
}

/// Checks a string's length in characters, naming the field when it is too long.
pub fn max_chars(field: &str, s: &str, max: usize) -> Result<(), DomainError> {
    if s.chars().count() > max {
        Err(DomainError::invalid(
            field,
            format!("must be at most {max} characters"),
        ))
    } else {
        Ok(())
    }
}

pub fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// How a wrong value is named in a message: its JSON type, not its content.
pub fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_accept_numbers_and_numeric_strings_only() {
        assert_eq!(id("x", &json!(7)).unwrap(), 7);
        assert_eq!(id("x", &json!("7")).unwrap(), 7);
        for bad in [
            json!(0),
            json!(-1),
            json!(1.5),
            json!("a"),
            json!(true),
            json!([1]),
        ] {
            assert!(id("x", &bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn integers_and_numbers_accept_their_json_type_or_a_numeric_string() {
        assert_eq!(integer("x", &json!(-3)).unwrap(), -3);
        assert_eq!(integer("x", &json!("4")).unwrap(), 4);
        assert!(integer("x", &json!(1.5)).is_err());
        assert_eq!(number("x", &json!(1.5)).unwrap(), 1.5);
        assert_eq!(number("x", &json!("2")).unwrap(), 2.0);
        assert!(number("x", &json!("NaN")).is_err());
        assert!(number("x", &json!(true)).is_err());
    }

    #[test]
    fn id_lists_accept_arrays_and_comma_strings() {
        assert_eq!(id_list("x", &json!([1, "2"])).unwrap(), vec![1, 2]);
        assert_eq!(id_list("x", &json!("3,4")).unwrap(), vec![3, 4]);
        assert_eq!(id_list("x", &json!([5, 5])).unwrap(), vec![5]);
        assert!(id_list("x", &json!({})).is_err());
        assert!(id_list("x", &json!(["a"])).is_err());
    }
}
