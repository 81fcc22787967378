//! v1 activities: the legacy reads clients still call (`GET /v1/activities`,
//! `/v1/activities/{id}`, and a person's, organization's and deal's activities), in
//! Pipedrive's v1 shape with `related_objects`. Writes are v2's (`/api/v2/activities`);
//! Pipedrive has retired v1's.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::render::{Contacts, org_related, user_brief};
use crate::api::ApiResult;
use crate::api::envelope::success;
use crate::api::extract::{ActiveDeal, ActiveOrganization, ActivePerson, Caller, PathId};
use crate::api::parse::QueryParams;
use crate::api::v2::deals::number;
use crate::domain::activity::{self, Activity, ActivityFilter, ActivityType};
use crate::domain::deal::{self, Deal, DealFilter};
use crate::domain::organization::{self, Organization};
use crate::domain::person::Person;
use crate::domain::ports::Store;
use crate::domain::query::{self, ListQuery, Page};
use crate::domain::{Company, Session, User, values};
use crate::error::ApiError;

/// The persons, organizations, deals and users a page of activities or notes names, as far
/// as the caller may see them.
pub struct Linked {
    pub company: Company,
    pub users: BTreeMap<i64, User>,
    pub persons: BTreeMap<i64, Person>,
    pub orgs: BTreeMap<i64, Organization>,
    pub deals: BTreeMap<i64, Deal>,
}

impl Linked {
    /// Loads the items `(person, org, deal)` ids and the users named.
    pub async fn load(
        store: &dyn Store,
        session: &Session,
        persons: Vec<i64>,
        orgs: Vec<i64>,
        deals: Vec<i64>,
        users: Vec<i64>,
    ) -> Result<Self, ApiError> {
        let company_id = session.company.id;
        let persons: BTreeMap<i64, Person> = query::visible_persons(store, session, persons)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let orgs: BTreeMap<i64, Organization> = if orgs.is_empty() {
            BTreeMap::new()
        } else {
            store
                .organizations_by_ids(company_id, &orgs)
                .await?
                .into_iter()
                .filter(|o| organization::can_see_org(session, o))
                .map(|o| (o.id, o))
                .collect()
        };
        let deals = if deals.is_empty() {
            BTreeMap::new()
        } else {
            let filter = DealFilter {
                ids: Some(deals),
                live: true,
                ..DealFilter::default()
            };
            let (found, _) =
                deal::list_deals(store, session, ListQuery::first_page(filter)).await?;
            found.into_iter().map(|d| (d.id, d)).collect()
        };
        let named: Vec<i64> = users
            .into_iter()
            .chain(persons.values().map(|p| p.owner_id))
            .chain(orgs.values().map(|o| o.owner_id))
            .collect();
        let users = store
            .users(company_id)
            .await?
            .iter()
            .filter(|u| named.contains(&u.id))
            .map(|u| (u.id, u.clone()))
            .collect();
        Ok(Self {
            company: session.company.clone(),
            users,
            persons,
            orgs,
            deals,
        })
    }

    /// `related_objects`: the users, persons, organizations and deals named.
    pub fn objects(&self) -> Map<String, Value> {
        fn by_id(items: impl Iterator<Item = (i64, Value)>) -> Value {
            Value::Object(items.map(|(id, v)| (id.to_string(), v)).collect())
        }
        let mut out = Map::new();
        out.insert(
            "user".into(),
            by_id(self.users.values().map(|u| (u.id, json!(user_brief(u))))),
        );
        if !self.persons.is_empty() {
            let persons = self.persons.values().map(|p| {
                let v = json!({
                    "id": p.id,
                    "name": p.name,
                    "email": Contacts(&p.emails),
                    "phone": Contacts(&p.phones),
                    "owner_id": p.owner_id,
                });
                (p.id, v)
            });
            out.insert("person".into(), by_id(persons));
        }
        if !self.orgs.is_empty() {
            let orgs = self
                .orgs
                .values()
                .map(|o| (o.id, json!(org_related(o, &self.company))));
            out.insert("organization".into(), by_id(orgs));
        }
        if !self.deals.is_empty() {
            let deals = self.deals.values().map(|d| {
                let v = json!({
                    "id": d.id,
                    "title": d.title,
                    "status": d.status.as_str(),
                    "value": number(d.value),
                    "currency": d.currency,
                    "stage_id": d.stage_id,
                    "pipeline_id": d.pipeline_id,
                });
                (d.id, v)
            });
            out.insert("deal".into(), by_id(deals));
        }
        out
    }
}

