//! Activity types and activities: column lists and row mappers, inserts and changes that
//! check inside the write what they name, lists, and what a person merge moves.

use super::paging::{SortColumn, order_and_page, plain};
use super::{Arg, Db, FromRow, Query, Row, first, insert_id, lock, share, sql, to_json, vanished};
use crate::domain::activity::types::{NewActivityType, TypeDraft};
use crate::domain::activity::{
    Activity, ActivityFilter, ActivityType, ActivityValues, NewActivity, Participant,
};
use crate::domain::ports::{Edit, StoreError};
use crate::domain::query::{ListQuery, SortField};
use crate::domain::references::Reference;
use crate::domain::{DomainError, Timestamp};

const TYPE_COLUMNS: &str = "t.id, t.company_id, t.order_nr, t.name, t.key_string, t.icon_key, \
    t.color, t.is_custom_flag, t.active_flag, t.add_time, t.update_time";

impl FromRow for ActivityType {
    fn from_row(r: &impl Row) -> Result<Self, StoreError> {
        Ok(ActivityType {
            id: r.int(0)?,
            company_id: r.int(1)?,
            order_nr: r.int(2)?,
            name: r.string(3)?,
            key_string: r.string(4)?,
            icon_key: r.string(5)?,
            color: r.opt_string(6)?,
            is_custom: r.flag(7)?,
            active: r.flag(8)?,
            add_time: r.time(9)?,
            update_time: r.time(10)?,
        })
    }
}

pub async fn types(db: &impl Db, company_id: i64) -> Result<Vec<ActivityType>, StoreError> {
    db.rows(sql!(
        format!(
            "SELECT {TYPE_COLUMNS} FROM activity_types t WHERE t.company_id = ? \
             ORDER BY t.order_nr, t.id"
        ),
        company_id
    ))
    .await
}

pub async fn activity_type(
    db: &impl Db,
    company_id: i64,
    id: i64,
) -> Result<Option<ActivityType>, StoreError> {
    first(
        db,
        sql!(
            format!(
                "SELECT {TYPE_COLUMNS} FROM activity_types t WHERE t.company_id = ? AND t.id = ?"
            ),
            company_id,
            id
        ),
    )
    .await
}

/// Adds a type after the company's last; its key the first of `key`, `key_2`, … not taken.
pub async fn insert_type(db: &impl Db, t: &NewActivityType) -> Result<ActivityType, StoreError> {
    insert_type_row(db, t, true).await
}

async fn insert_type_row(
    db: &impl Db,
    t: &NewActivityType,
    custom: bool,
) -> Result<ActivityType, StoreError> {
    // After the company's last type, in the insert itself (as pipelines are placed).
    for n in 1.. {
        let key = if n == 1 {
            t.key_base.clone()
        } else {
            format!("{}_{n}", t.key_base)
        };
        let inserted = db
            .insert(sql!(
                "INSERT INTO activity_types (company_id, order_nr, name, key_string, icon_key, \
                 color, is_custom_flag, active_flag, add_time, update_time) VALUES (?, \
                 (SELECT COALESCE(MAX(order_nr), 0) + 1 FROM activity_types WHERE company_id = ?), \
                 ?, ?, ?, ?, ?, TRUE, ?, ?) ON CONFLICT DO NOTHING",
                t.company_id,
                t.company_id,
                &t.name,
                key,
                &t.icon_key,
                t.color.as_deref(),
                custom,
                t.now,
                t.now
            ))
            .await?;
        if let Some(id) = inserted {
            return activity_type(db, t.company_id, id)
                .await?
                .ok_or_else(|| vanished("activity type"));
        }
    }
    Err(StoreError::Internal("no free activity type key".into()))
}

