//! Persons: their column list and row mapper, and every statement that reads or writes them
//! (with the rows that come with a person: its email index, its followers, its organization's
//! count).

use std::sync::LazyLock;

use super::followers::{self, Item};
use super::paging::{SortColumn, nullable, order_and_page, plain};
use super::{Db, FromRow, Query, Row, first, lock, organizations, sql, to_json, vanished};
use crate::domain::followers::Kind;
use crate::domain::person::{
    Contact, Derived, Name, NewPerson, Person, PersonChanges, SortKeys, derive,
};
use crate::domain::ports::{Edit, MergeEdit, StoreError};
use crate::domain::query::{Page, PersonFilter, PersonQuery, SortField};
use crate::domain::webhook::Stamp;
use crate::domain::{MarketingStatus, Timestamp, Visibility};

/// The most persons a search ranks (the first by id when more match).
pub const MAX_SEARCH_CANDIDATES: usize = 20_000;

static COLUMNS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "p.id, p.company_id, p.owner_id, p.org_id, p.name, p.first_name, p.last_name, \
         p.emails, p.phones, p.label_ids, p.visible_to, p.marketing_status, p.custom_fields, \
         p.active_flag, p.add_time, p.update_time, p.delete_time, {}, p.marketing_changed",
        followers::ids_of(Kind::Person)
    )
});

/// Keeps persons the viewer may see: not private, or owned or followed by the viewer.
pub const VISIBLE: &str = " AND (p.visible_to <> 1 OR p.owner_id = ? OR EXISTS (\
    SELECT 1 FROM followers f WHERE f.kind = 'person' AND f.item_id = p.id AND f.user_id = ?))";

impl FromRow for Person {
    fn from_row(r: &impl Row) -> Result<Self, StoreError> {
        Ok(Person {
            id: r.int(0)?,
            company_id: r.int(1)?,
            owner_id: r.int(2)?,
            org_id: r.opt_int(3)?,
            name: r.string(4)?,
            first_name: r.opt_string(5)?,
            last_name: r.opt_string(6)?,
            emails: r.json(7)?,
            phones: r.json(8)?,
            label_ids: r.json(9)?,
            visible_to: Visibility::new(r.int(10)?).unwrap_or(Visibility::DEFAULT),
            marketing_status: r.opt_text(11)?.and_then(MarketingStatus::from_name),
            custom_fields: r.json(12)?,
            active: r.flag(13)?,
            add_time: r.time(14)?,
            update_time: r.time(15)?,
            delete_time: r.opt_time(16)?,
            follower_ids: r.ids(17)?,
            marketing_changed: r.flag(18)?,
        })
    }
}

/// `SELECT <columns> FROM persons p WHERE ` and the rest of the query.
fn select(rest: &str) -> String {
    format!("SELECT {} FROM persons p WHERE {rest}", *COLUMNS)
}

/// A new person with everything derived and serialized before it reaches a transaction (on
/// SQLite, before the writer thread, the bottleneck of creates, which then only binds).
#[derive(Debug, Clone)]
pub struct PreparedPerson {
    pub new: NewPerson,
    pub derived: Derived,
    pub emails: String,
    pub phones: String,
    pub label_ids: String,
    pub custom_fields: String,
}

impl PreparedPerson {
    pub fn new(p: NewPerson) -> Result<Self, StoreError> {
        Ok(Self {
            derived: derive(&p.full_name(), &p.emails, &p.phones, &p.custom_fields),
            emails: to_json(&p.emails)?,
            phones: to_json(&p.phones)?,
            label_ids: to_json(&p.label_ids)?,
            custom_fields: to_json(&p.custom_fields)?,
            new: p,
        })
    }

