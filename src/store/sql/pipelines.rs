//! Pipelines and stages: their columns and row mappers, the default pipeline of a new company,
//! lists, changes and deletes.

use super::deals::{self, Holder};
use super::paging::{SortColumn, order_and_page, plain};
use super::{Db, FromRow, Query, Row, first, insert_id, lock, share, sql, vanished};
use crate::domain::Timestamp;
use crate::domain::pipeline::{
    DEFAULT_PIPELINE, DEFAULT_STAGE_PROBABILITY, DEFAULT_STAGES, NewPipeline, NewStage, Pipeline,
    PipelineChanges, Stage, StageChanges, StageFilter, no_such_pipeline,
};
use crate::domain::ports::{Edit, StoreError};
use crate::domain::query::{ListQuery, SortField};

const PIPELINE_COLUMNS: &str = "p.id, p.company_id, p.name, p.order_nr, p.deal_probability, \
    p.active_flag, p.add_time, p.update_time";

const STAGE_COLUMNS: &str = "s.id, s.company_id, s.pipeline_id, s.name, s.order_nr, \
    s.deal_probability, s.rotten_flag, s.rotten_days, s.active_flag, s.add_time, s.update_time";

impl FromRow for Pipeline {
    fn from_row(r: &impl Row) -> Result<Self, StoreError> {
        Ok(Pipeline {
            id: r.int(0)?,
            company_id: r.int(1)?,
            name: r.string(2)?,
            order_nr: r.int(3)?,
            deal_probability: r.flag(4)?,
            active: r.flag(5)?,
            add_time: r.time(6)?,
            update_time: r.time(7)?,
        })
    }
}

impl FromRow for Stage {
    fn from_row(r: &impl Row) -> Result<Self, StoreError> {
        Ok(Stage {
            id: r.int(0)?,
            company_id: r.int(1)?,
            pipeline_id: r.int(2)?,
            name: r.string(3)?,
            order_nr: r.int(4)?,
            deal_probability: r.int(5)?,
            rotten: r.flag(6)?,
            rotten_days: r.opt_int(7)?,
            active: r.flag(8)?,
            add_time: r.time(9)?,
            update_time: r.time(10)?,
        })
    }
}

/// A new company's pipeline and its stages (and, once, every existing company's: the
/// migration that adds pipelines).
pub async fn add_defaults(db: &impl Db, company_id: i64, at: Timestamp) -> Result<(), StoreError> {
    let pipeline = insert_pipeline(
        db,
        &NewPipeline {
            company_id,
            name: DEFAULT_PIPELINE.into(),
            deal_probability: false,
            now: at,
            user_id: 0,
        },
    )
    .await?;
    for name in DEFAULT_STAGES {
        insert_stage_row(
            db,
            &NewStage {
                company_id,
                pipeline_id: pipeline.id,
                name: name.into(),
                deal_probability: DEFAULT_STAGE_PROBABILITY,
                rotten: false,
                rotten_days: None,
                now: at,
                user_id: 0,
            },
        )
        .await?;
    }
    Ok(())
}

/// Gives every company without a pipeline the default one (the migration that adds them).
pub async fn fill_defaults(db: &impl Db) -> Result<(), StoreError> {
    let companies: Vec<i64> = db
        .rows(sql!(
            "SELECT c.id FROM companies c WHERE NOT EXISTS \
             (SELECT 1 FROM pipelines p WHERE p.company_id = c.id) ORDER BY c.id"
        ))
        .await?;
    let now = Timestamp::now();
    for company_id in companies {
        add_defaults(db, company_id, now).await?;
    }
    Ok(())
}

pub async fn pipeline(
    db: &impl Db,
    company_id: i64,
    id: i64,
) -> Result<Option<Pipeline>, StoreError> {
    first(
        db,
        sql!(
            format!(
                "SELECT {PIPELINE_COLUMNS} FROM pipelines p WHERE p.company_id = ? AND p.id = ?"
            ),
            company_id,
            id
        ),
    )
    .await
}

pub async fn insert_pipeline(db: &impl Db, p: &NewPipeline) -> Result<Pipeline, StoreError> {
    let id = insert_id(
        db,
        sql!(
            "INSERT INTO pipelines (company_id, name, order_nr, deal_probability, active_flag, \
             add_time, update_time) VALUES (?, ?, (SELECT COALESCE(MAX(order_nr), 0) + 1 FROM \
             pipelines WHERE company_id = ?), ?, TRUE, ?, ?)",
            p.company_id,
            &p.name,
            p.company_id,
            p.deal_probability,
            p.now,
            p.now
        ),
    )
    .await?;
    pipeline(db, p.company_id, id)
        .await?
        .ok_or_else(|| vanished("pipeline"))
}

