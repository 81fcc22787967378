//! v2 organizations: list, get, add, update (PATCH), delete and search.

use crate::api::extract::{ActiveOrganization, Caller, PathId};
use crate::domain::ports::Store;
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::render::{self, Context, Options};
use crate::api::ApiResult;
use crate::api::envelope::{cursor_page, success};
use crate::api::parse::{QueryParams, best_first, keyset_page, reject_fields};
use crate::api::payload::Payload;
use crate::domain::fields::ADDRESS_PARTS;
use crate::domain::organization::{
    self, Address, OrgSearchFields, Organization, OrganizationDraft, OrganizationFilter,
    OrganizationQuery,
};
use crate::domain::person::MAX_TEXT;
use crate::domain::query::{self, Page, SortField};
use crate::domain::search::check_term;
use crate::domain::{Fields, Kind, Session, Timestamp, Visibility, values};
use crate::error::ApiError;

const INCLUDABLE: &[&str] = &[
    "next_activity_id",
    "last_activity_id",
    "open_deals_count",
    "related_open_deals_count",
    "closed_deals_count",
    "related_closed_deals_count",
    "email_messages_count",
    "people_count",
    "activities_count",
    "done_activities_count",
    "undone_activities_count",
    "files_count",
    "notes_count",
    "followers_count",
    "won_deals_count",
    "related_won_deals_count",
    "lost_deals_count",
    "related_lost_deals_count",
    "smart_bcc_email",
];

/// How a read of organizations renders them.
fn opts(q: &QueryParams) -> Result<Options, ApiError> {
    Options::parse_among(q, INCLUDABLE)
}

fn render(o: &Organization, opts: &Options, ctx: &Context<'_>) -> Value {
    let address = o.address.as_ref().map(|value| {
        let mut a = Map::new();
        a.insert("value".into(), json!(value));
        for part in ADDRESS_PARTS.iter().filter(|p| **p != "formatted_address") {
            a.insert(
                (*part).into(),
                o.address_parts.get(*part).cloned().unwrap_or(Value::Null),
            );
        }
        Value::Object(a)
    });
    let label_ids = ctx.fields.live_labels(&o.label_ids);
    let mut v = json!({
        "id": o.id,
        "name": o.name,
        "owner_id": o.owner_id,
        "add_time": o.add_time.rfc3339(),
        "update_time": o.update_time.rfc3339(),
        "address": address,
        "is_deleted": !o.active,
        "visible_to": o.visible_to.get(),
        "label_ids": label_ids,
        "website": o.profile.website,
        "linkedin": o.profile.linkedin,
        "industry": o.profile.industry,
        "annual_revenue": o.profile.annual_revenue,
        "employee_count": o.profile.employee_count,
        "custom_fields": render::custom_values(ctx, &o.custom_fields, opts),
    });
    for f in &opts.include {
        v[f.as_str()] = match f.as_str() {
            "people_count" => json!(o.people_count),
            "followers_count" => json!(o.followers_count()),
            "smart_bcc_email" => json!(ctx.company.cc_email()),
            f if let Some(v) = ctx.summary(o.id, f) => v,
            f if f.ends_with("_count") => json!(0),
            _ => Value::Null,
        };
    }
    if opts.include_labels {
        v["labels"] = json!(render::labels(ctx, &label_ids));
    }
    v
}

async fn many(
    store: &dyn Store,
    session: &Session,
    orgs: &[Organization],
    opts: &Options,
) -> Result<Value, ApiError> {
    let fields = Fields::load(store, Kind::Organization, session.company.id).await?;
    let ids: Vec<i64> = orgs.iter().map(|o| o.id).collect();
    let ctx = Context::new(&session.company, &fields)
        .with_summaries(store, session, Kind::Organization, &ids, opts)
        .await?;
    Ok(Value::Array(
        orgs.iter().map(|o| render(o, opts, &ctx)).collect(),
    ))
}