    /// The statement inserting the person's row.
    pub fn insert(&self) -> Query {
        let (p, d) = (&self.new, &self.derived);
        sql!(
            "INSERT INTO persons (company_id, owner_id, org_id, name, first_name, last_name, \
             emails, phones, primary_email, label_ids, visible_to, marketing_status, \
             custom_fields, active_flag, add_time, update_time, first_char, search_text, \
             name_key, first_name_key, last_name_key, follower_ids) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, TRUE, ?, ?, ?, ?, ?, ?, ?, ?)",
            p.company_id,
            p.owner_id,
            p.org_id,
            &p.name,
            p.first_name.as_deref(),
            p.last_name.as_deref(),
            &self.emails,
            &self.phones,
            d.keys.primary_email.as_deref(),
            &self.label_ids,
            p.visible_to.get(),
            p.marketing_status.map(MarketingStatus::as_str),
            &self.custom_fields,
            p.add_time,
            p.update_time,
            d.first_char.as_deref(),
            &d.search_text,
            &d.keys.name,
            d.keys.first_name.as_deref(),
            d.keys.last_name.as_deref(),
            self.follower_ids()
        )
    }

    /// The `follower_ids` the row is inserted with: its followers, each once.
    fn follower_ids(&self) -> Option<String> {
        let mut ids: Vec<i64> = Vec::with_capacity(self.new.followers.len());
        for id in &self.new.followers {
            if !ids.contains(id) {
                ids.push(*id);
            }
        }
        (!ids.is_empty()).then(|| ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","))
    }
}

/// Inserts a person (the engine's way), once its organization is known to be active.
pub async fn insert<D: Db>(db: &D, prepared: &PreparedPerson) -> Result<i64, StoreError> {
    if let Some(org) = prepared.new.org_id {
        organizations::require_active(db, prepared.new.company_id, org).await?;
    }
    db.insert_person(prepared).await
}

/// Inserts a person statement by statement: its row, its email index, its organization's
/// count, its followers (whose addition their rows keep: [`followers::follow_new`]); its id.
pub async fn insert_rows(db: &impl Db, prepared: &PreparedPerson) -> Result<i64, StoreError> {
    let p = &prepared.new;
    let id = super::insert_id(db, prepared.insert()).await?;
    add_emails(db, p.company_id, id, &p.emails).await?;
    index_labels(db, p.company_id, id, &p.label_ids).await?;
    db.search_text_changed(id, None)?;
    if let Some(org) = p.org_id {
        organizations::count_people(db, org, 1).await?;
    }
    let item = Item {
        company_id: p.company_id,
        kind: Kind::Person,
        id,
    };
    for user_id in &p.followers {
        followers::follow_new(db, item, *user_id, p.created_by, p.update_time).await?;
    }
    Ok(id)
}

/// A person by id, deleted or not.
pub async fn get(db: &impl Db, company_id: i64, id: i64) -> Result<Option<Person>, StoreError> {
    first(
        db,
        sql!(select("p.company_id = ? AND p.id = ?"), company_id, id),
    )
    .await
}

/// Active persons among `ids`, locked for the write that decides on them, by id.
async fn lock_active<D: Db>(
    db: &D,
    company_id: i64,
    ids: &[i64],
) -> Result<Vec<Person>, StoreError> {
    let mut q = sql!(select("p.company_id = ? AND "), company_id);
    q.push_in("p.id", ids);
    q.push(" ORDER BY p.id");
    lock::<D>(&mut q, "p");
    let persons: Vec<Person> = db.rows(q).await?;
    Ok(persons.into_iter().filter(|p| p.active).collect())
}

/// Appends a person list's filters.
fn push_filters<D: Db>(q: &mut Query, f: &PersonFilter) {
    if let Some(owner) = f.owner_id {
        q.push_arg(" AND p.owner_id = ?", owner);
    }
    if let Some(org) = f.org_id {
        q.push_arg(" AND p.org_id = ?", org);
    }
    if let Some(ids) = &f.ids {
        q.push(" AND ").push_in("p.id", ids);
    }
    if let Some(c) = &f.first_char {
        q.push_arg(" AND p.first_char = ?", c);
    }
    if let Some(v) = f.viewer {
        q.push(VISIBLE);
        q.args.extend([v.into(), v.into()]);
    }
    if let Some(t) = f.updated_since {
        q.push_arg(" AND p.update_time >= ?", t);
    }
    if let Some(t) = f.updated_until {
        q.push_arg(" AND p.update_time < ?", t);
    }
    if let Some(key) = &f.name_prefix {
        // Keys compare byte by byte: every key starting with `key` sorts below it followed by
        // the last code point.
        q.push_arg(" AND p.name_key >= ?", key.clone());
        q.push_arg(" AND p.name_key < ?", format!("{key}\u{10FFFF}"));
    }
    if let Some(label) = f.label_id {
        // The index kept from `label_ids` (migrations 14 and 17; `index_labels`).
        q.push_arg(
            " AND p.id IN (SELECT person_id FROM person_labels WHERE company_id = p.company_id \
             AND label_id = ?)",
            label,
        );
    }
    if let Some(needle) = &f.text {
        q.push(" AND ");
        (D::DIALECT.person_text)(q, needle);
    }
}

