//! v1 deals: the legacy reads clients still call (`GET /v1/deals`, `/v1/deals/{id}`, a
//! person's and an organization's deals), in Pipedrive's v1 shape with `related_objects`.
//! Writes are v2's (`/api/v2/deals`); Pipedrive has retired v1's.

use std::collections::{BTreeMap, HashMap};

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::render::{Contacts, custom_value, org_reference, org_related, owner_object, user_brief};
use crate::api::ApiResult;
use crate::api::envelope::success;
use crate::api::extract::{ActiveOrganization, ActivePerson, Caller, PathId};
use crate::api::parse::QueryParams;
use crate::api::v2::deals::number;
use crate::domain::deal::{self, Deal, DealFilter, DealStatus};
use crate::domain::fields::{self, Fields};
use crate::domain::organization::{self, Organization};
use crate::domain::person::Person;
use crate::domain::pipeline::{self, Pipeline, Stage, StageFilter};
use crate::domain::ports::Store;
use crate::domain::query::{self, ListQuery, Page};
use crate::domain::summary::{self, Summary};
use crate::domain::{Company, Kind, Session, Timestamp, User};
use crate::error::ApiError;

/// `GET /v1/deals`: `start`/`limit`, `status`, `user_id`, `owned_by_you`, `stage_id`, `sort`.
pub async fn get_deals(caller: Caller, q: QueryParams) -> ApiResult {
    if q.str("filter_id").is_some() {
        return Err(ApiError::invalid(
            "filter_id",
            "saved filters are not supported",
        ));
    }
    let owner_id = match q.zero_one("owned_by_you")? {
        Some(true) => Some(caller.session.user.id),
        _ => q.id("user_id")?,
    };
    let filter = DealFilter {
        owner_id,
        stage_id: q.id("stage_id")?,
        pipeline_id: q.id("pipeline_id")?,
        ..DealFilter::default()
    };
    list(caller, &q, filter).await
}

/// `GET /v1/persons/{id}/deals`: the deals whose contact person it is.
pub async fn get_person_deals(
    caller: Caller,
    ActivePerson(p): ActivePerson,
    q: QueryParams,
) -> ApiResult {
    let filter = DealFilter {
        person_id: Some(p.id),
        ..DealFilter::default()
    };
    list(caller, &q, filter).await
}

/// `GET /v1/organizations/{id}/deals`: its deals and, unless `only_primary_association=1`,
/// those related to it (through its persons or an organization custom field).
pub async fn get_organization_deals(
    caller: Caller,
    ActiveOrganization(o): ActiveOrganization,
    q: QueryParams,
) -> ApiResult {
    let only_primary = q.zero_one("only_primary_association")? == Some(true);
    let org_related = if only_primary {
        None
    } else {
        Some(
            deal::relating_fields(caller.store.as_ref(), &caller.session, Kind::Organization)
                .await?,
        )
    };
    let filter = DealFilter {
        org_id: Some(o.id),
        org_related,
        ..DealFilter::default()
    };
    list(caller, &q, filter).await
}

/// `GET /v1/deals/{id}`: deleted deals too (`deleted: true`), with `dropbox_email`.
/// A deal as v1 shows it to the session's user, without `related_objects`.
pub async fn render_one(store: &dyn Store, session: &Session, d: &Deal) -> Result<Value, ApiError> {
    let rel = Related::load(store, session, std::slice::from_ref(d)).await?;
    let mut data = rel.deal(d);
    data["age"] = age(d.add_time, session.now());
    Ok(data)
}

pub async fn get_deal(Caller { session, store }: Caller, PathId(id): PathId) -> ApiResult {
    let d = deal::find_deal(store.as_ref(), &session, id).await?;
    let rel = Related::load(store.as_ref(), &session, std::slice::from_ref(&d)).await?;
    let mut data = rel.deal(&d);
    data["age"] = age(d.add_time, session.now());
    Ok(success(
        StatusCode::OK,
        data,
        Some(json!({ "dropbox_email": session.company.deal_cc_email(d.id) })),
        Some(rel.objects()),
    ))
}

