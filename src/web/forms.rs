//! What the forms of every kind share: labelled controls with their error, custom fields by
//! type (their controls, how a form's values become the API's body and back, how a page shows
//! them), the owner, visibility and labels, and where the API's message goes on the form.

use maud::{Markup, html};
use serde_json::{Map, Value, json};

use super::Form;
use crate::domain::fields::FieldType;
use crate::domain::{FieldDef, FieldOption, Fields, User};
use crate::error::ApiError;

pub const VISIBILITY: [(&str, &str); 4] = [
    ("1", "Owner and followers"),
    ("3", "Entire company"),
    ("5", "Owner's visibility group"),
    ("7", "Owner's group and sub-groups"),
];

/// A value as a person reads and types it: text bare, whole numbers without `.0`.
pub fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if !n.is_i64() && f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
            _ => n.to_string(),
        },
        v => v.to_string(),
    }
}

/// A labelled control with its error beneath the label (`id-error`, which the control names).
pub fn field(id: &str, label: &str, error: Option<String>, control: Markup) -> Markup {
    html! {
        div.field.invalid[error.is_some()] {
            label for=(id) { (label) }
            @if let Some(e) = &error { p.error id={ (id) "-error" } { (e) } }
            (control)
        }
    }
}

pub fn text_field(
    id: &str,
    label: &str,
    value: &str,
    error: Option<String>,
    required: bool,
) -> Markup {
    let described = error.as_ref().map(|_| format!("{id}-error"));
    field(
        id,
        label,
        error,
        html! {
            input id=(id) name=(id) type="text" value=(value) required[required]
                aria-invalid=[described.as_ref().map(|_| "true")] aria-describedby=[described];
        },
    )
}

pub fn area_field(id: &str, label: &str, value: &str, error: Option<String>) -> Markup {
    let described = error.as_ref().map(|_| format!("{id}-error"));
    field(
        id,
        label,
        error,
        html! {
            textarea id=(id) name=(id) rows="2" aria-invalid=[described.as_ref().map(|_| "true")] aria-describedby=[described] { (value) }
        },
    )
}

/// A custom field's control, by its type.
pub fn custom_input(def: &FieldDef, form: &Form, error: Option<String>, users: &[User]) -> Markup {
    let key = def.key.as_str();
    let value = form.get(key);
    let described = error.as_ref().map(|_| format!("{key}-error"));
    let invalid = described.as_ref().map(|_| "true");
    let control = match def.field_type {
        FieldType::Enum => html! {
            select id=(key) name=(key) aria-invalid=[invalid] aria-describedby=[described.clone()] {
                option value="" { "—" }
                @for o in &def.options { option value=(o.id) selected[value == o.id.to_string()] { (o.label) } }
            }
        },
        FieldType::Set => {
            let chosen: Vec<&str> = form.all(key).collect();
            html! {
                span id=(key) {
                    @for o in &def.options {
                        label.check { input type="checkbox" name=(key) value=(o.id) checked[chosen.contains(&o.id.to_string().as_str())]; " " (o.label) }
                    }
                }
            }
        }
        FieldType::User => html! {
            select id=(key) name=(key) aria-describedby=[described.clone()] {
                option value="" { "—" }
                @for u in users.iter().filter(|u| u.active || value == u.id.to_string()) { option value=(u.id) selected[value == u.id.to_string()] { (u.name) } }
            }
        },
        FieldType::Text | FieldType::Address => html! {
            textarea id=(key) name=(key) rows="2" aria-invalid=[invalid] aria-describedby=[described.clone()] { (value) }
        },
        // The amount and its currency (`<key>_currency`, as v1 writes it).
        FieldType::Monetary => {
            let currency = format!("{key}_currency");
            html! {
                input id=(key) name=(key) type="number" step="any" value=(value)
                    aria-invalid=[invalid] aria-describedby=[described.clone()];
                label for=(currency) { (def.name) " currency" }
                input id=(currency) name=(currency) type="text" maxlength="3" value=(form.get(&currency))
                    placeholder=(crate::domain::fields::DEFAULT_CURRENCY);
            }
        }
        t => {
            let kind = match t {
                FieldType::Double | FieldType::Monetary | FieldType::Org | FieldType::People => {
                    "number"
                }
                FieldType::Date => "date",
                FieldType::Time => "time",
                FieldType::Phone => "tel",
                _ => "text",
            };
            html! {
                input id=(key) name=(key) type=(kind) step=[(kind == "number").then_some("any")] value=(value)
                    aria-invalid=[invalid] aria-describedby=[described.clone()];
            }
        }
    };
    field(key, &def.name, error, control)
}