/// The column a sort field orders by: names and emails by their sort keys.
fn sort_column(f: SortField) -> Option<SortColumn> {
    match f {
        SortField::Id => plain("p.id"),
        SortField::Name => plain("p.name_key"),
        SortField::FirstName => nullable("p.first_name_key"),
        SortField::LastName => nullable("p.last_name_key"),
        SortField::FirstChar => nullable("p.first_char"),
        SortField::AddTime => plain("p.add_time"),
        SortField::UpdateTime => plain("p.update_time"),
        SortField::OwnerId => plain("p.owner_id"),
        SortField::OrgId => nullable("p.org_id"),
        SortField::VisibleTo => plain("p.visible_to"),
        SortField::PrimaryEmail => nullable("p.primary_email"),
        _ => None,
    }
}

/// How a list narrows by a text or a label (`list_with`; tests try each way on a few persons).
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    /// Matches of a text or label filter up to which a list sorts them itself (from their
    /// ids); past it, it walks its order's index, where so many matches are soon met.
    pub few: usize,
    /// How many persons (in every company) listing a text's matches may go through
    /// (`Dialect::person_text_count`) before a list walking its order reads each row's text
    /// rather than listing the text index's matches first.
    pub common: usize,
}

/// At a million persons, a page of `jen` (55,000 matches) took 27 ms reading each row's text
/// and 8 ms looking ids up among the index's matches; `com` (250,000) 0.4 ms and 26 ms; phone
/// digits every phone shares (lists of a million) 8 ms and 40 ms.
pub const THRESHOLDS: Thresholds = Thresholds {
    few: 2_000,
    common: 100_000,
};

/// Whether listing `needle`'s matches would cost more than a walk that meets them soon.
async fn common<D: Db>(db: &D, needle: &str, at: usize) -> Result<bool, StoreError> {
    let Some(count) = D::DIALECT.person_text_count else {
        return Ok(true);
    };
    let n: Option<i64> = first(db, count(needle, at)).await?;
    Ok(n.unwrap_or(0) >= at as i64)
}

/// Narrows the filter to `ids` (and the ids it had) when they are `few`: whether it did.
fn narrow(filter: &mut PersonFilter, ids: Vec<i64>, few: usize) -> bool {
    if ids.len() > few {
        return false;
    }
    filter.ids = Some(match filter.ids.take() {
        Some(wanted) => ids.into_iter().filter(|id| wanted.contains(id)).collect(),
        None => ids,
    });
    true
}

/// Non-deleted persons in the query's order and page.
pub async fn list<D: Db>(
    db: &D,
    company_id: i64,
    q: &PersonQuery,
) -> Result<Vec<Person>, StoreError> {
    list_with(db, company_id, q, THRESHOLDS).await
}

/// The ids of [`list`]'s persons, in its order: the same statement, reading no more of a row
/// than its index holds.
pub async fn list_ids<D: Db>(
    db: &D,
    company_id: i64,
    q: &PersonQuery,
) -> Result<Vec<i64>, StoreError> {
    list_columns(db, company_id, q, THRESHOLDS, "p.id").await
}

