//! v2 pipelines and stages: list (cursor), get, add, update (PATCH), delete.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::ListOrder;
use crate::api::ApiResult;
use crate::api::envelope::{cursor_page, success};
use crate::api::extract::{Caller, PathId};
use crate::api::parse::{QueryParams, reject_fields};
use crate::api::payload::Payload;
use crate::domain::pipeline::{
    self, Pipeline, PipelineDraft, Stage, StageDraft, StageFilter, sort_key,
};
use crate::domain::query::{self, ListQuery, Page, SortField};
use crate::domain::values;
use crate::error::ApiError;

pub fn render_pipeline(p: &Pipeline) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "order_nr": p.order_nr,
        "is_deleted": !p.active,
        "is_deal_probability_enabled": p.deal_probability,
        "add_time": p.add_time.rfc3339(),
        "update_time": p.update_time.rfc3339(),
    })
}

pub fn render_stage(s: &Stage) -> Value {
    json!({
        "id": s.id,
        "order_nr": s.order_nr,
        "name": s.name,
        "is_deleted": !s.active,
        "deal_probability": s.deal_probability,
        "pipeline_id": s.pipeline_id,
        "is_deal_rot_enabled": s.rotten,
        "days_to_rotten": s.rotten_days,
        "add_time": s.add_time.rfc3339(),
        "update_time": s.update_time.rfc3339(),
    })
}

fn one(data: Value) -> ApiResult {
    Ok(success(StatusCode::OK, data, None, None))
}

const KEYS_READ_ONLY: &[&str] = &["id", "order_nr", "is_deleted", "add_time", "update_time"];

fn pipeline_draft(body: Map<String, Value>) -> Result<PipelineDraft, ApiError> {
    let mut d = PipelineDraft::default();
    let mut invalid = Vec::new();
    for (key, v) in body {
        match key.as_str() {
            "name" => d.name = Some(values::string("name", &v)?.to_owned()),
            "is_deal_probability_enabled" => {
                d.deal_probability = Some(values::boolean(&key, &v)?);
            }
            k if KEYS_READ_ONLY.contains(&k) => invalid.push(format!("{k} (read-only)")),
            _ => invalid.push(format!("{key} (unknown field)")),
        }
    }
    reject_fields(&invalid)?;
    Ok(d)
}

fn stage_draft(body: Map<String, Value>) -> Result<StageDraft, ApiError> {
    let mut d = StageDraft::default();
    let mut invalid = Vec::new();
    for (key, v) in body {
        match key.as_str() {
            "name" => d.name = Some(values::string("name", &v)?.to_owned()),
            "pipeline_id" => d.pipeline_id = Some(values::id("pipeline_id", &v)?),
            "deal_probability" => d.deal_probability = Some(values::integer(&key, &v)?),
            "is_deal_rot_enabled" => d.rotten = Some(values::boolean(&key, &v)?),
            "days_to_rotten" if v.is_null() => d.rotten_days = Some(None),
            "days_to_rotten" => d.rotten_days = Some(Some(values::integer(&key, &v)?)),
            k if KEYS_READ_ONLY.contains(&k) => invalid.push(format!("{k} (read-only)")),
            _ => invalid.push(format!("{key} (unknown field)")),
        }
    }
    reject_fields(&invalid)?;
    Ok(d)
}

/// `GET /api/v2/pipelines`.
pub async fn get_pipelines(Caller { session, store }: Caller, q: QueryParams) -> ApiResult {
    let limit = query::limit(q.int("limit")?)?;
    let order = ListOrder::parse(&q)?;
    let query = ListQuery {
        filter: (),
        order: vec![(order.sort_by, order.direction)],
        page: Page::After(order.after),
        limit,
    };
    let (pipelines, more) = pipeline::list_pipelines(store.as_ref(), &session, query).await?;
    let last = pipelines.last().map(|p| {
        let key = sort_key(order.sort_by, p.id, p.order_nr, p.add_time, p.update_time);
        (key, p.id)
    });
    Ok(cursor_page(
        pipelines.iter().map(render_pipeline).collect::<Vec<_>>(),
        order.next_cursor(last, more),
    ))
}

/// `GET /api/v2/pipelines/{id}`: deleted ones too, with `is_deleted: true`.
pub async fn get_pipeline(Caller { session, store }: Caller, PathId(id): PathId) -> ApiResult {
    let p = pipeline::find_pipeline(store.as_ref(), &session, id).await?;
    one(render_pipeline(&p))
}

/// `POST /api/v2/pipelines`: 200, as Pipedrive's v2 says.
pub async fn add_pipeline(Caller { session, store }: Caller, Payload(body): Payload) -> ApiResult {
    let p = pipeline::add_pipeline(store.as_ref(), &session, pipeline_draft(body)?).await?;
    one(render_pipeline(&p))
}

pub async fn update_pipeline(
    Caller { session, store }: Caller,
    PathId(id): PathId,
    Payload(body): Payload,
) -> ApiResult {
    let p = pipeline::update_pipeline(store.as_ref(), &session, id, pipeline_draft(body)?).await?;
    one(render_pipeline(&p))
}

pub async fn delete_pipeline(Caller { session, store }: Caller, PathId(id): PathId) -> ApiResult {
    pipeline::delete_pipeline(store.as_ref(), &session, id).await?;
    one(json!({ "id": id }))
}

/// What stages can be sorted by: v2's list sorts and their position.
const STAGE_SORTS: &[SortField] = &[
    SortField::Id,
    SortField::UpdateTime,
    SortField::AddTime,
    SortField::OrderNr,
];

/// `GET /api/v2/stages`: of one pipeline (`pipeline_id`) or all.
pub async fn get_stages(Caller { session, store }: Caller, q: QueryParams) -> ApiResult {
    let limit = query::limit(q.int("limit")?)?;
    let order = ListOrder::parse_among(&q, STAGE_SORTS)?;
    let query = ListQuery {
        filter: StageFilter {
            pipeline_id: q.id("pipeline_id")?,
        },
        order: vec![(order.sort_by, order.direction)],
        page: Page::After(order.after),
        limit,
    };
    let (stages, more) = pipeline::list_stages(store.as_ref(), &session, query).await?;
    let last = stages.last().map(|s| {
        let key = sort_key(order.sort_by, s.id, s.order_nr, s.add_time, s.update_time);
        (key, s.id)
    });
    Ok(cursor_page(
        stages.iter().map(render_stage).collect::<Vec<_>>(),
        order.next_cursor(last, more),
    ))
}

pub async fn get_stage(Caller { session, store }: Caller, PathId(id): PathId) -> ApiResult {
    let s = pipeline::find_stage(store.as_ref(), &session, id).await?;
    one(render_stage(&s))
}

pub async fn add_stage(Caller { session, store }: Caller, Payload(body): Payload) -> ApiResult {
    let s = pipeline::add_stage(store.as_ref(), &session, stage_draft(body)?).await?;
    one(render_stage(&s))
}

pub async fn update_stage(
    Caller { session, store }: Caller,
    PathId(id): PathId,
    Payload(body): Payload,
) -> ApiResult {
    let s = pipeline::update_stage(store.as_ref(), &session, id, stage_draft(body)?).await?;
    one(render_stage(&s))
}

pub async fn delete_stage(Caller { session, store }: Caller, PathId(id): PathId) -> ApiResult {
    pipeline::delete_stage(store.as_ref(), &session, id).await?;
    one(json!({ "id": id }))
}
