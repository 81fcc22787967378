//! The deal counts persons and organizations show (`open_deals_count`,
//! `related_won_deals_count`, …). Pipedrive does not define them; pipestack counts, among the
//! company's deals that are not deleted (archived ones included):
//! - a person's `open`/`won`/`lost` deals: those whose contact person (`person_id`) it is;
//!   an organization's: those whose `org_id` it is; `closed` = won + lost;
//! - `related_…`: deals linked to the item only indirectly, never also counted directly: for a
//!   person, deals that name it in a `people` custom field; for an organization, deals whose
//!   contact person belongs to it, or that name it in an `org` custom field;
//! - `participant_…`: deals where the person is a participant other than the contact person.
//!   pipestack has no deal participants yet, so these are 0.
//!
//! They are counted from the deals as they are when read, in the statement that reads every
//! summary field of a page ([`crate::domain::summary`]), so they are never stale and never
//! drift.

use crate::domain::error::DomainError;
use crate::domain::fields::{FieldType, Fields};
use crate::domain::ports::Store;
use crate::domain::{Kind, Session};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DealCounts {
    pub open: i64,
    pub won: i64,
    pub lost: i64,
    pub related_open: i64,
    pub related_won: i64,
    pub related_lost: i64,
}

/// Every deal count key a person shows (an organization shows all but the participant ones).
pub const COUNT_KEYS: [&str; 10] = [
    "open_deals_count",
    "related_open_deals_count",
    "closed_deals_count",
    "related_closed_deals_count",
    "participant_open_deals_count",
    "participant_closed_deals_count",
    "won_deals_count",
    "related_won_deals_count",
    "lost_deals_count",
    "related_lost_deals_count",
];

impl DealCounts {
    /// The count a key names, if it is a deal count.
    pub fn get(&self, key: &str) -> Option<i64> {
        Some(match key {
            "open_deals_count" => self.open,
            "related_open_deals_count" => self.related_open,
            "closed_deals_count" => self.won + self.lost,
            "related_closed_deals_count" => self.related_won + self.related_lost,
            "won_deals_count" => self.won,
            "related_won_deals_count" => self.related_won,
            "lost_deals_count" => self.lost,
            "related_lost_deals_count" => self.related_lost,
            "participant_open_deals_count" | "participant_closed_deals_count" => 0,
            _ => return None,
        })
    }
}

/// The keys of the live deal fields whose values relate a deal to a person (`people` fields)
/// or an organization (`org` fields): a deleted field's values relate nothing.
pub async fn relating_fields(
    store: &dyn Store,
    session: &Session,
    kind: Kind,
) -> Result<Vec<String>, DomainError> {
    let relating = match kind {
        Kind::Person => FieldType::People,
        _ => FieldType::Org,
    };
    let fields = Fields::load(store, Kind::Deal, session.company.id).await?;
    Ok(fields
        .custom()
        .filter(|f| f.field_type == relating)
        .map(|f| f.key.clone())
        .collect())
}
