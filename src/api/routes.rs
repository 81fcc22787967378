//! Every route the server has, in one table: the router is built from it, and tests walk it
//! (so a new route cannot escape the isolation and visibility tests).

use axum::Router;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter, on};

use super::{AppState, followers, v1, v2};

/// Which prefixes a route is served under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `/v1/...` and `/api/v1/...`.
    V1,
    /// `/api/v2/...`.
    V2,
}

impl Dialect {
    pub fn prefixes(self) -> &'static [&'static str] {
        match self {
            Self::V1 => &["/v1", "/api/v1"],
            Self::V2 => &["/api/v2"],
        }
    }
}

pub struct Entry {
    pub dialect: Dialect,
    pub method: Method,
    /// The path under the dialect's prefix, with `{param}` placeholders.
    pub path: &'static str,
    pub handler: MethodRouter<AppState>,
}

macro_rules! r {
    ($dialect:ident $method:ident $path:literal => $handler:expr) => {
        Entry {
            dialect: Dialect::$dialect,
            method: Method::$method,
            path: $path,
            handler: on(MethodFilter::$method, $handler),
        }
    };
}

/// The route table.
pub fn table() -> Vec<Entry> {
    use followers as f;
    use v1::{organizations as o1, person_fields as pf1, persons as p1, users as u1};
    use v2::{organizations as o2, person_fields as pf2, persons as p2};
    vec![
        // v1 persons
        r!(V1 GET "/persons" => p1::list_persons),
        r!(V1 POST "/persons" => p1::add_person),
        r!(V1 DELETE "/persons" => p1::delete_persons),
        r!(V1 GET "/persons/search" => p1::search_persons_v1),
        r!(V1 GET "/persons/{id}" => p1::get_person),
        r!(V1 PUT "/persons/{id}" => p1::update_person),
        r!(V1 DELETE "/persons/{id}" => p1::delete_person),
        r!(V1 PUT "/persons/{id}/merge" => p1::merge_persons),
        r!(V1 GET "/persons/{id}/permittedUsers" => p1::get_person_users),
        r!(V1 GET "/persons/{id}/followers" => f::get_person_followers_v1),
        r!(V1 POST "/persons/{id}/followers" => f::add_person_follower_v1),
        r!(V1 DELETE "/persons/{id}/followers/{follower_id}" => f::delete_person_follower_v1),
        // v1 person fields
        r!(V1 GET "/personFields" => pf1::get_person_fields),
        r!(V1 POST "/personFields" => pf1::add_person_field),
        r!(V1 DELETE "/personFields" => pf1::delete_person_fields),
        r!(V1 GET "/personFields/{id}" => pf1::get_person_field),
        r!(V1 PUT "/personFields/{id}" => pf1::update_person_field),
        r!(V1 DELETE "/personFields/{id}" => pf1::delete_person_field),
        // v1 organizations
        r!(V1 GET "/organizations" => o1::get_organizations),
        r!(V1 POST "/organizations" => o1::add_organization),
        r!(V1 GET "/organizations/{id}" => o1::get_organization),
        r!(V1 PUT "/organizations/{id}" => o1::update_organization),
        r!(V1 DELETE "/organizations/{id}" => o1::delete_organization),
        r!(V1 GET "/organizations/{id}/persons" => o1::get_organization_persons),
        r!(V1 GET "/organizations/{id}/followers" => f::get_organization_followers_v1),
        r!(V1 POST "/organizations/{id}/followers" => f::add_organization_follower_v1),
        r!(V1 DELETE "/organizations/{id}/followers/{follower_id}" => f::delete_organization_follower_v1),
        // v1 users
        r!(V1 GET "/users" => u1::get_users),
        r!(V1 GET "/users/me" => u1::get_current_user),
        r!(V1 GET "/users/find" => u1::find_users_by_name),
        r!(V1 GET "/users/{id}" => u1::get_user),
        // v2 persons
        r!(V2 GET "/persons" => p2::get_persons),
        r!(V2 POST "/persons" => p2::add_person),
        r!(V2 GET "/persons/search" => p2::search_persons),
        r!(V2 GET "/persons/{id}" => p2::get_person),
        r!(V2 PATCH "/persons/{id}" => p2::update_person),
        r!(V2 DELETE "/persons/{id}" => p2::delete_person),
        r!(V2 GET "/persons/{id}/followers" => f::get_person_followers),
        r!(V2 POST "/persons/{id}/followers" => f::add_person_follower),
        r!(V2 GET "/persons/{id}/followers/changelog" => f::get_person_followers_changelog),
        r!(V2 DELETE "/persons/{id}/followers/{follower_id}" => f::delete_person_follower),
        // v2 person fields
        r!(V2 GET "/personFields" => pf2::get_person_fields),
        r!(V2 POST "/personFields" => pf2::add_person_field),
        r!(V2 GET "/personFields/{field_code}" => pf2::get_person_field),
        r!(V2 PATCH "/personFields/{field_code}" => pf2::update_person_field),
        r!(V2 DELETE "/personFields/{field_code}" => pf2::delete_person_field),
        r!(V2 POST "/personFields/{field_code}/options" => pf2::add_person_field_options),
        r!(V2 PATCH "/personFields/{field_code}/options" => pf2::update_person_field_options),
        r!(V2 DELETE "/personFields/{field_code}/options" => pf2::delete_person_field_options),
        // v2 organizations
        r!(V2 GET "/organizations" => o2::get_organizations),
        r!(V2 POST "/organizations" => o2::add_organization),
        r!(V2 GET "/organizations/search" => o2::search_organization),
        r!(V2 GET "/organizations/{id}" => o2::get_organization),
        r!(V2 PATCH "/organizations/{id}" => o2::update_organization),
        r!(V2 DELETE "/organizations/{id}" => o2::delete_organization),
        r!(V2 GET "/organizations/{id}/followers" => f::get_organization_followers),
        r!(V2 POST "/organizations/{id}/followers" => f::add_organization_follower),
        r!(V2 GET "/organizations/{id}/followers/changelog" => f::get_organization_followers_changelog),
        r!(V2 DELETE "/organizations/{id}/followers/{follower_id}" => f::delete_organization_follower),
    ]
}

/// Every (method, full path) the API serves, for tests and documentation.
pub fn list() -> Vec<(Method, String)> {
    table()
        .into_iter()
        .flat_map(|e| {
            e.dialect
                .prefixes()
                .iter()
                .map(move |p| (e.method.clone(), format!("{p}{}", e.path)))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The authenticated API router built from the table.
pub fn api() -> Router<AppState> {
    let mut by_path: Vec<(String, MethodRouter<AppState>)> = Vec::new();
    for e in table() {
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
