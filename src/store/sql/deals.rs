//! Deals: their column list and row mapper, where a new or moved deal goes (resolved inside
//! the write), lists, search, changes and deletes.

use std::sync::LazyLock;

use super::followers::{self, Item};
use super::paging::{SortColumn, nullable, order_and_page, plain};
use super::{Db, FromRow, Query, Row, first, insert_id, lock, share, sql, to_json, vanished};
use crate::domain::collation::sort_key;
use crate::domain::deal::{
    Closing, CustomRef, DELETED_LISTED_FOR_SECS, Deal, DealChanges, DealFilter, DealStatus,
    NewDeal, Placement, search_text,
};
use crate::domain::pipeline::{no_stage_in, no_such_stage};
use crate::domain::ports::{Edit, StoreError};
use crate::domain::query::{ListQuery, Page, SortField};
use crate::domain::references::Reference;
use crate::domain::{Kind, Timestamp, Visibility};

static COLUMNS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "d.id, d.company_id, d.creator_user_id, d.owner_id, d.person_id, d.org_id, \
         d.pipeline_id, d.stage_id, d.title, d.value, d.currency, d.status, d.probability, \
         d.lost_reason, d.visible_to, d.expected_close_date, d.label_ids, d.custom_fields, \
         d.origin, d.is_archived, d.archive_time, d.stage_change_time, d.won_time, \
         d.lost_time, d.close_time, d.first_won_time, d.active_flag, d.add_time, \
         d.update_time, d.delete_time, {}",
        followers::ids_of(Kind::Deal)
    )
});

/// Keeps deals the viewer may see.
pub const VISIBLE: &str = " AND (d.visible_to <> 1 OR d.owner_id = ? OR EXISTS (\
    SELECT 1 FROM followers f WHERE f.kind = 'deal' AND f.item_id = d.id AND f.user_id = ?))";

impl FromRow for Deal {
    fn from_row(r: &impl Row) -> Result<Self, StoreError> {
        let status = r.text(11)?;
        Ok(Deal {
            id: r.int(0)?,
            company_id: r.int(1)?,
            creator_user_id: r.int(2)?,
            owner_id: r.int(3)?,
            person_id: r.opt_int(4)?,
            org_id: r.opt_int(5)?,
            pipeline_id: r.int(6)?,
            stage_id: r.int(7)?,
            title: r.string(8)?,
            value: r.real(9)?,
            currency: r.string(10)?,
            status: DealStatus::from_name(status)
                .ok_or_else(|| StoreError::Internal(format!("a deal's status is {status:?}")))?,
            probability: r.opt_real(12)?,
            visible_to: Visibility::new(r.int(14)?).unwrap_or(Visibility::DEFAULT),
            expected_close_date: r.opt_string(15)?,
            label_ids: r.json(16)?,
            custom_fields: r.json(17)?,
            origin: r.string(18)?,
            is_archived: r.flag(19)?,
            archive_time: r.opt_time(20)?,
            stage_change_time: r.opt_time(21)?,
            closing: Closing {
                won_time: r.opt_time(22)?,
                lost_time: r.opt_time(23)?,
                close_time: r.opt_time(24)?,
                first_won_time: r.opt_time(25)?,
                lost_reason: r.opt_string(13)?,
            },
            active: r.flag(26)?,
            add_time: r.time(27)?,
            update_time: r.time(28)?,
            delete_time: r.opt_time(29)?,
            follower_ids: r.ids(30)?,
        })
    }
}

/// `SELECT <columns> FROM deals d WHERE ` and the rest of the query.
fn select(rest: &str) -> String {
    format!("SELECT {} FROM deals d WHERE {rest}", *COLUMNS)
}

pub async fn get(db: &impl Db, company_id: i64, id: i64) -> Result<Option<Deal>, StoreError> {
    first(
        db,
        sql!(select("d.company_id = ? AND d.id = ?"), company_id, id),
    )
    .await
}

/// A stage and its pipeline.
struct StageRow(i64, i64);

