//! The organizations' pages: the list (search, paging), an organization with its persons and
//! deals, and adding and changing one, through the v1 parser and the domain's rules.

use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use serde_json::{Map, Value, json};

use super::deals::format_value;
use super::forms::{
    self, Problem, custom_input, custom_text, text_field, user_name, visibility_label,
};
use super::pages::{count, error_page, forbidden, layout, not_found, pager};
use super::{Form, Posted, Web, html as page, see};
use crate::api::v1::organizations::draft;
use crate::domain::deal::{self, DealFilter};
use crate::domain::organization::{
    self, OrgSearchFields, Organization, OrganizationFilter, OrganizationQuery,
};
use crate::domain::query::{
    self, Direction, ListQuery, Page, PersonFilter, PersonQuery, SortField,
};
use crate::domain::{Fields, Kind};
use crate::error::ApiError;

/// Organizations on a page of the list.
const PAGE: i64 = 50;
/// The form's own fields (custom fields come after).
const FORM_FIELDS: [&str; 5] = ["name", "owner_id", "address", "visible_to", "label_ids"];

/// `GET /app/organizations`: by name, or the matches of `q` (two characters or more).
pub async fn list(web: Web, RawQuery(raw): RawQuery) -> Response {
    let params = Form::parse(raw.unwrap_or_default().as_bytes());
    let (store, session) = (web.state.store.as_ref(), web.session.as_ref());
    let start: i64 = params
        .get("start")
        .parse()
        .unwrap_or(0)
        .clamp(0, super::MAX_START);
    let q = params.get("q");
    let found = if q.chars().count() >= 2 {
        let within = OrgSearchFields {
            name: true,
            address: true,
            custom_fields: true,
            notes: false,
        };
        organization::search_organizations(store, session, q, within, false)
            .await
            .map(|hits| {
                let more = hits.len() as i64 > start + PAGE;
                let page = hits
                    .into_iter()
                    .map(|(_, o)| o)
                    .skip(start as usize)
                    .take(PAGE as usize)
                    .collect();
                (page, more)
            })
    } else {
        let query = OrganizationQuery {
            filter: OrganizationFilter::default(),
            order: vec![(SortField::Name, Direction::Asc)],
            page: Page::Offset { start },
            limit: PAGE,
        };
        organization::list_organizations(store, session, query).await
    };
    let (orgs, more): (Vec<Organization>, bool) = match found {
        Ok(found) => found,
        Err(e) => return error_page(&web, e),
    };
    let users = match store.users(session.company.id).await {
        Ok(users) => users,
        Err(e) => return error_page(&web, e),
    };
    let link = |start: i64| {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("q", q)
            .append_pair("start", &start.to_string())
            .finish();
        format!("/app/organizations?{query}")
    };
    let body = html! {
        h1 { "Organizations" }
        p { a href="/app/organizations/new" { "Add an organization" } }
        form.filters method="get" action="/app/organizations" role="search"
            hx-get="/app/organizations" hx-trigger="input changed delay:250ms from:#q"
            hx-target="#results" hx-select="#results" hx-swap="outerHTML" hx-push-url="true" {
            div {
                label for="q" { "Search" }
                input #q type="search" name="q" value=(q) placeholder="Name, address, custom field…" autocomplete="off";
            }
            button type="submit" { "Show" }
        }
        section #results aria-live="polite" {
            @if orgs.is_empty() {
                p { "No organizations " (if q.is_empty() { "yet" } else { "match" }) "." }
            } @else {
                table {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Address" } th scope="col" { "People" } th scope="col" { "Owner" } } }
                    tbody {
                        @for o in &orgs {
                            tr {
                                td { a href={ "/app/organizations/" (o.id) } { (o.name) } }
                                td { (o.address.as_deref().unwrap_or("")) }
                                td { (o.people_count) }
                                td { (user_name(&users, o.owner_id)) }
                            }
                        }
                    }
                }
            }
            (pager(start, PAGE, more, link))
        }
    };
    page(StatusCode::OK, layout(Some(&web), "Organizations", body))
}