/// The types every company starts with.
pub async fn add_defaults(db: &impl Db, company_id: i64, at: Timestamp) -> Result<(), StoreError> {
    for (name, key) in crate::domain::activity::types::DEFAULTS {
        let t = NewActivityType {
            company_id,
            name: name.into(),
            key_base: key.into(),
            icon_key: key.into(),
            color: None,
            now: at,
            user_id: 0,
        };
        insert_type_row(db, &t, false).await?;
    }
    Ok(())
}

/// Gives every company without activity types the default ones (the migration that adds them).
pub async fn fill_defaults(db: &impl Db) -> Result<(), StoreError> {
    let companies: Vec<i64> = db
        .rows(sql!(
            "SELECT c.id FROM companies c WHERE NOT EXISTS \
             (SELECT 1 FROM activity_types t WHERE t.company_id = c.id) ORDER BY c.id"
        ))
        .await?;
    let now = Timestamp::now();
    for company_id in companies {
        add_defaults(db, company_id, now).await?;
    }
    Ok(())
}

pub async fn update_type(
    db: &impl Db,
    company_id: i64,
    id: i64,
    ch: &TypeDraft,
    now: Timestamp,
) -> Result<Option<ActivityType>, StoreError> {
    let mut q = sql!("UPDATE activity_types SET update_time = ?", now);
    if let Some(name) = &ch.name {
        q.push_arg(", name = ?", name);
    }
    if let Some(icon) = &ch.icon_key {
        q.push_arg(", icon_key = ?", icon);
    }
    if let Some(color) = &ch.color {
        q.push_arg(", color = ?", color.as_deref());
    }
    if let Some(n) = ch.order_nr {
        q.push_arg(", order_nr = ?", n);
    }
    q.push_arg(" WHERE company_id = ?", company_id);
    q.push_arg(" AND id = ? AND active_flag = TRUE", id);
    if db.execute(q).await? == 0 {
        return Ok(None);
    }
    activity_type(db, company_id, id).await
}

pub async fn delete_type(
    db: &impl Db,
    company_id: i64,
    id: i64,
    now: Timestamp,
) -> Result<Option<ActivityType>, StoreError> {
    let n = db
        .execute(sql!(
            "UPDATE activity_types SET active_flag = FALSE, update_time = ? \
             WHERE company_id = ? AND id = ? AND active_flag = TRUE",
            now,
            company_id,
            id
        ))
        .await?;
    if n == 0 {
        return Ok(None);
    }
    activity_type(db, company_id, id).await
}

const COLUMNS: &str = "a.id, a.company_id, a.creator_user_id, a.owner_id, a.type, a.subject, \
    a.deal_id, a.person_id, a.org_id, a.due_date, a.due_time, a.duration, a.busy, a.done, \
    a.marked_as_done_time, a.location, a.public_description, a.priority, a.note, \
    a.participants, a.attendees, a.active_flag, a.add_time, a.update_time, a.delete_time";

impl FromRow for Activity {
    fn from_row(r: &impl Row) -> Result<Self, StoreError> {
        let location = match r.opt_text(15)? {
            Some(text) => Some(serde_json::from_str(text).map_err(|e| {
                StoreError::Internal(format!("an activity's location is corrupt: {e}"))
            })?),
            None => None,
        };
        Ok(Activity {
            id: r.int(0)?,
            company_id: r.int(1)?,
            creator_user_id: r.int(2)?,
            values: ActivityValues {
                owner_id: r.int(3)?,
                type_key: r.string(4)?,
                subject: r.string(5)?,
                deal_id: r.opt_int(6)?,
                person_id: r.opt_int(7)?,
                org_id: r.opt_int(8)?,
                due_date: r.opt_string(9)?,
                due_time: r.opt_string(10)?,
                duration: r.opt_string(11)?,
                busy: r.opt_int(12)?.map(|b| b != 0),
                done: r.flag(13)?,
                marked_as_done_time: r.opt_time(14)?,
                location,
                public_description: r.opt_string(16)?,
                priority: r.opt_int(17)?,
                note: r.opt_string(18)?,
                participants: r.json(19)?,
                attendees: r.json(20)?,
            },
            active: r.flag(21)?,
            add_time: r.time(22)?,
            update_time: r.time(23)?,
            delete_time: r.opt_time(24)?,
        })
    }
}

