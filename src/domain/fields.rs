//! Person fields: the built-in ones and the company's custom ones (keyed by 40-hex hashes),
//! their options (the built-in label field's options are the person labels), and every rule
//! about custom values: types, validation, and the canonical form stored and rendered.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::error::DomainError;
use super::ports::Store;
use super::{Timestamp, Visibility, values};

/// An option of a field with options (labels, enum and set fields).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldOption {
    pub id: i64,
    pub field_key: String,
    pub label: String,
    pub color: Option<String>,
    pub add_time: Timestamp,
    pub update_time: Timestamp,
}

/// A person field, built-in or custom, with its active options.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDef {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub field_type: FieldType,
    pub is_custom: bool,
    pub order_nr: i64,
    pub add_visible_flag: bool,
    pub created_by_user_id: Option<i64>,
    pub updated_by_user_id: Option<i64>,
    pub add_time: Timestamp,
    pub update_time: Timestamp,
    pub options: Vec<FieldOption>,
    /// Options deleted from the field, so that stored ids can still be named (v1 shows them as
    /// `options_deleted`).
    pub deleted_options: Vec<FieldOption>,
    pub settings: FieldSettings,
}

/// A field's description and how Pipedrive's UI treats it (v2's `description`,
/// `ui_visibility`, `important_fields`, `required_fields`). pipestack has no UI: it keeps them
/// as set and shows them back; only `add_visible_flag` (a column of its own) predates them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FieldSettings {
    pub description: Option<String>,
    pub details_visible_flag: bool,
    pub show_in_add_deal_dialog: bool,
    /// Important at every stage (pipestack has no deal stages to name).
    pub important: bool,
    /// Marked mandatory for the UI; the API does not enforce it (nor does Pipedrive's).
    pub required: bool,
}

impl Default for FieldSettings {
    fn default() -> Self {
        Self {
            description: None,
            details_visible_flag: true,
            show_in_add_deal_dialog: false,
            important: false,
            required: false,
        }
    }
}

/// The longest field description.
pub const MAX_DESCRIPTION: usize = 65_535;

impl FieldDef {
    /// Whether the field is marked mandatory: `name` always, others when set so.
    pub fn required(&self) -> bool {
        self.key == "name" || self.settings.required
    }

    /// How messages name the field: `"<key> (<name>)"`.
    pub fn label(&self) -> String {
        format!("{} ({})", self.key, self.name)
    }

    fn invalid(&self, reason: impl std::fmt::Display) -> DomainError {
        DomainError::invalid(&self.label(), reason)
    }

    pub fn has_options(&self) -> bool {
        matches!(self.field_type, FieldType::Enum | FieldType::Set)
    }

    /// v2's `field_code`: the key, except the label field, which v2 calls `label_ids`.
    pub fn field_code(&self) -> &str {
        if self.key == LABEL_KEY {
            "label_ids"
        } else {
            &self.key
        }
    }

    /// The sibling keys v1 shows next to a value, and what each holds.
    pub fn subfields(&self) -> &'static [&'static str] {
        match self.field_type {
            FieldType::Monetary => &["currency"],
            FieldType::Daterange | FieldType::Timerange => &["until"],
            FieldType::Address => &ADDRESS_PARTS,
            _ => &[],
        }
    }

    /// Whether persons search looks into values of this field.
    pub fn searchable(&self) -> bool {
        self.is_custom
            && matches!(
                self.field_type,
                FieldType::Address
                    | FieldType::Varchar
                    | FieldType::Text
                    | FieldType::VarcharAuto
                    | FieldType::Double
                    | FieldType::Monetary
                    | FieldType::Phone
            )
    }
}

/// The key of the built-in label field, whose options are the person labels.
pub const LABEL_KEY: &str = "label";

/// The parts of an address value, in v1's sibling order.
pub const ADDRESS_PARTS: [&str; 10] = [
    "subpremise",
    "street_number",
    "route",
    "sublocality",
    "locality",
    "admin_area_level_1",
    "admin_area_level_2",
    "country",
    "postal_code",
    "formatted_address",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Varchar,
    VarcharAuto,
    Text,
    Phone,
    Double,
    Monetary,
    Date,
    Daterange,
    Time,
    Timerange,
    Enum,
    Set,
    User,
    Org,
    People,
    Address,
    VisibleTo,
    // Built-in only.
    Int,
    Status,
}

impl FieldType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Varchar => "varchar",
            Self::VarcharAuto => "varchar_auto",
            Self::Text => "text",
            Self::Phone => "phone",
            Self::Double => "double",
            Self::Monetary => "monetary",
            Self::Date => "date",
            Self::Daterange => "daterange",
            Self::Time => "time",
            Self::Timerange => "timerange",
            Self::Enum => "enum",
            Self::Set => "set",
            Self::User => "user",
            Self::Org => "org",
            Self::People => "people",
            Self::Address => "address",
            Self::VisibleTo => "visible_to",
            Self::Int => "int",
            Self::Status => "status",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        [
            Self::Varchar,
            Self::VarcharAuto,
            Self::Text,
            Self::Phone,
            Self::Double,
            Self::Monetary,
            Self::Date,
            Self::Daterange,
            Self::Time,
            Self::Timerange,
            Self::Enum,
            Self::Set,
            Self::User,
            Self::Org,
            Self::People,
            Self::Address,
            Self::VisibleTo,
            Self::Int,
            Self::Status,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }

    /// Types a client may create: v1 all of these, v2 all but `visible_to`.
    pub fn creatable(self, v1: bool) -> bool {
        match self {
            Self::Int | Self::Status => false,
            Self::VisibleTo => v1,
            _ => true,
        }
    }
}

