//! Organizations: their column list and row mapper, lists, search, updates and deletes.

use std::sync::LazyLock;

use super::followers::{self, Item};
use super::paging::{SortColumn, order_and_page, plain};
use super::{Db, FromRow, Query, Row, first, insert_id, lock, sql, to_json, vanished};
use crate::domain::collation::sort_key;
use crate::domain::followers::Kind;
use crate::domain::organization::{
    Address, NewOrganization, Organization, OrganizationChanges, OrganizationFilter,
    OrganizationQuery, search_text,
};
use crate::domain::person::Reference;
use crate::domain::ports::{Edit, StoreError};
use crate::domain::query::SortField;
use crate::domain::{Timestamp, Visibility};

static COLUMNS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "o.id, o.company_id, o.owner_id, o.name, o.address, o.address_parts, o.label_ids, \
         o.visible_to, o.active_flag, o.add_time, o.update_time, o.delete_time, \
         o.people_count, {}, o.profile, o.custom_fields",
        followers::ids_of(Kind::Organization)
    )
});

/// Keeps organizations the viewer may see.
pub const VISIBLE: &str = " AND (o.visible_to <> 1 OR o.owner_id = ? OR EXISTS (\
    SELECT 1 FROM followers f WHERE f.kind = 'organization' AND f.item_id = o.id \
    AND f.user_id = ?))";

impl FromRow for Organization {
    fn from_row(r: &impl Row) -> Result<Self, StoreError> {
        Ok(Organization {
            id: r.int(0)?,
            company_id: r.int(1)?,
            owner_id: r.int(2)?,
            name: r.string(3)?,
            address: r.opt_string(4)?,
            address_parts: r.json(5).unwrap_or_default(),
            label_ids: r.json(6).unwrap_or_default(),
            visible_to: Visibility::new(r.int(7)?).unwrap_or(Visibility::DEFAULT),
            active: r.flag(8)?,
            add_time: r.time(9)?,
            update_time: r.time(10)?,
            delete_time: r.opt_time(11)?,
            people_count: r.int(12)?,
            follower_ids: r.ids(13)?,
            profile: r.json(14).unwrap_or_default(),
            custom_fields: r.json(15)?,
        })
    }
}

/// `SELECT <columns> FROM organizations o WHERE ` and the rest of the query.
fn select(rest: &str) -> String {
    format!("SELECT {} FROM organizations o WHERE {rest}", *COLUMNS)
}

/// An organization by id, deleted or not.
pub async fn get(
    db: &impl Db,
    company_id: i64,
    id: i64,
) -> Result<Option<Organization>, StoreError> {
    first(
        db,
        sql!(select("o.company_id = ? AND o.id = ?"), company_id, id),
    )
    .await
}

pub async fn by_ids(
    db: &impl Db,
    company_id: i64,
    ids: &[i64],
) -> Result<Vec<Organization>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = sql!(select("o.company_id = ? AND "), company_id);
    q.push_in("o.id", ids);
    db.rows(q).await
}

fn parts_json(a: Option<&Address>) -> Result<String, StoreError> {
    to_json(&a.map(|a| a.parts.clone()).unwrap_or_default())
}

fn address_text(a: Option<&Address>) -> Option<&str> {
    a.map(|a| a.value.as_str())
}

pub async fn insert(db: &impl Db, o: &NewOrganization) -> Result<Organization, StoreError> {
    let id = insert_id(
        db,
        sql!(
            "INSERT INTO organizations (company_id, owner_id, name, address, address_parts, \
             label_ids, visible_to, search_text, active_flag, add_time, update_time, profile, \
             name_key, custom_fields) VALUES (?, ?, ?, ?, ?, ?, ?, ?, TRUE, ?, ?, ?, ?, ?)",
            o.company_id,
            o.owner_id,
            &o.name,
            o.address.as_ref().map(|a| a.value.as_str()),
            parts_json(o.address.as_ref())?,
            to_json(&o.label_ids)?,
            o.visible_to.get(),
            search_text(&o.name, address_text(o.address.as_ref()), &o.custom_fields),
            o.add_time,
            o.update_time,
            to_json(&o.profile)?,
            sort_key(&o.name),
            to_json(&o.custom_fields)?
        ),
    )
    .await?;
    let item = Item {
        company_id: o.company_id,
        kind: Kind::Organization,
        id,
    };
    followers::follow_new(db, item, o.owner_id, o.created_by, o.update_time).await?;
    get(db, o.company_id, id)
        .await?
        .ok_or_else(|| vanished("organization"))
}