/// The deals of the caller's company a v1 list shows: v1's `status` (one of `open`, `won`,
/// `lost`, `deleted`, `all_not_deleted`), `sort`, and offset paging; archived deals are left
/// out, as Pipedrive's "all not archived deals".
async fn list(
    Caller { session, store }: Caller,
    q: &QueryParams,
    mut filter: DealFilter,
) -> ApiResult {
    let (start, limit) = super::paging(q)?;
    filter.archived = Some(false);
    filter.live = true;
    match q.str("status").unwrap_or("all_not_deleted") {
        "all_not_deleted" => {}
        "deleted" => {
            filter.live = false;
            filter.deleted = true;
        }
        s => match DealStatus::from_name(s) {
            Some(status) => filter.statuses.push(status),
            None => {
                return Err(ApiError::invalid(
                    "status",
                    format!("must be open, won, lost, deleted or all_not_deleted, got {s:?}"),
                ));
            }
        },
    }
    let order = q
        .str("sort")
        .map(|s| query::parse_sort(s, "deals", deal::sortable))
        .transpose()?
        .unwrap_or_default();
    let (deals, more) = deal::list_deals(
        store.as_ref(),
        &session,
        ListQuery {
            filter,
            order,
            page: Page::Offset { start },
            limit,
        },
    )
    .await?;
    let rel = Related::load(store.as_ref(), &session, &deals).await?;
    let data: Vec<Value> = deals.iter().map(|d| rel.deal(d)).collect();
    Ok(success(
        StatusCode::OK,
        data,
        Some(json!({ "pagination": super::pagination(start, limit, deals.len(), more) })),
        Some(rel.objects()),
    ))
}

/// Everything a page of deals refers to: users, the persons and organizations the caller may
/// see, stages, pipelines and the deal fields.
struct Related {
    company: Company,
    users: BTreeMap<i64, User>,
    persons: BTreeMap<i64, Person>,
    orgs: BTreeMap<i64, Organization>,
    stages: BTreeMap<i64, Stage>,
    pipelines: BTreeMap<i64, Pipeline>,
    fields: Fields,
    /// The deals' activity and note summaries.
    summaries: HashMap<i64, Summary>,
}

impl Related {
    async fn load(store: &dyn Store, session: &Session, deals: &[Deal]) -> Result<Self, ApiError> {
        let company_id = session.company.id;
        let person_ids: Vec<i64> = deals.iter().filter_map(|d| d.person_id).collect();
        let mut persons: BTreeMap<i64, Person> = query::visible_persons(store, session, person_ids)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        // Deleted persons the caller may see are shown too (`active_flag: false`).
        for id in deals.iter().filter_map(|d| d.person_id) {
            if !persons.contains_key(&id)
                && let Some(p) = store.person(company_id, id).await?
                && crate::domain::followers::can_see_person(session, &p)
            {
                persons.insert(id, p);
            }
        }
        let org_ids: Vec<i64> = deals.iter().filter_map(|d| d.org_id).collect();
        let orgs: BTreeMap<i64, Organization> = store
            .organizations_by_ids(company_id, &org_ids)
            .await?
            .into_iter()
            .filter(|o| organization::can_see_org(session, o))
            .map(|o| (o.id, o))
            .collect();
        let named: Vec<i64> = deals
            .iter()
            .flat_map(|d| [d.owner_id, d.creator_user_id])
            .chain(persons.values().map(|p: &Person| p.owner_id))
            .chain(orgs.values().map(|o| o.owner_id))
            .collect();
        let users = store
            .users(company_id)
            .await?
            .iter()
            .filter(|u| named.contains(&u.id))
            .map(|u| (u.id, u.clone()))
            .collect();
        let first = ListQuery::first_page(StageFilter::default());
        let (stages, _) = pipeline::list_stages(store, session, first).await?;
        let ids: Vec<i64> = deals.iter().map(|d| d.id).collect();
        let summaries = summary::summaries(store, session, Kind::Deal, &ids, (false, true)).await?;
        let (pipelines, _) =
            pipeline::list_pipelines(store, session, ListQuery::first_page(())).await?;
        Ok(Self {
            company: session.company.clone(),
            users,
            persons,
            orgs,
            stages: stages.into_iter().map(|s| (s.id, s)).collect(),
            pipelines: pipelines.into_iter().map(|p| (p.id, p)).collect(),
            summaries,
            fields: Fields::load(store, Kind::Deal, company_id).await?,
        })
    }

    /// A person as a deal's `person_id` (with `value`) and `related_objects.person` (with
    /// `id`) show it.
    fn person_brief(&self, p: &Person) -> Value {
        json!({
            "active_flag": p.active,
            "name": p.name,
            "email": Contacts(&p.emails),
            "phone": Contacts(&p.phones),
            "owner_id": p.owner_id,
        })
    }

    /// A deal's `user_id` and `creator_user_id`: the user with `value` (and, as Pipedrive's
    /// deal documents write it, `has_pic` as a boolean), or the bare id.
    fn user_object(&self, id: i64) -> Value {
        self.users.get(&id).map_or(json!(id), |u| {
            let mut v = json!(owner_object(u));
            v["has_pic"] = json!(false);
            v
        })
    }

