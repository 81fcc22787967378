//! Every route the server has, in one table: the router is built from it, and tests walk it
//! (so a new route cannot escape the isolation and visibility tests).

use axum::Router;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter, on};

use super::{AppState, followers, item_search as is, service, v1, v2};

/// Which prefixes a route is served under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `/v1/...` and `/api/v1/...`.
    V1,
    /// `/api/v2/...`.
    V2,
    /// The server's own routes (health, metrics, the contract): no prefix, no token.
    Service,
}

impl Dialect {
    pub fn prefixes(self) -> &'static [&'static str] {
        match self {
            Self::V1 => &["/v1", "/api/v1"],
            Self::V2 => &["/api/v2"],
            Self::Service => &[""],
        }
    }
}

pub struct Entry {
    pub dialect: Dialect,
    pub method: Method,
    /// The path under the dialect's prefix, with `{param}` placeholders.
    pub path: &'static str,
    /// What the operation costs of the daily token budget: its `x-token-cost` in Pipedrive's
    /// OpenAPI documents.
    pub cost: u32,
    /// The handler's name, the operation's id in `/openapi.json`.
    pub name: &'static str,
    pub handler: MethodRouter<AppState>,
}

macro_rules! r {
    // A handler every kind shares, named for the kind it serves here.
    ($dialect:ident $method:ident $path:literal, $cost:literal => $module:ident :: $handler:ident :: <$kind:ident> as $name:ident) => {
        Entry {
            dialect: Dialect::$dialect,
            method: Method::$method,
            path: $path,
            cost: $cost,
            name: stringify!($name),
            handler: on(MethodFilter::$method, $module::$handler::<$kind>),
        }
    };
    ($dialect:ident $method:ident $path:literal, $cost:literal => $module:ident :: $handler:ident) => {
        Entry {
            dialect: Dialect::$dialect,
            method: Method::$method,
            path: $path,
            cost: $cost,
            name: stringify!($handler),
            handler: on(MethodFilter::$method, $module::$handler),
        }
    };
}

