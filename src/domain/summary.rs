//! The summary fields persons, organizations and deals show of what is attached to them:
//! deal counts ([`crate::domain::deal::DealCounts`]), activity counts, the next and last
//! activity, and the number of notes. Pipedrive does not define them; pipestack counts, among
//! activities and notes that are not deleted:
//! - a person's activities: those it is a participant of (primary or not); an organization's:
//!   those whose `org_id` it is; a deal's: those whose `deal_id` it is;
//! - `activities_count` = `done_activities_count` + `undone_activities_count`;
//! - the next activity: the undone one due first (by date, then time; undated ones after
//!   every dated one; overdue ones count, they are still to do), ties by id;
//! - the last activity: the done one due last (by date and time; undated only when no done
//!   one has a date), ties by when it was marked done, then id; `last_activity_date` is its
//!   due date, as in Pipedrive (a done activity may be due in the future);
//! - `notes_count`: notes attached to the item.
//!
//! They are read from the committed rows on every read, deal counts and all, in one statement
//! per page, in the same store as the rows they count: no counter is kept, so none can drift from what it
//! counts, and every write that adds, moves, completes or deletes an activity or note shows in
//! the very next read.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::deal::{COUNT_KEYS, DealCounts, relating_fields};
use super::error::DomainError;
use super::ports::Store;
use super::{Kind, Session};

/// An activity as a summary names it (a deal's also with its subject, type, duration and
/// note, which v1 deals show of their next activity).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DueActivity {
    pub id: i64,
    pub due_date: Option<String>,
    pub due_time: Option<String>,
    pub subject: Option<String>,
    pub type_key: Option<String>,
    pub duration: Option<String>,
    pub note: Option<String>,
}

/// What an item shows of its activities and notes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ActivitySummary {
    pub total: i64,
    pub done: i64,
    pub next: Option<DueActivity>,
    pub last: Option<DueActivity>,
    pub notes: i64,
}

/// Everything an item's summary fields show.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub deals: DealCounts,
    pub activities: ActivitySummary,
}

/// The activity and note keys of a summary.
pub const ACTIVITY_KEYS: [&str; 9] = [
    "activities_count",
    "done_activities_count",
    "undone_activities_count",
    "next_activity_id",
    "next_activity_date",
    "next_activity_time",
    "last_activity_id",
    "last_activity_date",
    "notes_count",
];

impl Summary {
    /// The value of a summary key (deal counts, activities, notes), or `None` when `key` is
    /// not one.
    pub fn get(&self, key: &str) -> Option<Value> {
        if let Some(n) = self.deals.get(key) {
            return Some(json!(n));
        }
        let a = &self.activities;
        Some(match key {
            "activities_count" => json!(a.total),
            "done_activities_count" => json!(a.done),
            "undone_activities_count" => json!(a.total - a.done),
            "next_activity_id" => json!(a.next.as_ref().map(|n| n.id)),
            "next_activity_date" => json!(a.next.as_ref().and_then(|n| n.due_date.as_ref())),
            "next_activity_time" => json!(a.next.as_ref().and_then(|n| n.due_time.as_ref())),
            "last_activity_id" => json!(a.last.as_ref().map(|n| n.id)),
            "last_activity_date" => json!(a.last.as_ref().and_then(|n| n.due_date.as_ref())),
            "next_activity_subject" => json!(a.next.as_ref().and_then(|n| n.subject.as_ref())),
            "next_activity_type" => json!(a.next.as_ref().and_then(|n| n.type_key.as_ref())),
            "next_activity_duration" => {
                json!(a.next.as_ref().and_then(|n| n.duration.as_ref()))
            }
            "next_activity_note" => json!(a.next.as_ref().and_then(|n| n.note.as_ref())),
            "notes_count" => json!(a.notes),
            _ => return None,
        })
    }
}

/// Whether a read that includes `keys` needs the deal counts, the activity summary.
pub fn needs(keys: &[String]) -> (bool, bool) {
    (
        keys.iter().any(|k| COUNT_KEYS.contains(&k.as_str())),
        keys.iter().any(|k| ACTIVITY_KEYS.contains(&k.as_str())),
    )
}

/// Which parts of the summaries a read wants.
#[derive(Debug, Clone, Default)]
pub struct SummaryParts {
    /// The deal counts (persons and organizations), with the live deal fields whose values
    /// relate deals to the items ([`relating_fields`]).
    pub deals: Option<Vec<String>>,
    /// The activity summary and notes count.
    pub activities: bool,
    /// Count only the activities and notes this user may see (`None`: all), so that no summary
    /// shows what a read of the activity itself would answer with a 404.
    pub viewer: Option<i64>,
}

/// The summaries of persons, organizations or deals (`kind`) of the session's company, by id
/// (an item with nothing attached is absent: all its counts are 0). `deals`/`activities`
/// say which parts to read (a v2 read includes only what it names).
pub async fn summaries(
    store: &dyn Store,
    session: &Session,
    kind: Kind,
    ids: &[i64],
    (deals, activities): (bool, bool),
) -> Result<HashMap<i64, Summary>, DomainError> {
    let deals = deals && kind != Kind::Deal;
    if ids.is_empty() || !(deals || activities) {
        return Ok(HashMap::new());
    }
    let parts = SummaryParts {
        deals: match deals {
            true => Some(relating_fields(store, session, kind).await?),
            false => None,
        },
        activities,
        viewer: super::followers::viewer(session),
    };
    Ok(store
        .summaries(session.company.id, kind, ids, parts)
        .await?
        .into_iter()
        .collect())
}