impl FromRow for StageRow {
    fn from_row(r: &impl Row) -> Result<Self, StoreError> {
        Ok(StageRow(r.int(0)?, r.int(1)?))
    }
}

/// The first active stage of the first active pipeline `pipelines` lets through (the
/// lowest `order_nr`s), both locked shared: one statement.
async fn first_stage<D: Db>(
    db: &D,
    company_id: i64,
    pipeline_id: Option<i64>,
) -> Result<Option<StageRow>, StoreError> {
    let mut q = sql!(
        "SELECT s.id, s.pipeline_id FROM stages s JOIN pipelines p ON p.id = s.pipeline_id \
         WHERE p.company_id = ? AND p.active_flag = TRUE AND s.active_flag = TRUE",
        company_id
    );
    if let Some(id) = pipeline_id {
        q.push_arg(" AND p.id = ?", id);
    }
    q.push(" ORDER BY p.order_nr, p.id, s.order_nr, s.id LIMIT 1");
    share::<D>(&mut q, "s, p");
    first(db, q).await
}

/// Where a deal goes (the stage and its pipeline), on the pipelines and stages as they are
/// inside the write, held shared until it commits so that none is deleted in between.
async fn place<D: Db>(
    db: &D,
    company_id: i64,
    placement: Placement,
) -> Result<(i64, i64), StoreError> {
    let found = match placement {
        Placement::Stage(id) => {
            let mut q = sql!(
                "SELECT s.id, s.pipeline_id FROM stages s JOIN pipelines p ON p.id = s.pipeline_id \
                 WHERE s.company_id = ? AND s.id = ? AND s.active_flag = TRUE \
                 AND p.active_flag = TRUE",
                company_id,
                id
            );
            share::<D>(&mut q, "s, p");
            let stage: Option<StageRow> = first(db, q).await?;
            stage.ok_or_else(|| StoreError::refused(no_such_stage(id)))?
        }
        Placement::Pipeline(id) => match first_stage(db, company_id, Some(id)).await? {
            Some(stage) => stage,
            None => {
                // Which refusal: no such pipeline, or one without a stage.
                super::pipelines::require_active(db, company_id, id).await?;
                return Err(StoreError::refused(no_stage_in(Some(id))));
            }
        },
        Placement::Default => first_stage(db, company_id, None)
            .await?
            .ok_or_else(|| StoreError::refused(no_stage_in(None)))?,
    };
    Ok((found.1, found.0))
}

/// Checks, inside the write, that the person and organization a deal is for are active (and,
/// with a `viewer`, visible to that user), and holds them shared until it commits (a delete or
/// merge then runs wholly before or after).
async fn require_contacts<D: Db>(
    db: &D,
    company_id: i64,
    person_id: Option<i64>,
    org_id: Option<i64>,
    viewer: Option<i64>,
) -> Result<(), StoreError> {
    let person = |q: &mut Query, p: i64| {
        q.push_arg(" p.company_id = ?", company_id);
        q.push_arg(" AND p.id = ? AND p.active_flag = TRUE", p);
        if let Some(v) = viewer {
            q.push(super::persons::VISIBLE);
            q.args.extend([v.into(), v.into()]);
        }
    };
    let org = |q: &mut Query, o: i64| {
        q.push_arg(" o.company_id = ?", company_id);
        q.push_arg(" AND o.id = ? AND o.active_flag = TRUE", o);
        if let Some(v) = viewer {
            q.push(super::organizations::VISIBLE);
            q.args.extend([v.into(), v.into()]);
        }
    };
    if let (Some(p), Some(o)) = (person_id, org_id) {
        // Both in one statement; only when one is missing is it asked which.
        let mut q = sql!("SELECT p.id FROM persons p, organizations o WHERE");
        person(&mut q, p);
        q.push(" AND");
        org(&mut q, o);
        share::<D>(&mut q, "p, o");
        let found: Option<i64> = first(db, q).await?;
        if found.is_some() {
            return Ok(());
        }
    }
    if let Some(p) = person_id {
        let mut q = sql!("SELECT p.id FROM persons p WHERE");
        person(&mut q, p);
        share::<D>(&mut q, "p");
        let found: Option<i64> = first(db, q).await?;
        if found.is_none() {
            return Err(StoreError::refused(Reference::person(p).fail()));
        }
    }
    if let Some(o) = org_id {
        let mut q = sql!("SELECT o.id FROM organizations o WHERE");
        org(&mut q, o);
        share::<D>(&mut q, "o");
        let found: Option<i64> = first(db, q).await?;
        if found.is_none() {
            return Err(StoreError::refused(Reference::org(o).fail()));
        }
    }
    Ok(())
}

