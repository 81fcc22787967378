//! Notes: their column list and row mapper, inserts and changes that check inside the write
//! what they are attached to, lists, and what a person merge moves.

use super::activities::{Needed, push_visible, require_all};
use super::paging::{SortColumn, nullable, order_and_page, plain};
use super::{Arg, Db, FromRow, Query, Row, first, insert_id, lock, sql, vanished};
use crate::domain::note::{NewNote, Note, NoteFilter, NoteValues};
use crate::domain::ports::{Edit, StoreError};
use crate::domain::query::{ListQuery, SortField};
use crate::domain::references::Reference;
use crate::domain::{Kind, Timestamp};

const COLUMNS: &str = "n.id, n.company_id, n.user_id, n.last_update_user_id, n.content, \
    n.deal_id, n.person_id, n.org_id, n.pinned_to_deal_flag, n.pinned_to_person_flag, \
    n.pinned_to_organization_flag, n.active_flag, n.add_time, n.update_time";

impl FromRow for Note {
    fn from_row(r: &impl Row) -> Result<Self, StoreError> {
        Ok(Note {
            id: r.int(0)?,
            company_id: r.int(1)?,
            last_update_user_id: r.int(3)?,
            values: NoteValues {
                user_id: r.int(2)?,
                content: r.string(4)?,
                deal_id: r.opt_int(5)?,
                person_id: r.opt_int(6)?,
                org_id: r.opt_int(7)?,
                pinned_to_deal: r.flag(8)?,
                pinned_to_person: r.flag(9)?,
                pinned_to_org: r.flag(10)?,
                add_time: r.time(12)?,
            },
            active: r.flag(11)?,
            update_time: r.time(13)?,
        })
    }
}

fn select(rest: &str) -> String {
    format!("SELECT {COLUMNS} FROM notes n WHERE {rest}")
}

pub async fn get(
    db: &impl Db,
    company_id: i64,
    id: i64,
    viewer: Option<i64>,
) -> Result<Option<Note>, StoreError> {
    let mut q = sql!(select("n.company_id = ? AND n.id = ?"), company_id, id);
    push_visible(&mut q, "n", "user_id", viewer);
    first(db, q).await
}

/// What `new` is attached to that `old` (if any) was not: each checked active inside the
/// write (in one statement), and held until it commits.
async fn require_attached<D: Db>(
    db: &D,
    company_id: i64,
    new: &NoteValues,
    old: Option<&NoteValues>,
) -> Result<(), StoreError> {
    let mut needed = Vec::new();
    if let Some(p) = new
        .person_id
        .filter(|p| old.is_none_or(|o| o.person_id != Some(*p)))
    {
        needed.push(Needed::id("persons", p, Reference::person(p).fail()));
    }
    if let Some(o) = new
        .org_id
        .filter(|o| old.is_none_or(|v| v.org_id != Some(*o)))
    {
        needed.push(Needed::id("organizations", o, Reference::org(o).fail()));
    }
    if let Some(d) = new
        .deal_id
        .filter(|d| old.is_none_or(|v| v.deal_id != Some(*d)))
    {
        needed.push(Needed::id("deals", d, Reference::deal(d).fail()));
    }
    require_all(db, company_id, &needed).await
}

/// The columns a note's values are written to: by an insert and by a change alike, in the
/// order of [`value_args`].
const VALUE_COLUMNS: [&str; 8] = [
    "user_id",
    "content",
    "deal_id",
    "person_id",
    "org_id",
    "pinned_to_deal_flag",
    "pinned_to_person_flag",
    "pinned_to_organization_flag",
];

/// A note's values, in the order of [`VALUE_COLUMNS`].
fn value_args(v: &NoteValues) -> Vec<Arg> {
    vec![
        v.user_id.into(),
        v.content.as_str().into(),
        v.deal_id.into(),
        v.person_id.into(),
        v.org_id.into(),
        v.pinned_to_deal.into(),
        v.pinned_to_person.into(),
        v.pinned_to_org.into(),
    ]
}

pub async fn insert<D: Db>(db: &D, n: &NewNote) -> Result<Note, StoreError> {
    let v = &n.values;
    require_attached(db, n.company_id, v, None).await?;
    let mut q = sql!(
        format!(
            "INSERT INTO notes (company_id, last_update_user_id, active_flag, add_time, \
             update_time, {}) VALUES (?, ?, TRUE, ?, ?, {})",
            VALUE_COLUMNS.join(", "),
            vec!["?"; VALUE_COLUMNS.len()].join(", ")
        ),
        n.company_id,
        v.user_id,
        v.add_time,
        n.now
    );
    q.args.extend(value_args(v));
    let id = insert_id(db, q).await?;
    Ok(n.stored(id))
}

