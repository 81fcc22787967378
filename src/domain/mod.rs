//! The domain: companies, users, persons, organizations, deals in pipelines, activities and
//! notes, and every business rule about them.
//!
//! Dialects (`api::v1`, `api::v2`) parse requests into the commands defined here and render the
//! entities returned; the rules themselves (name splitting, primary contacts, visibility,
//! marketing status, reference checks, deal status, activity participants, the summary
//! fields) live here once.

pub mod activity;
pub mod collation;
pub mod deal;
pub mod error;
pub mod field_admin;
pub mod fields;
pub mod followers;
pub mod html;
pub mod item_search;
pub mod note;
pub mod organization;
pub mod person;
pub mod pipeline;
pub mod ports;
pub mod query;
pub mod references;
pub mod search;
pub mod summary;
pub mod time;
pub mod user;
pub mod values;
pub mod webhook;

use serde_json::Value;

pub use error::DomainError;
pub use fields::{FieldDef, FieldOption, Fields};
pub use time::{Clock, Timestamp};
pub use user::{Company, Session, User};

/// What an item is. Followers, fields (built-in and custom) and labels are each of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Person,
    Organization,
    Deal,
}

impl Kind {
    pub const ALL: [Self; 3] = [Self::Person, Self::Organization, Self::Deal];

    /// How the database and messages name the kind: `person`, `organization`, `deal`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Person => "person",
            Self::Organization => "organization",
            Self::Deal => "deal",
        }
    }

    /// The resource of its fields (`personFields`, `organizationFields`, `dealFields`).
    pub fn fields_resource(self) -> &'static str {
        match self {
            Self::Person => "personFields",
            Self::Organization => "organizationFields",
            Self::Deal => "dealFields",
        }
    }

    /// The labels a new company's label field of this kind starts with.
    pub fn default_labels(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::Person | Self::Organization => &DEFAULT_LABELS,
            Self::Deal => &DEFAULT_DEAL_LABELS,
        }
    }
}

/// Who may see an item (`visible_to`). v1 writes it as a string, v2 as an integer.
///
/// Pipedrive's plans give the numbers different names: on Light/Growth/Professional `1` is
/// "owner & followers" and `3` "entire company"; on Premium/Ultimate `1` is "owner only", `3`
/// "owner's visibility group", `5` "group and sub-groups" and `7` "entire company".
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Visibility(i64);

impl Visibility {
    /// The default for a new item: the entire company.
    pub const DEFAULT: Self = Self(3);
    const ALLOWED: [i64; 4] = [1, 3, 5, 7];

    pub fn new(n: i64) -> Option<Self> {
        Self::ALLOWED.contains(&n).then_some(Self(n))
    }

    pub fn get(self) -> i64 {
        self.0
    }

    /// Accepts `"3"` or `3`.
    pub fn parse(field: &str, v: &Value) -> Result<Self, DomainError> {
        let n = match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        n.and_then(Self::new).ok_or_else(|| {
            DomainError::invalid(field, "must be one of \"1\", \"3\", \"5\" or \"7\"")
        })
    }
}

/// Consent to marketing email, for companies that use the Campaigns product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum MarketingStatus {
    NoConsent,
    Unsubscribed,
    Subscribed,
    Archived,
}

impl MarketingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoConsent => "no_consent",
            Self::Unsubscribed => "unsubscribed",
            Self::Subscribed => "subscribed",
            Self::Archived => "archived",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "no_consent" => Self::NoConsent,
            "unsubscribed" => Self::Unsubscribed,
            "subscribed" => Self::Subscribed,
            "archived" => Self::Archived,
            _ => return None,
        })
    }

    pub fn parse(field: &str, v: &Value) -> Result<Self, DomainError> {
        v.as_str().and_then(Self::from_name).ok_or_else(|| {
            DomainError::invalid(
                field,
                "must be one of \"no_consent\", \"unsubscribed\", \"subscribed\" or \"archived\"",
            )
        })
    }
}

/// Whether a body key has the shape of a custom field key: 40 lowercase hex characters.
pub fn is_custom_field_key(key: &str) -> bool {
    key.len() == 40 && key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A fresh random 40-hex string: API tokens and custom field keys.
pub fn random_hex40() -> Result<String, DomainError> {
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).map_err(|e| DomainError::Internal(format!("getrandom: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The labels a new company's deal label field starts with (Pipedrive does not document a new
/// account's deal labels: these are pipestack's choice).
pub const DEFAULT_DEAL_LABELS: [(&str, &str); 3] =
    [("Hot", "red"), ("Warm", "yellow"), ("Cold", "blue")];

/// The labels a new company's person and organization label fields start with, as in a new
/// Pipedrive account.
pub const DEFAULT_LABELS: [(&str, &str); 4] = [
    ("Customer", "green"),
    ("Hot lead", "red"),
    ("Warm lead", "yellow"),
    ("Cold lead", "blue"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn visibility_accepts_strings_and_numbers_of_the_set() {
        assert_eq!(Visibility::parse("v", &json!("1")).unwrap().get(), 1);
        assert_eq!(Visibility::parse("v", &json!(7)).unwrap().get(), 7);
        for bad in [json!("2"), json!(0), json!("all"), json!(null), json!(true)] {
            assert!(Visibility::parse("v", &bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn custom_keys_are_forty_lowercase_hex() {
        assert!(is_custom_field_key(
            "dcf558aac1ae4e8c4f849ba5e668430d8df9be12"
        ));
        assert!(!is_custom_field_key(
            "DCF558AAC1AE4E8C4F849BA5E668430D8DF9BE12"
        ));
        assert!(!is_custom_field_key("name"));
        assert_eq!(random_hex40().unwrap().len(), 40);
    }
}