/// Checks, inside the write, that the persons and organizations custom values newly name are
/// active, and holds them shared until it commits (as [`require_contacts`] does for the
/// contact person and organization).
async fn require_refs<D: Db>(
    db: &D,
    company_id: i64,
    refs: &[&CustomRef],
) -> Result<(), StoreError> {
    for r in refs {
        let (table, alias) = match r.kind {
            Kind::Person => ("persons", "p"),
            _ => ("organizations", "o"),
        };
        let mut q = sql!(
            format!(
                "SELECT {alias}.id FROM {table} {alias} WHERE {alias}.company_id = ? \
                 AND {alias}.id = ? AND {alias}.active_flag = TRUE"
            ),
            company_id,
            r.item_id
        );
        share::<D>(&mut q, alias);
        let found: Option<i64> = first(db, q).await?;
        if found.is_none() {
            return Err(StoreError::refused(crate::domain::DomainError::invalid(
                &r.field_key,
                format!("{} does not exist in this company", r.item_id),
            )));
        }
    }
    Ok(())
}

/// Rewrites the persons and organizations a deal's custom values name.
async fn write_refs(
    db: &impl Db,
    company_id: i64,
    deal_id: i64,
    refs: &[CustomRef],
) -> Result<(), StoreError> {
    db.execute(sql!("DELETE FROM deal_refs WHERE deal_id = ?", deal_id))
        .await?;
    insert_refs(db, company_id, deal_id, refs).await
}

/// Records the persons and organizations a deal's custom values name.
async fn insert_refs(
    db: &impl Db,
    company_id: i64,
    deal_id: i64,
    refs: &[CustomRef],
) -> Result<(), StoreError> {
    for r in refs {
        db.execute(sql!(
            "INSERT INTO deal_refs (company_id, deal_id, field_key, kind, item_id) \
             VALUES (?, ?, ?, ?, ?)",
            company_id,
            deal_id,
            &r.field_key,
            r.kind.as_str(),
            r.item_id
        ))
        .await?;
    }
    Ok(())
}

/// Inserts a deal where its placement says; the deal as stored.
pub async fn insert<D: Db>(db: &D, d: &NewDeal) -> Result<Deal, StoreError> {
    let (pipeline_id, stage_id) = place(db, d.company_id, d.placement).await?;
    require_contacts(db, d.company_id, d.person_id, d.org_id, d.contacts_for).await?;
    require_refs(db, d.company_id, &d.refs.iter().collect::<Vec<_>>()).await?;
    let c = &d.closing;
    let id = insert_id(
        db,
        sql!(
            "INSERT INTO deals (company_id, creator_user_id, owner_id, person_id, org_id, \
             pipeline_id, stage_id, title, title_key, value, currency, status, probability, \
             lost_reason, visible_to, expected_close_date, label_ids, custom_fields, origin, \
             is_archived, archive_time, search_text, stage_change_time, won_time, lost_time, \
             close_time, first_won_time, active_flag, add_time, update_time) VALUES \
             (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, \
             TRUE, ?, ?)",
            d.company_id,
            d.creator_user_id,
            d.owner_id,
            d.person_id,
            d.org_id,
            pipeline_id,
            stage_id,
            &d.title,
            sort_key(&d.title),
            d.value,
            &d.currency,
            d.status.as_str(),
            d.probability,
            c.lost_reason.as_deref(),
            d.visible_to.get(),
            d.expected_close_date.as_deref(),
            to_json(&d.label_ids)?,
            to_json(&d.custom_fields)?,
            &d.origin,
            d.is_archived,
            d.archive_time,
            search_text(&d.title, &d.custom_fields),
            c.won_time,
            c.lost_time,
            c.close_time,
            c.first_won_time,
            d.add_time,
            d.update_time
        ),
    )
    .await?;
    insert_refs(db, d.company_id, id, &d.refs).await?;
    let item = Item {
        company_id: d.company_id,
        kind: Kind::Deal,
        id,
    };
    followers::follow_new(db, item, d.owner_id, d.creator_user_id, d.update_time).await?;
    Ok(d.stored(id, pipeline_id, stage_id))
}