fn select(rest: &str) -> String {
    format!("SELECT {COLUMNS} FROM activities a WHERE {rest}")
}

/// Keeps the rows of `alias` (an activity or note, whose user column is `own`) that `viewer`
/// may see: its own, or those whose person, organization and deal it may all see.
pub fn push_visible(q: &mut Query, alias: &str, own: &str, viewer: Option<i64>) {
    let Some(v) = viewer else { return };
    q.push_arg(&format!(" AND ({alias}.{own} = ?"), v);
    q.push(&format!(
        " OR (({alias}.person_id IS NULL OR EXISTS (SELECT 1 FROM persons p \
         WHERE p.id = {alias}.person_id{}))",
        super::persons::VISIBLE
    ));
    q.push(&format!(
        " AND ({alias}.org_id IS NULL OR EXISTS (SELECT 1 FROM organizations o \
         WHERE o.id = {alias}.org_id{}))",
        super::organizations::VISIBLE
    ));
    q.push(&format!(
        " AND ({alias}.deal_id IS NULL OR EXISTS (SELECT 1 FROM deals d \
         WHERE d.id = {alias}.deal_id{}))))",
        super::deals::VISIBLE
    ));
    q.args.extend(std::iter::repeat_n(v.into(), 6));
}

pub async fn get(
    db: &impl Db,
    company_id: i64,
    id: i64,
    viewer: Option<i64>,
) -> Result<Option<Activity>, StoreError> {
    let mut q = sql!(select("a.company_id = ? AND a.id = ?"), company_id, id);
    push_visible(&mut q, "a", "owner_id", viewer);
    first(db, q).await
}

/// A row a write refers to, by a column's value: it must be active inside the write, and is
/// held shared until the write commits (a delete or merge then runs wholly before or after);
/// `refusal` when it is not.
pub struct Needed {
    pub table: &'static str,
    pub column: &'static str,
    pub value: Arg,
    pub refusal: DomainError,
}

impl Needed {
    /// A row of `table` by id.
    pub fn id(table: &'static str, id: i64, refusal: DomainError) -> Self {
        Self {
            table,
            column: "id",
            value: id.into(),
            refusal,
        }
    }
}

/// The most rows [`require_all`] checks in one statement.
const MAX_JOINED: usize = 16;

/// Checks the rows a write refers to, all in one statement (one round trip); only when one is
/// missing is each asked on its own, to name it.
pub async fn require_all<D: Db>(
    db: &D,
    company_id: i64,
    needed: &[Needed],
) -> Result<(), StoreError> {
    let one = |q: &mut Query, alias: &str, n: &Needed| {
        q.push_arg(&format!("{alias}.company_id = ?"), company_id);
        q.push_arg(&format!(" AND {alias}.{} = ?", n.column), n.value.clone());
        q.push(&format!(" AND {alias}.active_flag = TRUE"));
    };
    // One statement while the join stays small (SQLite joins at most 64 tables); a long list
    // of participants is checked row by row.
    if (2..=MAX_JOINED).contains(&needed.len()) {
        let aliases: Vec<String> = (0..needed.len()).map(|i| format!("x{i}")).collect();
        let tables: Vec<String> = needed
            .iter()
            .zip(&aliases)
            .map(|(n, a)| format!("{} {a}", n.table))
            .collect();
        let mut q = sql!(format!("SELECT x0.id FROM {} WHERE ", tables.join(", ")));
        for (i, (n, a)) in needed.iter().zip(&aliases).enumerate() {
            if i > 0 {
                q.push(" AND ");
            }
            one(&mut q, a, n);
        }
        share::<D>(&mut q, &aliases.join(", "));
        let found: Option<i64> = first(db, q).await?;
        if found.is_some() {
            return Ok(());
        }
    }
    for n in needed {
        let mut q = sql!(format!("SELECT x.id FROM {} x WHERE ", n.table));
        one(&mut q, "x", n);
        share::<D>(&mut q, "x");
        let found: Option<i64> = first(db, q).await?;
        if found.is_none() {
            return Err(StoreError::refused(n.refusal.clone()));
        }
    }
    Ok(())
}