/// [`list`], narrowing by text and label as `t` says.
pub async fn list_with<D: Db>(
    db: &D,
    company_id: i64,
    q: &PersonQuery,
    t: Thresholds,
) -> Result<Vec<Person>, StoreError> {
    list_columns(db, company_id, q, t, &COLUMNS).await
}

/// [`list_with`], reading `columns` of each person listed.
async fn list_columns<D: Db, T: FromRow + Send>(
    db: &D,
    company_id: i64,
    q: &PersonQuery,
    t: Thresholds,
    columns: &str,
) -> Result<Vec<T>, StoreError> {
    // A rare text or label would have the index walk read every person to fill a page: when
    // the text index or the label index gives few matches, they are the ids to sort.
    let mut filter = q.filter.clone();
    let mut dense = None;
    if let Some(needle) = &q.filter.text {
        let ids = (D::DIALECT.person_text_first)(needle, company_id, t.few + 1);
        if narrow(&mut filter, db.rows(ids).await?, t.few) {
            filter.text = None;
        } else if common(db, needle, t.common).await? {
            // So many matches that the order's index soon meets them: each row's own text is
            // looked at (listing every match first would cost more).
            dense = filter.text.take();
        }
        // Else the order's index is walked and each id looked up among the text index's
        // matches (listed once): the rows themselves are read only for the page.
    }
    if let Some(label) = q.filter.label_id {
        let ids = sql!(
            "SELECT person_id FROM person_labels WHERE company_id = ? AND label_id = ? LIMIT ?",
            company_id,
            label,
            t.few as i64 + 1
        );
        if narrow(&mut filter, db.rows(ids).await?, t.few) {
            filter.label_id = None;
        }
    }
    let mut sql = sql!(
        format!("SELECT {columns} FROM persons p WHERE p.company_id = ? AND p.active_flag = TRUE"),
        company_id
    );
    push_filters::<D>(&mut sql, &filter);
    if let Some(needle) = &dense {
        sql.push(" AND ");
        (D::DIALECT.contains)(&mut sql, "p.search_text", needle);
    }
    order_and_page(&mut sql, &q.order, &q.page, q.limit, "p.id", sort_column);
    db.rows(sql).await
}

/// Whether a list is sure to be quick: an order an index walks (`persons_company`,
/// `persons_name_key`, `persons_first_char`, `persons_add_time`, `persons_update_time`) and an
/// offset of at most [`QUICK_OFFSET`]. Others (a sort on an unindexed column, a deep offset)
/// may read far more rows than they return.
pub fn is_quick(q: &PersonQuery) -> bool {
    let indexed = q.order.iter().all(|(f, _)| {
        matches!(
            f,
            SortField::Id
                | SortField::Name
                | SortField::FirstChar
                | SortField::AddTime
                | SortField::UpdateTime
        )
    }) && q.order.len() <= 1;
    let shallow = match q.page {
        Page::Offset { start } => start <= QUICK_OFFSET,
        Page::After(_) => true,
    };
    // A text or label filter may read many rows to find a page's worth.
    indexed && shallow && q.filter.text.is_none() && q.filter.label_id.is_none()
}

/// The deepest offset a list may start at and still count as quick.
pub const QUICK_OFFSET: i64 = 1_000;

/// Search candidates: non-deleted persons matching `condition`, within the filter, by id.
async fn candidates<D: Db>(
    db: &D,
    mut q: Query,
    org_id: Option<i64>,
    viewer: Option<i64>,
) -> Result<Vec<Person>, StoreError> {
    let filter = PersonFilter {
        org_id,
        viewer,
        ..PersonFilter::default()
    };
    push_filters::<D>(&mut q, &filter);
    q.push(&format!(" ORDER BY p.id LIMIT {MAX_SEARCH_CANDIDATES}"));
    db.rows(q).await
}

/// Non-deleted persons with an email equal (case-insensitively) to `email`.
pub async fn by_email(
    db: &impl Db,
    company_id: i64,
    email: &str,
    org_id: Option<i64>,
    viewer: Option<i64>,
) -> Result<Vec<Person>, StoreError> {
    let q = sql!(
        select(
            "p.id IN (SELECT person_id FROM person_emails WHERE company_id = ? AND value = ?) \
             AND p.company_id = ? AND p.active_flag = TRUE"
        ),
        company_id,
        email.to_lowercase(),
        company_id
    );
    candidates(db, q, org_id, viewer).await
}