/// `GET /app/organizations/{id}`: every field, its persons and its deals.
pub async fn show(web: Web, Path(id): Path<String>) -> Response {
    let (store, session) = (web.state.store.as_ref(), web.session.as_ref());
    let Some(o) = visible(&web, &id).await else {
        return missing(&web);
    };
    let loaded = async {
        let fields = Fields::load(store, Kind::Organization, session.company.id).await?;
        let users = store.users(session.company.id).await?;
        let persons = query::list_persons(
            store,
            session,
            PersonQuery {
                filter: PersonFilter {
                    org_id: Some(o.id),
                    ..PersonFilter::default()
                },
                order: Vec::new(),
                page: Page::Offset { start: 0 },
                limit: 500,
            },
        )
        .await?;
        let filter = DealFilter {
            org_id: Some(o.id),
            live: true,
            ..DealFilter::default()
        };
        let query = ListQuery {
            filter,
            order: Vec::new(),
            page: Page::Offset { start: 0 },
            limit: 500,
        };
        let deals = deal::list_deals(store, session, query).await?;
        Ok::<_, ApiError>((fields, users, persons, deals))
    };
    let (fields, users, people, (deals, more_deals)) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return error_page(&web, e),
    };
    let labels: Vec<&str> = fields
        .labels()
        .iter()
        .filter(|l| o.label_ids.contains(&l.id))
        .map(|l| l.label.as_str())
        .collect();
    let body = html! {
        h1 { (o.name) @if !o.active { " " span.badge { "deleted" } } }
        @if o.active { p { a href={ "/app/organizations/" (o.id) "/edit" } { "Edit" } } }
        dl.fields {
            dt { "Address" } dd { (o.address.as_deref().unwrap_or("—")) }
            dt { "Owner" } dd { (user_name(&users, o.owner_id)) }
            dt { "Labels" } dd { @if labels.is_empty() { "—" } @else { (labels.join(", ")) } }
            dt { "Visible to" } dd { (visibility_label(o.visible_to.get())) }
            @for def in fields.custom() {
                dt { (def.name) }
                dd { (custom_text(def, o.custom_fields.get(&def.key), &users)) }
            }
            dt { "Added" } dd { (o.add_time.v1()) " UTC" }
            dt { "Changed" } dd { (o.update_time.v1()) " UTC" }
        }
        h2 { "People (" (count(people.persons.len(), people.more)) ")" }
        ul { @for p in &people.persons { li { a href={ "/app/persons/" (p.id) } { (p.name) } } } }
        @if people.more {
            p { a href={ "/app/persons?org_id=" (o.id) } { "All the people, a page at a time" } }
        }
        h2 { "Deals (" (count(deals.len(), more_deals)) ")" }
        ul {
            @for d in &deals {
                li { a href={ "/app/deals?pipeline_id=" (d.pipeline_id) } { (d.title) } " · " (format_value(d.value)) " " (d.currency) " · " (d.status.as_str()) }
            }
        }
    };
    page(StatusCode::OK, layout(Some(&web), &o.name, body))
}

/// `GET /app/organizations/new`.
pub async fn new(web: Web) -> Response {
    form_page(&web, None, &Form(Vec::new()), None, StatusCode::OK).await
}

/// `POST /app/organizations`.
pub async fn create(web: Web, Posted(body): Posted) -> Response {
    let Some(form) = web.form(&body) else {
        return forbidden(&web);
    };
    let (store, session) = (web.state.store.as_ref(), web.session.as_ref());
    let added = async {
        let fields = Fields::load(store, Kind::Organization, session.company.id).await?;
        let d = draft(body_of(&form, &fields, None))?;
        Ok::<_, ApiError>(organization::add_organization(store, session, d).await?)
    };
    match added.await {
        Ok(o) => see(&format!("/app/organizations/{}", o.id)),
        Err(e) => form_page(&web, None, &form, Some(e), StatusCode::BAD_REQUEST).await,
    }
}

/// `GET /app/organizations/{id}/edit`.
pub async fn edit(web: Web, Path(id): Path<String>) -> Response {
    let Some(o) = visible(&web, &id).await.filter(|o| o.active) else {
        return missing(&web);
    };
    let form = form_of(&web, &o).await;
    form_page(&web, Some(&o), &form, None, StatusCode::OK).await
}