    /// A deal in the v1 shape, its custom values at its root.
    fn deal(&self, d: &Deal) -> Value {
        let person = d.person_id.and_then(|id| self.persons.get(&id));
        let org = d.org_id.and_then(|id| self.orgs.get(&id));
        let stage = self.stages.get(&d.stage_id);
        let owner = self.users.get(&d.owner_id);
        let c = &d.closing;
        let probability = d.probability.or_else(|| {
            let enabled = self.pipelines.get(&d.pipeline_id)?.deal_probability;
            enabled.then(|| stage.map(|s| s.deal_probability as f64))?
        });
        let weighted = probability.map_or(d.value, |p| d.value * p / 100.0);
        let labels = self.fields.live_labels(&d.label_ids);
        let label = (!labels.is_empty()).then(|| {
            labels
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",")
        });
        let time = |t: Option<Timestamp>| t.map(Timestamp::v1);
        let none = Summary::default();
        let summary = self.summaries.get(&d.id).unwrap_or(&none);
        let live = |key: &str| summary.get(key).unwrap_or(Value::Null);
        let mut v = json!({
            "id": d.id,
            "creator_user_id": self.user_object(d.creator_user_id),
            "user_id": self.user_object(d.owner_id),
            // One the caller may not see shows its id only.
            "person_id": d.person_id.map(|id| match person {
                Some(p) => {
                    let mut v = self.person_brief(p);
                    v["value"] = json!(p.id);
                    v
                }
                None => json!({ "value": id }),
            }),
            "org_id": d.org_id.map(|id| match org {
                Some(o) => json!(org_reference(o, &self.company)),
                None => json!({ "value": id }),
            }),
            "stage_id": d.stage_id,
            "title": d.title,
            "value": number(d.value),
            "currency": d.currency,
            "archive_time": time(d.archive_time),
            "add_time": d.add_time.v1(),
            "update_time": d.update_time.v1(),
            "stage_change_time": time(d.stage_change_time),
            "active": d.active && d.status == DealStatus::Open,
            "deleted": !d.active,
            "is_archived": d.is_archived,
            "status": d.status.as_str(),
            "probability": d.probability.map(number),
            "next_activity_date": live("next_activity_date"),
            "next_activity_time": live("next_activity_time"),
            "next_activity_id": live("next_activity_id"),
            "last_activity_id": live("last_activity_id"),
            "last_activity_date": live("last_activity_date"),
            "lost_reason": c.lost_reason,
            "visible_to": d.visible_to.get().to_string(),
            "close_time": time(c.close_time),
            "pipeline_id": d.pipeline_id,
            "won_time": time(c.won_time),
            "first_won_time": time(c.first_won_time),
            "lost_time": time(c.lost_time),
        });
        let rest = json!({
            "products_count": 0,
            "files_count": 0,
            "notes_count": live("notes_count"),
            "followers_count": d.followers_count(),
            "email_messages_count": 0,
            "activities_count": live("activities_count"),
            "done_activities_count": live("done_activities_count"),
            "undone_activities_count": live("undone_activities_count"),
            "participants_count": i64::from(d.person_id.is_some()),
            "expected_close_date": d.expected_close_date,
            "last_incoming_mail_time": null,
            "last_outgoing_mail_time": null,
            "label": label,
            "stage_order_nr": stage.map(|s| s.order_nr),
            "person_name": person.map(|p| &p.name),
            "org_name": org.map(|o| &o.name),
            "next_activity_subject": live("next_activity_subject"),
            "next_activity_type": live("next_activity_type"),
            "next_activity_duration": live("next_activity_duration"),
            "next_activity_note": live("next_activity_note"),
            "formatted_value": formatted(d.value, &d.currency),
            "weighted_value": number(weighted),
            "formatted_weighted_value": formatted(weighted, &d.currency),
            "weighted_value_currency": d.currency,
            "rotten_time": rotten_time(d, stage).map(Timestamp::v1),
            "owner_name": owner.map(|u| &u.name),
            "cc_email": self.company.deal_cc_email(d.id),
            "org_hidden": d.org_id.is_some() && org.is_none(),
            "person_hidden": d.person_id.is_some() && person.is_none(),
            "origin": d.origin,
            "origin_id": null,
            "channel": null,
            "channel_id": null,
        });
        let (Value::Object(out), Value::Object(rest)) = (&mut v, rest) else {
            unreachable!("both are objects")
        };
        out.extend(rest);
        for key in [
            "arr",
            "mrr",
            "acv",
            "arr_currency",
            "mrr_currency",
            "acv_currency",
        ] {
            out.insert(key.into(), Value::Null);
        }
        for def in self.fields.custom() {
            let value = fields::live_value(def, d.custom_fields.get(&def.key));
            out.extend(custom_value(def, value));
        }
        v
    }

    /// `related_objects`: the users, persons, organizations, stages and pipelines named.
    fn objects(&self) -> Map<String, Value> {
        let by_id = |items: Vec<(i64, Value)>| {
            Value::Object(
                items
                    .into_iter()
                    .map(|(id, v)| (id.to_string(), v))
                    .collect(),
            )
        };
        let mut out = Map::new();
        out.insert(
            "user".into(),
            by_id(
                self.users
                    .values()
                    .map(|u| (u.id, json!(user_brief(u))))
                    .collect(),
            ),
        );
        let persons = self.persons.values().map(|p| {
            let mut v = self.person_brief(p);
            v["id"] = json!(p.id);
            (p.id, v)
        });
        if !self.persons.is_empty() {
            out.insert("person".into(), by_id(persons.collect()));
        }
        let orgs = self
            .orgs
            .values()
            .map(|o| (o.id, json!(org_related(o, &self.company))));
        if !self.orgs.is_empty() {
            out.insert("organization".into(), by_id(orgs.collect()));
        }
        let stages = self.stages.values().map(|s| {
            let pipeline = self.pipelines.get(&s.pipeline_id);
            let v = json!({
                "id": s.id,
                "company_id": s.company_id,
                "order_nr": s.order_nr,
                "name": s.name,
                "active_flag": s.active,
                "deal_probability": s.deal_probability,
                "pipeline_id": s.pipeline_id,
                "rotten_flag": s.rotten,
                "rotten_days": s.rotten_days,
                "add_time": s.add_time.v1(),
                "update_time": s.update_time.v1(),
                "pipeline_name": pipeline.map(|p| &p.name),
                "pipeline_deal_probability": pipeline.map(|p| p.deal_probability),
            });
            (s.id, v)
        });
        out.insert("stage".into(), by_id(stages.collect()));
        let pipelines = self.pipelines.values().map(|p| {
            let v = json!({
                "id": p.id,
                "name": p.name,
                "url_title": url_title(&p.name),
                "order_nr": p.order_nr,
                "active": p.active,
                "deal_probability": p.deal_probability,
                "add_time": p.add_time.v1(),
                "update_time": p.update_time.v1(),
            });
            (p.id, v)
        });
        out.insert("pipeline".into(), by_id(pipelines.collect()));
        out
    }
}

