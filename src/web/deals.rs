//! Deals by pipeline and stage: a board of the open deals, each movable to another stage by a
//! form (a keyboard and no script suffice), through the API's own rules for a deal's change.

use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use serde_json::{Map, json};

use super::forms::{self, Problem, field, text_field};
use super::pages::{error_page, failure, forbidden, layout, not_found, pager};
use super::{Form, Posted, Web, html as page, see};
use crate::domain::deal::{self, Deal, DealDraft, DealFilter, DealStatus};
use crate::domain::pipeline::{self, Pipeline, Stage, StageFilter};
use crate::domain::query::{ListQuery, Page};
use crate::domain::{Fields, Kind};
use crate::error::ApiError;

/// The open deals a stage shows at once; the next ones a link away.
const STAGE_PAGE: i64 = 100;

/// `GET /app/deals?pipeline_id=`: the pipeline's stages in order, each with its open deals,
/// [`STAGE_PAGE`] at a time (`stage_id` and `start`: where one stage's page starts).
pub async fn board(web: Web, RawQuery(query): RawQuery) -> Response {
    let params = Form::parse(query.unwrap_or_default().as_bytes());
    let (store, session) = (web.state.store.as_ref(), web.session.as_ref());
    let loaded = async {
        let (pipelines, chosen, stages) = pipeline_of(&web, &params).await?;
        let Some(chosen) = chosen else {
            return Ok::<_, ApiError>((pipelines, None, Vec::new()));
        };
        let paged: Option<i64> = params.get("stage_id").parse().ok();
        let asked: i64 = params.get("start").parse().unwrap_or(0);
        let mut columns = Vec::new();
        for stage in stages {
            let start = if paged == Some(stage.id) {
                asked.clamp(0, super::MAX_START)
            } else {
                0
            };
            let query = ListQuery {
                filter: DealFilter {
                    pipeline_id: Some(chosen.id),
                    stage_id: Some(stage.id),
                    statuses: vec![DealStatus::Open],
                    live: true,
                    archived: Some(false),
                    ..DealFilter::default()
                },
                order: Vec::new(),
                page: Page::Offset { start },
                limit: STAGE_PAGE,
            };
            let (deals, more) = deal::list_deals(store, session, query).await?;
            columns.push(Column {
                stage,
                deals,
                start,
                more,
            });
        }
        Ok((pipelines, Some(chosen), columns))
    };
    let (pipelines, chosen, columns) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return failure(&web, e.status(), &e.to_string()),
    };
    let body = html! {
        h1 { "Deals" }
        form.filters method="get" action="/app/deals" {
            div {
                label for="pipeline_id" { "Pipeline" }
                select #pipeline_id name="pipeline_id" {
                    @for p in &pipelines {
                        option value=(p.id) selected[chosen.as_ref().is_some_and(|c| c.id == p.id)] { (p.name) }
                    }
                }
            }
            button type="submit" { "Show" }
        }
        @if let Some(p) = &chosen {
            p { a href={ "/app/deals/new?pipeline_id=" (p.id) } { "Add a deal" } }
        }
        @if chosen.is_none() { p { "There are no pipelines." } }
        div.board {
            @for Column { stage, deals, start, more } in &columns {
                section.stage aria-labelledby={ "stage-" (stage.id) } {
                    h2 id={ "stage-" (stage.id) } { (stage.name) }
                    p.hint {
                        @if *start == 0 && !more { (deals.len()) " open" }
                        @else if deals.is_empty() { "No more open deals" }
                        @else { "Open deals " (start + 1) "–" (*start + deals.len() as i64) }
                    }
                    @let link = |start: i64| {
                        format!(
                            "/app/deals?pipeline_id={}&stage_id={}&start={start}#stage-{}",
                            stage.pipeline_id, stage.id, stage.id
                        )
                    };
                    (pager(*start, STAGE_PAGE, *more, link))
                    @for d in deals {
                        article.deal {
                            h3 { (d.title) }
                            p.meta { (format_value(d.value)) " " (d.currency) }
                            form method="post" action={ "/app/deals/" (d.id) "/stage" } {
                                input type="hidden" name="csrf" value=(web.csrf);
                                label for={ "move-" (d.id) } { "Stage" }
                                select id={ "move-" (d.id) } name="stage_id" {
                                    @for c in &columns {
                                        option value=(c.stage.id) selected[c.stage.id == d.stage_id] { (c.stage.name) }
                                    }
                                }
                                button type="submit" { "Move" }
                            }
                        }
                    }
                }
            }
        }
    };
    page(StatusCode::OK, layout(Some(&web), "Deals", body))
}

/// The company's pipelines, the one `params` names (`pipeline_id`; else the first) and its
/// stages in order.
async fn pipeline_of(
    web: &Web,
    params: &Form,
) -> Result<(Vec<Pipeline>, Option<Pipeline>, Vec<Stage>), ApiError> {
    let (store, session) = (web.state.store.as_ref(), web.session.as_ref());
    let (pipelines, _) =
        pipeline::list_pipelines(store, session, ListQuery::first_page(())).await?;
    let chosen = params
        .get("pipeline_id")
        .parse::<i64>()
        .ok()
        .and_then(|id| pipelines.iter().find(|p| p.id == id))
        .or(pipelines.first())
        .cloned();
    let mut stages = Vec::new();
    if let Some(p) = &chosen {
        let filter = StageFilter {
            pipeline_id: Some(p.id),
        };
        stages = pipeline::list_stages(store, session, ListQuery::first_page(filter))
            .await?
            .0;
        stages.sort_by_key(|s| (s.order_nr, s.id));
    }
    Ok((pipelines, chosen, stages))
}

