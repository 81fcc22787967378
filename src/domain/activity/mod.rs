//! Activities: the calls, meetings and tasks a team schedules with persons, organizations and
//! deals, each of an activity type (`types`), due on a date (and time), done or not. Their
//! participants are persons, one of them primary (the activity's `person_id`). The rules of
//! add and change are here once ([`apply`]); the summary persons, organizations and deals show
//! of their activities is in [`crate::domain::summary`].

mod commands;
pub mod types;

pub use commands::{
    activity_not_found, add_activity, delete_activity, find_activity, list_activities,
    prepare_activity, update_activity,
};
pub use types::ActivityType;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::DomainError;
use super::person::MAX_TEXT;
use super::references::Reference;
use super::webhook::ChangeSource;
use super::{Timestamp, html, values};

/// A person an activity is with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    pub person_id: i64,
    pub primary: bool,
}

/// Someone invited to an activity: a person, a user or an outside address.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Attendee {
    pub email: Option<String>,
    pub name: Option<String>,
    pub status: Option<String>,
    pub is_organizer: bool,
    pub person_id: Option<i64>,
    pub user_id: Option<i64>,
}

/// What an activity holds that a client sets: the whole of it, as added or after a change.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ActivityValues {
    pub owner_id: i64,
    /// An activity type's `key_string`.
    pub type_key: String,
    pub subject: String,
    pub deal_id: Option<i64>,
    /// The primary participant's person.
    pub person_id: Option<i64>,
    pub org_id: Option<i64>,
    /// `YYYY-MM-DD`.
    pub due_date: Option<String>,
    /// `HH:MM`, UTC.
    pub due_time: Option<String>,
    /// `HH:MM`.
    pub duration: Option<String>,
    /// `None`: busy when it has a time, free when all-day.
    pub busy: Option<bool>,
    pub done: bool,
    pub marked_as_done_time: Option<Timestamp>,
    /// `{value, country, locality, …}`.
    pub location: Option<Map<String, Value>>,
    pub public_description: Option<String>,
    pub priority: Option<i64>,
    /// HTML, sanitized.
    pub note: Option<String>,
    /// The primary one first.
    pub participants: Vec<Participant>,
    pub attendees: Vec<Attendee>,
}

impl ActivityValues {
    /// The order activities are due in ([`due_key`]).
    pub fn due_key(&self) -> i64 {
        due_key(self.due_date.as_deref(), self.due_time.as_deref())
    }

    /// The persons, organization and deal it names, as references to check; persons named
    /// as the client named them (`participants`, or the primary one as `person_id`).
    fn references(&self, by_participants: bool) -> Vec<Reference> {
        let mut refs: Vec<Reference> = self
            .participants
            .iter()
            .map(|p| {
                if by_participants {
                    Reference::participant(p.person_id)
                } else {
                    participant_ref(p)
                }
            })
            .collect();
        refs.extend(self.org_id.map(Reference::org));
        refs.extend(self.deal_id.map(Reference::deal));
        refs.push(Reference::owner(self.owner_id));
        refs
    }
}

/// The reference a participant makes: named as the `person_id` it is when primary.
pub fn participant_ref(p: &Participant) -> Reference {
    if p.primary {
        Reference::person(p.person_id)
    } else {
        Reference::participant(p.person_id)
    }
}