async fn one(
    store: &dyn Store,
    session: &Session,
    org: &Organization,
    opts: &Options,
) -> ApiResult {
    let mut v = many(store, session, std::slice::from_ref(org), opts).await?;
    let data = v.as_array_mut().and_then(Vec::pop).unwrap_or(Value::Null);
    Ok(success(StatusCode::OK, data, None, None))
}

pub async fn get_organization(
    Caller { session, store }: Caller,
    PathId(id): PathId,
    q: QueryParams,
) -> ApiResult {
    let opts = opts(&q)?;
    let org = organization::find_organization(store.as_ref(), &session, id).await?;
    one(store.as_ref(), &session, &org, &opts).await
}

pub async fn add_organization(
    Caller { session, store }: Caller,
    Payload(body): Payload,
) -> ApiResult {
    let org = organization::add_organization(store.as_ref(), &session, draft(body)?).await?;
    one(store.as_ref(), &session, &org, &Options::default()).await
}

pub async fn update_organization(
    Caller { session, store }: Caller,
    ActiveOrganization(current): ActiveOrganization,
    Payload(body): Payload,
) -> ApiResult {
    let org =
        organization::update_organization(store.as_ref(), &session, &current, draft(body)?).await?;
    one(store.as_ref(), &session, &org, &Options::default()).await
}

pub async fn delete_organization(
    Caller { session, store }: Caller,
    PathId(id): PathId,
) -> ApiResult {
    organization::delete_organization(store.as_ref(), &session, id).await?;
    Ok(success(StatusCode::OK, json!({ "id": id }), None, None))
}

pub async fn get_organizations(Caller { session, store }: Caller, q: QueryParams) -> ApiResult {
    if q.str("filter_id").is_some() {
        return Err(ApiError::invalid(
            "filter_id",
            "is not supported by pipestack",
        ));
    }
    let opts = opts(&q)?;
    let limit = query::limit(q.int("limit")?)?;
    let order = super::ListOrder::parse(&q)?;
    let filter = OrganizationFilter {
        owner_id: q.id("owner_id")?,
        ids: q.ids("ids", 100)?,
        updated_since: super::time_param(&q, "updated_since")?,
        updated_until: super::time_param(&q, "updated_until")?,
        ..OrganizationFilter::default()
    };
    let (orgs, more) = organization::list_organizations(
        store.as_ref(),
        &session,
        OrganizationQuery {
            filter,
            order: vec![(order.sort_by, order.direction)],
            page: Page::After(order.after),
            limit,
        },
    )
    .await?;
    let last = orgs.last().map(|o| {
        let key = match order.sort_by {
            SortField::AddTime => o.add_time.0,
            SortField::UpdateTime => o.update_time.0,
            _ => o.id,
        };
        (key, o.id)
    });
    let next_cursor = order.next_cursor(last, more);
    let data = many(store.as_ref(), &session, &orgs, &opts).await?;
    Ok(cursor_page(data, next_cursor))
}

/// `GET /api/v2/organizations/search`: by name and address, ranked like persons.
pub async fn search_organization(Caller { session, store }: Caller, q: QueryParams) -> ApiResult {
    let exact = q.bool("exact_match")?;
    let term = check_term(q.str("term"), exact)?;
    let fields = q.list("fields");
    if let Some(bad) = fields
        .iter()
        .find(|f| !["address", "custom_fields", "notes", "name"].contains(&f.as_str()))
    {
        return Err(ApiError::invalid(
            "fields",
            format!("{bad:?} is not searchable: use name, address, notes or custom_fields"),
        ));
    }
    let all = fields.is_empty();
    let named = |f: &str| all || fields.iter().any(|n| n == f);
    let within = OrgSearchFields {
        name: named("name"),
        address: named("address"),
        custom_fields: named("custom_fields"),
        notes: named("notes"),
    };
    let hits =
        organization::search_organizations(store.as_ref(), &session, &term, within, exact).await?;
    let (page, next_cursor) =
        keyset_page(&q, &hits, |(score, o)| (best_first(*score), o.id), "search")?;
    let items: Vec<Value> = page
        .iter()
        .map(|(score, o)| json!({"result_score": score, "item": search_item(o)}))
        .collect();
    Ok(cursor_page(json!({ "items": items }), next_cursor))
}