/// Changes a non-deleted deal as `edit` decides on it, locked: before and after; `None` when
/// there is none.
pub async fn update<D: Db>(
    db: &D,
    company_id: i64,
    id: i64,
    edit: Edit<Deal, DealChanges>,
    now: Timestamp,
) -> Result<Option<(Deal, Deal)>, StoreError> {
    let mut q = sql!(
        select("d.company_id = ? AND d.id = ? AND d.active_flag = TRUE"),
        company_id,
        id
    );
    lock::<D>(&mut q, "d");
    let current: Option<Deal> = first(db, q).await?;
    let Some(current) = current else {
        return Ok(None);
    };
    let ch = edit(&current).map_err(StoreError::refused)?;
    if ch.is_empty() {
        return Ok(Some((current.clone(), current)));
    }
    let person = ch.person_id.flatten();
    let org = ch.org_id.flatten();
    require_contacts(db, company_id, person, org, None).await?;
    let mut q = sql!("UPDATE deals SET update_time = ?", now);
    if let Some(placement) = ch.placement {
        let (pipeline_id, stage_id) = place(db, company_id, placement).await?;
        q.push_arg(", pipeline_id = ?", pipeline_id);
        if stage_id != current.stage_id {
            q.push_arg(", stage_id = ?", stage_id);
            q.push_arg(", stage_change_time = ?", now);
        }
    }
    if let Some(title) = &ch.title {
        q.push_arg(", title = ?", title);
        q.push_arg(", title_key = ?", sort_key(title));
    }
    if let Some(owner) = ch.owner_id {
        q.push_arg(", owner_id = ?", owner);
    }
    if let Some(person) = ch.person_id {
        q.push_arg(", person_id = ?", person);
    }
    if let Some(org) = ch.org_id {
        q.push_arg(", org_id = ?", org);
    }
    if let Some(v) = ch.value {
        q.push_arg(", value = ?", v);
    }
    if let Some(c) = &ch.currency {
        q.push_arg(", currency = ?", c);
    }
    if let Some(s) = ch.status {
        q.push_arg(", status = ?", s.as_str());
    }
    if let Some(p) = ch.probability {
        q.push_arg(", probability = ?", p);
    }
    if let Some(v) = ch.visible_to {
        q.push_arg(", visible_to = ?", v.get());
    }
    if let Some(d) = &ch.expected_close_date {
        q.push_arg(", expected_close_date = ?", d.as_deref());
    }
    if let Some(labels) = &ch.label_ids {
        q.push_arg(", label_ids = ?", to_json(labels)?);
    }
    if let Some(a) = ch.is_archived {
        q.push_arg(", is_archived = ?", a);
    }
    if let Some(t) = ch.archive_time {
        q.push_arg(", archive_time = ?", t);
    }
    if let Some(c) = &ch.closing {
        q.push_arg(", won_time = ?", c.won_time)
            .push_arg(", lost_time = ?", c.lost_time)
            .push_arg(", close_time = ?", c.close_time)
            .push_arg(", first_won_time = ?", c.first_won_time)
            .push_arg(", lost_reason = ?", c.lost_reason.as_deref());
    }
    let title = ch.title.as_deref().unwrap_or(&current.title);
    if let Some((custom, refs)) = &ch.custom_fields {
        // Only what the change names anew: a value kept names what it named.
        let new: Vec<&CustomRef> = refs
            .iter()
            .filter(|r| {
                current
                    .custom_fields
                    .get(&r.field_key)
                    .and_then(|v| v.as_i64())
                    != Some(r.item_id)
            })
            .collect();
        require_refs(db, company_id, &new).await?;
        q.push_arg(", custom_fields = ?", to_json(custom)?);
        q.push_arg(", search_text = ?", search_text(title, custom));
        write_refs(db, company_id, id, refs).await?;
    } else if ch.title.is_some() {
        q.push_arg(
            ", search_text = ?",
            search_text(title, &current.custom_fields),
        );
    }
    q.push_arg(" WHERE id = ?", id);
    db.execute(q).await?;
    let after = get(db, company_id, id)
        .await?
        .ok_or_else(|| vanished("deal"))?;
    Ok(Some((current, after)))
}