/// The route table.
pub fn table() -> Vec<Entry> {
    use super::extract::{Deals, Organizations, Persons};
    use followers as f;
    use v1::{activities as a1, activity_types as t1, notes as n1, webhooks as w1};
    use v1::{deals as d1, fields as f1, organizations as o1, persons as p1, users as u1};
    use v2::{
        activities as a2, deals as d2, fields as f2, organizations as o2, persons as p2,
        pipelines as pl2,
    };
    vec![
        // the server's own
        r!(Service GET "/", 0 => service::index),
        r!(Service GET "/healthz", 0 => service::healthz),
        r!(Service GET "/readyz", 0 => service::readyz),
        r!(Service GET "/metrics", 0 => service::metrics),
        r!(Service GET "/openapi.json", 0 => service::openapi_json),
        r!(Service GET "/docs", 0 => service::docs),
        // v1 persons
        r!(V1 GET "/persons", 20 => p1::list_persons),
        r!(V1 POST "/persons", 10 => p1::add_person),
        r!(V1 DELETE "/persons", 10 => p1::delete_persons),
        r!(V1 GET "/persons/search", 40 => p1::search_persons_v1),
        r!(V1 GET "/persons/{id}", 2 => p1::get_person),
        r!(V1 PUT "/persons/{id}", 10 => p1::update_person),
        r!(V1 DELETE "/persons/{id}", 6 => p1::delete_person),
        r!(V1 PUT "/persons/{id}/merge", 40 => p1::merge_persons),
        r!(V1 GET "/persons/{id}/permittedUsers", 10 => p1::get_person_users),
        r!(V1 GET "/persons/{id}/changelog", 20 => p1::get_person_changelog),
        r!(V1 GET "/persons/{id}/followers", 20 => f::get_person_followers_v1),
        r!(V1 POST "/persons/{id}/followers", 10 => f::add_person_follower_v1),
        r!(V1 DELETE "/persons/{id}/followers/{follower_id}", 6 => f::delete_person_follower_v1),
        // v1 person, organization and deal fields
        r!(V1 GET "/personFields", 20 => f1::get_fields::<Persons> as get_person_fields),
        r!(V1 POST "/personFields", 10 => f1::add_field::<Persons> as add_person_field),
        r!(V1 DELETE "/personFields", 10 => f1::delete_fields::<Persons> as delete_person_fields),
        r!(V1 GET "/personFields/{id}", 2 => f1::get_field::<Persons> as get_person_field),
        r!(V1 PUT "/personFields/{id}", 10 => f1::update_field::<Persons> as update_person_field),
        r!(V1 DELETE "/personFields/{id}", 6 => f1::delete_field::<Persons> as delete_person_field),
        r!(V1 GET "/organizationFields", 20 => f1::get_fields::<Organizations> as get_organization_fields),
        r!(V1 POST "/organizationFields", 10 => f1::add_field::<Organizations> as add_organization_field),
        r!(V1 DELETE "/organizationFields", 10 => f1::delete_fields::<Organizations> as delete_organization_fields),
        r!(V1 GET "/organizationFields/{id}", 2 => f1::get_field::<Organizations> as get_organization_field),
        r!(V1 PUT "/organizationFields/{id}", 10 => f1::update_field::<Organizations> as update_organization_field),
        r!(V1 DELETE "/organizationFields/{id}", 6 => f1::delete_field::<Organizations> as delete_organization_field),
        r!(V1 GET "/dealFields", 20 => f1::get_fields::<Deals> as get_deal_fields),
        r!(V1 POST "/dealFields", 10 => f1::add_field::<Deals> as add_deal_field),
        r!(V1 DELETE "/dealFields", 10 => f1::delete_fields::<Deals> as delete_deal_fields),
        r!(V1 GET "/dealFields/{id}", 2 => f1::get_field::<Deals> as get_deal_field),
        r!(V1 PUT "/dealFields/{id}", 10 => f1::update_field::<Deals> as update_deal_field),
        r!(V1 DELETE "/dealFields/{id}", 6 => f1::delete_field::<Deals> as delete_deal_field),
        // search across item types (v1's organization search is one)
        r!(V1 GET "/itemSearch", 40 => is::search_items_v1),
        r!(V1 GET "/itemSearch/field", 40 => is::search_field_v1),
        r!(V1 GET "/organizations/search", 40 => is::search_organizations_v1),
        r!(V2 GET "/itemSearch", 20 => is::search_items_v2),
        r!(V2 GET "/itemSearch/field", 20 => is::search_field_v2),
        // v1 deals: the legacy reads (writes are v2's)
        r!(V1 GET "/deals", 20 => d1::get_deals),
        r!(V1 GET "/deals/{id}", 2 => d1::get_deal),
        r!(V1 GET "/persons/{id}/deals", 20 => d1::get_person_deals),
        r!(V1 GET "/organizations/{id}/deals", 20 => d1::get_organization_deals),
        // v1 deal followers (current in Pipedrive's v1)
        r!(V1 GET "/deals/{id}/followers", 20 => f::get_deal_followers_v1),
        r!(V1 POST "/deals/{id}/followers", 10 => f::add_deal_follower_v1),
        r!(V1 DELETE "/deals/{id}/followers/{follower_id}", 6 => f::delete_deal_follower_v1),
        // v1 activities: the legacy reads (writes are v2's)
        r!(V1 GET "/activities", 20 => a1::get_activities_v1),
        r!(V1 GET "/activities/{id}", 2 => a1::get_activity_v1),
        r!(V1 GET "/persons/{id}/activities", 20 => a1::get_person_activities),
        r!(V1 GET "/organizations/{id}/activities", 20 => a1::get_organization_activities),
        r!(V1 GET "/deals/{id}/activities", 20 => a1::get_deal_activities),
        // v1 activity types and notes (current in Pipedrive's v1)
        r!(V1 GET "/activityTypes", 20 => t1::get_activity_types),
        r!(V1 POST "/activityTypes", 10 => t1::add_activity_type),
        r!(V1 PUT "/activityTypes/{id}", 10 => t1::update_activity_type),
        r!(V1 DELETE "/activityTypes/{id}", 6 => t1::delete_activity_type),
        r!(V1 GET "/notes", 20 => n1::get_notes),
        r!(V1 POST "/notes", 10 => n1::add_note),
        r!(V1 GET "/notes/{id}", 2 => n1::get_note),
        r!(V1 PUT "/notes/{id}", 10 => n1::update_note),
        r!(V1 DELETE "/notes/{id}", 6 => n1::delete_note),
        r!(V1 GET "/noteFields", 20 => n1::get_note_fields),
        // webhooks (v1 only: Pipedrive has no v2 management API), and pipestack's log
        r!(V1 GET "/webhooks", 10 => w1::get_webhooks),
        r!(V1 POST "/webhooks", 10 => w1::add_webhook),
        r!(V1 DELETE "/webhooks/{id}", 6 => w1::delete_webhook),
        r!(V1 GET "/webhooks/{id}/deliveries", 10 => w1::get_webhook_deliveries),
        // v1 organizations
        r!(V1 GET "/organizations", 20 => o1::get_organizations),
        r!(V1 POST "/organizations", 10 => o1::add_organization),
        r!(V1 GET "/organizations/{id}", 2 => o1::get_organization),
        r!(V1 PUT "/organizations/{id}", 10 => o1::update_organization),
        r!(V1 DELETE "/organizations/{id}", 6 => o1::delete_organization),
        r!(V1 GET "/organizations/{id}/persons", 20 => o1::get_organization_persons),
        r!(V1 GET "/organizations/{id}/followers", 20 => f::get_organization_followers_v1),
        r!(V1 POST "/organizations/{id}/followers", 10 => f::add_organization_follower_v1),
        r!(V1 DELETE "/organizations/{id}/followers/{follower_id}", 6 => f::delete_organization_follower_v1),
        // v1 users
        r!(V1 GET "/users", 20 => u1::get_users),
        r!(V1 GET "/users/me", 2 => u1::get_current_user),
        r!(V1 GET "/users/find", 40 => u1::find_users_by_name),
        r!(V1 GET "/users/{id}", 2 => u1::get_user),
        // v2 persons
        r!(V2 GET "/persons", 10 => p2::get_persons),
        r!(V2 POST "/persons", 5 => p2::add_person),
        r!(V2 GET "/persons/search", 20 => p2::search_persons),
        r!(V2 GET "/persons/{id}", 1 => p2::get_person),
        r!(V2 PATCH "/persons/{id}", 5 => p2::update_person),
        r!(V2 DELETE "/persons/{id}", 3 => p2::delete_person),
        r!(V2 GET "/persons/{id}/followers", 10 => f::get_person_followers),
        r!(V2 POST "/persons/{id}/followers", 5 => f::add_person_follower),
        r!(V2 GET "/persons/{id}/followers/changelog", 10 => f::get_person_followers_changelog),
        r!(V2 DELETE "/persons/{id}/followers/{follower_id}", 3 => f::delete_person_follower),
        // v2 person and organization fields
        r!(V2 GET "/personFields", 10 => f2::get_fields::<Persons> as get_person_fields),
        r!(V2 POST "/personFields", 5 => f2::add_field::<Persons> as add_person_field),
        r!(V2 GET "/personFields/{field_code}", 1 => f2::get_field::<Persons> as get_person_field),
        r!(V2 PATCH "/personFields/{field_code}", 5 => f2::update_field::<Persons> as update_person_field),
        r!(V2 DELETE "/personFields/{field_code}", 3 => f2::delete_field::<Persons> as delete_person_field),
        r!(V2 POST "/personFields/{field_code}/options", 5 => f2::add_field_options::<Persons> as add_person_field_options),
        r!(V2 PATCH "/personFields/{field_code}/options", 5 => f2::update_field_options::<Persons> as update_person_field_options),
        r!(V2 DELETE "/personFields/{field_code}/options", 3 => f2::delete_field_options::<Persons> as delete_person_field_options),
        r!(V2 GET "/organizationFields", 10 => f2::get_fields::<Organizations> as get_organization_fields),
        r!(V2 POST "/organizationFields", 5 => f2::add_field::<Organizations> as add_organization_field),
        r!(V2 GET "/organizationFields/{field_code}", 1 => f2::get_field::<Organizations> as get_organization_field),
        r!(V2 PATCH "/organizationFields/{field_code}", 5 => f2::update_field::<Organizations> as update_organization_field),
        r!(V2 DELETE "/organizationFields/{field_code}", 3 => f2::delete_field::<Organizations> as delete_organization_field),
        r!(V2 POST "/organizationFields/{field_code}/options", 5 => f2::add_field_options::<Organizations> as add_organization_field_options),
        r!(V2 PATCH "/organizationFields/{field_code}/options", 5 => f2::update_field_options::<Organizations> as update_organization_field_options),
        r!(V2 DELETE "/organizationFields/{field_code}/options", 3 => f2::delete_field_options::<Organizations> as delete_organization_field_options),
        // v2 organizations
        r!(V2 GET "/organizations", 10 => o2::get_organizations),
        r!(V2 POST "/organizations", 5 => o2::add_organization),
        r!(V2 GET "/organizations/search", 20 => o2::search_organization),
        r!(V2 GET "/organizations/{id}", 1 => o2::get_organization),
        r!(V2 PATCH "/organizations/{id}", 5 => o2::update_organization),
        r!(V2 DELETE "/organizations/{id}", 3 => o2::delete_organization),
        r!(V2 GET "/organizations/{id}/followers", 10 => f::get_organization_followers),
        r!(V2 POST "/organizations/{id}/followers", 5 => f::add_organization_follower),
        r!(V2 GET "/organizations/{id}/followers/changelog", 10 => f::get_organization_followers_changelog),
        r!(V2 DELETE "/organizations/{id}/followers/{follower_id}", 3 => f::delete_organization_follower),
        // v2 deals
        r!(V2 GET "/deals", 10 => d2::get_deals),
        r!(V2 POST "/deals", 5 => d2::add_deal),
        r!(V2 GET "/deals/archived", 20 => d2::get_archived_deals),
        r!(V2 GET "/deals/search", 20 => d2::search_deals),
        r!(V2 GET "/deals/{id}", 1 => d2::get_deal),
        r!(V2 PATCH "/deals/{id}", 5 => d2::update_deal),
        r!(V2 DELETE "/deals/{id}", 3 => d2::delete_deal),
        r!(V2 GET "/deals/{id}/followers", 10 => f::get_deal_followers),
        r!(V2 POST "/deals/{id}/followers", 5 => f::add_deal_follower),
        r!(V2 GET "/deals/{id}/followers/changelog", 10 => f::get_deal_followers_changelog),
        r!(V2 DELETE "/deals/{id}/followers/{follower_id}", 3 => f::delete_deal_follower),
        // v2 deal fields
        r!(V2 GET "/dealFields", 10 => f2::get_fields::<Deals> as get_deal_fields),
        r!(V2 POST "/dealFields", 5 => f2::add_field::<Deals> as add_deal_field),
        r!(V2 GET "/dealFields/{field_code}", 1 => f2::get_field::<Deals> as get_deal_field),
        r!(V2 PATCH "/dealFields/{field_code}", 5 => f2::update_field::<Deals> as update_deal_field),
        r!(V2 DELETE "/dealFields/{field_code}", 3 => f2::delete_field::<Deals> as delete_deal_field),
        r!(V2 POST "/dealFields/{field_code}/options", 5 => f2::add_field_options::<Deals> as add_deal_field_options),
        r!(V2 PATCH "/dealFields/{field_code}/options", 5 => f2::update_field_options::<Deals> as update_deal_field_options),
        r!(V2 DELETE "/dealFields/{field_code}/options", 3 => f2::delete_field_options::<Deals> as delete_deal_field_options),
        // v2 activities
        r!(V2 GET "/activities", 10 => a2::get_activities),
        r!(V2 POST "/activities", 5 => a2::add_activity),
        r!(V2 GET "/activities/{id}", 1 => a2::get_activity),
        r!(V2 PATCH "/activities/{id}", 5 => a2::update_activity),
        r!(V2 DELETE "/activities/{id}", 3 => a2::delete_activity),
        r!(V2 GET "/activityFields", 10 => a2::get_activity_fields),
        r!(V2 GET "/activityFields/{field_code}", 1 => a2::get_activity_field),
        // v2 pipelines and stages
        r!(V2 GET "/pipelines", 5 => pl2::get_pipelines),
        r!(V2 POST "/pipelines", 5 => pl2::add_pipeline),
        r!(V2 GET "/pipelines/{id}", 1 => pl2::get_pipeline),
        r!(V2 PATCH "/pipelines/{id}", 5 => pl2::update_pipeline),
        r!(V2 DELETE "/pipelines/{id}", 3 => pl2::delete_pipeline),
        r!(V2 GET "/stages", 5 => pl2::get_stages),
        r!(V2 POST "/stages", 5 => pl2::add_stage),
        r!(V2 GET "/stages/{id}", 1 => pl2::get_stage),
        r!(V2 PATCH "/stages/{id}", 5 => pl2::update_stage),
        r!(V2 DELETE "/stages/{id}", 3 => pl2::delete_stage),
    ]
}

