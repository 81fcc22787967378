//! Deals: what a person or organization is sold, each in a stage of a pipeline, with a value,
//! a status (open, won, lost) and the times that go with it, labels, custom fields, followers
//! and visibility like persons. The rules are in `commands` (add, change, delete, find, list)
//! and `status` (what a status change does to the times); the deal counts persons and
//! organizations show are in `counts`.

mod commands;
mod counts;
mod status;

pub use commands::{
    DealSearch, active_deal, add_deal, can_see_deal, custom_refs, deal_not_found, delete_deal,
    find_deal, list_deals, prepare_deal, search_deals, update_deal,
};
pub use counts::{COUNT_KEYS, DealCounts, relating_fields};
pub use status::{Closing, DealStatus};

use serde_json::{Map, Value};

use super::fields::push_custom_text;
use super::query::SortField;
use super::webhook::ChangeSource;
use super::{Timestamp, Visibility};

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Deal {
    pub id: i64,
    pub company_id: i64,
    pub creator_user_id: i64,
    pub owner_id: i64,
    pub person_id: Option<i64>,
    pub org_id: Option<i64>,
    pub pipeline_id: i64,
    pub stage_id: i64,
    pub title: String,
    pub value: f64,
    /// A three-letter code, upper-case.
    pub currency: String,
    pub status: DealStatus,
    /// 0–100, or none.
    pub probability: Option<f64>,
    pub visible_to: Visibility,
    /// `YYYY-MM-DD`.
    pub expected_close_date: Option<String>,
    pub label_ids: Vec<i64>,
    /// Custom values by field key, in their canonical form.
    pub custom_fields: Map<String, Value>,
    /// How the deal was made: `API` (either dialect) or `Import`; it never changes.
    pub origin: String,
    pub is_archived: bool,
    pub archive_time: Option<Timestamp>,
    pub stage_change_time: Option<Timestamp>,
    /// The won, lost and close times and the lost reason.
    pub closing: Closing,
    pub active: bool,
    pub add_time: Timestamp,
    pub update_time: Timestamp,
    pub delete_time: Option<Timestamp>,
    pub follower_ids: Vec<i64>,
}

impl Deal {
    pub fn followers_count(&self) -> i64 {
        self.follower_ids.len() as i64
    }
}

/// Where a deal goes, decided inside the write (the stage or pipeline must be active there):
/// a stage; the first stage of a pipeline; or the first stage of the default pipeline (the
/// active pipeline with the lowest `order_nr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    Stage(i64),
    Pipeline(i64),
    Default,
}

/// What a client asked for when adding or changing a deal. For changes, `None` leaves a value
/// alone and `Some(None)` clears it.
#[derive(Debug, Default)]
pub struct DealDraft {
    pub title: Option<String>,
    pub owner_id: Option<i64>,
    pub person_id: Option<Option<i64>>,
    pub org_id: Option<Option<i64>>,
    pub pipeline_id: Option<i64>,
    pub stage_id: Option<i64>,
    pub value: Option<f64>,
    pub currency: Option<String>,
    pub status: Option<DealStatus>,
    pub probability: Option<Option<f64>>,
    pub lost_reason: Option<Option<String>>,
    pub visible_to: Option<Visibility>,
    pub won_time: Option<Timestamp>,
    pub lost_time: Option<Timestamp>,
    pub close_time: Option<Timestamp>,
    pub expected_close_date: Option<Option<String>>,
    pub label_ids: Option<Vec<i64>>,
    pub is_archived: Option<bool>,
    pub archive_time: Option<Timestamp>,
    /// Custom values given, by key (`null` clears one).
    pub custom_fields: Vec<(String, Value)>,
}

/// A deal to insert: every rule has passed, only its placement is left to the write.
#[derive(Debug, Clone)]
pub struct NewDeal {
    pub company_id: i64,
    pub creator_user_id: i64,
    pub owner_id: i64,
    pub person_id: Option<i64>,
    pub org_id: Option<i64>,
    pub placement: Placement,
    pub title: String,
    pub value: f64,
    pub currency: String,
    pub status: DealStatus,
    pub probability: Option<f64>,
    pub visible_to: Visibility,
    pub expected_close_date: Option<String>,
    pub label_ids: Vec<i64>,
    pub custom_fields: Map<String, Value>,
    /// The persons and organizations the custom values name.
    pub refs: Vec<CustomRef>,
    pub origin: String,
    pub is_archived: bool,
    pub archive_time: Option<Timestamp>,
    pub closing: Closing,
    pub add_time: Timestamp,
    pub update_time: Timestamp,
    /// The user the contact person and organization must be visible to (`None`: an admin,
    /// who sees all): checked with them inside the write.
    pub contacts_for: Option<i64>,
    /// Where it is added: its webhook event's `change_source`.
    pub source: ChangeSource,
}

