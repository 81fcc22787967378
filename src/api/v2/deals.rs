//! v2 deals: list (and the archived list), get, add, update (PATCH), delete and search.

use std::collections::HashMap;

use axum::http::StatusCode;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value, json};

use super::render::{self, Context, Options};
use super::{ListOrder, time_param};
use crate::api::ApiResult;
use crate::api::envelope::{cursor_page, success};
use crate::api::extract::{ActiveDeal, Caller, PathId};
use crate::api::parse::{QueryParams, best_first, keyset_page, reject_fields};
use crate::api::payload::Payload;
use crate::domain::deal::{self, Deal, DealDraft, DealFilter, DealSearch, DealStatus};
use crate::domain::pipeline;
use crate::domain::ports::Store;
use crate::domain::query::{self, ListQuery, Page, SortField};
use crate::domain::search::check_term;
use crate::domain::{Fields, Kind, Session, Timestamp, Visibility, values};
use crate::error::ApiError;

/// The optional fields `include_fields` may name on a deal.
const INCLUDABLE: &[&str] = &[
    "next_activity_id",
    "last_activity_id",
    "first_won_time",
    "products_count",
    "files_count",
    "notes_count",
    "followers_count",
    "email_messages_count",
    "activities_count",
    "done_activities_count",
    "undone_activities_count",
    "participants_count",
    "last_incoming_mail_time",
    "last_outgoing_mail_time",
    "smart_bcc_email",
    "source_lead_id",
];

/// A number as Pipedrive writes it: whole numbers without a fraction (`200`, not `200.0`).
pub fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9e15 {
        json!(n as i64)
    } else {
        json!(n)
    }
}

/// An RFC 3339 time, or `null`.
fn time(t: Option<Timestamp>) -> Option<String> {
    t.map(Timestamp::rfc3339)
}

/// The UTC date of a time (pipestack's users have no time zone of their own).
fn local_date(t: Option<Timestamp>) -> Option<String> {
    t.map(|t| t.rfc3339()[..10].to_owned())
}

/// A deal in the v2 shape, serialized straight to the response body.
pub struct DealV2<'a> {
    d: &'a Deal,
    opts: &'a Options,
    ctx: &'a Context<'a>,
}

/// The v2 shape of `d` under the read's options.
pub fn render<'a>(d: &'a Deal, opts: &'a Options, ctx: &'a Context<'a>) -> DealV2<'a> {
    DealV2 { d, opts, ctx }
}

impl Serialize for DealV2<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let DealV2 { d, opts, ctx } = *self;
        let label_ids = ctx.fields.live_labels(&d.label_ids);
        let c = &d.closing;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &d.id)?;
        m.serialize_entry("title", &d.title)?;
        m.serialize_entry("creator_user_id", &d.creator_user_id)?;
        m.serialize_entry("owner_id", &d.owner_id)?;
        m.serialize_entry("value", &number(d.value))?;
        m.serialize_entry("person_id", &d.person_id)?;
        m.serialize_entry("org_id", &d.org_id)?;
        m.serialize_entry("stage_id", &d.stage_id)?;
        m.serialize_entry("pipeline_id", &d.pipeline_id)?;
        m.serialize_entry("currency", &d.currency)?;
        m.serialize_entry("archive_time", &time(d.archive_time))?;
        m.serialize_entry("add_time", &d.add_time.rfc3339())?;
        m.serialize_entry("update_time", &d.update_time.rfc3339())?;
        m.serialize_entry("stage_change_time", &time(d.stage_change_time))?;
        m.serialize_entry("status", d.status.as_str())?;
        m.serialize_entry("is_archived", &d.is_archived)?;
        m.serialize_entry("is_deleted", &!d.active)?;
        m.serialize_entry("probability", &d.probability.map(number))?;
        m.serialize_entry("lost_reason", &c.lost_reason)?;
        m.serialize_entry("visible_to", &d.visible_to.get())?;
        m.serialize_entry("close_time", &time(c.close_time))?;
        m.serialize_entry("won_time", &time(c.won_time))?;
        m.serialize_entry("lost_time", &time(c.lost_time))?;
        m.serialize_entry("local_won_date", &local_date(c.won_time))?;
        m.serialize_entry("local_lost_date", &local_date(c.lost_time))?;
        m.serialize_entry("local_close_date", &local_date(c.close_time))?;
        m.serialize_entry("expected_close_date", &d.expected_close_date)?;
        m.serialize_entry("label_ids", &label_ids)?;
        m.serialize_entry("origin", &d.origin)?;
        for key in ["origin_id", "channel", "channel_id", "acv", "arr", "mrr"] {
            m.serialize_entry(key, &())?;
        }
        m.serialize_entry(
            "custom_fields",
            &render::custom_values(ctx, &d.custom_fields, opts),
        )?;
        for f in &opts.include {
            let value = match f.as_str() {
                "first_won_time" => json!(time(c.first_won_time)),
                "followers_count" => json!(d.followers_count()),
                "participants_count" => json!(i64::from(d.person_id.is_some())),
                f if let Some(v) = ctx.summary(d.id, f) => v,
                "smart_bcc_email" => json!(ctx.company.cc_email()),
                f if f.ends_with("_count") => json!(0),
                _ => Value::Null,
            };
            m.serialize_entry(f, &value)?;
        }
        if opts.include_labels {
            m.serialize_entry("labels", &render::labels(ctx, &label_ids))?;
        }
        m.end()
    }
}

