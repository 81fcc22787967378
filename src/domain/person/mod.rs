//! Persons: the entity, the command both dialects parse into, the changes a store applies,
//! and what is derived from a person for sorting and search. The rules live in the
//! submodules: `name`, `contacts` and `commands` (and, shared with every kind,
//! `domain::references`).

mod commands;
mod contacts;
mod history;
mod name;

pub use crate::domain::references::{
    RefKind, Reference, check_custom_fields, check_labels, check_owner, check_references,
};
pub use commands::{
    active_person, add_person, delete_persons, find_person, merge_persons, person_not_found,
    prepare_person, update_person,
};
pub use contacts::{is_valid_email, normalize_contacts, primary_value};
pub use history::{FieldChange, PersonChange, changelog, field_changes};
pub use name::{Name, name_must_be_given, resolve_name, resolve_update_name, split_name};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::collation::sort_key;
use super::webhook::ChangeSource;
use super::{MarketingStatus, Timestamp, Visibility};

/// The longest `name`, `first_name`, `last_name`, email or phone value accepted.
pub const MAX_TEXT: usize = 255;

/// One email address or phone number of a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub value: String,
    pub primary: bool,
    pub label: String,
}

/// An email or phone as a dialect parsed it, before the primary rule is applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactInput {
    pub value: String,
    pub primary: Option<bool>,
    /// Already defaulted by the dialect (v1: `""`, v2: `"work"`).
    pub label: String,
}

/// A stored person (serialized as the snapshot webhook events keep).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub id: i64,
    pub company_id: i64,
    pub owner_id: i64,
    pub org_id: Option<i64>,
    pub name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub emails: Vec<Contact>,
    pub phones: Vec<Contact>,
    pub label_ids: Vec<i64>,
    pub visible_to: Visibility,
    /// `None` when never set; shown as `no_consent` where Campaigns is on.
    pub marketing_status: Option<MarketingStatus>,
    /// Whether the one change of marketing status Pipedrive allows has been used.
    pub marketing_changed: bool,
    pub custom_fields: Map<String, Value>,
    pub active: bool,
    pub add_time: Timestamp,
    pub update_time: Timestamp,
    pub delete_time: Option<Timestamp>,
    /// Users following the person.
    pub follower_ids: Vec<i64>,
}

impl Person {
    /// The value of the primary email, if the person has any email.
    pub fn primary_email(&self) -> Option<&str> {
        primary_value(&self.emails)
    }

    pub fn followers_count(&self) -> i64 {
        self.follower_ids.len() as i64
    }

    /// The name and its parts.
    pub fn full_name(&self) -> Name {
        Name {
            name: self.name.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
        }
    }

    /// The lower-cased first character of the name (v1's `first_char`).
    pub fn first_char(&self) -> Option<String> {
        first_char(&self.name)
    }
}

/// What a client asked for when adding (or, later, changing) a person, parsed but not yet
/// checked against the company's data. Both dialects produce this.
#[derive(Debug, Default, Clone)]
pub struct PersonDraft {
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub owner_id: Option<i64>,
    /// `Some(None)` clears the organization.
    pub org_id: Option<Option<i64>>,
    pub emails: Option<Vec<ContactInput>>,
    pub phones: Option<Vec<ContactInput>>,
    pub label_ids: Option<Vec<i64>>,
    pub visible_to: Option<Visibility>,
    pub marketing_status: Option<MarketingStatus>,
    pub add_time: Option<Timestamp>,
    /// Custom field values by key, in request order.
    pub custom_fields: Vec<(String, Value)>,
}

/// A person ready to be stored: every rule applied, every reference checked.
#[derive(Debug, Clone)]
pub struct NewPerson {
    pub company_id: i64,
    pub owner_id: i64,
    pub org_id: Option<i64>,
    pub name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub emails: Vec<Contact>,
    pub phones: Vec<Contact>,
    pub label_ids: Vec<i64>,
    pub visible_to: Visibility,
    pub marketing_status: Option<MarketingStatus>,
    pub custom_fields: Map<String, Value>,
    pub add_time: Timestamp,
    pub update_time: Timestamp,
    /// Users who follow the person from its creation (its owner).
    pub followers: Vec<i64>,
    /// The user adding the person.
    pub created_by: i64,
    /// Where it is added: its webhook event's `change_source`.
    pub source: ChangeSource,
}