/// A stage of the board and the page of its open deals shown.
struct Column {
    stage: Stage,
    deals: Vec<Deal>,
    start: i64,
    more: bool,
}

/// `POST /app/deals/{id}/stage`: the deal moved to the chosen stage, back to its board.
pub async fn move_to_stage(web: Web, Path(id): Path<String>, Posted(body): Posted) -> Response {
    let Some(form) = web.form(&body) else {
        return forbidden(&web);
    };
    let (store, session) = (web.state.store.as_ref(), web.session.as_ref());
    let current = match id.parse::<i64>() {
        Ok(id) if id > 0 => deal::active_deal(store, session, id).await.ok(),
        _ => None,
    };
    let Some(current) = current else {
        return not_found(Some(&web), "There is no such deal, or you may not see it.");
    };
    let Ok(stage_id) = form.get("stage_id").parse::<i64>() else {
        return failure(
            &web,
            StatusCode::BAD_REQUEST,
            "stage_id: must be a stage's id",
        );
    };
    let draft = DealDraft {
        stage_id: Some(stage_id),
        ..DealDraft::default()
    };
    match deal::update_deal(store, session, &current, draft).await {
        Ok(d) => see(&format!("/app/deals?pipeline_id={}", d.pipeline_id)),
        Err(e) => error_page(&web, e),
    }
}

/// A money amount as people read it: no trailing `.0`.
pub fn format_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// The add form's own fields.
const FORM_FIELDS: [&str; 7] = [
    "title",
    "value",
    "currency",
    "stage_id",
    "person_id",
    "org_id",
    "pipeline_id",
];

/// `GET /app/deals/new?pipeline_id=`: the form to add a deal to a stage of the pipeline.
pub async fn new(web: Web, RawQuery(query): RawQuery) -> Response {
    let params = Form::parse(query.unwrap_or_default().as_bytes());
    form_page(&web, &params, None, StatusCode::OK).await
}

/// `POST /app/deals`: the deal added through the API's rules (v2's body), shown in its stage;
/// a refusal shows the form again with the API's message by its field.
pub async fn create(web: Web, Posted(body): Posted) -> Response {
    let Some(form) = web.form(&body) else {
        return forbidden(&web);
    };
    let mut body = Map::new();
    body.insert("title".into(), json!(form.get("title")));
    for id in ["pipeline_id", "stage_id", "person_id", "org_id"] {
        if !form.get(id).is_empty() {
            body.insert(id.into(), forms::number(&form, id));
        }
    }
    let value = form.get("value").trim();
    if !value.is_empty() {
        let amount = value
            .parse::<f64>()
            .map_or_else(|_| json!(value), |v| json!(v));
        body.insert("value".into(), amount);
    }
    if !form.get("currency").trim().is_empty() {
        body.insert("currency".into(), json!(form.get("currency").trim()));
    }
    let (store, session) = (web.state.store.as_ref(), web.session.as_ref());
    let added = async {
        let draft = crate::api::v2::deals::draft(body)?;
        Ok::<_, ApiError>(deal::add_deal(store, session, draft).await?)
    };
    match added.await {
        Ok(d) => see(&format!(
            "/app/deals?pipeline_id={}#stage-{}",
            d.pipeline_id, d.stage_id
        )),
        Err(e) => form_page(&web, &form, Some(e), StatusCode::BAD_REQUEST).await,
    }
}

/// The add form for the pipeline `form` names (or the first), with `error` by its field.
async fn form_page(
    web: &Web,
    form: &Form,
    error: Option<ApiError>,
    status: StatusCode,
) -> Response {
    let (store, session) = (web.state.store.as_ref(), web.session.as_ref());
    let loaded = async {
        let (_, chosen, stages) = pipeline_of(web, form).await?;
        let fields = Fields::load(store, Kind::Deal, session.company.id).await?;
        Ok::<_, ApiError>((chosen, stages, fields))
    };
    let (chosen, stages, fields) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return error_page(web, e),
    };
    let Some(chosen) = chosen else {
        return failure(web, StatusCode::NOT_FOUND, "There are no pipelines.");
    };
    let problem = Problem::new(error.as_ref(), |_| None);
    let error_for = |field: &str| problem.for_field(field);
    let unplaced = problem.unplaced(&FORM_FIELDS, &fields);
    let body = html! {
        h1 { "Add a deal to " (chosen.name) }
        @if let Some(m) = &unplaced { p.error role="alert" { (m) } }
        form.card method="post" action="/app/deals" novalidate {
            input type="hidden" name="csrf" value=(web.csrf);
            input type="hidden" name="pipeline_id" value=(chosen.id);
            (text_field("title", "Title", form.get("title"), error_for("title"), true))
            (text_field("value", "Value", form.get("value"), error_for("value"), false))
            (text_field("currency", "Currency (three letters; the company's when empty)", form.get("currency"), error_for("currency"), false))
            (field("stage_id", "Stage", error_for("stage_id"), html! {
                select #stage_id name="stage_id" {
                    @for s in &stages {
                        option value=(s.id) selected[form.get("stage_id") == s.id.to_string()] { (s.name) }
                    }
                }
            }))
            (text_field("person_id", "Person id", form.get("person_id"), error_for("person_id"), false))
            (text_field("org_id", "Organization id", form.get("org_id"), error_for("org_id"), false))
            button type="submit" { "Add deal" }
            " "
            a href={ "/app/deals?pipeline_id=" (chosen.id) } { "Cancel" }
        }
    };
    page(status, layout(Some(web), "Add a deal", body))
}