fn pipeline_sort(f: SortField) -> Option<SortColumn> {
    match f {
        SortField::Id => plain("p.id"),
        SortField::AddTime => plain("p.add_time"),
        SortField::UpdateTime => plain("p.update_time"),
        SortField::OrderNr => plain("p.order_nr"),
        _ => None,
    }
}

pub async fn list_pipelines(
    db: &impl Db,
    company_id: i64,
    q: &ListQuery<()>,
) -> Result<Vec<Pipeline>, StoreError> {
    let mut sql = sql!(
        format!(
            "SELECT {PIPELINE_COLUMNS} FROM pipelines p WHERE p.company_id = ? \
             AND p.active_flag = TRUE"
        ),
        company_id
    );
    order_and_page(&mut sql, &q.order, &q.page, q.limit, "p.id", pipeline_sort);
    db.rows(sql).await
}

pub async fn update_pipeline(
    db: &impl Db,
    company_id: i64,
    id: i64,
    ch: &PipelineChanges,
    now: Timestamp,
) -> Result<Option<Pipeline>, StoreError> {
    let mut q = sql!("UPDATE pipelines SET update_time = ?", now);
    if let Some(name) = &ch.name {
        q.push_arg(", name = ?", name);
    }
    if let Some(flag) = ch.deal_probability {
        q.push_arg(", deal_probability = ?", flag);
    }
    q.push_arg(" WHERE company_id = ?", company_id)
        .push_arg(" AND id = ? AND active_flag = TRUE", id);
    if db.execute(q).await? == 0 {
        return Ok(None);
    }
    pipeline(db, company_id, id).await
}

/// Soft-deletes an active pipeline and its stages, locked, if `decide` allows it on the deals
/// it holds; whether it was active.
pub async fn delete_pipeline<D: Db>(
    db: &D,
    company_id: i64,
    id: i64,
    decide: Edit<i64, ()>,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let mut q = sql!(
        "SELECT p.id FROM pipelines p WHERE p.company_id = ? AND p.id = ? \
         AND p.active_flag = TRUE",
        company_id,
        id
    );
    lock::<D>(&mut q, "p");
    let found: Option<i64> = first(db, q).await?;
    if found.is_none() {
        return Ok(false);
    }
    decide(&deals::held_by(db, Holder::Pipeline, id).await?).map_err(StoreError::refused)?;
    let n = db
        .execute(sql!(
            "UPDATE pipelines SET active_flag = FALSE, update_time = ? WHERE company_id = ? \
             AND id = ? AND active_flag = TRUE",
            now,
            company_id,
            id
        ))
        .await?;
    if n == 0 {
        return Ok(false);
    }
    db.execute(sql!(
        "UPDATE stages SET active_flag = FALSE, update_time = ? WHERE company_id = ? \
         AND pipeline_id = ? AND active_flag = TRUE",
        now,
        company_id,
        id
    ))
    .await?;
    Ok(true)
}

/// Checks, inside a write that puts something in a pipeline, that the pipeline is active,
/// and holds it (shared) until the write commits, so that a delete cannot slip in between.
pub async fn require_active<D: Db>(db: &D, company_id: i64, id: i64) -> Result<(), StoreError> {
    let mut q = sql!(
        "SELECT p.id FROM pipelines p WHERE p.company_id = ? AND p.id = ? \
         AND p.active_flag = TRUE",
        company_id,
        id
    );
    share::<D>(&mut q, "p");
    let found: Option<i64> = first(db, q).await?;
    match found {
        Some(_) => Ok(()),
        None => Err(StoreError::refused(no_such_pipeline(id))),
    }
}

pub async fn stage(db: &impl Db, company_id: i64, id: i64) -> Result<Option<Stage>, StoreError> {
    first(
        db,
        sql!(
            format!("SELECT {STAGE_COLUMNS} FROM stages s WHERE s.company_id = ? AND s.id = ?"),
            company_id,
            id
        ),
    )
    .await
}

/// The `order_nr` after the last active stage of a pipeline.
const NEXT_STAGE_ORDER: &str = "(SELECT COALESCE(MAX(order_nr), 0) + 1 FROM stages WHERE pipeline_id = ? AND active_flag = TRUE)";

