//! Pipelines and their stages: where deals sit. Every company starts with one pipeline and
//! Pipedrive's default stages; the pipeline with the lowest `order_nr` is the default, and a
//! pipeline's first stage is its stage with the lowest `order_nr`. Managing them is for admins.

use std::sync::Arc;

use super::error::DomainError;
use super::person::MAX_TEXT;
use super::ports::{Edit, Store};
use super::query::{ListQuery, SortField, one_page};
use super::{Session, Timestamp, values};
use crate::domain::webhook::Stamp;

/// The pipeline a new company starts with, and its stages in order. Pipedrive does not
/// document a new account's pipeline; these are the names its trial accounts show.
pub const DEFAULT_PIPELINE: &str = "Pipeline";
pub const DEFAULT_STAGES: [&str; 5] = [
    "Qualified",
    "Contact Made",
    "Demo Scheduled",
    "Proposal Made",
    "Negotiations Started",
];

/// The deal probability a stage has unless told otherwise (Pipedrive's default, as in every
/// example of its documents).
pub const DEFAULT_STAGE_PROBABILITY: i64 = 100;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Pipeline {
    pub id: i64,
    pub company_id: i64,
    pub name: String,
    pub order_nr: i64,
    /// v2's `is_deal_probability_enabled`: whether deals of the pipeline show a probability.
    pub deal_probability: bool,
    pub active: bool,
    pub add_time: Timestamp,
    pub update_time: Timestamp,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Stage {
    pub id: i64,
    pub company_id: i64,
    pub pipeline_id: i64,
    pub name: String,
    pub order_nr: i64,
    /// 0–100: the chance a deal in this stage is won, for weighted values.
    pub deal_probability: i64,
    /// v2's `is_deal_rot_enabled` and `days_to_rotten`.
    pub rotten: bool,
    pub rotten_days: Option<i64>,
    pub active: bool,
    pub add_time: Timestamp,
    pub update_time: Timestamp,
}

/// What a client asked for when adding or changing a pipeline; `None` leaves a value alone.
#[derive(Debug, Default)]
pub struct PipelineDraft {
    pub name: Option<String>,
    pub deal_probability: Option<bool>,
}

/// What a client asked for when adding or changing a stage; `rotten_days: Some(None)` clears.
#[derive(Debug, Default)]
pub struct StageDraft {
    pub name: Option<String>,
    pub pipeline_id: Option<i64>,
    pub deal_probability: Option<i64>,
    pub rotten: Option<bool>,
    pub rotten_days: Option<Option<i64>>,
}

#[derive(Debug, Clone)]
pub struct NewPipeline {
    pub company_id: i64,
    pub name: String,
    pub deal_probability: bool,
    pub now: Timestamp,
    /// Who adds it (0: pipestack itself, for a new company).
    pub user_id: i64,
}

/// Column-level changes of a pipeline; `None` leaves a column alone.
#[derive(Debug, Clone, Default)]
pub struct PipelineChanges {
    pub name: Option<String>,
    pub deal_probability: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct NewStage {
    pub company_id: i64,
    pub pipeline_id: i64,
    pub name: String,
    pub deal_probability: i64,
    pub rotten: bool,
    pub rotten_days: Option<i64>,
    pub now: Timestamp,
    /// Who adds it (0: pipestack itself, for a new company).
    pub user_id: i64,
}

/// Column-level changes of a stage. A new `pipeline_id` moves the stage, with its deals, to
/// the end of that pipeline.
#[derive(Debug, Clone, Default)]
pub struct StageChanges {
    pub name: Option<String>,
    pub pipeline_id: Option<i64>,
    pub deal_probability: Option<i64>,
    pub rotten: Option<bool>,
    pub rotten_days: Option<Option<i64>>,
}

pub fn pipeline_not_found() -> DomainError {
    DomainError::NotFound("Pipeline not found".into())
}

pub fn stage_not_found() -> DomainError {
    DomainError::NotFound("Stage not found".into())
}

/// The refusal of a reference to a pipeline that is not an active pipeline of the company.
pub fn no_such_pipeline(id: i64) -> DomainError {
    DomainError::invalid("pipeline_id", format!("pipeline {id} not found"))
}

/// The refusal of a reference to a stage that is not an active stage of the company.
pub fn no_such_stage(id: i64) -> DomainError {
    DomainError::invalid("stage_id", format!("stage {id} not found"))
}

/// The refusal of a deal for a pipeline without stages (or, `None`, when the company has no
/// pipeline with a stage to put a deal in by default).
pub fn no_stage_in(pipeline: Option<i64>) -> DomainError {
    match pipeline {
        Some(id) => DomainError::invalid(
            "pipeline_id",
            format!("pipeline {id} has no stage to put the deal in: add one first"),
        ),
        None => DomainError::refused(
            "There is no pipeline with a stage to put the deal in: add one \
             (POST /api/v2/pipelines, then POST /api/v2/stages) or name a stage_id.",
        ),
    }
}

fn check_name(name: Option<String>) -> Result<Option<String>, DomainError> {
    let Some(name) = name.map(|n| n.trim().to_owned()) else {
        return Ok(None);
    };
    if name.is_empty() {
        return Err(DomainError::invalid("name", "must not be empty"));
    }
    values::max_chars("name", &name, MAX_TEXT)?;
    Ok(Some(name))
}

fn check_probability(p: Option<i64>) -> Result<Option<i64>, DomainError> {
    match p {
        Some(p) if !(0..=100).contains(&p) => Err(DomainError::invalid(
            "deal_probability",
            format!("must be between 0 and 100, got {p}"),
        )),
        p => Ok(p),
    }
}

fn check_rotten_days(d: Option<Option<i64>>) -> Result<Option<Option<i64>>, DomainError> {
    match d {
        Some(Some(n)) if n < 1 => Err(DomainError::invalid(
            "days_to_rotten",
            format!("must be a positive number of days, got {n}"),
        )),
        d => Ok(d),
    }
}

pub async fn find_pipeline(
    store: &dyn Store,
    session: &Session,
    id: i64,
) -> Result<Pipeline, DomainError> {
    store
        .pipeline(session.company.id, id)
        .await?
        .ok_or_else(pipeline_not_found)
}

pub async fn find_stage(
    store: &dyn Store,
    session: &Session,
    id: i64,
) -> Result<Stage, DomainError> {
    store
        .stage(session.company.id, id)
        .await?
        .ok_or_else(stage_not_found)
}

pub async fn add_pipeline(
    store: &dyn Store,
    session: &Session,
    draft: PipelineDraft,
) -> Result<Pipeline, DomainError> {
    session.require_admin()?;
    let name = check_name(draft.name)?.ok_or_else(|| DomainError::Required("name".into()))?;
    let new = NewPipeline {
        company_id: session.company.id,
        name,
        deal_probability: draft.deal_probability.unwrap_or(false),
        now: session.now(),
        user_id: session.user.id,
    };
    Ok(store.insert_pipeline(new).await?)
}

pub async fn update_pipeline(
    store: &dyn Store,
    session: &Session,
    id: i64,
    draft: PipelineDraft,
) -> Result<Pipeline, DomainError> {
    session.require_admin()?;
    let changes = PipelineChanges {
        name: check_name(draft.name)?,
        deal_probability: draft.deal_probability,
    };
    store
        .update_pipeline(session.company.id, id, changes, Stamp::by(session))
        .await?
        .ok_or_else(pipeline_not_found)
}

/// Refuses to delete what still holds deals: as in Pipedrive's app, where deleting a stage
/// with deals asks where to move them first, the client moves (or deletes) them first, and
/// a delete never strands a deal.
fn refuse_if_it_holds_deals(what: &'static str, id: i64) -> Edit<i64, ()> {
    Arc::new(move |deals: &i64| {
        if *deals > 0 {
            Err(DomainError::refused(format!(
                "The {what} {id} holds {deals} deal(s): move them to another stage, or delete \
                 them, before deleting the {what}."
            )))
        } else {
            Ok(())
        }
    })
}

/// Deletes an active pipeline and its stages (soft, like everything else), unless a deal is
/// still in it.
pub async fn delete_pipeline(
    store: &dyn Store,
    session: &Session,
    id: i64,
) -> Result<(), DomainError> {
    session.require_admin()?;
    let decide = refuse_if_it_holds_deals("pipeline", id);
    if store
        .delete_pipeline(session.company.id, id, decide, Stamp::by(session))
        .await?
    {
        Ok(())
    } else {
        Err(pipeline_not_found())
    }
}

pub async fn add_stage(
    store: &dyn Store,
    session: &Session,
    draft: StageDraft,
) -> Result<Stage, DomainError> {
    session.require_admin()?;
    let name = check_name(draft.name)?.ok_or_else(|| DomainError::Required("name".into()))?;
    let pipeline_id = draft
        .pipeline_id
        .ok_or_else(|| DomainError::Required("pipeline_id".into()))?;
    let new = NewStage {
        company_id: session.company.id,
        pipeline_id,
        name,
        deal_probability: check_probability(draft.deal_probability)?
            .unwrap_or(DEFAULT_STAGE_PROBABILITY),
        rotten: draft.rotten.unwrap_or(false),
        rotten_days: check_rotten_days(draft.rotten_days)?.flatten(),
        now: session.now(),
        user_id: session.user.id,
    };
    Ok(store.insert_stage(new).await?)
}

pub async fn update_stage(
    store: &dyn Store,
    session: &Session,
    id: i64,
    draft: StageDraft,
) -> Result<Stage, DomainError> {
    session.require_admin()?;
    let changes = StageChanges {
        name: check_name(draft.name)?,
        pipeline_id: draft.pipeline_id,
        deal_probability: check_probability(draft.deal_probability)?,
        rotten: draft.rotten,
        rotten_days: check_rotten_days(draft.rotten_days)?,
    };
    store
        .update_stage(session.company.id, id, changes, Stamp::by(session))
        .await?
        .ok_or_else(stage_not_found)
}

/// Deletes an active stage unless a deal is still in it.
pub async fn delete_stage(
    store: &dyn Store,
    session: &Session,
    id: i64,
) -> Result<(), DomainError> {
    session.require_admin()?;
    let decide = refuse_if_it_holds_deals("stage", id);
    if store
        .delete_stage(session.company.id, id, decide, Stamp::by(session))
        .await?
    {
        Ok(())
    } else {
        Err(stage_not_found())
    }
}

/// Which stages a list holds: those of one pipeline, or of every pipeline. Deleted pipelines
/// and stages are never listed.
#[derive(Debug, Clone, Default)]
pub struct StageFilter {
    pub pipeline_id: Option<i64>,
}

/// The integer a list of pipelines or stages is sorted and paged by.
pub fn sort_key(
    field: SortField,
    id: i64,
    order_nr: i64,
    add: Timestamp,
    update: Timestamp,
) -> i64 {
    match field {
        SortField::OrderNr => order_nr,
        SortField::AddTime => add.0,
        SortField::UpdateTime => update.0,
        _ => id,
    }
}

/// One page of the company's pipelines and whether more follow.
pub async fn list_pipelines(
    store: &dyn Store,
    session: &Session,
    query: ListQuery<()>,
) -> Result<(Vec<Pipeline>, bool), DomainError> {
    one_page(query, |q| store.list_pipelines(session.company.id, q)).await
}

/// One page of the company's stages and whether more follow.
pub async fn list_stages(
    store: &dyn Store,
    session: &Session,
    query: ListQuery<StageFilter>,
) -> Result<(Vec<Stage>, bool), DomainError> {
    one_page(query, |q| store.list_stages(session.company.id, q)).await
}