/// What a page of activities names.
async fn linked(
    store: &dyn Store,
    session: &Session,
    list: &[Activity],
) -> Result<Linked, ApiError> {
    let v = list.iter().map(|a| &a.values);
    Linked::load(
        store,
        session,
        v.clone().filter_map(|v| v.person_id).collect(),
        v.clone().filter_map(|v| v.org_id).collect(),
        v.clone().filter_map(|v| v.deal_id).collect(),
        list.iter()
            .flat_map(|a| [a.values.owner_id, a.creator_user_id])
            .collect(),
    )
    .await
}

/// An activity in the v1 shape.
fn render(a: &Activity, rel: &Linked, types: &[ActivityType]) -> Value {
    let v = &a.values;
    let person = v.person_id.and_then(|id| rel.persons.get(&id));
    let org = v.org_id.and_then(|id| rel.orgs.get(&id));
    let deal = v.deal_id.and_then(|id| rel.deals.get(&id));
    let part = |k: &str| {
        v.location
            .as_ref()
            .and_then(|l| l.get(k))
            .cloned()
            .unwrap_or(json!(""))
    };
    let participants: Vec<Value> = v
        .participants
        .iter()
        .map(|p| json!({"person_id": p.person_id, "primary_flag": p.primary}))
        .collect();
    let attendees: Vec<Value> = v
        .attendees
        .iter()
        .map(|t| {
            json!({
                "email_address": t.email,
                "name": t.name,
                "status": t.status,
                "is_organizer": i64::from(t.is_organizer),
                "person_id": t.person_id,
                "user_id": t.user_id,
            })
        })
        .collect();
    let type_name = types
        .iter()
        .find(|t| t.key_string == v.type_key)
        .map(|t| t.name.clone());
    let mut out = json!({
        "id": a.id,
        "company_id": a.company_id,
        "user_id": v.owner_id,
        "done": v.done,
        "type": v.type_key,
        "conference_meeting_client": "",
        "conference_meeting_url": "",
        "conference_meeting_id": "",
        "due_date": v.due_date.as_deref().unwrap_or(""),
        "due_time": v.due_time.as_deref().unwrap_or(""),
        "duration": v.duration.as_deref().unwrap_or(""),
        // Unset: busy when it has a time, free when all-day (Pipedrive's v1 rule).
        "busy_flag": v.busy.unwrap_or(v.due_time.is_some()),
        "add_time": a.add_time.v1(),
        "marked_as_done_time": v.marked_as_done_time.map_or(String::new(), |t| t.v1()),
        "subject": v.subject,
        "public_description": v.public_description.as_deref().unwrap_or(""),
        "calendar_sync_include_context": "",
        "location": part("value"),
        "org_id": v.org_id,
        "person_id": v.person_id,
        "deal_id": v.deal_id,
        "lead_id": null,
        "project_id": null,
        "active_flag": a.active,
        "update_time": a.update_time.v1(),
        "source_timezone": "",
        "series": [],
        "note": v.note.as_deref().unwrap_or(""),
        "created_by_user_id": a.creator_user_id,
    });
    let rest = json!({
        "location_subpremise": part("subpremise"),
        "location_street_number": part("street_number"),
        "location_route": part("route"),
        "location_sublocality": part("sublocality"),
        "location_locality": part("locality"),
        "location_admin_area_level_1": part("admin_area_level_1"),
        "location_admin_area_level_2": part("admin_area_level_2"),
        "location_country": part("country"),
        "location_postal_code": part("postal_code"),
        "location_formatted_address": part("formatted_address"),
        "attendees": attendees,
        "participants": participants,
        "org_name": org.map(|o| &o.name),
        "person_name": person.map(|p| &p.name),
        "deal_title": deal.map(|d| &d.title),
        "owner_name": rel.users.get(&v.owner_id).map(|u| &u.name),
        "person_dropbox_bcc": person.map(|_| rel.company.cc_email()),
        "deal_dropbox_bcc": deal.map(|d| rel.company.deal_cc_email(d.id)),
        "assigned_to_user_id": v.owner_id,
        "type_name": type_name,
        "priority": v.priority,
    });
    if let (Value::Object(out), Value::Object(rest)) = (&mut out, rest) {
        out.extend(rest);
    }
    out
}

