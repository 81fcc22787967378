//! `itemSearch` and `itemSearch/field` in both dialects (v1 pages by `start`/`limit`, v2 by
//! cursor), and v1's `GET /organizations/search`, which is `itemSearch` over organizations.

use std::collections::HashMap;

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::ApiResult;
use super::envelope::{cursor_page, success};
use super::extract::Caller;
use super::parse::{QueryParams, best_first, keyset_page};
use super::v2::deals::Names;
use super::v2::organizations::search_item as org_item;
use crate::domain::deal::Deal;
use crate::domain::error::DomainError;
use crate::domain::item_search::{self, FieldMatch, Found, ITEM_TYPES, ItemQuery, SEARCH_FIELDS};
use crate::domain::search::{Hit, check_term};
use crate::domain::{Kind, Session};
use crate::error::ApiError;
use crate::store::Store;

/// The most items a v2 `itemSearch` page holds (Pipedrive's documented maximum).
const V2_MAX_LIMIT: i64 = 100;

/// `term`, `item_types`, `fields`, `exact_match`, each checked against Pipedrive's lists.
fn item_query(q: &QueryParams) -> Result<ItemQuery, ApiError> {
    let exact_match = q.bool("exact_match")?;
    let term = check_term(q.str("term"), exact_match)?;
    let types = q.list("item_types");
    if let Some(bad) = types.iter().find(|t| !ITEM_TYPES.contains(&t.as_str())) {
        return Err(ApiError::invalid(
            "item_types",
            format!("{bad:?} is not an item type: use {}", ITEM_TYPES.join(", ")),
        ));
    }
    let fields = q.list("fields");
    if let Some(bad) = fields.iter().find(|f| !SEARCH_FIELDS.contains(&f.as_str())) {
        return Err(ApiError::invalid(
            "fields",
            format!(
                "{bad:?} is not searchable: use {}",
                SEARCH_FIELDS.join(", ")
            ),
        ));
    }
    Ok(ItemQuery {
        term,
        types,
        fields,
        exact_match,
    })
}

/// What `include_fields` adds: `deal.cc_email`, `person.picture` (`product.price` is
/// accepted; pipestack has no products).
#[derive(Default, Clone, Copy)]
struct Extras {
    deal_cc_email: bool,
    person_picture: bool,
}

fn extras(q: &QueryParams) -> Result<Extras, ApiError> {
    let mut e = Extras::default();
    for f in q.list("include_fields") {
        match f.as_str() {
            "deal.cc_email" => e.deal_cc_email = true,
            "person.picture" => e.person_picture = true,
            "product.price" => {}
            other => {
                return Err(ApiError::invalid(
                    "include_fields",
                    format!(
                        "{other:?} is not supported: use deal.cc_email, person.picture or product.price"
                    ),
                ));
            }
        }
    }
    Ok(e)
}

/// The items of a page, `{result_score, item}`, each in its type's search item shape.
async fn render(
    store: &dyn Store,
    session: &Session,
    page: &[Found],
    extras: Extras,
) -> Result<Vec<Value>, ApiError> {
    let hits: Vec<Hit> = page
        .iter()
        .filter_map(|f| match f {
            Found::Person(h) => Some(h.clone()),
            _ => None,
        })
        .collect();
    let persons = super::search::items(store, session, &hits, extras.person_picture).await?;
    let persons: HashMap<i64, Value> = persons
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| {
            (
                v["item"]["id"].as_i64().unwrap_or_default(),
                v["item"].clone(),
            )
        })
        .collect();
    let deals: Vec<&Deal> = page
        .iter()
        .filter_map(|f| match f {
            Found::Deal(_, d) => Some(d),
            _ => None,
        })
        .collect();
    let names = Names::load(store, session, &deals).await?;
    Ok(page
        .iter()
        .map(|f| {
            let item = match f {
                Found::Person(h) => persons.get(&h.person.id).cloned().unwrap_or(Value::Null),
                Found::Organization(_, o) => org_item(o),
                Found::Deal(_, d) => {
                    let mut item = names.search_item(d);
                    if extras.deal_cc_email {
                        item["cc_email"] = json!(session.company.deal_cc_email(d.id));
                    }
                    item
                }
            };
            json!({"result_score": round(f.score()), "item": item})
        })
        .collect())
}