/// Soft-deletes a non-deleted deal; whether it was one.
pub async fn delete(
    db: &impl Db,
    company_id: i64,
    id: i64,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let q: Query = sql!(
        "UPDATE deals SET active_flag = FALSE, delete_time = ?, update_time = ? \
         WHERE company_id = ? AND id = ? AND active_flag = TRUE",
        now,
        now,
        company_id,
        id
    );
    Ok(db.execute(q).await? == 1)
}

/// Gives `into` the deals of `from` (a person merge), in the merge's transaction.
pub async fn move_person(
    db: &impl Db,
    company_id: i64,
    from: i64,
    into: i64,
    now: Timestamp,
) -> Result<(), StoreError> {
    db.execute(sql!(
        "UPDATE deals SET person_id = ?, update_time = ? WHERE company_id = ? AND person_id = ?",
        into,
        now,
        company_id,
        from
    ))
    .await?;
    Ok(())
}

/// How many (non-deleted) deals a stage or pipeline holds, inside the write that deletes it.
pub async fn held_by(db: &impl Db, column: Holder, id: i64) -> Result<i64, StoreError> {
    let sql = match column {
        Holder::Stage => "SELECT COUNT(*) FROM deals WHERE stage_id = ? AND active_flag = TRUE",
        Holder::Pipeline => {
            "SELECT COUNT(*) FROM deals WHERE pipeline_id = ? AND active_flag = TRUE"
        }
    };
    Ok(first(db, sql!(sql, id)).await?.unwrap_or(0))
}

/// What holds deals.
#[derive(Debug, Clone, Copy)]
pub enum Holder {
    Stage,
    Pipeline,
}

/// Moves a stage's deals along with it to another pipeline.
pub async fn follow_stage(db: &impl Db, stage_id: i64, pipeline_id: i64) -> Result<(), StoreError> {
    db.execute(sql!(
        "UPDATE deals SET pipeline_id = ? WHERE stage_id = ?",
        pipeline_id,
        stage_id
    ))
    .await?;
    Ok(())
}

/// Whether a list is an indexed walk that stops after its page (by id or update time, not
/// deep), cheap enough to run where the request runs rather than on a blocking thread.
pub fn is_quick(q: &ListQuery<DealFilter>) -> bool {
    let indexed = q.order.len() <= 1
        && q.order
            .iter()
            .all(|(f, _)| matches!(f, SortField::Id | SortField::UpdateTime));
    let shallow = match q.page {
        Page::Offset { start } => start <= super::persons::QUICK_OFFSET,
        Page::After(_) => true,
    };
    indexed && shallow && q.filter.org_related.is_none()
}

fn sort_column(f: SortField) -> Option<SortColumn> {
    match f {
        SortField::Id => plain("d.id"),
        SortField::AddTime => plain("d.add_time"),
        SortField::UpdateTime => plain("d.update_time"),
        SortField::Title => plain("d.title_key"),
        SortField::Value => plain("d.value"),
        SortField::OwnerId => plain("d.owner_id"),
        SortField::OrgId => nullable("d.org_id"),
        SortField::VisibleTo => plain("d.visible_to"),
        _ => None,
    }
}