/// `GET /v1/activities/{id}`: deleted ones too (`active_flag: false`).
/// An activity as v1 shows it to the session's user, without `related_objects`.
pub async fn render_one(
    store: &dyn Store,
    session: &Session,
    a: &Activity,
) -> Result<Value, ApiError> {
    let list = [a.clone()];
    let rel = linked(store, session, &list).await?;
    let types = store.activity_types(session.company.id).await?;
    Ok(render(a, &rel, &types))
}

pub async fn get_activity_v1(Caller { session, store }: Caller, PathId(id): PathId) -> ApiResult {
    let a = activity::find_activity(store.as_ref(), &session, id).await?;
    let list = [a];
    let rel = linked(store.as_ref(), &session, &list).await?;
    let types = store.activity_types(session.company.id).await?;
    Ok(success(
        StatusCode::OK,
        render(&list[0], &rel, &types),
        None,
        Some(rel.objects()),
    ))
}

fn date(q: &QueryParams, name: &str) -> Result<Option<String>, ApiError> {
    q.str(name)
        .map(|s| {
            values::parse_date(s)
                .ok_or_else(|| ApiError::invalid(name, "must be a date in the format YYYY-MM-DD"))
        })
        .transpose()
}

/// `GET /v1/activities`: the caller's (`user_id` omitted), a user's, or everyone's
/// (`user_id=0`); `type` (comma-separated key strings), `start_date`/`end_date` on the due
/// date, `done`, offset paging.
pub async fn get_activities_v1(caller: Caller, q: QueryParams) -> ApiResult {
    if q.str("filter_id").is_some() {
        return Err(ApiError::invalid(
            "filter_id",
            "saved filters are not supported",
        ));
    }
    let owner_id = match q.int("user_id")? {
        None => Some(caller.session.user.id),
        Some(0) => None,
        Some(id) if id > 0 => Some(id),
        Some(_) => return Err(ApiError::invalid("user_id", "must be 0 or a user's id")),
    };
    let filter = ActivityFilter {
        owner_id,
        types: q.list("type"),
        due_from: date(&q, "start_date")?,
        due_to: date(&q, "end_date")?,
        ..ActivityFilter::default()
    };
    list(caller, &q, filter).await
}

/// `GET /v1/persons/{id}/activities`: those the person takes part in (primary or not).
pub async fn get_person_activities(
    caller: Caller,
    ActivePerson(p): ActivePerson,
    q: QueryParams,
) -> ApiResult {
    let filter = ActivityFilter {
        participant_id: Some(p.id),
        exclude: q.ids("exclude", 500)?.unwrap_or_default(),
        ..ActivityFilter::default()
    };
    list(caller, &q, filter).await
}

/// `GET /v1/organizations/{id}/activities`.
pub async fn get_organization_activities(
    caller: Caller,
    ActiveOrganization(o): ActiveOrganization,
    q: QueryParams,
) -> ApiResult {
    let filter = ActivityFilter {
        org_id: Some(o.id),
        exclude: q.ids("exclude", 500)?.unwrap_or_default(),
        ..ActivityFilter::default()
    };
    list(caller, &q, filter).await
}

/// `GET /v1/deals/{id}/activities`.
pub async fn get_deal_activities(
    caller: Caller,
    ActiveDeal(d): ActiveDeal,
    q: QueryParams,
) -> ApiResult {
    let filter = ActivityFilter {
        deal_id: Some(d.id),
        exclude: q.ids("exclude", 500)?.unwrap_or_default(),
        ..ActivityFilter::default()
    };
    list(caller, &q, filter).await
}

/// A v1 page of activities, by due date (undated first), then id.
async fn list(
    Caller { session, store }: Caller,
    q: &QueryParams,
    mut filter: ActivityFilter,
) -> ApiResult {
    let (start, limit) = super::paging(q)?;
    filter.done = q.zero_one("done")?;
    let query = ListQuery {
        filter,
        order: vec![(query::SortField::DueDate, query::Direction::Asc)],
        page: Page::Offset { start },
        limit,
    };
    let (list, more) = activity::list_activities(store.as_ref(), &session, query).await?;
    let rel = linked(store.as_ref(), &session, &list).await?;
    let types = store.activity_types(session.company.id).await?;
    let data: Vec<Value> = list.iter().map(|a| render(a, &rel, &types)).collect();
    Ok(success(
        StatusCode::OK,
        data,
        Some(json!({ "pagination": super::pagination(start, limit, list.len(), more) })),
        Some(rel.objects()),
    ))
}