/// Non-deleted persons whose search text contains `needle`, through the engine's text index.
pub async fn search<D: Db>(
    db: &D,
    company_id: i64,
    needle: &str,
    org_id: Option<i64>,
    viewer: Option<i64>,
) -> Result<Vec<Person>, StoreError> {
    let mut q = Query {
        sql: select(""),
        args: Vec::new(),
    };
    (D::DIALECT.person_text)(&mut q, needle);
    q.push_arg(" AND p.company_id = ? AND p.active_flag = TRUE", company_id);
    candidates(db, q, org_id, viewer).await
}

/// Whether a person of the company exists and is not deleted.
pub async fn is_active(db: &impl Db, company_id: i64, id: i64) -> Result<bool, StoreError> {
    let active: Option<bool> = first(
        db,
        sql!(
            "SELECT active_flag FROM persons WHERE company_id = ? AND id = ?",
            company_id,
            id
        ),
    )
    .await?;
    Ok(active.unwrap_or(false))
}

/// Indexes a new person's labels (`person_labels`, what the label filter reads). Triggers keep
/// the index as persons' labels change and persons go, but on SQLite no trigger fires on an
/// insert: one would make every insert a statement transaction, whose journal copies each page
/// the insert touches (migration 17). PostgreSQL's trigger has indexed them already: the rows
/// it wrote are skipped.
pub async fn index_labels(
    db: &impl Db,
    company_id: i64,
    id: i64,
    labels: &[i64],
) -> Result<(), StoreError> {
    for &label in labels {
        db.execute(sql!(
            "INSERT INTO person_labels (company_id, label_id, person_id) VALUES (?, ?, ?) \
             ON CONFLICT DO NOTHING",
            company_id,
            label,
            id
        ))
        .await?;
    }
    Ok(())
}

/// Replaces a person's rows in `person_emails` (lower-cased values, for exact-email search).
async fn index_emails(
    db: &impl Db,
    company_id: i64,
    id: i64,
    emails: &[Contact],
) -> Result<(), StoreError> {
    db.execute(sql!("DELETE FROM person_emails WHERE person_id = ?", id))
        .await?;
    add_emails(db, company_id, id, emails).await
}

/// Writes a person's rows in `person_emails`: those of a new person, or after its old ones went.
async fn add_emails(
    db: &impl Db,
    company_id: i64,
    id: i64,
    emails: &[Contact],
) -> Result<(), StoreError> {
    for e in emails {
        db.execute(sql!(
            "INSERT INTO person_emails (company_id, value, person_id) VALUES (?, ?, ?)",
            company_id,
            e.value.to_lowercase(),
            id
        ))
        .await?;
    }
    Ok(())
}

/// The `UPDATE` of a person's changes: `update_time` and every column they name.
fn update_statement(
    company_id: i64,
    id: i64,
    ch: &PersonChanges,
    now: Timestamp,
) -> Result<Query, StoreError> {
    let mut q = sql!("UPDATE persons SET update_time = ?", now);
    if let Some(owner) = ch.owner_id {
        q.push_arg(", owner_id = ?", owner);
    }
    if let Some(org) = ch.org_id {
        q.push_arg(", org_id = ?", org);
    }
    if let Some(name) = &ch.name {
        q.push_arg(", name = ?", &name.name);
        q.push_arg(", first_name = ?", name.first_name.as_deref());
        q.push_arg(", last_name = ?", name.last_name.as_deref());
    }
    if let Some(e) = &ch.emails {
        q.push_arg(", emails = ?", to_json(e)?);
    }
    if let Some(p) = &ch.phones {
        q.push_arg(", phones = ?", to_json(p)?);
    }
    if let Some(l) = &ch.label_ids {
        q.push_arg(", label_ids = ?", to_json(l)?);
    }
    if let Some(v) = ch.visible_to {
        q.push_arg(", visible_to = ?", v.get());
    }
    if let Some((status, used_change)) = ch.marketing_status {
        q.push_arg(", marketing_status = ?", status.as_str());
        if used_change {
            q.push(", marketing_changed = TRUE");
        }
    }
    if let Some(c) = &ch.custom_fields {
        q.push_arg(", custom_fields = ?", to_json(c)?);
    }
    if let Some(t) = ch.add_time {
        q.push_arg(", add_time = ?", t);
    }
    q.push_arg(" WHERE company_id = ?", company_id);
    q.push_arg(" AND id = ?", id);
    Ok(q)
}