/// What `new` names that `old` (if any) did not: a type, persons, an organization, a deal.
async fn require_named<D: Db>(
    db: &D,
    company_id: i64,
    new: &ActivityValues,
    old: Option<&ActivityValues>,
) -> Result<(), StoreError> {
    let mut needed = Vec::new();
    if old.is_none_or(|o| o.type_key != new.type_key) {
        needed.push(Needed {
            table: "activity_types",
            column: "key_string",
            value: new.type_key.as_str().into(),
            refusal: DomainError::invalid(
                "type",
                format!(
                    "{:?} is not an active activity type's key_string",
                    new.type_key
                ),
            ),
        });
    }
    for p in &new.participants {
        if old.is_none_or(|o| !o.participants.iter().any(|q| q.person_id == p.person_id)) {
            let refusal = crate::domain::activity::participant_ref(p).fail();
            needed.push(Needed::id("persons", p.person_id, refusal));
        }
    }
    if let Some(org) = new
        .org_id
        .filter(|o| old.is_none_or(|v| v.org_id != Some(*o)))
    {
        needed.push(Needed::id("organizations", org, Reference::org(org).fail()));
    }
    if let Some(deal) = new
        .deal_id
        .filter(|d| old.is_none_or(|v| v.deal_id != Some(*d)))
    {
        needed.push(Needed::id("deals", deal, Reference::deal(deal).fail()));
    }
    require_all(db, company_id, &needed).await
}

/// Records an activity's participants (`replace`: instead of those it had).
async fn write_participants(
    db: &impl Db,
    company_id: i64,
    activity_id: i64,
    participants: &[Participant],
    replace: bool,
) -> Result<(), StoreError> {
    if replace {
        db.execute(sql!(
            "DELETE FROM activity_participants WHERE activity_id = ?",
            activity_id
        ))
        .await?;
    }
    if participants.is_empty() {
        return Ok(());
    }
    let mut q = sql!(
        "INSERT INTO activity_participants (company_id, activity_id, person_id, is_primary) VALUES "
    );
    for (i, p) in participants.iter().enumerate() {
        q.push(if i == 0 { "(" } else { ", (" });
        q.push_arg("?", company_id)
            .push_arg(", ?", activity_id)
            .push_arg(", ?", p.person_id)
            .push_arg(", ?)", p.primary);
    }
    db.execute(q).await?;
    Ok(())
}

/// The columns an activity's values are written to: by an insert and by a change alike, in
/// the order of [`value_args`].
const VALUE_COLUMNS: [&str; 19] = [
    "owner_id",
    "type",
    "subject",
    "deal_id",
    "person_id",
    "org_id",
    "due_date",
    "due_key",
    "due_time",
    "duration",
    "busy",
    "done",
    "marked_as_done_time",
    "location",
    "public_description",
    "priority",
    "note",
    "participants",
    "attendees",
];

/// An activity's values, in the order of [`VALUE_COLUMNS`].
fn value_args(v: &ActivityValues) -> Result<Vec<Arg>, StoreError> {
    Ok(vec![
        v.owner_id.into(),
        v.type_key.as_str().into(),
        v.subject.as_str().into(),
        v.deal_id.into(),
        v.person_id.into(),
        v.org_id.into(),
        v.due_date.as_deref().into(),
        v.due_key().into(),
        v.due_time.as_deref().into(),
        v.duration.as_deref().into(),
        v.busy.map(i64::from).into(),
        v.done.into(),
        v.marked_as_done_time.into(),
        v.location.as_ref().map(to_json).transpose()?.into(),
        v.public_description.as_deref().into(),
        v.priority.into(),
        v.note.as_deref().into(),
        to_json(&v.participants)?.into(),
        to_json(&v.attendees)?.into(),
    ])
}