/// The order activities are due in, as one number: `YYYYMMDD` × 10,000, plus `HHMM` + 1 with
/// a time (so that an all-day activity comes before one at 00:00 the same day); 0 without a
/// date.
pub fn due_key(date: Option<&str>, time: Option<&str>) -> i64 {
    let Some(date) = date else { return 0 };
    let digits = |s: &str| -> i64 {
        s.chars()
            .filter(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap_or(0)
    };
    digits(date) * 10_000 + time.map_or(0, |t| digits(t) + 1)
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Activity {
    pub id: i64,
    pub company_id: i64,
    pub creator_user_id: i64,
    pub values: ActivityValues,
    pub active: bool,
    pub add_time: Timestamp,
    pub update_time: Timestamp,
    pub delete_time: Option<Timestamp>,
}

impl Activity {
    /// Whether it is with this person (as the primary participant or another).
    pub fn is_with(&self, person_id: i64) -> bool {
        self.values
            .participants
            .iter()
            .any(|p| p.person_id == person_id)
    }
}

/// An activity to insert: every rule has passed.
#[derive(Debug, Clone)]
pub struct NewActivity {
    pub company_id: i64,
    pub creator_user_id: i64,
    pub values: ActivityValues,
    pub now: Timestamp,
    /// Where it is added: its webhook event's `change_source`.
    pub source: ChangeSource,
}

impl NewActivity {
    pub fn stored(&self, id: i64) -> Activity {
        Activity {
            id,
            company_id: self.company_id,
            creator_user_id: self.creator_user_id,
            values: self.values.clone(),
            active: true,
            add_time: self.now,
            update_time: self.now,
            delete_time: None,
        }
    }
}

/// What a client asked for when adding or changing an activity. For changes, `None` leaves a
/// value alone and `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct ActivityDraft {
    pub subject: Option<String>,
    pub type_key: Option<String>,
    pub owner_id: Option<i64>,
    pub deal_id: Option<Option<i64>>,
    pub person_id: Option<Option<i64>>,
    pub org_id: Option<Option<i64>>,
    pub due_date: Option<Option<String>>,
    pub due_time: Option<Option<String>>,
    pub duration: Option<Option<String>>,
    pub busy: Option<Option<bool>>,
    pub done: Option<bool>,
    pub location: Option<Option<Map<String, Value>>>,
    pub public_description: Option<Option<String>>,
    pub priority: Option<Option<i64>>,
    pub note: Option<Option<String>>,
    pub participants: Option<Vec<Participant>>,
    pub attendees: Option<Vec<Attendee>>,
}

/// Which activities a list holds (never deleted ones).
#[derive(Debug, Clone, Default)]
pub struct ActivityFilter {
    pub ids: Option<Vec<i64>>,
    pub owner_id: Option<i64>,
    pub deal_id: Option<i64>,
    /// The primary participant (v2's `person_id`).
    pub person_id: Option<i64>,
    /// Any participant (v1's `/persons/{id}/activities`).
    pub participant_id: Option<i64>,
    pub org_id: Option<i64>,
    pub done: Option<bool>,
    /// `key_string`s wanted (none: every type).
    pub types: Vec<String>,
    /// Due on or after / on or before these dates (`YYYY-MM-DD`).
    pub due_from: Option<String>,
    pub due_to: Option<String>,
    pub exclude: Vec<i64>,
    pub updated_since: Option<Timestamp>,
    pub updated_until: Option<Timestamp>,
    /// Hide activities this user may not see (`None`: see all).
    pub viewer: Option<i64>,
}

/// A built-in field: `(code, name, type, optional in answers)`.
pub type FieldSpec = (&'static str, &'static str, &'static str, bool);

/// The fields of an activity as `activityFields` describes them. They are built in (pipestack has no custom activity fields); `type`'s options
/// are the company's active activity types.
pub const FIELDS: [FieldSpec; 21] = [
    ("id", "ID", "int", false),
    ("subject", "Subject", "varchar", false),
    ("type", "Type", "enum", false),
    ("owner_id", "Assigned to user", "user", false),
    ("creator_user_id", "Creator", "user", false),
    ("deal_id", "Deal", "deal", false),
    ("person_id", "Contact person", "people", false),
    ("org_id", "Organization", "org", false),
    ("participants", "Participants", "people", false),
    ("due_date", "Due date", "date", false),
    ("due_time", "Due time", "time", false),
    ("duration", "Duration", "time", false),
    ("busy", "Free/busy", "boolean", false),
    ("done", "Done", "boolean", false),
    ("marked_as_done_time", "Marked as done time", "date", false),
    ("location", "Location", "address", false),
    ("public_description", "Public description", "text", false),
    ("priority", "Priority", "int", false),
    ("note", "Note", "text", false),
    ("attendees", "Attendees", "json", true),
    ("add_time", "Add time", "date", false),
];

/// The location keys an activity's location may hold.
pub const LOCATION_KEYS: [&str; 11] = [
    "value",
    "country",
    "admin_area_level_1",
    "admin_area_level_2",
    "locality",
    "sublocality",
    "route",
    "street_number",
    "subpremise",
    "postal_code",
    "formatted_address",
];

/// The longest activity note (Pipedrive documents about 100,000 characters for notes).
pub const MAX_NOTE: usize = 100_000;

/// `HH:MM` (or `HH:MM:SS`, its seconds dropped) as `HH:MM`; `field` names it in the error.
fn clock(field: &str, s: &str, max_hours: u32) -> Result<String, DomainError> {
    let parts: Vec<&str> = s.trim().split(':').collect();
    let number = |p: &str| (p.len() == 2).then(|| p.parse::<u32>().ok()).flatten();
    let ok = match parts.as_slice() {
        [h, m] | [h, m, _] => number(h)
            .zip(number(m))
            .filter(|(h, m)| *h <= max_hours && *m < 60)
            .filter(|_| {
                parts
                    .get(2)
                    .is_none_or(|s| number(s).is_some_and(|s| s < 60))
            }),
        _ => None,
    };
    ok.map(|(h, m)| format!("{h:02}:{m:02}"))
        .ok_or_else(|| DomainError::invalid(field, "must be a time in the format HH:MM"))
}

fn text(field: &str, s: Option<String>, max: usize) -> Result<Option<String>, DomainError> {
    match s {
        Some(s) if !s.trim().is_empty() => {
            values::max_chars(field, &s, max)?;
            Ok(Some(s))
        }
        _ => Ok(None),
    }
}

/// The participants as asked, the primary one first: at most one primary and each person
/// once; when none is marked primary, the first is.
fn check_participants(mut list: Vec<Participant>) -> Result<Vec<Participant>, DomainError> {
    values::max_items("participants", list.len(), 100)?;
    let mut seen = std::collections::HashSet::new();
    if let Some(p) = list.iter().find(|p| !seen.insert(p.person_id)) {
        return Err(DomainError::invalid(
            "participants",
            format!("person {} is named twice", p.person_id),
        ));
    }
    match list.iter().filter(|p| p.primary).count() {
        0 => {
            if let Some(first) = list.first_mut() {
                first.primary = true;
            }
        }
        1 => {}
        _ => {
            return Err(DomainError::invalid(
                "participants",
                "at most one participant can be primary",
            ));
        }
    }
    list.sort_by_key(|p| !p.primary);
    Ok(list)
}

/// Makes `person` the primary participant (`None`: no primary one), the others kept.
fn set_primary(list: &mut Vec<Participant>, person: Option<i64>) {
    list.retain(|p| !p.primary && Some(p.person_id) != person);
    if let Some(id) = person {
        list.insert(
            0,
            Participant {
                person_id: id,
                primary: true,
            },
        );
    }
}

fn check_location(map: Map<String, Value>) -> Result<Option<Map<String, Value>>, DomainError> {
    let mut out = Map::new();
    for (k, v) in map {
        if !LOCATION_KEYS.contains(&k.as_str()) {
            return Err(DomainError::invalid(
                "location",
                format!("{k:?} is not a part of a location"),
            ));
        }
        let field = format!("location.{k}");
        if let Some(s) = values::opt_string(&field, &v)? {
            values::max_chars(&field, s, MAX_TEXT)?;
            if !s.is_empty() {
                out.insert(k, Value::String(s.to_owned()));
            }
        }
    }
    Ok((!out.is_empty()).then_some(out))
}

fn check_attendees(list: Vec<Attendee>) -> Result<Vec<Attendee>, DomainError> {
    values::max_items("attendees", list.len(), 100)?;
    for a in &list {
        if a.email.is_none() && a.person_id.is_none() && a.user_id.is_none() {
            return Err(DomainError::invalid(
                "attendees",
                "each attendee needs an email, a person_id or a user_id",
            ));
        }
        if let Some(e) = &a.email
            && !e.contains('@')
        {
            return Err(DomainError::invalid(
                "attendees",
                format!("{e:?} is not an email address"),
            ));
        }
    }
    Ok(list)
}

/// The activity `draft` makes of `base` (a new activity's defaults, or one as it is), and the
/// references it makes anew (what `base` did not already name), to be checked. The one place
/// every rule of an activity's values is written; `types` are the company's active types.
pub fn apply(
    base: &ActivityValues,
    draft: &ActivityDraft,
    types: &[ActivityType],
    now: Timestamp,
) -> Result<(ActivityValues, Vec<Reference>), DomainError> {
    let d = draft.clone();
    let by_participants = d.participants.is_some();
    let mut v = base.clone();
    if let Some(key) = d.type_key {
        let t = types::active_type(types, &key)?;
        v.type_key = t.key_string.clone();
    }
    if let Some(s) = d.subject {
        let s = s.trim().to_owned();
        if s.is_empty() {
            return Err(DomainError::invalid("subject", "must not be empty"));
        }
        values::max_chars("subject", &s, MAX_TEXT)?;
        v.subject = s;
    }
    if let Some(o) = d.owner_id {
        v.owner_id = o;
    }
    if let Some(x) = d.deal_id {
        v.deal_id = x;
    }
    if let Some(x) = d.org_id {
        v.org_id = x;
    }
    if let Some(list) = d.participants {
        v.participants = check_participants(list)?;
        let primary = v
            .participants
            .first()
            .filter(|p| p.primary)
            .map(|p| p.person_id);
        if let Some(asked) = d.person_id
            && asked != primary
        {
            return Err(DomainError::invalid(
                "person_id",
                "must be the primary participant's person when participants are given",
            ));
        }
    } else if let Some(person) = d.person_id {
        set_primary(&mut v.participants, person);
    }
    v.person_id = v
        .participants
        .first()
        .filter(|p| p.primary)
        .map(|p| p.person_id);
    if let Some(date) = d.due_date {
        v.due_date = date
            .map(|s| {
                values::parse_date(&s).ok_or_else(|| {
                    DomainError::invalid("due_date", "must be a date in the format YYYY-MM-DD")
                })
            })
            .transpose()?;
    }
    if let Some(t) = d.due_time {
        v.due_time = t
            .filter(|s| !s.is_empty())
            .map(|s| clock("due_time", &s, 23))
            .transpose()?;
    }
    if let Some(t) = d.duration {
        v.duration = t
            .filter(|s| !s.is_empty())
            .map(|s| clock("duration", &s, 99))
            .transpose()?;
    }
    if v.due_time.is_some() && v.due_date.is_none() {
        return Err(DomainError::invalid("due_time", "needs a due_date"));
    }
    if let Some(b) = d.busy {
        v.busy = b;
    }
    if let Some(done) = d.done {
        if done != v.done {
            v.marked_as_done_time = done.then_some(now);
        }
        v.done = done;
    }
    if let Some(l) = d.location {
        v.location = l.map(check_location).transpose()?.flatten();
    }
    if let Some(s) = d.public_description {
        v.public_description = text("public_description", s, MAX_NOTE)?;
    }
    if let Some(p) = d.priority {
        v.priority = p;
    }
    if let Some(n) = d.note {
        v.note = text("note", n.map(|n| html::sanitize(&n)), MAX_NOTE)?;
    }
    if let Some(a) = d.attendees {
        v.attendees = check_attendees(a)?;
    }
    let known = base.references(false);
    let refs = v
        .references(by_participants)
        .into_iter()
        .filter(|r| !known.iter().any(|k| k.kind == r.kind && k.id == r.id))
        .collect();
    Ok((v, refs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types() -> Vec<ActivityType> {
        types::DEFAULTS
            .iter()
            .enumerate()
            .map(|(i, (name, key))| ActivityType {
                id: i as i64 + 1,
                company_id: 1,
                order_nr: i as i64 + 1,
                name: (*name).into(),
                key_string: (*key).into(),
                icon_key: (*key).into(),
                color: None,
                is_custom: false,
                active: true,
                add_time: Timestamp(0),
                update_time: Timestamp(0),
            })
            .collect()
    }

    fn base() -> ActivityValues {
        ActivityValues {
            owner_id: 1,
            type_key: "call".into(),
            subject: "Call".into(),
            ..ActivityValues::default()
        }
    }

    #[test]
    fn person_id_alone_becomes_the_primary_participant() {
        let draft = ActivityDraft {
            person_id: Some(Some(7)),
            ..Default::default()
        };
        let (v, refs) = apply(&base(), &draft, &types(), Timestamp(5)).unwrap();
        assert_eq!(v.person_id, Some(7));
        assert_eq!(
            v.participants,
            vec![Participant {
                person_id: 7,
                primary: true
            }]
        );
        assert!(refs.iter().any(|r| r.id == 7));
    }

    #[test]
    fn changing_person_id_keeps_the_other_participants() {
        let mut b = base();
        b.participants = vec![
            Participant {
                person_id: 1,
                primary: true,
            },
            Participant {
                person_id: 2,
                primary: false,
            },
        ];
        b.person_id = Some(1);
        let draft = ActivityDraft {
            person_id: Some(Some(3)),
            ..Default::default()
        };
        let (v, _) = apply(&b, &draft, &types(), Timestamp(5)).unwrap();
        assert_eq!(v.person_id, Some(3));
        let ids: Vec<i64> = v.participants.iter().map(|p| p.person_id).collect();
        assert_eq!(ids, vec![3, 2]);
    }

    #[test]
    fn two_primary_participants_are_refused() {
        let draft = ActivityDraft {
            participants: Some(vec![
                Participant {
                    person_id: 1,
                    primary: true,
                },
                Participant {
                    person_id: 2,
                    primary: true,
                },
            ]),
            ..Default::default()
        };
        let e = apply(&base(), &draft, &types(), Timestamp(5)).unwrap_err();
        assert!(e.to_string().starts_with("participants:"), "{e}");
    }

    #[test]
    fn marking_done_stamps_the_time_and_undoing_clears_it() {
        let done = ActivityDraft {
            done: Some(true),
            ..Default::default()
        };
        let (v, _) = apply(&base(), &done, &types(), Timestamp(9)).unwrap();
        assert_eq!(v.marked_as_done_time, Some(Timestamp(9)));
        let (again, _) = apply(&v, &done, &types(), Timestamp(20)).unwrap();
        assert_eq!(again.marked_as_done_time, Some(Timestamp(9)));
        let undone = ActivityDraft {
            done: Some(false),
            ..Default::default()
        };
        let (u, _) = apply(&v, &undone, &types(), Timestamp(30)).unwrap();
        assert_eq!(u.marked_as_done_time, None);
    }

    #[test]
    fn times_are_hh_mm_and_need_a_date() {
        let draft = ActivityDraft {
            due_date: Some(Some("2026-05-01".into())),
            due_time: Some(Some("09:30:00".into())),
            duration: Some(Some("01:15".into())),
            ..Default::default()
        };
        let (v, _) = apply(&base(), &draft, &types(), Timestamp(1)).unwrap();
        assert_eq!(v.due_time.as_deref(), Some("09:30"));
        assert_eq!(v.due_key(), 202605010931);
        assert!(due_key(Some("2026-05-01"), None) < due_key(Some("2026-05-01"), Some("00:00")));
        let bad = ActivityDraft {
            due_time: Some(Some("25:00".into())),
            due_date: Some(Some("2026-05-01".into())),
            ..Default::default()
        };
        assert!(apply(&base(), &bad, &types(), Timestamp(1)).is_err());
        let undated = ActivityDraft {
            due_time: Some(Some("10:00".into())),
            ..Default::default()
        };
        assert!(apply(&base(), &undated, &types(), Timestamp(1)).is_err());
    }

    #[test]
    fn an_unknown_type_is_refused() {
        let draft = ActivityDraft {
            type_key: Some("fax".into()),
            ..Default::default()
        };
        let e = apply(&base(), &draft, &types(), Timestamp(1)).unwrap_err();
        assert!(e.to_string().starts_with("type:"), "{e}");
    }
}