/// What a change replaces: the organization it moves the person from, and the search text the
/// text index holds for it (the index needs the old text to take it out).
struct Stored {
    org_id: Option<i64>,
    search_text: String,
}

impl FromRow for Stored {
    fn from_row(r: &impl Row) -> Result<Self, StoreError> {
        Ok(Stored {
            org_id: r.opt_int(0)?,
            search_text: r.string(1)?,
        })
    }
}

/// Applies changes to an active person (checked by the caller), moves organization counts,
/// and refreshes the derived columns and indexes; the person as it now is.
pub async fn apply_changes(
    db: &impl Db,
    company_id: i64,
    id: i64,
    ch: &PersonChanges,
    now: Timestamp,
) -> Result<Person, StoreError> {
    let before: Stored = first(
        db,
        sql!("SELECT org_id, search_text FROM persons WHERE id = ?", id),
    )
    .await?
    .ok_or_else(|| vanished("person"))?;
    if let Some(org) = ch.org_id
        && org != before.org_id
    {
        if let Some(o) = before.org_id {
            organizations::count_people(db, o, -1).await?;
        }
        if let Some(o) = org {
            organizations::count_people(db, o, 1).await?;
        }
    }
    db.execute(update_statement(company_id, id, ch, now)?)
        .await?;
    if let Some(e) = &ch.emails {
        index_emails(db, company_id, id, e).await?;
    }
    let person = get(db, company_id, id)
        .await?
        .ok_or_else(|| vanished("person"))?;
    let new = derive(
        &person.full_name(),
        &person.emails,
        &person.phones,
        &person.custom_fields,
    );
    if new.search_text != before.search_text {
        db.search_text_changed(id, Some(&before.search_text))?;
    }
    db.execute(derived_update(id, &new)).await?;
    Ok(person)
}

/// Stores what is derived from a person's data.
fn derived_update(id: i64, d: &Derived) -> Query {
    sql!(
        "UPDATE persons SET primary_email = ?, first_char = ?, search_text = ?, name_key = ?, \
         first_name_key = ?, last_name_key = ? WHERE id = ?",
        d.keys.primary_email.as_deref(),
        d.first_char.as_deref(),
        &d.search_text,
        &d.keys.name,
        d.keys.first_name.as_deref(),
        d.keys.last_name.as_deref(),
        id
    )
}

/// Soft-deletes an active person and takes it out of its organization's count; whether it
/// was active.
pub async fn soft_delete(
    db: &impl Db,
    company_id: i64,
    id: i64,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let org: Option<Option<i64>> = first(
        db,
        sql!(
            "UPDATE persons SET active_flag = FALSE, delete_time = ?, update_time = ? \
             WHERE company_id = ? AND id = ? AND active_flag = TRUE RETURNING org_id",
            now,
            now,
            company_id,
            id
        ),
    )
    .await?;
    let Some(org) = org else { return Ok(false) };
    if let Some(o) = org {
        organizations::count_people(db, o, -1).await?;
    }
    Ok(true)
}

/// Soft-deletes the active persons among `ids`; those deleted.
pub async fn delete_many(
    db: &impl Db,
    company_id: i64,
    ids: &[i64],
    now: Timestamp,
) -> Result<Vec<i64>, StoreError> {
    let mut deleted = Vec::new();
    for id in ids {
        if soft_delete(db, company_id, *id, now).await? {
            deleted.push(*id);
        }
    }
    Ok(deleted)
}