/// Changes a non-deleted note (locked) to what `edit` decides on it: before and after.
pub async fn update<D: Db>(
    db: &D,
    company_id: i64,
    id: i64,
    edit: Edit<Note, NoteValues>,
    user_id: i64,
    now: Timestamp,
) -> Result<Option<(Note, Note)>, StoreError> {
    let mut q = sql!(
        select("n.company_id = ? AND n.id = ? AND n.active_flag = TRUE"),
        company_id,
        id
    );
    lock::<D>(&mut q, "n");
    let current: Option<Note> = first(db, q).await?;
    let Some(current) = current else {
        return Ok(None);
    };
    let v = edit(&current).map_err(StoreError::refused)?;
    if v == current.values {
        return Ok(Some((current.clone(), current)));
    }
    require_attached(db, company_id, &v, Some(&current.values)).await?;
    let sets: Vec<String> = VALUE_COLUMNS.iter().map(|c| format!("{c} = ?")).collect();
    let mut q = sql!(format!(
        "UPDATE notes SET {}, last_update_user_id = ?, add_time = ?, update_time = ? \
         WHERE id = ?",
        sets.join(", ")
    ));
    q.args.extend(value_args(&v));
    q.args
        .extend([user_id.into(), v.add_time.into(), now.into(), id.into()]);
    db.execute(q).await?;
    let after = get(db, company_id, id, None)
        .await?
        .ok_or_else(|| vanished("note"))?;
    Ok(Some((current, after)))
}

pub async fn delete(
    db: &impl Db,
    company_id: i64,
    id: i64,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let n = db
        .execute(sql!(
            "UPDATE notes SET active_flag = FALSE, update_time = ? \
             WHERE company_id = ? AND id = ? AND active_flag = TRUE",
            now,
            company_id,
            id
        ))
        .await?;
    Ok(n == 1)
}

/// Gives `into` the notes of `from` (a person merge), in the merge's transaction.
pub async fn move_person(
    db: &impl Db,
    company_id: i64,
    from: i64,
    into: i64,
    now: Timestamp,
) -> Result<(), StoreError> {
    db.execute(sql!(
        "UPDATE notes SET person_id = ?, update_time = ? WHERE company_id = ? AND person_id = ?",
        into,
        now,
        company_id,
        from
    ))
    .await?;
    Ok(())
}

fn sort_column(f: SortField) -> Option<SortColumn> {
    match f {
        SortField::Id => plain("n.id"),
        SortField::AddTime => plain("n.add_time"),
        SortField::UpdateTime => plain("n.update_time"),
        SortField::UserId => plain("n.user_id"),
        SortField::DealId => nullable("n.deal_id"),
        SortField::PersonId => nullable("n.person_id"),
        SortField::OrgId => nullable("n.org_id"),
        SortField::Content => plain("n.content"),
        _ => None,
    }
}

fn push_filters(q: &mut Query, f: &NoteFilter) {
    q.push(" AND n.active_flag = TRUE");
    if let Some(v) = f.user_id {
        q.push_arg(" AND n.user_id = ?", v);
    }
    if let Some(v) = f.deal_id {
        q.push_arg(" AND n.deal_id = ?", v);
    }
    if let Some(v) = f.person_id {
        q.push_arg(" AND n.person_id = ?", v);
    }
    if let Some(v) = f.org_id {
        q.push_arg(" AND n.org_id = ?", v);
    }
    if let Some(v) = f.pinned_to_deal {
        q.push_arg(" AND n.pinned_to_deal_flag = ?", v);
    }
    if let Some(v) = f.pinned_to_person {
        q.push_arg(" AND n.pinned_to_person_flag = ?", v);
    }
    if let Some(v) = f.pinned_to_org {
        q.push_arg(" AND n.pinned_to_organization_flag = ?", v);
    }
    if let Some(t) = f.added_from {
        q.push_arg(" AND n.add_time >= ?", t);
    }
    if let Some(t) = f.added_to {
        q.push_arg(" AND n.add_time < ?", t);
    }
    if let Some(t) = f.updated_since {
        q.push_arg(" AND n.update_time >= ?", t);
    }
    push_visible(q, "n", "user_id", f.viewer);
}

pub async fn list(
    db: &impl Db,
    company_id: i64,
    q: &ListQuery<NoteFilter>,
) -> Result<Vec<Note>, StoreError> {
    let mut sql = sql!(select("n.company_id = ?"), company_id);
    push_filters(&mut sql, &q.filter);
    order_and_page(&mut sql, &q.order, &q.page, q.limit, "n.id", sort_column);
    db.rows(sql).await
}

/// Non-deleted notes `viewer` may see, attached to an item of `kind`, whose lower-cased
/// content contains `needle` (markup included: a superset, which the domain then checks on
/// the text).
pub async fn containing<D: Db>(
    db: &D,
    company_id: i64,
    kind: Kind,
    needle: &str,
    viewer: Option<i64>,
) -> Result<Vec<Note>, StoreError> {
    let column = match kind {
        Kind::Person => "n.person_id",
        Kind::Organization => "n.org_id",
        Kind::Deal => "n.deal_id",
    };
    let mut q = sql!(
        select(&format!(
            "n.company_id = ? AND n.active_flag = TRUE AND {column} IS NOT NULL AND "
        )),
        company_id
    );
    (D::DIALECT.contains)(&mut q, "lower(n.content)", needle);
    push_visible(&mut q, "n", "user_id", viewer);
    q.push(&format!(
        " ORDER BY n.id LIMIT {}",
        super::persons::MAX_SEARCH_CANDIDATES
    ));
    db.rows(q).await
}