impl NewDeal {
    /// The deal as inserted with `id` in the stage its placement resolved to: what a read of
    /// it would give (its owner follows it), without the read.
    pub fn stored(&self, id: i64, pipeline_id: i64, stage_id: i64) -> Deal {
        Deal {
            id,
            company_id: self.company_id,
            creator_user_id: self.creator_user_id,
            owner_id: self.owner_id,
            person_id: self.person_id,
            org_id: self.org_id,
            pipeline_id,
            stage_id,
            title: self.title.clone(),
            value: self.value,
            currency: self.currency.clone(),
            status: self.status,
            probability: self.probability,
            visible_to: self.visible_to,
            expected_close_date: self.expected_close_date.clone(),
            label_ids: self.label_ids.clone(),
            custom_fields: self.custom_fields.clone(),
            origin: self.origin.clone(),
            is_archived: self.is_archived,
            archive_time: self.archive_time,
            stage_change_time: None,
            closing: self.closing.clone(),
            active: true,
            add_time: self.add_time,
            update_time: self.update_time,
            delete_time: None,
            follower_ids: vec![self.owner_id],
        }
    }
}

/// A person or organization a custom value of a deal names (`people` and `org` fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomRef {
    pub field_key: String,
    pub kind: super::Kind,
    pub item_id: i64,
}

/// Column-level changes of a deal; `None` leaves a column alone. `placement` is resolved in
/// the write; a new stage moves `stage_change_time`.
#[derive(Debug, Clone, Default)]
pub struct DealChanges {
    pub title: Option<String>,
    pub owner_id: Option<i64>,
    pub person_id: Option<Option<i64>>,
    pub org_id: Option<Option<i64>>,
    pub placement: Option<Placement>,
    pub value: Option<f64>,
    pub currency: Option<String>,
    pub status: Option<DealStatus>,
    pub probability: Option<Option<f64>>,
    pub visible_to: Option<Visibility>,
    pub expected_close_date: Option<Option<String>>,
    pub label_ids: Option<Vec<i64>>,
    /// The whole set of custom values after the change, and the references they make.
    pub custom_fields: Option<(Map<String, Value>, Vec<CustomRef>)>,
    pub is_archived: Option<bool>,
    pub archive_time: Option<Option<Timestamp>>,
    pub closing: Option<Closing>,
}

/// Which deals a list holds. Deleted deals only with `deleted` (those deleted in the last 30
/// days); archived ones only in the archived list.
#[derive(Debug, Clone, Default)]
pub struct DealFilter {
    pub ids: Option<Vec<i64>>,
    pub owner_id: Option<i64>,
    pub person_id: Option<i64>,
    pub org_id: Option<i64>,
    /// With `org_id`: also the deals related to the organization (see [`DealCounts`]): through
    /// its persons, and through the values of these live organization fields.
    pub org_related: Option<Vec<String>>,
    pub pipeline_id: Option<i64>,
    pub stage_id: Option<i64>,
    /// Statuses wanted (none: every status).
    pub statuses: Vec<DealStatus>,
    /// Deleted deals (within 30 days) instead of, or with, the others.
    pub deleted: bool,
    /// Non-deleted deals too (false with `deleted` alone).
    pub live: bool,
    /// `Some(true)`: archived only; `Some(false)`: not archived; `None`: both.
    pub archived: Option<bool>,
    pub updated_since: Option<Timestamp>,
    pub updated_until: Option<Timestamp>,
    /// Hide private deals this user neither owns nor follows (`None`: see all).
    pub viewer: Option<i64>,
}

/// What v1 lists may sort deals by.
pub fn sortable(f: SortField) -> bool {
    matches!(
        f,
        SortField::Id
            | SortField::Title
            | SortField::Value
            | SortField::AddTime
            | SortField::UpdateTime
            | SortField::OwnerId
            | SortField::OrgId
            | SortField::VisibleTo
    )
}

/// How long a deleted deal can still be listed (`status=deleted`).
pub const DELETED_LISTED_FOR_SECS: i64 = 30 * 24 * 3600;

/// What substring search over deals matches: the title and the custom values, lower-cased.
pub fn search_text(title: &str, custom: &Map<String, Value>) -> String {
    let mut t = title.to_lowercase();
    push_custom_text(&mut t, custom);
    t
}
