//! Fields of each kind of item (persons, organizations): the built-in ones and the company's
//! custom ones (keyed by 40-hex hashes), and their options (the built-in label field's options
//! are the item's labels). Every rule about custom values (types, validation, the canonical
//! form stored and rendered) is in `value`.

mod value;

pub use value::{DEFAULT_CURRENCY, live_value, merge_update, parse_value, reference, search_text};

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::error::DomainError;
use super::ports::Store;
use super::{Kind, Timestamp};

/// An option of a field with options (labels, enum and set fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldOption {
    pub id: i64,
    pub field_key: String,
    pub label: String,
    pub color: Option<String>,
    pub add_time: Timestamp,
    pub update_time: Timestamp,
}

/// A field, built-in or custom, with its active options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

    pub(crate) fn invalid(&self, reason: impl std::fmt::Display) -> DomainError {
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

/// The key of the built-in label field, whose options are the labels (of every kind).
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// The built-in fields of a kind that every company has: `(key, name, type)`.
pub fn builtin_fields(kind: Kind) -> &'static [(&'static str, &'static str, &'static str)] {
    match kind {
        Kind::Person => &PERSON_FIELDS,
        Kind::Organization => &ORGANIZATION_FIELDS,
        Kind::Deal => &DEAL_FIELDS,
    }
}

const DEAL_FIELDS: [(&str, &str, &str); 21] = [
    ("id", "ID", "int"),
    ("title", "Title", "varchar"),
    ("creator_user_id", "Creator", "user"),
    ("owner_id", "Owner", "user"),
    ("value", "Value", "monetary"),
    ("person_id", "Contact person", "people"),
    ("org_id", "Organization", "org"),
    ("pipeline_id", "Pipeline", "int"),
    ("stage_id", "Stage", "int"),
    ("status", "Status", "status"),
    ("probability", "Probability", "double"),
    ("lost_reason", "Lost reason", "varchar"),
    ("expected_close_date", "Expected close date", "date"),
    (LABEL_KEY, "Label", "set"),
    ("visible_to", "Visible to", "visible_to"),
    ("add_time", "Deal created", "date"),
    ("update_time", "Update time", "date"),
    ("stage_change_time", "Last stage change", "date"),
    ("won_time", "Won time", "date"),
    ("lost_time", "Lost time", "date"),
    ("close_time", "Deal closed on", "date"),
];

const ORGANIZATION_FIELDS: [(&str, &str, &str); 15] = [
    ("id", "ID", "int"),
    ("name", "Name", "varchar"),
    ("owner_id", "Owner", "user"),
    ("address", "Address", "address"),
    (LABEL_KEY, "Labels", "set"),
    ("visible_to", "Visible to", "visible_to"),
    ("website", "Website", "varchar"),
    ("linkedin", "LinkedIn profile", "varchar"),
    ("industry", "Industry", "int"),
    ("annual_revenue", "Annual revenue", "int"),
    ("employee_count", "Number of employees", "int"),
    ("add_time", "Organization created", "date"),
    ("update_time", "Update time", "date"),
    ("people_count", "People", "int"),
    ("followers_count", "Number of followers", "int"),
];

const PERSON_FIELDS: [(&str, &str, &str); 14] = [
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

/// Appends every custom text or number of an item to its search text, one per line, lower-
/// cased: a superset of the searchable ones, which search re-checks against the fields.
pub fn push_custom_text(out: &mut String, custom: &serde_json::Map<String, serde_json::Value>) {
    use serde_json::Value;
    for v in custom.values() {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Object(o) => match o.get("value") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => continue,
            },
            _ => continue,
        };
        out.push('\n');
        out.push_str(&text.to_lowercase());
    }
}

/// A company's fields of one kind, loaded once per request.
#[derive(Debug, Clone)]
pub struct Fields {
    pub kind: Kind,
    pub defs: Arc<[FieldDef]>,
}

impl Fields {
    pub async fn load(store: &dyn Store, kind: Kind, company_id: i64) -> Result<Self, DomainError> {
        Ok(Self {
            kind,
            defs: store.fields(company_id, kind).await?,
        })
    }

    /// No fields at all (where none are needed).
    pub fn none(kind: Kind) -> Self {
        Self {
            kind,
            defs: Arc::new([]),
        }
    }

    pub fn custom(&self) -> impl Iterator<Item = &FieldDef> {
        self.defs.iter().filter(|f| f.is_custom)
    }

    pub fn custom_by_key(&self, key: &str) -> Option<&FieldDef> {
        self.custom().find(|f| f.key == key)
    }

    /// The refusal of a custom value whose key names no custom field of the kind.
    pub fn unknown_key(&self, key: &str) -> DomainError {
        DomainError::invalid(
            key,
            format!(
                "no custom {} field has this key (see GET /v1/{})",
                self.kind.as_str(),
                self.kind.fields_resource()
            ),
        )
    }

    /// The labels: options of the built-in label field.
    pub fn labels(&self) -> &[FieldOption] {
        self.defs
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