/// Changes to a stored person, column by column; `None` leaves a column alone. Derived columns
/// (`primary_email`, `first_char`, the search text) are recomputed by the store from the result.
#[derive(Debug, Default, Clone)]
pub struct PersonChanges {
    pub owner_id: Option<i64>,
    pub org_id: Option<Option<i64>>,
    pub name: Option<Name>,
    pub emails: Option<Vec<Contact>>,
    pub phones: Option<Vec<Contact>>,
    pub label_ids: Option<Vec<i64>>,
    pub visible_to: Option<Visibility>,
    /// The new status, and whether setting it uses up the one allowed change.
    pub marketing_status: Option<(MarketingStatus, bool)>,
    /// The whole new map of custom values.
    pub custom_fields: Option<Map<String, Value>>,
    /// v1's update may set the creation time (Pipedrive documents it).
    pub add_time: Option<Timestamp>,
}

impl PersonChanges {
    /// Drops the changes that set a column to what it already holds, so that sending a person
    /// back as read changes nothing.
    pub fn drop_unchanged(&mut self, current: &Person) {
        if self.owner_id == Some(current.owner_id) {
            self.owner_id = None;
        }
        if self.org_id == Some(current.org_id) {
            self.org_id = None;
        }
        if self.name.as_ref().is_some_and(|n| {
            n.name == current.name
                && n.first_name == current.first_name
                && n.last_name == current.last_name
        }) {
            self.name = None;
        }
        if self.emails.as_ref() == Some(&current.emails) {
            self.emails = None;
        }
        if self.phones.as_ref() == Some(&current.phones) {
            self.phones = None;
        }
        if self.label_ids.as_ref() == Some(&current.label_ids) {
            self.label_ids = None;
        }
        if self.visible_to == Some(current.visible_to) {
            self.visible_to = None;
        }
        if self
            .marketing_status
            .is_some_and(|(s, _)| Some(s) == current.marketing_status)
        {
            self.marketing_status = None;
        }
        if self.custom_fields.as_ref() == Some(&current.custom_fields) {
            self.custom_fields = None;
        }
        if self.add_time == Some(current.add_time) {
            self.add_time = None;
        }
    }

    /// Whether these change nothing (an update with an empty body).
    pub fn is_empty(&self) -> bool {
        matches!(
            self,
            PersonChanges {
                owner_id: None,
                org_id: None,
                name: None,
                emails: None,
                phones: None,
                label_ids: None,
                visible_to: None,
                marketing_status: None,
                custom_fields: None,
                add_time: None,
            }
        )
    }
}

/// What the store derives from a person's name and contacts, for sorting, filtering and search.
#[derive(Debug, Clone, PartialEq)]
pub struct Derived {
    pub keys: SortKeys,
    pub first_char: Option<String>,
    /// Lower-cased name, email values, phone digits and custom values, one per line.
    pub search_text: String,
}

/// What a person's v1 sort orders compare: the sort keys ([`super::collation::sort_key`]) of
/// the name, its parts and the primary email.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKeys {
    pub name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub primary_email: Option<String>,
}

impl SortKeys {
    pub fn of(name: &Name, emails: &[Contact]) -> Self {
        let key = |part: &Option<String>| part.as_deref().map(sort_key);
        Self {
            name: sort_key(&name.name),
            first_name: key(&name.first_name),
            last_name: key(&name.last_name),
            primary_email: primary_value(emails).map(sort_key),
        }
    }
}

pub fn derive(
    name: &Name,
    emails: &[Contact],
    phones: &[Contact],
    custom: &Map<String, Value>,
) -> Derived {
    let mut search_text = name.name.to_lowercase();
    for c in emails {
        search_text.push('\n');
        search_text.push_str(&c.value.to_lowercase());
    }
    for c in phones {
        search_text.push('\n');
        search_text.push_str(&digits(&c.value));
    }
    super::fields::push_custom_text(&mut search_text, custom);
    Derived {
        keys: SortKeys::of(name, emails),
        first_char: first_char(&name.name),
        search_text,
    }
}

/// The digits of a phone number (`"+1 (555) 12-34"` → `"15551234"`).
pub fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

impl NewPerson {
    /// The name and its parts.
    pub fn full_name(&self) -> Name {
        Name {
            name: self.name.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
        }
    }

    /// The person as stored with `id`, as a read would return it (for stores that answer a
    /// create without reading the person back).
    pub fn into_person(self, id: i64) -> Person {
        Person {
            id,
            company_id: self.company_id,
            owner_id: self.owner_id,
            org_id: self.org_id,
            name: self.name,
            first_name: self.first_name,
            last_name: self.last_name,
            emails: self.emails,
            phones: self.phones,
            label_ids: self.label_ids,
            visible_to: self.visible_to,
            marketing_status: self.marketing_status,
            marketing_changed: false,
            custom_fields: self.custom_fields,
            active: true,
            add_time: self.add_time,
            update_time: self.update_time,
            delete_time: None,
            follower_ids: self.followers,
        }
    }
}

/// The lower-cased first character of a name (v1's `first_char`).
pub fn first_char(name: &str) -> Option<String> {
    name.trim()
        .chars()
        .next()
        .map(|c| c.to_lowercase().collect())
}