/// A pipeline's `url_title`: its name with spaces as dashes.
fn url_title(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join("-")
}

/// When an open deal rots: `rotten_days` after it entered a stage that rots deals.
fn rotten_time(d: &Deal, stage: Option<&Stage>) -> Option<Timestamp> {
    let stage = stage.filter(|s| s.rotten && d.status == DealStatus::Open)?;
    let days = stage.rotten_days?;
    let since = d.stage_change_time.unwrap_or(d.add_time);
    Some(Timestamp(since.0 + days * 86_400))
}

/// `age` of `GET /v1/deals/{id}`: the time since the deal was added.
fn age(from: Timestamp, now: Timestamp) -> Value {
    let total = (now.0 - from.0).max(0);
    let days = total / 86_400;
    json!({
        "y": days / 365,
        "m": days % 365 / 30,
        "d": days % 365 % 30,
        "h": total % 86_400 / 3600,
        "i": total % 3600 / 60,
        "s": total % 60,
        "total_seconds": total,
    })
}

/// A value with its currency as Pipedrive's web app writes it: `€5,000`, `US$1,250.50`,
/// `CHF 99` (a symbol for the common currencies, the code and a space for the others).
pub fn formatted(value: f64, currency: &str) -> String {
    let prefix = match currency {
        "EUR" => "€".to_owned(),
        "USD" => "US$".to_owned(),
        "GBP" => "£".to_owned(),
        "JPY" => "¥".to_owned(),
        "INR" => "₹".to_owned(),
        other => format!("{other} "),
    };
    let sign = if value < 0.0 { "-" } else { "" };
    let cents = (value.abs() * 100.0).round() as u64;
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    let fraction = match cents % 100 {
        0 => String::new(),
        f => format!(".{f:02}"),
    };
    format!("{sign}{prefix}{grouped}{fraction}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_formatted_with_their_currency_and_thousands() {
        assert_eq!(formatted(5000.0, "EUR"), "€5,000");
        assert_eq!(formatted(1250.5, "USD"), "US$1,250.50");
        assert_eq!(formatted(0.0, "CHF"), "CHF 0");
        assert_eq!(formatted(-1_234_567.0, "GBP"), "-£1,234,567");
        assert_eq!(formatted(999.999, "EUR"), "€1,000");
    }

    #[test]
    fn age_splits_the_seconds_since_add() {
        let a = age(Timestamp(0), Timestamp(400 * 86_400 + 3_723));
        assert_eq!(a["y"], 1);
        assert_eq!(a["m"], 1);
        assert_eq!(a["d"], 5);
        assert_eq!(a["h"], 1);
        assert_eq!(a["i"], 2);
        assert_eq!(a["s"], 3);
    }
}