pub fn user_name(users: &[User], id: i64) -> String {
    users
        .iter()
        .find(|u| u.id == id)
        .map_or_else(|| format!("user {id}"), |u| u.name.clone())
}

pub fn visibility_label(v: i64) -> &'static str {
    VISIBILITY
        .iter()
        .find(|(value, _)| value.parse::<i64>().ok() == Some(v))
        .map_or("—", |(_, label)| label)
}

/// A custom value as a person's page shows it: options and users by name.
pub fn custom_text(def: &FieldDef, stored: Option<&Value>, users: &[User]) -> String {
    let Some(v) = crate::domain::fields::live_value(def, stored) else {
        return "—".into();
    };
    let by_option = |id: &str| {
        def.options
            .iter()
            .find(|o| o.id.to_string() == id.trim())
            .map_or_else(|| id.trim().to_owned(), |o| o.label.clone())
    };
    match (def.field_type, &v) {
        (FieldType::Enum, v) => by_option(&scalar(v)),
        (FieldType::Set, Value::String(s)) => {
            s.split(',').map(by_option).collect::<Vec<_>>().join(", ")
        }
        (FieldType::Set, Value::Array(ids)) => ids
            .iter()
            .map(|i| by_option(&scalar(i)))
            .collect::<Vec<_>>()
            .join(", "),
        (FieldType::User, v) => scalar(v)
            .parse()
            .map_or_else(|_| scalar(v), |id| user_name(users, id)),
        (_, Value::Object(o)) => o.get("value").map(scalar).unwrap_or_default(),
        (_, v) => scalar(v),
    }
}

/// A form's id field as the API takes it: a number, `null` when empty, else the text (which
/// the API then refuses, naming the field).
pub fn number(form: &Form, name: &str) -> Value {
    match form.get(name) {
        "" => Value::Null,
        v => v.parse::<i64>().map_or_else(|_| json!(v), |n| json!(n)),
    }
}

/// The owner, visibility and labels of a form, into the API's body. On a change (`held`: the
/// item's form as it was) what the form shows as it was is left out, labels in any order.
pub fn put_owner_visibility_labels(
    body: &mut Map<String, Value>,
    form: &Form,
    held: Option<&Form>,
) {
    let changed = |name: &str| held.is_none_or(|held| !form.same_values(held, name));
    if !form.get("owner_id").is_empty() && changed("owner_id") {
        body.insert("owner_id".into(), number(form, "owner_id"));
    }
    if !form.get("visible_to").is_empty() && changed("visible_to") {
        body.insert("visible_to".into(), json!(form.get("visible_to")));
    }
    let labels: Vec<Value> = form
        .all("label_ids")
        .filter_map(|v| v.parse::<i64>().ok())
        .map(|v| json!(v))
        .collect();
    if (!labels.is_empty() || held.is_some()) && changed("label_ids") {
        body.insert("label_ids".into(), Value::Array(labels));
    }
}

/// A number as typed: whole numbers as integers, others as decimals, anything else (or a
/// number JSON cannot hold) as the text, for the API to refuse by its field.
fn number_value(v: &str) -> Value {
    if v.is_empty() {
        return Value::Null;
    }
    if let Ok(n) = v.parse::<i64>() {
        return json!(n);
    }
    match v.parse::<f64>() {
        Ok(f) if f.is_finite() => json!(f),
        _ => json!(v),
    }
}

/// The custom values of a form, into the API's body, each as its type takes it. A new item
/// leaves out what the form left empty; a change sends it as `null` (cleared), and leaves out
/// a value the form shows as it was (`held`: the item's values as its form shows them), so that
/// saving touches nothing it did not change (an address's parts, a number's form, an order).
pub fn put_custom(
    body: &mut Map<String, Value>,
    form: &Form,
    fields: &Fields,
    held: Option<&Form>,
) {
    let editing = held.is_some();
    for def in fields.custom() {
        let key = def.key.as_str();
        let currency = format!("{key}_currency");
        let unchanged = |k: &str| held.is_some_and(|held| form.same_values(held, k));
        if unchanged(key) && (def.field_type != FieldType::Monetary || unchanged(&currency)) {
            continue;
        }
        // A currency goes with an amount (alone, the API would refuse it for lack of one).
        if def.field_type == FieldType::Monetary
            && !form.get(&currency).is_empty()
            && !form.get(key).is_empty()
        {
            body.insert(currency, json!(form.get(&format!("{key}_currency"))));
        }
        let value = match def.field_type {
            FieldType::Set => {
                let ids: Vec<&str> = form.all(key).collect();
                if ids.is_empty() {
                    Value::Null
                } else {
                    json!(ids.join(","))
                }
            }
            FieldType::Double | FieldType::Monetary => number_value(form.get(key)),
            FieldType::Enum | FieldType::User | FieldType::Org | FieldType::People => {
                number(form, key)
            }
            _ => match form.get(key) {
                "" => Value::Null,
                v => json!(v),
            },
        };
        if !value.is_null() || editing {
            body.insert(key.to_owned(), value);
        }
    }
}