/// Changes a person as `edit` decides on it, locked: the person before and after; `None`
/// when it is missing or deleted. Changes that change nothing write nothing.
pub async fn update<D: Db>(
    db: &D,
    company_id: i64,
    id: i64,
    edit: Edit<Person, PersonChanges>,
    now: Timestamp,
) -> Result<Option<(Person, Person)>, StoreError> {
    let Some(current) = lock_active(db, company_id, &[id]).await?.pop() else {
        return Ok(None);
    };
    let changes = edit(&current).map_err(StoreError::refused)?;
    if changes.is_empty() {
        return Ok(Some((current.clone(), current)));
    }
    require_org(db, company_id, &changes).await?;
    let after = apply_changes(db, company_id, id, &changes, now).await?;
    Ok(Some((current, after)))
}

/// The organization a change moves a person into must still be active.
async fn require_org<D: Db>(
    db: &D,
    company_id: i64,
    changes: &PersonChanges,
) -> Result<(), StoreError> {
    match changes.org_id {
        Some(Some(org)) => organizations::require_active(db, company_id, org).await,
        _ => Ok(()),
    }
}

/// Applies to `into` what `edit` decides on both persons (locked, in id order), gives it
/// `from`'s followers and deletes `from`; `None` when either is missing or deleted.
pub async fn merge<D: Db>(
    db: &D,
    company_id: i64,
    from: i64,
    into: i64,
    edit: MergeEdit,
    by: Stamp,
) -> Result<Option<Merge>, StoreError> {
    let (actor, now) = (by.user_id, by.time);
    let both = lock_active(db, company_id, &[from, into]).await?;
    let (Some(source), Some(target)) = (
        both.iter().find(|p| p.id == from),
        both.iter().find(|p| p.id == into),
    ) else {
        return Ok(None);
    };
    let changes = edit(source, target).map_err(StoreError::refused)?;
    require_org(db, company_id, &changes).await?;
    let item = |id| Item {
        company_id,
        kind: Kind::Person,
        id,
    };
    for user_id in followers::user_ids(db, item(from)).await? {
        followers::follow(db, item(into), user_id, actor, now).await?;
    }
    super::deals::move_person(db, company_id, from, into, now).await?;
    super::activities::move_person(db, company_id, from, into, now).await?;
    super::notes::move_person(db, company_id, from, into, now).await?;
    soft_delete(db, company_id, from, now).await?;
    let after = apply_changes(db, company_id, into, &changes, now).await?;
    Ok(Some(Merge {
        before: target.clone(),
        after,
    }))
}

/// What a merge did to the person kept.
pub struct Merge {
    pub before: Person,
    pub after: Person,
}

/// What a person's sort keys are made of.
struct KeySource {
    id: i64,
    name: Name,
    emails: Vec<Contact>,
}

impl FromRow for KeySource {
    fn from_row(r: &impl Row) -> Result<Self, StoreError> {
        Ok(KeySource {
            id: r.int(0)?,
            name: Name {
                name: r.string(1)?,
                first_name: r.opt_string(2)?,
                last_name: r.opt_string(3)?,
            },
            emails: r.json(4)?,
        })
    }
}

/// Computes every person's sort keys (the migration that adds them), a batch of ids at a time.
pub async fn fill_sort_keys(db: &impl Db) -> Result<(), StoreError> {
    let mut after = 0;
    loop {
        let batch: Vec<KeySource> = db
            .rows(sql!(
                "SELECT id, name, first_name, last_name, emails FROM persons WHERE id > ? \
                 ORDER BY id LIMIT 10000",
                after
            ))
            .await?;
        let Some(last) = batch.last() else {
            return Ok(());
        };
        after = last.id;
        for p in &batch {
            let keys = SortKeys::of(&p.name, &p.emails);
            db.execute(sql!(
                "UPDATE persons SET name_key = ?, first_name_key = ?, last_name_key = ?, \
                 primary_email = ? WHERE id = ?",
                keys.name,
                keys.first_name,
                keys.last_name,
                keys.primary_email,
                p.id
            ))
            .await?;
        }
    }
}