pub async fn insert<D: Db>(db: &D, a: &NewActivity) -> Result<Activity, StoreError> {
    let v = &a.values;
    require_named(db, a.company_id, v, None).await?;
    let mut q = sql!(
        format!(
            "INSERT INTO activities (company_id, creator_user_id, active_flag, add_time, \
             update_time, {}) VALUES (?, ?, TRUE, ?, ?, {})",
            VALUE_COLUMNS.join(", "),
            vec!["?"; VALUE_COLUMNS.len()].join(", ")
        ),
        a.company_id,
        a.creator_user_id,
        a.now,
        a.now
    );
    q.args.extend(value_args(v)?);
    let id = insert_id(db, q).await?;
    write_participants(db, a.company_id, id, &v.participants, false).await?;
    Ok(a.stored(id))
}

/// Changes a non-deleted activity (locked) to what `edit` decides on it: before and after.
pub async fn update<D: Db>(
    db: &D,
    company_id: i64,
    id: i64,
    edit: Edit<Activity, ActivityValues>,
    now: Timestamp,
) -> Result<Option<(Activity, Activity)>, StoreError> {
    let mut q = sql!(
        select("a.company_id = ? AND a.id = ? AND a.active_flag = TRUE"),
        company_id,
        id
    );
    lock::<D>(&mut q, "a");
    let current: Option<Activity> = first(db, q).await?;
    let Some(current) = current else {
        return Ok(None);
    };
    let v = edit(&current).map_err(StoreError::refused)?;
    if v == current.values {
        return Ok(Some((current.clone(), current)));
    }
    require_named(db, company_id, &v, Some(&current.values)).await?;
    write_row(db, id, &v, now).await?;
    if v.participants != current.values.participants {
        write_participants(db, company_id, id, &v.participants, true).await?;
    }
    let after = get(db, company_id, id, None)
        .await?
        .ok_or_else(|| vanished("activity"))?;
    Ok(Some((current, after)))
}

/// Writes every value of an activity's row.
async fn write_row(
    db: &impl Db,
    id: i64,
    v: &ActivityValues,
    now: Timestamp,
) -> Result<(), StoreError> {
    let sets: Vec<String> = VALUE_COLUMNS.iter().map(|c| format!("{c} = ?")).collect();
    let mut q = sql!(format!(
        "UPDATE activities SET {}, update_time = ? WHERE id = ?",
        sets.join(", ")
    ));
    q.args.extend(value_args(v)?);
    q.args.extend([now.into(), id.into()]);
    db.execute(q).await?;
    Ok(())
}

pub async fn delete(
    db: &impl Db,
    company_id: i64,
    id: i64,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let n = db
        .execute(sql!(
            "UPDATE activities SET active_flag = FALSE, delete_time = ?, update_time = ? \
             WHERE company_id = ? AND id = ? AND active_flag = TRUE",
            now,
            now,
            company_id,
            id
        ))
        .await?;
    Ok(n == 1)
}