async fn one(store: &dyn Store, session: &Session, d: &Deal, opts: &Options) -> ApiResult {
    let fields = Fields::load(store, Kind::Deal, session.company.id).await?;
    let ctx = Context::new(&session.company, &fields)
        .with_summaries(store, session, Kind::Deal, &[d.id], opts)
        .await?;
    Ok(success(StatusCode::OK, render(d, opts, &ctx), None, None))
}

/// `GET /api/v2/deals/{id}`: deleted deals too, with `is_deleted: true`.
pub async fn get_deal(
    Caller { session, store }: Caller,
    PathId(id): PathId,
    q: QueryParams,
) -> ApiResult {
    let opts = Options::parse_among(&q, INCLUDABLE)?;
    let d = deal::find_deal(store.as_ref(), &session, id).await?;
    one(store.as_ref(), &session, &d, &opts).await
}

/// `POST /api/v2/deals`: 200 (as Pipedrive's v2 says) with the deal.
pub async fn add_deal(Caller { session, store }: Caller, Payload(body): Payload) -> ApiResult {
    let d = deal::add_deal(store.as_ref(), &session, draft(body)?).await?;
    one(store.as_ref(), &session, &d, &Options::default()).await
}

/// `PATCH /api/v2/deals/{id}`: absent fields stay, `null` clears.
pub async fn update_deal(
    Caller { session, store }: Caller,
    ActiveDeal(current): ActiveDeal,
    Payload(body): Payload,
) -> ApiResult {
    let d = deal::update_deal(store.as_ref(), &session, &current, draft(body)?).await?;
    one(store.as_ref(), &session, &d, &Options::default()).await
}

/// `DELETE /api/v2/deals/{id}`: a soft delete, `{"id": N}`.
pub async fn delete_deal(Caller { session, store }: Caller, PathId(id): PathId) -> ApiResult {
    deal::delete_deal(store.as_ref(), &session, id).await?;
    Ok(success(StatusCode::OK, json!({ "id": id }), None, None))
}

/// `GET /api/v2/deals`: deals that are not archived.
pub async fn get_deals(caller: Caller, q: QueryParams) -> ApiResult {
    list(caller, q, false).await
}

/// `GET /api/v2/deals/archived`: archived deals only.
pub async fn get_archived_deals(caller: Caller, q: QueryParams) -> ApiResult {
    list(caller, q, true).await
}

/// `status`: a comma-separated list of `open`, `won`, `lost` and `deleted`.
pub fn status_filter(q: &QueryParams, filter: &mut DealFilter) -> Result<(), ApiError> {
    filter.live = true;
    let wanted = q.list("status");
    if wanted.is_empty() {
        return Ok(());
    }
    filter.live = false;
    for s in wanted {
        match DealStatus::from_name(&s) {
            Some(status) => {
                filter.statuses.push(status);
                filter.live = true;
            }
            None if s == "deleted" => filter.deleted = true,
            None => {
                return Err(ApiError::invalid(
                    "status",
                    format!("must be open, won, lost or deleted, got {s:?}"),
                ));
            }
        }
    }
    Ok(())
}