fn push_filters(q: &mut Query, f: &DealFilter, now: Timestamp) {
    match (f.live, f.deleted) {
        (true, false) => {
            q.push(" AND d.active_flag = TRUE");
        }
        (false, true) => {
            q.push_arg(
                " AND d.active_flag = FALSE AND d.delete_time >= ?",
                now.0 - DELETED_LISTED_FOR_SECS,
            );
        }
        _ => {
            q.push_arg(
                " AND (d.active_flag = TRUE OR d.delete_time >= ?)",
                now.0 - DELETED_LISTED_FOR_SECS,
            );
        }
    }
    if !f.statuses.is_empty() {
        // Deleted deals keep their status; `deleted` alone asks for them whatever it is.
        let list: Vec<String> = f
            .statuses
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        if f.deleted {
            q.push(&format!(
                " AND (d.active_flag = FALSE OR d.status IN ({}))",
                list.join(", ")
            ));
        } else {
            q.push(&format!(" AND d.status IN ({})", list.join(", ")));
        }
    }
    if let Some(a) = f.archived {
        q.push_arg(" AND d.is_archived = ?", a);
    }
    if let Some(ids) = &f.ids {
        q.push(" AND ").push_in("d.id", ids);
    }
    if let Some(v) = f.owner_id {
        q.push_arg(" AND d.owner_id = ?", v);
    }
    if let Some(v) = f.person_id {
        q.push_arg(" AND d.person_id = ?", v);
    }
    if let Some(v) = f.org_id {
        if let Some(keys) = &f.org_related {
            // As the organization's related counts: its active contact persons' deals, and
            // those naming it in a live organization field.
            q.push_arg(
                " AND (d.org_id = ? OR d.person_id IN (SELECT p.id FROM persons p",
                v,
            );
            q.push_arg(" WHERE p.org_id = ? AND p.active_flag = TRUE)", v);
            if !keys.is_empty() {
                q.push(" OR d.id IN (SELECT r.deal_id FROM deal_refs r");
                q.push_arg(" WHERE r.kind = 'organization' AND r.item_id = ?", v);
                q.push(" AND r.field_key IN (");
                for (n, k) in keys.iter().enumerate() {
                    q.push_arg(if n == 0 { "?" } else { ", ?" }, k.as_str());
                }
                q.push("))");
            }
            q.push(")");
        } else {
            q.push_arg(" AND d.org_id = ?", v);
        }
    }
    if let Some(v) = f.pipeline_id {
        q.push_arg(" AND d.pipeline_id = ?", v);
    }
    if let Some(v) = f.stage_id {
        q.push_arg(" AND d.stage_id = ?", v);
    }
    if let Some(t) = f.updated_since {
        q.push_arg(" AND d.update_time >= ?", t);
    }
    if let Some(t) = f.updated_until {
        q.push_arg(" AND d.update_time < ?", t);
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
    q: &ListQuery<DealFilter>,
) -> Result<Vec<Deal>, StoreError> {
    // "Now" (the company's clock) only bounds the deleted deals a list shows: a list of live
    // ones, the usual kind, does not read it.
    let now = if q.filter.live && !q.filter.deleted {
        Timestamp::default()
    } else {
        super::tenants::clock(db, company_id).await?.now()
    };
    let mut sql = sql!(select("d.company_id = ?"), company_id);
    push_filters(&mut sql, &q.filter, now);
    order_and_page(&mut sql, &q.order, &q.page, q.limit, "d.id", sort_column);
    db.rows(sql).await
}

/// Non-deleted deals whose search text contains `needle`.
pub async fn search<D: Db>(
    db: &D,
    company_id: i64,
    needle: &str,
    viewer: Option<i64>,
) -> Result<Vec<Deal>, StoreError> {
    let mut q = sql!(
        select("d.company_id = ? AND d.active_flag = TRUE AND "),
        company_id
    );
    (D::DIALECT.contains)(&mut q, "d.search_text", needle);
    push_visible(&mut q, viewer);
    q.push(&format!(
        " ORDER BY d.id LIMIT {}",
        super::persons::MAX_SEARCH_CANDIDATES
    ));
    db.rows(q).await
}