fn round(x: f64) -> f64 {
    (x * 10000.0).round() / 10000.0
}

/// `search_for_related_items`: the related items of the page's persons and organizations.
async fn related(
    store: &dyn Store,
    session: &Session,
    q: &QueryParams,
    page: &[Found],
    extras: Extras,
) -> Result<Option<Vec<Value>>, ApiError> {
    if !q.bool("search_for_related_items")? {
        return Ok(None);
    }
    let found = item_search::related_items(store, session, page).await?;
    Ok(Some(render(store, session, &found, extras).await?))
}

fn data(items: Vec<Value>, related: Option<Vec<Value>>) -> Value {
    let mut data = json!({ "items": items });
    if let Some(r) = related {
        data["related_items"] = json!(r);
    }
    data
}

/// `GET /api/v2/itemSearch`: persons, organizations and deals, best first, cursor-paged.
pub async fn search_items_v2(Caller { session, store }: Caller, q: QueryParams) -> ApiResult {
    let iq = item_query(&q)?;
    let extras = extras(&q)?;
    if q.int("limit")?.is_some_and(|l| l > V2_MAX_LIMIT) {
        return Err(ApiError::invalid(
            "limit",
            format!("must be at most {V2_MAX_LIMIT}"),
        ));
    }
    let found = item_search::search_items(store.as_ref(), &session, &iq).await?;
    let (page, next_cursor) = keyset_page(
        &q,
        &found,
        |f| (best_first(f.score()), f.rank()),
        "itemSearch",
    )?;
    let items = render(store.as_ref(), &session, page, extras).await?;
    let related = related(store.as_ref(), &session, &q, page, extras).await?;
    Ok(cursor_page(data(items, related), next_cursor))
}

/// `GET /v1/itemSearch`: the same search, paged by `start`/`limit`.
pub async fn search_items_v1(Caller { session, store }: Caller, q: QueryParams) -> ApiResult {
    let iq = item_query(&q)?;
    v1_answer(&session, store.as_ref(), &q, &iq).await
}

/// `GET /v1/organizations/search`: `itemSearch` over organizations (`name`, `address`,
/// `notes`, `custom_fields`).
pub async fn search_organizations_v1(
    Caller { session, store }: Caller,
    q: QueryParams,
) -> ApiResult {
    let mut iq = item_query(&q)?;
    if let Some(bad) = iq
        .fields
        .iter()
        .find(|f| !["address", "custom_fields", "notes", "name"].contains(&f.as_str()))
    {
        return Err(ApiError::invalid(
            "fields",
            format!("{bad:?} is not searchable: use name, address, notes or custom_fields"),
        ));
    }
    iq.types = vec!["organization".to_owned()];
    v1_answer(&session, store.as_ref(), &q, &iq).await
}

async fn v1_answer(
    session: &Session,
    store: &dyn Store,
    q: &QueryParams,
    iq: &ItemQuery,
) -> ApiResult {
    let extras = extras(q)?;
    let (start, limit) = super::v1::paging(q)?;
    let found = item_search::search_items(store, session, iq).await?;
    let (page, more) = super::v1::page_of(&found, start, limit);
    let items = render(store, session, page, extras).await?;
    let related = related(store, session, q, page, extras).await?;
    Ok(success(
        StatusCode::OK,
        data(items, related),
        Some(json!({ "pagination": super::v1::pagination(start, limit, page.len(), more) })),
        None,
    ))
}