/// The `UPDATE` of an organization's changes: `update_time`, every column they name, and the
/// search text of the result.
fn update_statement(
    current: &Organization,
    ch: &OrganizationChanges,
    now: Timestamp,
) -> Result<Query, StoreError> {
    let mut q = sql!("UPDATE organizations SET update_time = ?", now);
    if let Some(name) = &ch.name {
        q.push_arg(", name = ?", name);
        q.push_arg(", name_key = ?", sort_key(name));
    }
    if let Some(owner) = ch.owner_id {
        q.push_arg(", owner_id = ?", owner);
    }
    if let Some(address) = &ch.address {
        q.push_arg(", address = ?", address.as_ref().map(|a| a.value.as_str()));
        q.push_arg(", address_parts = ?", parts_json(address.as_ref())?);
    }
    if let Some(labels) = &ch.label_ids {
        q.push_arg(", label_ids = ?", to_json(labels)?);
    }
    if let Some(v) = ch.visible_to {
        q.push_arg(", visible_to = ?", v.get());
    }
    if let Some(profile) = &ch.profile {
        q.push_arg(", profile = ?", to_json(profile)?);
    }
    if let Some(custom) = &ch.custom_fields {
        q.push_arg(", custom_fields = ?", to_json(custom)?);
    }
    let name = ch.name.as_deref().unwrap_or(&current.name);
    let address = match &ch.address {
        Some(a) => address_text(a.as_ref()),
        None => current.address.as_deref(),
    };
    let custom = ch.custom_fields.as_ref().unwrap_or(&current.custom_fields);
    q.push_arg(", search_text = ?", search_text(name, address, custom));
    q.push_arg(" WHERE company_id = ?", current.company_id);
    q.push_arg(" AND id = ?", current.id);
    Ok(q)
}

/// Changes an active organization as `edit` decides on it, locked: before and after; `None`
/// when there is none with that id.
pub async fn update<D: Db>(
    db: &D,
    company_id: i64,
    id: i64,
    edit: Edit<Organization, OrganizationChanges>,
    now: Timestamp,
) -> Result<Option<(Organization, Organization)>, StoreError> {
    let mut q = sql!(select("o.company_id = ? AND o.id = ?"), company_id, id);
    lock::<D>(&mut q, "o");
    let current: Option<Organization> = first(db, q).await?;
    let Some(current) = current.filter(|o| o.active) else {
        return Ok(None);
    };
    let changes = edit(&current).map_err(StoreError::refused)?;
    db.execute(update_statement(&current, &changes, now)?)
        .await?;
    let after = get(db, company_id, id)
        .await?
        .ok_or_else(|| vanished("organization"))?;
    Ok(Some((current, after)))
}

/// Soft-deletes an active organization and detaches its persons; whether it was active.
pub async fn delete(
    db: &impl Db,
    company_id: i64,
    id: i64,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let n = db
        .execute(sql!(
            "UPDATE organizations SET active_flag = FALSE, delete_time = ?, update_time = ?, \
             people_count = 0 WHERE company_id = ? AND id = ? AND active_flag = TRUE",
            now,
            now,
            company_id,
            id
        ))
        .await?;
    if n == 0 {
        return Ok(false);
    }
    db.execute(sql!(
        "UPDATE persons SET org_id = NULL, update_time = ? WHERE company_id = ? AND org_id = ?",
        now,
        company_id,
        id
    ))
    .await?;
    Ok(true)
}