/// The built-in person fields every company has: `(key, name, type)`.
pub const BUILTIN_FIELDS: [(&str, &str, &str); 14] = [
    ("id", "ID", "int"),
    ("name", "Name", "varchar"),
    ("first_name", "First name", "varchar"),
    ("last_name", "Last name", "varchar"),
    ("owner_id", "Owner", "user"),
    ("org_id", "Organization", "org"),
    ("email", "Email", "varchar"),
    ("phone", "Phone", "phone"),
    (LABEL_KEY, "Labels", "set"),
    ("visible_to", "Visible to", "visible_to"),
    ("marketing_status", "Marketing status", "status"),
    ("add_time", "Person created", "date"),
    ("update_time", "Update time", "date"),
    ("followers_count", "Number of followers", "int"),
];

/// A company's person fields, loaded once per request.
#[derive(Debug, Clone, Default)]
pub struct Fields(pub Vec<FieldDef>);

impl Fields {
    pub async fn load(store: &dyn Store, company_id: i64) -> Result<Self, DomainError> {
        Ok(Self(store.person_fields(company_id).await?))
    }

    pub fn custom(&self) -> impl Iterator<Item = &FieldDef> {
        self.0.iter().filter(|f| f.is_custom)
    }

    pub fn custom_by_key(&self, key: &str) -> Option<&FieldDef> {
        self.custom().find(|f| f.key == key)
    }

    /// The person labels: options of the built-in label field.
    pub fn labels(&self) -> &[FieldOption] {
        self.0
            .iter()
            .find(|f| f.key == LABEL_KEY)
            .map_or(&[], |f| f.options.as_slice())
    }

    /// Label ids without those whose option was deleted.
    pub fn live_labels(&self, ids: &[i64]) -> Vec<i64> {
        let labels = self.labels();
        ids.iter()
            .copied()
            .filter(|id| labels.iter().any(|l| l.id == *id))
            .collect()
    }
}

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
    let text = |max: usize| -> Result<Option<Value>, DomainError> {
        let s = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            other => {
                return Err(
                    def.invalid(format!("must be a string, got {}", values::describe(other)))
                );
            }
        };
        if s.chars().count() > max {
            return Err(def.invalid(format!("must be at most {max} characters")));
        }
        Ok((!s.is_empty()).then(|| Value::String(s)))
    };
    match def.field_type {
        FieldType::Varchar | FieldType::VarcharAuto | FieldType::Phone => text(255),
        FieldType::Text => text(65_535),
        FieldType::Double => number(def, v).map(Some),
        FieldType::Monetary => {
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
                Some(Value::String(c))
                    if c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic()) =>
                {
                    c.to_ascii_uppercase()
                }
                Some(_) => {
                    return Err(def.invalid("currency must be a three-letter code such as USD"));
                }
            };
            check_keys(def, v, &["value", "currency"])?;
            Ok(Some(json!({"value": n, "currency": currency})))
        }
        FieldType::Date => date(def, v).map(|d| Some(json!(d))),
        FieldType::Time => time_of_day(def, v).map(|t| Some(json!(t))),
        FieldType::Daterange | FieldType::Timerange => {
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
            Ok(Some(json!({"value": start, "until": until})))
        }
        FieldType::Enum => {
            let id = option_id(def, v)?;
            Ok(Some(json!(id)))
        }
        FieldType::Set => {
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
            Ok(Some(json!(ids)))
        }
        FieldType::User | FieldType::Org | FieldType::People => {
            let id =
                values::id("value", v).map_err(|_| def.invalid("must be a positive integer id"))?;
            Ok(Some(json!(id)))
        }
        FieldType::Address => {
            let mut out = Map::new();
            match v {
                Value::String(s) if s.trim().is_empty() => return Ok(None),
                Value::String(s) => {
                    out.insert("value".into(), json!(s));
                }
                Value::Object(o) => {
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
                }
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
        FieldType::VisibleTo => {
            Visibility::parse(&def.label(), v).map(|vis| Some(json!(vis.get())))
        }
        FieldType::Int | FieldType::Status => Err(def.invalid("is read-only")),
    }
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

fn date(def: &FieldDef, v: &Value) -> Result<String, DomainError> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    v.as_str()
        .and_then(|s| time::Date::parse(s.trim(), fmt).ok())
        .map(|d| d.format(fmt).unwrap_or_default())
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
pub fn reference(def: &FieldDef, value: &Value) -> Option<super::person::Reference> {
    use super::person::{RefKind, Reference};
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