/// Gives `into` the activities `from` is a participant of (a person merge), in the merge's
/// transaction: `from` is replaced by `into` (once: an activity with both keeps `into`, which
/// becomes primary where `from` was).
pub async fn move_person<D: Db>(
    db: &D,
    company_id: i64,
    from: i64,
    into: i64,
    now: Timestamp,
) -> Result<(), StoreError> {
    let mut q = sql!(
        select(
            "a.company_id = ? AND a.id IN \
             (SELECT l.activity_id FROM activity_participants l WHERE l.person_id = ?)"
        ),
        company_id,
        from
    );
    lock::<D>(&mut q, "a");
    let moving: Vec<Activity> = db.rows(q).await?;
    for a in moving {
        // Left by `from` between the lookup and the lock (a change committed meanwhile).
        if !a.is_with(from) {
            continue;
        }
        let mut v = a.values.clone();
        let was_primary = v
            .participants
            .iter()
            .any(|p| p.person_id == from && p.primary);
        v.participants
            .retain(|p| p.person_id != from && p.person_id != into);
        let into_was_primary = a
            .values
            .participants
            .iter()
            .any(|p| p.person_id == into && p.primary);
        let primary = was_primary || into_was_primary;
        let at = if primary { 0 } else { v.participants.len() };
        v.participants.insert(
            at,
            Participant {
                person_id: into,
                primary,
            },
        );
        v.person_id = v
            .participants
            .first()
            .filter(|p| p.primary)
            .map(|p| p.person_id);
        write_row(db, a.id, &v, now).await?;
        write_participants(db, company_id, a.id, &v.participants, true).await?;
    }
    Ok(())
}

/// Whether a list is an indexed walk that stops after its page.
pub fn is_quick(q: &ListQuery<ActivityFilter>) -> bool {
    q.order.len() <= 1
        && q.order.iter().all(|(f, _)| {
            matches!(
                f,
                SortField::Id | SortField::UpdateTime | SortField::DueDate
            )
        })
        && matches!(q.page, crate::domain::query::Page::After(_))
}

fn sort_column(f: SortField) -> Option<SortColumn> {
    match f {
        SortField::Id => plain("a.id"),
        SortField::AddTime => plain("a.add_time"),
        SortField::UpdateTime => plain("a.update_time"),
        SortField::DueDate => plain("a.due_key"),
        _ => None,
    }
}

fn push_filters(q: &mut Query, f: &ActivityFilter) {
    q.push(" AND a.active_flag = TRUE");
    if let Some(ids) = &f.ids {
        q.push(" AND ").push_in("a.id", ids);
    }
    if !f.exclude.is_empty() {
        q.push(" AND NOT ").push_in("a.id", &f.exclude);
    }
    if let Some(v) = f.owner_id {
        q.push_arg(" AND a.owner_id = ?", v);
    }
    if let Some(v) = f.deal_id {
        q.push_arg(" AND a.deal_id = ?", v);
    }
    if let Some(v) = f.person_id {
        q.push_arg(" AND a.person_id = ?", v);
    }
    if let Some(v) = f.participant_id {
        q.push_arg(
            " AND a.id IN (SELECT l.activity_id FROM activity_participants l WHERE l.person_id = ?)",
            v,
        );
    }
    if let Some(v) = f.org_id {
        q.push_arg(" AND a.org_id = ?", v);
    }
    if let Some(done) = f.done {
        q.push_arg(" AND a.done = ?", done);
    }
    if !f.types.is_empty() {
        q.push(" AND a.type IN (");
        for (n, t) in f.types.iter().enumerate() {
            q.push_arg(if n == 0 { "?" } else { ", ?" }, t.as_str());
        }
        q.push(")");
    }
    if let Some(d) = &f.due_from {
        q.push_arg(" AND a.due_date >= ?", d.as_str());
    }
    if let Some(d) = &f.due_to {
        q.push_arg(" AND a.due_date <= ?", d.as_str());
    }
    if let Some(t) = f.updated_since {
        q.push_arg(" AND a.update_time >= ?", t);
    }
    if let Some(t) = f.updated_until {
        q.push_arg(" AND a.update_time < ?", t);
    }
    push_visible(q, "a", "owner_id", f.viewer);
}

pub async fn list(
    db: &impl Db,
    company_id: i64,
    q: &ListQuery<ActivityFilter>,
) -> Result<Vec<Activity>, StoreError> {
    let mut sql = sql!(select("a.company_id = ?"), company_id);
    push_filters(&mut sql, &q.filter);
    order_and_page(&mut sql, &q.order, &q.page, q.limit, "a.id", sort_column);
    db.rows(sql).await
}