async fn list(Caller { session, store }: Caller, q: QueryParams, archived: bool) -> ApiResult {
    if q.str("filter_id").is_some() {
        return Err(ApiError::invalid(
            "filter_id",
            "is not supported by pipestack",
        ));
    }
    let opts = Options::parse_among(&q, INCLUDABLE)?;
    let limit = query::limit(q.int("limit")?)?;
    let order = ListOrder::parse(&q)?;
    let mut filter = DealFilter {
        ids: q.ids("ids", 100)?,
        owner_id: q.id("owner_id")?,
        person_id: q.id("person_id")?,
        org_id: q.id("org_id")?,
        pipeline_id: q.id("pipeline_id")?,
        stage_id: q.id("stage_id")?,
        archived: Some(archived),
        updated_since: time_param(&q, "updated_since")?,
        updated_until: time_param(&q, "updated_until")?,
        ..DealFilter::default()
    };
    status_filter(&q, &mut filter)?;
    let query = ListQuery {
        filter,
        order: vec![(order.sort_by, order.direction)],
        page: Page::After(order.after),
        limit,
    };
    let (deals, more) = deal::list_deals(store.as_ref(), &session, query).await?;
    let last = deals.last().map(|d| {
        let key = match order.sort_by {
            SortField::AddTime => d.add_time.0,
            SortField::UpdateTime => d.update_time.0,
            _ => d.id,
        };
        (key, d.id)
    });
    let next_cursor = order.next_cursor(last, more);
    let fields = Fields::load(store.as_ref(), Kind::Deal, session.company.id).await?;
    let ids: Vec<i64> = deals.iter().map(|d| d.id).collect();
    let ctx = Context::new(&session.company, &fields)
        .with_summaries(store.as_ref(), &session, Kind::Deal, &ids, &opts)
        .await?;
    let data: Vec<DealV2<'_>> = deals.iter().map(|d| render(d, &opts, &ctx)).collect();
    Ok(cursor_page(data, next_cursor))
}

/// `GET /api/v2/deals/search`: by title and custom values, ranked like persons.
pub async fn search_deals(Caller { session, store }: Caller, q: QueryParams) -> ApiResult {
    let exact = q.bool("exact_match")?;
    let term = check_term(q.str("term"), exact)?;
    let fields = q.list("fields");
    if let Some(bad) = fields
        .iter()
        .find(|f| !["custom_fields", "notes", "title"].contains(&f.as_str()))
    {
        return Err(ApiError::invalid(
            "fields",
            format!("{bad:?} is not searchable: use title, notes or custom_fields"),
        ));
    }
    let named = |f: &str| fields.is_empty() || fields.iter().any(|n| n == f);
    let mut cc_email = false;
    for f in q.list("include_fields") {
        match f.as_str() {
            "deal.cc_email" => cc_email = true,
            other => {
                return Err(ApiError::invalid(
                    "include_fields",
                    format!("{other:?} is not supported: use deal.cc_email"),
                ));
            }
        }
    }
    let status = q
        .str("status")
        .map(|s| {
            DealStatus::from_name(s).ok_or_else(|| {
                ApiError::invalid("status", format!("must be open, won or lost, got {s:?}"))
            })
        })
        .transpose()?;
    let within = DealSearch {
        title: named("title"),
        custom_fields: named("custom_fields"),
        notes: named("notes"),
        person_id: q.id("person_id")?,
        org_id: q.id("organization_id")?,
        status,
    };
    let hits = deal::search_deals(store.as_ref(), &session, &term, &within, exact).await?;
    let (page, next_cursor) =
        keyset_page(&q, &hits, |(score, d)| (best_first(*score), d.id), "search")?;
    let deals: Vec<&Deal> = page.iter().map(|(_, d)| d).collect();
    let names = Names::load(store.as_ref(), &session, &deals).await?;
    let items: Vec<Value> = page
        .iter()
        .map(|(score, d)| {
            let mut item = names.search_item(d);
            if cc_email {
                item["cc_email"] = json!(session.company.deal_cc_email(d.id));
            }
            json!({"result_score": score, "item": item})
        })
        .collect();
    Ok(cursor_page(json!({ "items": items }), next_cursor))
}

/// The names a search item shows: of the deals' stages, persons and organizations.
pub struct Names {
    stages: HashMap<i64, String>,
    persons: HashMap<i64, String>,
    orgs: HashMap<i64, String>,
}

impl Names {
    pub async fn load(
        store: &dyn Store,
        session: &Session,
        deals: &[&Deal],
    ) -> Result<Self, ApiError> {
        let mut stage_ids: Vec<i64> = deals.iter().map(|d| d.stage_id).collect();
        stage_ids.sort_unstable();
        stage_ids.dedup();
        let mut stages = HashMap::new();
        for id in stage_ids {
            if let Ok(s) = pipeline::find_stage(store, session, id).await {
                stages.insert(id, s.name);
            }
        }
        let person_ids: Vec<i64> = deals.iter().filter_map(|d| d.person_id).collect();
        let persons = query::visible_persons(store, session, person_ids)
            .await?
            .into_iter()
            .map(|p| (p.id, p.name))
            .collect();
        let org_ids: Vec<i64> = deals.iter().filter_map(|d| d.org_id).collect();
        let orgs = store
            .organizations_by_ids(session.company.id, &org_ids)
            .await?
            .into_iter()
            .filter(|o| crate::domain::organization::can_see_org(session, o))
            .map(|o| (o.id, o.name))
            .collect();
        Ok(Self {
            stages,
            persons,
            orgs,
        })
    }