/// An organization as a search result shows it.
pub fn search_item(o: &Organization) -> Value {
    json!({
        "id": o.id, "type": "organization", "name": o.name, "address": o.address,
        "visible_to": o.visible_to.get(), "owner": {"id": o.owner_id},
        "custom_fields": [], "notes": [],
    })
}

const READ_ONLY: &[&str] = &[
    "id",
    "update_time",
    "is_deleted",
    "people_count",
    "followers_count",
];

fn draft(body: Map<String, Value>) -> Result<OrganizationDraft, ApiError> {
    let mut d = OrganizationDraft::default();
    let mut invalid = Vec::new();
    for (key, v) in body {
        match key.as_str() {
            "name" => d.name = Some(values::opt_string("name", &v)?.unwrap_or("").to_owned()),
            "owner_id" => d.owner_id = Some(values::id("owner_id", &v)?),
            "visible_to" => d.visible_to = Some(Visibility::parse("visible_to", &v)?),
            "label_ids" => d.label_ids = Some(values::id_list("label_ids", &v)?),
            "add_time" if v.is_null() => {}
            "add_time" => {
                let s = values::string("add_time", &v)?;
                d.add_time = Some(Timestamp::parse_rfc3339(s).ok_or_else(|| {
                    ApiError::invalid(
                        "add_time",
                        "must be an RFC 3339 time, e.g. 2024-07-01T05:46:33Z",
                    )
                })?);
            }
            "address" => d.address = Some(address(&v)?),
            "website" | "linkedin" => {
                if let Some(s) = values::opt_string(&key, &v)? {
                    values::max_chars(&key, s, MAX_TEXT)?;
                }
                d.profile.insert(key, v);
            }
            "industry" | "annual_revenue" | "employee_count" => {
                if !v.is_null() && v.as_i64().is_none_or(|n| n < 0) {
                    return Err(ApiError::invalid(
                        &key,
                        format!(
                            "must be a non-negative integer or null, got {}",
                            values::describe(&v)
                        ),
                    ));
                }
                d.profile.insert(key, v);
            }
            "custom_fields" => super::custom_fields_body(v, &mut d.custom_fields)?,
            k if READ_ONLY.contains(&k) => invalid.push(format!("{k} (read-only)")),
            _ => invalid.push(format!("{key} (unknown field)")),
        }
    }
    reject_fields(&invalid)?;
    Ok(d)
}

/// v2's address: `{value, country, locality, …}` (a plain string is accepted too); `null` clears.
fn address(v: &Value) -> Result<Option<Address>, ApiError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(Address {
            value: s.clone(),
            parts: Map::new(),
        })),
        Value::Object(o) => {
            let value = match o.get("value") {
                Some(Value::String(s)) => s.clone(),
                _ => {
                    return Err(ApiError::invalid(
                        "address.value",
                        "is required and must be a string",
                    ));
                }
            };
            let mut parts = Map::new();
            for (k, part) in o {
                if k == "value" {
                    continue;
                }
                if !ADDRESS_PARTS.contains(&k.as_str()) {
                    return Err(ApiError::invalid(&format!("address.{k}"), "unknown key"));
                }
                match part {
                    Value::Null => {}
                    Value::String(_) => {
                        parts.insert(k.clone(), part.clone());
                    }
                    _ => {
                        return Err(ApiError::invalid(
                            &format!("address.{k}"),
                            "must be a string",
                        ));
                    }
                }
            }
            Ok(Some(Address { value, parts }))
        }
        other => Err(ApiError::invalid(
            "address",
            format!("must be an object, got {}", values::describe(other)),
        )),
    }
}