/// Checks, inside a write that puts a person in an organization, that the organization is
/// still active, and locks it until the write commits: a concurrent delete either runs first
/// (and the write is refused as it would have been) or after (and detaches the person).
pub async fn require_active<D: Db>(db: &D, company_id: i64, id: i64) -> Result<(), StoreError> {
    let mut q = sql!(
        "SELECT o.id FROM organizations o WHERE o.company_id = ? AND o.id = ? \
         AND o.active_flag = TRUE",
        company_id,
        id
    );
    lock::<D>(&mut q, "o");
    let found: Option<i64> = first(db, q).await?;
    match found {
        Some(_) => Ok(()),
        None => Err(StoreError::refused(Reference::org(id).fail())),
    }
}

/// Moves an organization's `people_count` by `delta`, in the transaction that changes a
/// person's organization or deletes it.
pub async fn count_people(db: &impl Db, org_id: i64, delta: i64) -> Result<(), StoreError> {
    db.execute(sql!(
        "UPDATE organizations SET people_count = people_count + ? WHERE id = ?",
        delta,
        org_id
    ))
    .await?;
    Ok(())
}

/// The column a sort field orders by (the name by its sort key); `None` for fields
/// organizations cannot be sorted by ([`crate::domain::organization::sortable`]).
fn sort_column(f: SortField) -> Option<SortColumn> {
    match f {
        SortField::Id => plain("o.id"),
        SortField::Name => plain("o.name_key"),
        SortField::AddTime => plain("o.add_time"),
        SortField::UpdateTime => plain("o.update_time"),
        SortField::OwnerId => plain("o.owner_id"),
        SortField::VisibleTo => plain("o.visible_to"),
        _ => None,
    }
}

/// Appends an organization list's filters.
fn push_filters(q: &mut Query, f: &OrganizationFilter) {
    if let Some(owner) = f.owner_id {
        q.push_arg(" AND o.owner_id = ?", owner);
    }
    if let Some(ids) = &f.ids {
        q.push(" AND ").push_in("o.id", ids);
    }
    if let Some(c) = &f.first_char {
        q.push(" AND substr(o.search_text, 1, length(?)) = ?");
        q.args.extend([c.into(), c.into()]);
    }
    if let Some(t) = f.updated_since {
        q.push_arg(" AND o.update_time >= ?", t);
    }
    if let Some(t) = f.updated_until {
        q.push_arg(" AND o.update_time < ?", t);
    }
    push_visible(q, f.viewer);
}

fn push_visible(q: &mut Query, viewer: Option<i64>) {
    if let Some(v) = viewer {
        q.push(VISIBLE);
        q.args.extend([v.into(), v.into()]);
    }
}

pub async fn list(
    db: &impl Db,
    company_id: i64,
    q: &OrganizationQuery,
) -> Result<Vec<Organization>, StoreError> {
    let mut sql = sql!(
        select("o.company_id = ? AND o.active_flag = TRUE"),
        company_id
    );
    push_filters(&mut sql, &q.filter);
    order_and_page(&mut sql, &q.order, &q.page, q.limit, "o.id", sort_column);
    db.rows(sql).await
}

/// Active organizations whose search text (lower-cased name and address) contains `needle`.
pub async fn search<D: Db>(
    db: &D,
    company_id: i64,
    needle: &str,
    viewer: Option<i64>,
) -> Result<Vec<Organization>, StoreError> {
    let mut q = sql!(
        select("o.company_id = ? AND o.active_flag = TRUE AND "),
        company_id
    );
    (D::DIALECT.contains)(&mut q, "o.search_text", needle);
    push_visible(&mut q, viewer);
    q.push(&format!(
        " ORDER BY o.id LIMIT {}",
        super::persons::MAX_SEARCH_CANDIDATES
    ));
    db.rows(q).await
}

/// Computes every organization's name key (the migration that adds it).
pub async fn fill_sort_keys(db: &impl Db) -> Result<(), StoreError> {
    let names: Vec<(i64, String)> = db
        .rows(sql!("SELECT id, name FROM organizations ORDER BY id"))
        .await?;
    for (id, name) in names {
        db.execute(sql!(
            "UPDATE organizations SET name_key = ? WHERE id = ?",
            sort_key(&name),
            id
        ))
        .await?;
    }
    Ok(())
}