async fn insert_stage_row(db: &impl Db, s: &NewStage) -> Result<i64, StoreError> {
    insert_id(
        db,
        sql!(
            format!(
                "INSERT INTO stages (company_id, pipeline_id, name, order_nr, deal_probability, \
                 rotten_flag, rotten_days, active_flag, add_time, update_time) \
                 VALUES (?, ?, ?, {NEXT_STAGE_ORDER}, ?, ?, ?, TRUE, ?, ?)"
            ),
            s.company_id,
            s.pipeline_id,
            &s.name,
            s.pipeline_id,
            s.deal_probability,
            s.rotten,
            s.rotten_days,
            s.now,
            s.now
        ),
    )
    .await
}

/// Adds a stage to an active pipeline (checked here, inside the write).
pub async fn insert_stage<D: Db>(db: &D, s: &NewStage) -> Result<Stage, StoreError> {
    require_active(db, s.company_id, s.pipeline_id).await?;
    let id = insert_stage_row(db, s).await?;
    stage(db, s.company_id, id)
        .await?
        .ok_or_else(|| vanished("stage"))
}

fn stage_sort(f: SortField) -> Option<SortColumn> {
    match f {
        SortField::Id => plain("s.id"),
        SortField::AddTime => plain("s.add_time"),
        SortField::UpdateTime => plain("s.update_time"),
        SortField::OrderNr => plain("s.order_nr"),
        _ => None,
    }
}

pub async fn list_stages(
    db: &impl Db,
    company_id: i64,
    q: &ListQuery<StageFilter>,
) -> Result<Vec<Stage>, StoreError> {
    let mut sql = sql!(
        format!(
            "SELECT {STAGE_COLUMNS} FROM stages s WHERE s.company_id = ? AND s.active_flag = TRUE"
        ),
        company_id
    );
    if let Some(p) = q.filter.pipeline_id {
        sql.push_arg(" AND s.pipeline_id = ?", p);
    }
    order_and_page(&mut sql, &q.order, &q.page, q.limit, "s.id", stage_sort);
    db.rows(sql).await
}

/// Changes an active stage, locked; a new pipeline (active, checked here) takes it at its
/// end.
pub async fn update_stage<D: Db>(
    db: &D,
    company_id: i64,
    id: i64,
    ch: &StageChanges,
    now: Timestamp,
) -> Result<Option<Stage>, StoreError> {
    let mut q = sql!(
        format!(
            "SELECT {STAGE_COLUMNS} FROM stages s WHERE s.company_id = ? AND s.id = ? \
             AND s.active_flag = TRUE"
        ),
        company_id,
        id
    );
    lock::<D>(&mut q, "s");
    let current: Option<Stage> = first(db, q).await?;
    let Some(current) = current else {
        return Ok(None);
    };
    let mut q = sql!("UPDATE stages SET update_time = ?", now);
    if let Some(pipeline_id) = ch.pipeline_id.filter(|p| *p != current.pipeline_id) {
        require_active(db, company_id, pipeline_id).await?;
        q.push_arg(", pipeline_id = ?", pipeline_id);
        q.push_arg(&format!(", order_nr = {NEXT_STAGE_ORDER}"), pipeline_id);
        deals::follow_stage(db, id, pipeline_id).await?;
    }
    if let Some(name) = &ch.name {
        q.push_arg(", name = ?", name);
    }
    if let Some(p) = ch.deal_probability {
        q.push_arg(", deal_probability = ?", p);
    }
    if let Some(flag) = ch.rotten {
        q.push_arg(", rotten_flag = ?", flag);
    }
    if let Some(days) = ch.rotten_days {
        q.push_arg(", rotten_days = ?", days);
    }
    q.push_arg(" WHERE id = ?", id);
    db.execute(q).await?;
    stage(db, company_id, id).await
}

/// Soft-deletes an active stage, locked, if `decide` allows it on the deals it holds; whether
/// it was active.
pub async fn delete_stage<D: Db>(
    db: &D,
    company_id: i64,
    id: i64,
    decide: Edit<i64, ()>,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let mut q = sql!(
        "SELECT s.id FROM stages s WHERE s.company_id = ? AND s.id = ? AND s.active_flag = TRUE",
        company_id,
        id
    );
    lock::<D>(&mut q, "s");
    let found: Option<i64> = first(db, q).await?;
    if found.is_none() {
        return Ok(false);
    }
    decide(&deals::held_by(db, Holder::Stage, id).await?).map_err(StoreError::refused)?;
    let q: Query = sql!(
        "UPDATE stages SET active_flag = FALSE, update_time = ? WHERE company_id = ? AND id = ? \
         AND active_flag = TRUE",
        now,
        company_id,
        id
    );
    Ok(db.execute(q).await? == 1)
}