/// An item's custom values as its form's fields (to edit them).
pub fn custom_form_values(custom: &Map<String, Value>, fields: &Fields) -> Vec<(String, String)> {
    let mut f = Vec::new();
    for def in fields.custom() {
        let key = def.key.clone();
        match custom.get(&def.key) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if def.field_type == FieldType::Set => {
                f.extend(s.split(',').map(|id| (key.clone(), id.trim().to_owned())));
            }
            Some(Value::Array(ids)) => f.extend(ids.iter().map(|id| (key.clone(), scalar(id)))),
            Some(Value::Object(o)) => {
                if let Some(c) = o.get("currency") {
                    f.push((format!("{key}_currency"), scalar(c)));
                }
                let v = o.get("value").or_else(|| o.get("id")).map(scalar);
                f.push((key, v.unwrap_or_default()));
            }
            Some(v) => f.push((key, scalar(v))),
        }
    }
    f
}

/// The owner's control: the company's active users, `chosen` (else the signed-in user) selected.
pub fn owner_select(users: &[User], chosen: &str, error: Option<String>) -> Markup {
    let described = error.as_ref().map(|_| "owner_id-error");
    field(
        "owner_id",
        "Owner",
        error.clone(),
        html! {
            select #owner_id name="owner_id" aria-describedby=[described] {
                // The chosen one too when no longer active: saving must not change the owner.
                @for u in users.iter().filter(|u| u.active || chosen == u.id.to_string()) {
                    option value=(u.id) selected[chosen == u.id.to_string()] {
                        (u.name) @if !u.active { " (deactivated)" }
                    }
                }
            }
        },
    )
}

/// The visibility's control (`3`, the company, when nothing is chosen).
pub fn visibility_select(chosen: &str, error: Option<String>) -> Markup {
    let chosen = if chosen.is_empty() { "3" } else { chosen };
    field(
        "visible_to",
        "Visible to",
        error,
        html! {
            select #visible_to name="visible_to" {
                @for (value, label) in VISIBILITY { option value=(value) selected[chosen == value] { (label) } }
            }
        },
    )
}

/// The labels' checkboxes.
pub fn labels_fieldset(labels: &[FieldOption], form: &Form, error: Option<String>) -> Markup {
    let chosen: Vec<&str> = form.all("label_ids").collect();
    html! {
        fieldset {
            legend { "Labels" }
            @if let Some(e) = error { p.error id="label_ids-error" { (e) } }
            @for o in labels {
                label.check {
                    input type="checkbox" name="label_ids" value=(o.id) checked[chosen.contains(&o.id.to_string().as_str())];
                    " " (o.label)
                }
            }
        }
    }
}

/// Where the API's message goes on a form: by the field it names (`"field: reason"`, a custom
/// field's key, `label` for the labels), else above the form.
pub struct Problem {
    message: Option<String>,
    named: Option<String>,
}

impl Problem {
    /// `field_of` names the field of a message that names none in the API's words.
    pub fn new(error: Option<&ApiError>, field_of: impl Fn(&str) -> Option<&'static str>) -> Self {
        let message = error.map(ToString::to_string);
        let named = message.as_deref().and_then(|m| match field_of(m) {
            Some(f) => Some(f.to_owned()),
            None => m.split_once(": ").map(|(f, _)| f.to_owned()),
        });
        Self { message, named }
    }

    fn names(named: &str, field: &str) -> bool {
        named == field
            || named.starts_with(&format!("{field} "))
            || (field == "label_ids" && named == "label")
    }

    /// The message, if it is `field`'s.
    pub fn for_field(&self, field: &str) -> Option<String> {
        let named = self.named.as_deref()?;
        Self::names(named, field).then(|| self.message.clone().unwrap_or_default())
    }

    /// The message, if it is none of the form's `fields`' (and of no custom field of `custom`).
    pub fn unplaced(&self, fields: &[&str], custom: &Fields) -> Option<String> {
        let message = self.message.clone()?;
        let Some(named) = self.named.as_deref() else {
            return Some(message);
        };
        let placed = fields.iter().any(|f| Self::names(named, f))
            || custom.custom().any(|d| Self::names(named, &d.key));
        (!placed).then_some(message)
    }
}