/// Every (method, full path) the server serves, for tests and documentation.
pub fn list() -> Vec<(Method, String)> {
    list_of(|_| true)
}

/// The (method, full path) of every route behind a token: the data routes.
pub fn api_list() -> Vec<(Method, String)> {
    list_of(|e| e.dialect != Dialect::Service)
}

fn list_of(wanted: impl Fn(&Entry) -> bool) -> Vec<(Method, String)> {
    table()
        .into_iter()
        .filter(|e| wanted(e))
        .flat_map(|e| {
            e.dialect
                .prefixes()
                .iter()
                .map(move |p| (e.method.clone(), format!("{p}{}", e.path)))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Where a path that matches no route may have been meant: the same path under the prefixes of
/// the dialects that have it (`/v2/persons` → `/api/v2/persons`; `/persons` → `/v1/persons`
/// and `/api/v2/persons`; `/api/v2/notes` → `/v1/notes`), for the 404's message.
pub fn suggest(path: &str) -> Vec<String> {
    let (own, rest) = ["/api/v1", "/api/v2", "/v1", "/v2", "/api"]
        .iter()
        .find_map(|p| {
            let rest = path.strip_prefix(p).filter(|r| r.starts_with('/'))?;
            Some((Some(*p), rest))
        })
        .unwrap_or((None, path));
    let rest = match rest.trim_end_matches('/') {
        "" => rest,
        trimmed => trimmed,
    };
    let segments: Vec<&str> = rest.split('/').collect();
    let matches = |pattern: &str| {
        let parts: Vec<&str> = pattern.split('/').collect();
        parts.len() == segments.len()
            && parts.iter().zip(&segments).all(|(p, s)| match *p {
                "{field_code}" => !s.is_empty(),
                id if id.starts_with('{') => !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()),
                literal => literal == *s,
            })
    };
    let table = table();
    let found: Vec<&Entry> = table
        .iter()
        .filter(|e| e.dialect != Dialect::Service && matches(e.path))
        .collect();
    // A path under a right prefix that only a trailing '/' kept from its route: that route.
    let same = |e: &&Entry| own.is_some_and(|p| e.dialect.prefixes().contains(&p));
    let keep: Vec<&Entry> = if found.iter().any(same) {
        found.into_iter().filter(same).collect()
    } else {
        found
    };
    let mut out: Vec<String> = Vec::new();
    for e in keep {
        let prefix = match own {
            Some(p) if e.dialect.prefixes().contains(&p) => p,
            _ => e.dialect.prefixes()[0],
        };
        let full = format!("{prefix}{rest}");
        if full != path && !out.contains(&full) {
            out.push(full);
        }
    }
    out
}

/// The authenticated API router built from the table.
pub fn api() -> Router<AppState> {
    build(|e| e.dialect != Dialect::Service)
}

/// The server's own routes, served without a token.
pub fn public() -> Router<AppState> {
    build(|e| e.dialect == Dialect::Service)
}

fn build(wanted: impl Fn(&Entry) -> bool) -> Router<AppState> {
    let mut by_path: Vec<(String, MethodRouter<AppState>)> = Vec::new();
    for e in table().into_iter().filter(|e| wanted(e)) {
        for prefix in e.dialect.prefixes() {
            let path = format!("{prefix}{}", e.path);
            match by_path.iter_mut().find(|(p, _)| *p == path) {
                Some((_, mr)) => *mr = std::mem::take(mr).merge(e.handler.clone()),
                None => by_path.push((path, e.handler.clone())),
            }
        }
    }
    by_path
        .into_iter()
        .fold(Router::new(), |router, (path, mr)| router.route(&path, mr))
}