/// `POST /app/organizations/{id}/edit`.
pub async fn update(web: Web, Path(id): Path<String>, Posted(body): Posted) -> Response {
    let Some(form) = web.form(&body) else {
        return forbidden(&web);
    };
    let Some(current) = visible(&web, &id).await.filter(|o| o.active) else {
        return missing(&web);
    };
    let (store, session) = (web.state.store.as_ref(), web.session.as_ref());
    let now = form_of(&web, &current).await;
    let held = form.original(|| now);
    // Shown again after a refusal, the form keeps what it first showed.
    let form = form.with_original(&held);
    let changed = async {
        let fields = Fields::load(store, Kind::Organization, session.company.id).await?;
        let d = draft(body_of(&form, &fields, Some(&held)))?;
        Ok::<_, ApiError>(organization::update_organization(store, session, &current, d).await?)
    };
    match changed.await {
        Ok(o) => see(&format!("/app/organizations/{}", o.id)),
        Err(e) => {
            form_page(
                &web,
                Some(&current),
                &form,
                Some(e),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
    }
}

/// The form's fields as an organization holds them (to edit them).
async fn form_of(web: &Web, o: &Organization) -> Form {
    let mut f = vec![
        ("name".to_owned(), o.name.clone()),
        ("owner_id".to_owned(), o.owner_id.to_string()),
        ("address".to_owned(), o.address.clone().unwrap_or_default()),
        ("visible_to".to_owned(), o.visible_to.get().to_string()),
    ];
    f.extend(
        o.label_ids
            .iter()
            .map(|l| ("label_ids".to_owned(), l.to_string())),
    );
    let store = web.state.store.as_ref();
    if let Ok(fields) = Fields::load(store, Kind::Organization, web.session.company.id).await {
        f.extend(forms::custom_form_values(&o.custom_fields, &fields));
    }
    Form(f)
}

/// The v1 body an organization's form stands for. On a change (`held`: the form as first
/// shown) only what the user changed is sent (an address sent again would lose its parts);
/// an emptied field is cleared.
fn body_of(form: &Form, fields: &Fields, held: Option<&Form>) -> Map<String, Value> {
    let changed = |name: &str| held.is_none_or(|held| !form.same_values(held, name));
    let mut body = Map::new();
    if changed("name") {
        body.insert("name".into(), json!(form.get("name")));
    }
    match form.get("address") {
        _ if !changed("address") => {}
        "" if held.is_some() => {
            body.insert("address".into(), Value::Null);
        }
        "" => {}
        a => {
            body.insert("address".into(), json!(a));
        }
    }
    forms::put_owner_visibility_labels(&mut body, form, held);
    forms::put_custom(&mut body, form, fields, held);
    body
}

async fn form_page(
    web: &Web,
    current: Option<&Organization>,
    form: &Form,
    error: Option<ApiError>,
    status: StatusCode,
) -> Response {
    let (store, session) = (web.state.store.as_ref(), web.session.as_ref());
    let loaded = async {
        let fields = Fields::load(store, Kind::Organization, session.company.id).await?;
        let users = store.users(session.company.id).await?;
        Ok::<_, ApiError>((fields, users))
    };
    let (fields, users) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return error_page(web, e),
    };
    let problem = Problem::new(error.as_ref(), |m| {
        (m == "Name must be given." || m.starts_with("name ")).then_some("name")
    });
    let error_for = |field: &str| problem.for_field(field);
    let unplaced = problem.unplaced(&FORM_FIELDS, &fields);
    let (title, action, back) = match current {
        Some(o) => (
            format!("Edit {}", o.name),
            format!("/app/organizations/{}/edit", o.id),
            format!("/app/organizations/{}", o.id),
        ),
        None => (
            "Add an organization".to_owned(),
            "/app/organizations".to_owned(),
            "/app/organizations".to_owned(),
        ),
    };
    let owner = match form.get("owner_id") {
        "" => session.user.id.to_string(),
        o => o.to_owned(),
    };
    let body = html! {
        h1 { (title) }
        @if let Some(m) = &unplaced { p.error role="alert" { (m) } }
        form.card method="post" action=(action) novalidate {
            input type="hidden" name="csrf" value=(web.csrf);
            @if current.is_some() {
                input type="hidden" name="original" value=(form.original_field());
            }
            (text_field("name", "Name", form.get("name"), error_for("name"), true))
            (forms::owner_select(&users, &owner, error_for("owner_id")))
            (text_field("address", "Address", form.get("address"), error_for("address"), false))
            (forms::visibility_select(form.get("visible_to"), error_for("visible_to")))
            (forms::labels_fieldset(fields.labels(), form, error_for("label_ids")))
            @for def in fields.custom() {
                (custom_input(def, form, error_for(&def.key), &users))
            }
            button type="submit" { @if current.is_some() { "Save" } @else { "Add organization" } }
            " "
            a href=(back) { "Cancel" }
        }
    };
    page(status, layout(Some(web), &title, body))
}

/// The organization of a path's id, if it is one this user may see (deleted ones too).
async fn visible(web: &Web, id: &str) -> Option<Organization> {
    let id: i64 = id.parse().ok().filter(|id| *id > 0)?;
    organization::find_organization(web.state.store.as_ref(), &web.session, id)
        .await
        .ok()
}

fn missing(web: &Web) -> Response {
    not_found(
        Some(web),
        "There is no such organization, or you may not see it.",
    )
}