    /// A deal as a search result shows it.
    pub fn search_item(&self, d: &Deal) -> Value {
        let named = |id: Option<i64>, names: &HashMap<i64, String>| {
            id.map_or(Value::Null, |id| json!({"id": id, "name": names.get(&id)}))
        };
        json!({
            "id": d.id,
            "type": "deal",
            "title": d.title,
            "value": number(d.value),
            "currency": d.currency,
            "status": d.status.as_str(),
            "visible_to": d.visible_to.get(),
            "owner": {"id": d.owner_id},
            "stage": {"id": d.stage_id, "name": self.stages.get(&d.stage_id)},
            "person": named(d.person_id, &self.persons),
            "organization": named(d.org_id, &self.orgs),
            "custom_fields": [],
            "notes": [],
            "is_archived": d.is_archived,
        })
    }
}

/// Keys of the v2 deal object a client may not write.
const READ_ONLY: &[&str] = &[
    "id",
    "creator_user_id",
    "add_time",
    "update_time",
    "stage_change_time",
    "first_won_time",
    "origin",
    "origin_id",
    "channel",
    "channel_id",
    "source_lead_id",
    "acv",
    "arr",
    "mrr",
    "local_won_date",
    "local_lost_date",
    "local_close_date",
    "labels",
];

/// A time a body gives: RFC 3339, or `YYYY-MM-DD HH:MM:SS` (UTC) as Pipedrive's v2 documents
/// `archive_time`; `null` is none.
fn time_value(field: &str, v: &Value) -> Result<Option<Timestamp>, ApiError> {
    let Some(s) = values::opt_string(field, v)? else {
        return Ok(None);
    };
    Timestamp::parse_rfc3339(s)
        .or_else(|| Timestamp::parse_v1(s))
        .map(Some)
        .ok_or_else(|| {
            ApiError::invalid(
                field,
                "must be a time: RFC 3339 (2024-07-01T05:46:33Z) or YYYY-MM-DD HH:MM:SS",
            )
        })
}

/// A JSON number (v2 does not turn strings into numbers).
fn json_number(field: &str, v: &Value) -> Result<f64, ApiError> {
    v.as_f64().filter(|n| n.is_finite()).ok_or_else(|| {
        ApiError::invalid(
            field,
            format!("must be a number, got {}", values::describe(v)),
        )
    })
}

/// Parses a v2 body into the domain's command.
pub fn draft(body: Map<String, Value>) -> Result<DealDraft, ApiError> {
    let mut d = DealDraft::default();
    let mut invalid = Vec::new();
    for (key, v) in body {
        let k = key.as_str();
        match k {
            "title" => d.title = Some(values::opt_string(k, &v)?.unwrap_or("").to_owned()),
            "owner_id" => d.owner_id = Some(values::id(k, &v)?),
            "person_id" => d.person_id = Some(values::opt_id(k, &v)?),
            "org_id" => d.org_id = Some(values::opt_id(k, &v)?),
            "pipeline_id" => d.pipeline_id = Some(values::id(k, &v)?),
            "stage_id" => d.stage_id = Some(values::id(k, &v)?),
            "value" => d.value = Some(json_number(k, &v)?),
            "currency" => d.currency = Some(values::string(k, &v)?.to_owned()),
            "status" => d.status = Some(DealStatus::parse(k, &v)?),
            "probability" if v.is_null() => d.probability = Some(None),
            "probability" => d.probability = Some(Some(json_number(k, &v)?)),
            "lost_reason" => d.lost_reason = Some(values::opt_string(k, &v)?.map(str::to_owned)),
            "visible_to" => d.visible_to = Some(Visibility::parse(k, &v)?),
            "won_time" => d.won_time = time_value(k, &v)?,
            "lost_time" => d.lost_time = time_value(k, &v)?,
            "close_time" => d.close_time = time_value(k, &v)?,
            "expected_close_date" => {
                d.expected_close_date = Some(values::opt_string(k, &v)?.map(str::to_owned));
            }
            "label_ids" => d.label_ids = Some(values::id_list(k, &v)?),
            "is_archived" => d.is_archived = Some(values::boolean(k, &v)?),
            "archive_time" => d.archive_time = time_value(k, &v)?,
            "is_deleted" if v == json!(false) => {}
            "is_deleted" => {
                invalid.push("is_deleted (deals are deleted with DELETE /api/v2/deals/{id})".into())
            }
            "custom_fields" => super::custom_fields_body(v, &mut d.custom_fields)?,
            k if READ_ONLY.contains(&k) => invalid.push(format!("{k} (read-only)")),
            _ => invalid.push(format!("{key} (unknown field)")),
        }
    }
    reject_fields(&invalid)?;
    Ok(d)
}