/// The kind an `entity_type` (v2) or `field_type` (v1) names; `None` for the kinds Pipedrive
/// has and pipestack does not (leads, products, projects), which have no items.
fn kind_of(
    param: &str,
    name: &str,
    kinds: [(&str, Option<Kind>); 6],
) -> Result<Option<Kind>, ApiError> {
    kinds
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, k)| *k)
        .ok_or_else(|| {
            let names: Vec<&str> = kinds.iter().map(|(n, _)| *n).collect();
            ApiError::invalid(param, format!("must be one of {}", names.join(", ")))
        })
}

/// A parameter the search cannot do without.
fn required<'a>(q: &'a QueryParams, name: &str) -> Result<&'a str, ApiError> {
    q.str(name)
        .ok_or_else(|| DomainError::Required(name.to_owned()).into())
}

/// `GET /api/v2/itemSearch/field`: items whose field matches (`match`: `exact` by default,
/// `beginning` or `middle`; case-sensitive), `[{id, <field>: value}]` by id, cursor-paged.
pub async fn search_field_v2(Caller { session, store }: Caller, q: QueryParams) -> ApiResult {
    let how = match q.str("match") {
        None => FieldMatch::Exact,
        Some(m) => FieldMatch::from_name(m)
            .ok_or_else(|| ApiError::invalid("match", "must be exact, beginning or middle"))?,
    };
    let term = check_term(q.str("term"), how == FieldMatch::Exact)?;
    let entity = required(&q, "entity_type")?;
    let kind = kind_of(
        "entity_type",
        entity,
        [
            ("deal", Some(Kind::Deal)),
            ("person", Some(Kind::Person)),
            ("organization", Some(Kind::Organization)),
            ("lead", None),
            ("product", None),
            ("project", None),
        ],
    )?;
    let key = required(&q, "field")?;
    let found = match kind {
        Some(kind) => {
            item_search::search_field(store.as_ref(), &session, kind, key, &term, how).await?
        }
        None => Vec::new(),
    };
    let (page, next_cursor) = keyset_page(&q, &found, |(id, _)| *id, "itemSearch/field")?;
    let data: Vec<Value> = page
        .iter()
        .map(|(id, v)| {
            let mut item = serde_json::Map::new();
            item.insert("id".into(), json!(id));
            item.insert(key.to_owned(), v.clone());
            Value::Object(item)
        })
        .collect();
    Ok(cursor_page(data, next_cursor))
}

/// `GET /v1/itemSearch/field`: `field_type`, `field_key`, `exact_match` (else a substring),
/// and `return_item_ids` (else the distinct values).
pub async fn search_field_v1(Caller { session, store }: Caller, q: QueryParams) -> ApiResult {
    let exact = q.bool("exact_match")?;
    let term = check_term(q.str("term"), exact)?;
    let field_type = required(&q, "field_type")?;
    let kind = kind_of(
        "field_type",
        field_type,
        [
            ("dealField", Some(Kind::Deal)),
            ("personField", Some(Kind::Person)),
            ("organizationField", Some(Kind::Organization)),
            ("leadField", None),
            ("productField", None),
            ("projectField", None),
        ],
    )?;
    let key = required(&q, "field_key")?;
    let with_ids = q.bool("return_item_ids")?;
    let (start, limit) = super::v1::paging(&q)?;
    let how = if exact {
        FieldMatch::Exact
    } else {
        FieldMatch::Middle
    };
    let mut found = match kind {
        Some(kind) => {
            item_search::search_field(store.as_ref(), &session, kind, key, &term, how).await?
        }
        None => Vec::new(),
    };
    if !with_ids {
        let mut seen = std::collections::HashSet::new();
        found.retain(|(_, v)| seen.insert(v.clone().to_string()));
    }
    let (page, more) = super::v1::page_of(&found, start, limit);
    let data: Vec<Value> = page
        .iter()
        .map(|(id, v)| {
            let mut item = serde_json::Map::new();
            if with_ids {
                item.insert("id".into(), json!(id));
            }
            item.insert(key.to_owned(), v.clone());
            Value::Object(item)
        })
        .collect();
    Ok(success(
        StatusCode::OK,
        data,
        Some(json!({ "pagination": super::v1::pagination(start, limit, page.len(), more) })),
        None,
    ))
}
