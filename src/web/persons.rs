//! The persons' pages: the list (search as you type, sort, owner filter, paging), a person
//! with everything about them, adding and changing one, and notes. Forms become the v1 body
//! the API takes, so that the same parser and the same domain rules decide, with the same
//! messages, shown next to the field they name.

use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde_json::{Map, Value, json};

use super::forms::{
    self, Problem, area_field, custom_input, custom_text, field, text_field, user_name,
    visibility_label,
};
use super::pages::{count, error_page, failure, forbidden, layout, not_found, pager};
use super::{Form, Posted, Web, history, html as page, see};
use crate::api::v1::persons::draft;
use crate::domain::note::{NoteDraft, NoteFilter};
use crate::domain::person::{Contact, Person};
use crate::domain::query::{
    ListQuery, Page, PersonFilter, PersonQuery, parse_sort, person_sortable,
};
use crate::domain::{Fields, Kind, MarketingStatus, note, organization, person};
use crate::error::ApiError;

/// Persons on a page of the list.
const PAGE: i64 = 50;
/// The most deals, activities and notes a person's page shows of each.
const ON_PAGE: i64 = 500;
/// The orders the list offers: (label, v1 `sort`).
const ORDERS: [(&str, &str); 4] = [
    ("Name", "name ASC"),
    ("Last changed", "update_time DESC"),
    ("Newest", "add_time DESC"),
    ("Oldest", "add_time ASC"),
];
/// The form's own fields (custom fields come after).
const FORM_FIELDS: [&str; 10] = [
    "name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "owner_id",
    "org_id",
    "visible_to",
    "marketing_status",
    "label_ids",
];
const MARKETING: [&str; 4] = ["no_consent", "unsubscribed", "subscribed", "archived"];

/// What the search box asks of the list: three characters or more, persons whose search
/// text contains them (an index serves it: trigrams); fewer, names starting with them (the
/// name index). A term of phone characters with three digits or more is looked for as digits,
/// as phones are kept.
fn text_filter(q: &str) -> PersonFilter {
    let q = q.trim();
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    let phone_like = q
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    match q.chars().count() {
        0 => PersonFilter::default(),
        _ if phone_like && digits.len() >= 3 => PersonFilter {
            text: Some(digits),
            ..PersonFilter::default()
        },
        1 | 2 => PersonFilter {
            name_prefix: Some(crate::domain::collation::sort_key(q)),
            ..PersonFilter::default()
        },
        _ => PersonFilter {
            text: Some(q.to_lowercase()),
            ..PersonFilter::default()
        },
    }
}

/// `GET /app/persons`: the list in the chosen order and pages, narrowed by the search box
/// ([`text_filter`]), the owner and the label. Asked by htmx as the user types, the same page
/// is answered and htmx keeps its results.
pub async fn list(web: Web, RawQuery(query): RawQuery) -> Response {
    let params = Form::parse(query.unwrap_or_default().as_bytes());
    let (store, session) = (web.state.store.as_ref(), web.session.as_ref());
    let start: i64 = params
        .get("start")
        .parse()
        .unwrap_or(0)
        .clamp(0, super::MAX_START);
    let owner_id: Option<i64> = params.get("owner_id").parse().ok();
    let org_id: Option<i64> = params.get("org_id").parse().ok();
    let sort = ORDERS
        .iter()
        .find(|(_, s)| *s == params.get("sort"))
        .map_or(ORDERS[0].1, |(_, s)| s);
    let label_id: Option<i64> = params.get("label_id").parse().ok();
    let q = params.get("q");
    let order = parse_sort(sort, "persons", person_sortable).unwrap_or_default();
    let query = PersonQuery {
        filter: PersonFilter {
            owner_id,
            org_id,
            label_id,
            ..text_filter(q)
        },
        order,
        page: Page::Offset { start },
        limit: PAGE,
    };
    let found = crate::domain::query::list_persons(store, session, query)
        .await
        .map(|p| (p.persons, p.more));
    let (persons, more) = match found {
        Ok(found) => found,
        Err(e) => return failure(&web, StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let loaded = async {
        let users = store.users(session.company.id).await?;
        let labels = Fields::load(store, Kind::Person, session.company.id).await?;
        Ok::<_, ApiError>((users, labels))
    };
    let (users, labels) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return error_page(&web, e),
    };
    let link = |start: i64| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.append_pair("q", q).append_pair("sort", sort);
        if let Some(o) = owner_id {
            query.append_pair("owner_id", &o.to_string());
        }
        if let Some(l) = label_id {
            query.append_pair("label_id", &l.to_string());
        }
        if let Some(o) = org_id {
            query.append_pair("org_id", &o.to_string());
        }
        query.append_pair("start", &start.to_string());
        format!("/app/persons?{}", query.finish())
    };
    let body = html! {
        h1 { "Persons" }
        form.filters method="get" action="/app/persons" role="search"
            hx-get="/app/persons" hx-trigger="input changed delay:250ms from:#q, change"
            hx-target="#results" hx-select="#results" hx-swap="outerHTML" hx-push-url="true" {
            div {
                label for="q" { "Search" }
                input #q type="search" name="q" value=(q) placeholder="Name, email, phone, custom field…" autocomplete="off";
            }
            div {
                label for="sort" { "Order" }
                select #sort name="sort" {
                    @for (label, value) in ORDERS {
                        option value=(value) selected[value == sort] { (label) }
                    }
                }
            }
            div {
                label for="label_id" { "Label" }
                select #label_id name="label_id" {
                    option value="" { "Any" }
                    @for l in labels.labels() {
                        option value=(l.id) selected[label_id == Some(l.id)] { (l.label) }
                    }
                }
            }
            div {
                label for="owner_id" { "Owner" }
                select #owner_id name="owner_id" {
                    option value="" { "Anyone" }
                    @for u in users.iter().filter(|u| u.active) {
                        option value=(u.id) selected[owner_id == Some(u.id)] { (u.name) }
                    }
                }
            }
            @if let Some(o) = org_id {
                input type="hidden" name="org_id" value=(o);
            }
            button type="submit" { "Show" }
        }
        @if let Some(o) = org_id {
            p.hint {
                "Only the people of " a href={ "/app/organizations/" (o) } { "organization " (o) }
                " · " a href="/app/persons" { "Everyone" }
            }
        }
        section #results aria-live="polite" {
            @if (1..3).contains(&q.chars().count()) {
                p.hint { "Names starting with “" (q) "”; type three characters or more to search names, emails, phones and custom fields." }
            }
            @if persons.is_empty() {
                p { "No persons " (if q.is_empty() { "yet" } else { "match" }) "." }
            } @else {
                table {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Email" } th scope="col" { "Phone" } th scope="col" { "Owner" } } }
                    tbody {
                        @for p in &persons {
                            tr {
                                td { a href={ "/app/persons/" (p.id) } { (p.name) } }
                                td { (p.primary_email().unwrap_or("")) }
                                td { (person::primary_value(&p.phones).unwrap_or("")) }
                                td { (user_name(&users, p.owner_id)) }
                            }
                        }
                    }
                }
            }
            (pager(start, PAGE, more, link))
        }
    };
    page(StatusCode::OK, layout(Some(&web), "Persons", body))
}

/// `GET /app/persons/{id}`: every field, the organization, followers and notes.
pub async fn show(web: Web, Path(id): Path<String>) -> Response {
    let (store, session) = (web.state.store.as_ref(), web.session.as_ref());
    let Some(p) = visible_person(&web, &id).await else {
        return not_found(
            Some(&web),
            "There is no such person, or you may not see them.",
        );
    };
    let loaded = async {
        let fields = Fields::load(store, Kind::Person, session.company.id).await?;
        let users = store.users(session.company.id).await?;
        let org = match p.org_id {
            Some(org) => organization::find_organization(store, session, org)
                .await
                .ok(),
            None => None,
        };
        let notes = note::list_notes(
            store,
            session,
            ListQuery {
                filter: NoteFilter {
                    person_id: Some(p.id),
                    ..NoteFilter::default()
                },
                order: Vec::new(),
                page: Page::Offset { start: 0 },
                limit: ON_PAGE,
            },
        )
        .await?;
        let deals = crate::domain::deal::list_deals(
            store,
            session,
            ListQuery {
                filter: crate::domain::deal::DealFilter {
                    person_id: Some(p.id),
                    live: true,
                    ..Default::default()
                },
                order: Vec::new(),
                page: Page::Offset { start: 0 },
                limit: ON_PAGE,
            },
        )
        .await?;
        let activities = super::activities::load(
            &web,
            crate::domain::activity::ActivityFilter {
                participant_id: Some(p.id),
                ..Default::default()
            },
            0,
            ON_PAGE,
        )
        .await?;
        let history =
            person::changelog(store, session, p.id, None, history::ON_PERSON_PAGE).await?;
        Ok::<_, ApiError>((fields, users, org, notes, deals, activities, history))
    };
    let (
        fields,
        users,
        org,
        (notes, more_notes),
        (deals, more_deals),
        (activities, more_activities, types),
        (history, more_history),
    ) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return error_page(&web, e),
    };
    let labels: Vec<String> = p
        .label_ids
        .iter()
        .map(|id| {
            fields
                .labels()
                .iter()
                .find(|o| o.id == *id)
                .map_or_else(|| id.to_string(), |o| o.label.clone())
        })
        .collect();
    let body = html! {
        h1 { (p.name) @if !p.active { " " span.badge { "deleted" } } }
        p { a href={ "/app/persons/" (p.id) "/edit" } { "Edit" } }
        dl.fields {
            dt { "Email" } dd { (contacts(&p.emails)) }
            dt { "Phone" } dd { (contacts(&p.phones)) }
            dt { "Organization" } dd { @if let Some(o) = &org { (o.name) } @else { "—" } }
            dt { "Owner" } dd { (user_name(&users, p.owner_id)) }
            dt { "Labels" } dd { @if labels.is_empty() { "—" } @else { (labels.join(", ")) } }
            dt { "Visible to" } dd { (visibility_label(p.visible_to.get())) }
            dt { "Marketing status" } dd { (p.marketing_status.map_or("—", MarketingStatus::as_str)) }
            @for def in fields.custom() {
                dt { (def.name) }
                dd { (custom_text(def, p.custom_fields.get(&def.key), &users)) }
            }
            dt { "Added" } dd { (p.add_time.v1()) " UTC" }
            dt { "Changed" } dd { (p.update_time.v1()) " UTC" }
        }
        h2 { "Followers (" (p.follower_ids.len()) ")" }
        ul { @for f in &p.follower_ids { li { (user_name(&users, *f)) } } }
        h2 #deals { "Deals (" (count(deals.len(), more_deals)) ")" }
        @if deals.is_empty() { p { "No deals." } } @else {
            table {
                thead { tr { th scope="col" { "Title" } th scope="col" { "Value" } th scope="col" { "Status" } } }
                tbody {
                    @for d in &deals {
                        tr {
                            td { a href={ "/app/deals?pipeline_id=" (d.pipeline_id) } { (d.title) } }
                            td { (super::deals::format_value(d.value)) " " (d.currency) }
                            td { (d.status.as_str()) }
                        }
                    }
                }
            }
        }
        h2 #activities { "Activities (" (count(activities.len(), more_activities)) ")" }
        (super::activities::table(&web, &activities, &types, &format!("/app/persons/{}#activities", p.id), &super::activities::today(&web)))
        h2 #notes { "Notes (" span #note-count { (count(notes.len(), more_notes)) } ")" }
        @if p.active {
            form.card method="post" action={ "/app/persons/" (p.id) "/notes" } {
                input type="hidden" name="csrf" value=(web.csrf);
                label for="content" { "Add a note" }
                textarea #content name="content" rows="3" required {}
                button type="submit" { "Add note" }
            }
        }
        @for n in &notes {
            article.note {
                p { (n.values.content) }
                p.meta { (user_name(&users, n.values.user_id)) ", " (n.values.add_time.v1()) " UTC" }
            }
        }
        h2 #history { "History" }
        @if history.is_empty() {
            p { "No changes since the person was added." }
        } @else {
            (history::table(&history, &fields, &users))
        }
        @if more_history {
            p { a href={ "/app/persons/" (p.id) "/history" } { "All changes" } }
        }
    };
    page(StatusCode::OK, layout(Some(&web), &p.name, body))
}

/// `GET /app/persons/new`.
pub async fn new(web: Web) -> Response {
    form_page(&web, None, &Form(Vec::new()), None, StatusCode::OK).await
}

/// `POST /app/persons`: added, or the form again with the API's message by its field.
pub async fn create(web: Web, Posted(body): Posted) -> Response {
    let Some(form) = web.form(&body) else {
        return forbidden(&web);
    };
    let (store, session) = (web.state.store.as_ref(), web.session.as_ref());
    let added = async {
        let fields = Fields::load(store, Kind::Person, session.company.id).await?;
        let body = body_of(&form, &fields, None);
        Ok::<_, ApiError>(person::add_person(store, session, draft(body)?).await?)
    };
    match added.await {
        Ok(p) => see(&format!("/app/persons/{}", p.id)),
        Err(e) => form_page(&web, None, &form, Some(e), StatusCode::BAD_REQUEST).await,
    }
}

/// `GET /app/persons/{id}/edit`.
pub async fn edit(web: Web, Path(id): Path<String>) -> Response {
    match visible_person(&web, &id).await {
        Some(p) if p.active => {
            let form = form_of(&web, &p).await;
            form_page(&web, Some(&p), &form, None, StatusCode::OK).await
        }
        _ => not_found(
            Some(&web),
            "There is no such person, or you may not see them.",
        ),
    }
}

/// `POST /app/persons/{id}/edit`: changed, or the form again with the message by its field.
pub async fn update(web: Web, Path(id): Path<String>, Posted(body): Posted) -> Response {
    let Some(form) = web.form(&body) else {
        return forbidden(&web);
    };
    let Some(current) = visible_person(&web, &id).await.filter(|p| p.active) else {
        return not_found(
            Some(&web),
            "There is no such person, or you may not see them.",
        );
    };
    let (store, session) = (web.state.store.as_ref(), web.session.as_ref());
    let now = form_of(&web, &current).await;
    let held = form.original(|| now);
    // Shown again after a refusal, the form keeps what it first showed.
    let form = form.with_original(&held);
    let changed = async {
        let fields = Fields::load(store, Kind::Person, session.company.id).await?;
        let body = body_of(&form, &fields, Some((&current, &held)));
        Ok::<_, ApiError>(
            person::update_person(store, session, current.clone(), draft(body)?).await?,
        )
    };
    match changed.await {
        Ok(p) => see(&format!("/app/persons/{}", p.id)),
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

/// `POST /app/persons/{id}/notes`.
pub async fn add_note(web: Web, Path(id): Path<String>, Posted(body): Posted) -> Response {
    let Some(form) = web.form(&body) else {
        return forbidden(&web);
    };
    let Some(p) = visible_person(&web, &id).await.filter(|p| p.active) else {
        return not_found(
            Some(&web),
            "There is no such person, or you may not see them.",
        );
    };
    let draft = NoteDraft {
        content: Some(form.get("content").to_owned()),
        person_id: Some(Some(p.id)),
        ..NoteDraft::default()
    };
    match note::add_note(web.state.store.as_ref(), &web.session, draft).await {
        Ok(_) => see(&format!("/app/persons/{}#notes", p.id)),
        Err(e) => error_page(&web, e),
    }
}

/// The person of a path's id, if it is one this user may see (deleted ones too).
pub(super) async fn visible_person(web: &Web, id: &str) -> Option<Person> {
    let id: i64 = id.parse().ok().filter(|id| *id > 0)?;
    person::find_person(web.state.store.as_ref(), &web.session, id)
        .await
        .ok()
}

/// The v1 body a person's form stands for. On a change, every field is sent: what is unchanged
/// changes nothing, and an emptied field is cleared.
fn body_of(form: &Form, fields: &Fields, current: Option<(&Person, &Form)>) -> Map<String, Value> {
    let held = current.map(|(_, f)| f);
    let changed = |name: &str| held.is_none_or(|held| !form.same_values(held, name));
    let mut body = Map::new();
    // An unchanged name is not sent: it would be split into its parts again. A name may be
    // given by its parts alone (then the API makes the name of them): an empty name beside a
    // part is left out.
    let parts = ["first_name", "last_name"];
    let given = |name: &&str| !form.get(name).trim().is_empty();
    let name_too = given(&"name") || !parts.iter().any(given);
    if name_too && changed("name") {
        body.insert("name".into(), json!(form.get("name")));
    }
    // A part the form did not carry (a page from before the parts were on it) stays.
    for part in parts {
        let sent = form.all(part).next().is_some();
        if sent && changed(part) && (current.is_some() || given(&part)) {
            body.insert(part.into(), json!(form.get(part)));
        }
    }
    for name in ["email", "phone"].into_iter().filter(|n| changed(n)) {
        let held = match current {
            Some((p, _)) if name == "email" => &p.emails[..],
            Some((p, _)) => &p.phones[..],
            None => &[],
        };
        body.insert(
            name.into(),
            Value::Array(contact_list(form.get(name), held)),
        );
    }
    if (!form.get("org_id").is_empty() || current.is_some()) && changed("org_id") {
        body.insert("org_id".into(), forms::number(form, "org_id"));
    }
    forms::put_owner_visibility_labels(&mut body, form, held);
    let marketing = form.get("marketing_status");
    if !marketing.is_empty() && changed("marketing_status") {
        body.insert("marketing_status".into(), json!(marketing));
    }
    forms::put_custom(&mut body, form, fields, held);
    body
}

/// An email or phone list from its textarea, one value a line, the first one primary. What
/// the person already has keeps its label, and the very list they have (its order, labels and
/// primary) is sent back when the lines name the same values with the same one first, so that
/// saving an untouched form changes nothing.
fn contact_list(lines: &str, held: &[Contact]) -> Vec<Value> {
    let values: Vec<&str> = lines
        .lines()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect();
    let primary = held.iter().find(|c| c.primary).map(|c| c.value.as_str());
    let distinct: std::collections::HashSet<&str> = values.iter().copied().collect();
    let same = values.len() == held.len()
        && distinct.len() == values.len()
        && values.iter().all(|v| held.iter().any(|c| c.value == *v))
        && primary == values.first().copied();
    if same {
        return held
            .iter()
            .map(|c| json!({ "value": c.value, "primary": c.primary, "label": c.label }))
            .collect();
    }
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let label = held
                .iter()
                .find(|c| c.value == *v)
                .map_or("work", |c| c.label.as_str());
            json!({ "value": v, "primary": i == 0, "label": label })
        })
        .collect()
}

/// The form's fields as a person holds them (to edit them).
async fn form_of(web: &Web, p: &Person) -> Form {
    // The primary first: the form makes its first line the primary one.
    let lines = |c: &[Contact]| {
        let (primary, rest): (Vec<_>, Vec<_>) = c.iter().partition(|c| c.primary);
        let values: Vec<&str> = primary
            .into_iter()
            .chain(rest)
            .map(|c| c.value.as_str())
            .collect();
        values.join("\n")
    };
    let mut f = vec![
        ("name".to_owned(), p.name.clone()),
        (
            "first_name".to_owned(),
            p.first_name.clone().unwrap_or_default(),
        ),
        (
            "last_name".to_owned(),
            p.last_name.clone().unwrap_or_default(),
        ),
        ("email".to_owned(), lines(&p.emails)),
        ("phone".to_owned(), lines(&p.phones)),
        ("owner_id".to_owned(), p.owner_id.to_string()),
        (
            "org_id".to_owned(),
            p.org_id.map(|o| o.to_string()).unwrap_or_default(),
        ),
        ("visible_to".to_owned(), p.visible_to.get().to_string()),
        (
            "marketing_status".to_owned(),
            p.marketing_status
                .map(MarketingStatus::as_str)
                .unwrap_or("")
                .to_owned(),
        ),
    ];
    f.extend(
        p.label_ids
            .iter()
            .map(|l| ("label_ids".to_owned(), l.to_string())),
    );
    if let Ok(fields) = Fields::load(
        web.state.store.as_ref(),
        Kind::Person,
        web.session.company.id,
    )
    .await
    {
        f.extend(forms::custom_form_values(&p.custom_fields, &fields));
    }
    Form(f)
}

/// The add or edit form, with `error` (the API's message) next to the field it names, or
/// above the form when it names none of them.
async fn form_page(
    web: &Web,
    current: Option<&Person>,
    form: &Form,
    error: Option<ApiError>,
    status: StatusCode,
) -> Response {
    let (store, session) = (web.state.store.as_ref(), web.session.as_ref());
    let loaded = async {
        let fields = Fields::load(store, Kind::Person, session.company.id).await?;
        let users = store.users(session.company.id).await?;
        Ok::<_, ApiError>((fields, users))
    };
    let (fields, users) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return error_page(web, e),
    };
    // "Name must be given." names no field in the API's words, but it is the name's.
    let name_missing = person::name_must_be_given().to_string();
    let problem = Problem::new(error.as_ref(), |m| (m == name_missing).then_some("name"));
    let error_for = |field: &str| problem.for_field(field);
    let unplaced = problem.unplaced(&FORM_FIELDS, &fields);
    let (title, action) = match current {
        Some(p) => (
            format!("Edit {}", p.name),
            format!("/app/persons/{}/edit", p.id),
        ),
        None => ("Add a person".to_owned(), "/app/persons".to_owned()),
    };
    let owner = match form.get("owner_id") {
        "" => session.user.id.to_string(),
        o => o.to_owned(),
    };
    let body = html! {
        h1 { (title) }
        @if let Some(m) = &unplaced { p.error role="alert" { (m) } }
        form.card.person method="post" action=(action) novalidate {
            input type="hidden" name="csrf" value=(web.csrf);
            @if current.is_some() {
                input type="hidden" name="original" value=(form.original_field());
            }
            (text_field("name", "Name", form.get("name"), error_for("name"), false))
            fieldset.name-parts {
                legend { "Or its parts (a changed part makes the name anew)" }
                (text_field("first_name", "First name", form.get("first_name"), error_for("first_name"), false))
                (text_field("last_name", "Last name", form.get("last_name"), error_for("last_name"), false))
            }
            (area_field("email", "Emails (one a line; the first is primary)", form.get("email"), error_for("email")))
            (area_field("phone", "Phones (one a line; the first is primary)", form.get("phone"), error_for("phone")))
            (forms::owner_select(&users, &owner, error_for("owner_id")))
            (text_field("org_id", "Organization id", form.get("org_id"), error_for("org_id"), false))
            (forms::visibility_select(form.get("visible_to"), error_for("visible_to")))
            (field("marketing_status", "Marketing status", error_for("marketing_status"), html! {
                select #marketing_status name="marketing_status" {
                    option value="" { "—" }
                    @for m in MARKETING { option value=(m) selected[form.get("marketing_status") == m] { (m) } }
                }
            }))
            (forms::labels_fieldset(fields.labels(), form, error_for("label_ids")))
            @for def in fields.custom() {
                (custom_input(def, form, error_for(&def.key), &users))
            }
            button type="submit" { @if current.is_some() { "Save" } @else { "Add person" } }
            " "
            a href=(current.map_or("/app/persons".to_owned(), |p| format!("/app/persons/{}", p.id))) { "Cancel" }
        }
    };
    page(status, layout(Some(web), &title, body))
}

fn contacts(list: &[Contact]) -> Markup {
    html! {
        @if list.is_empty() { "—" }
        @for (i, c) in list.iter().enumerate() {
            @if i > 0 { ", " }
            (c.value) @if c.primary && list.len() > 1 { " (primary)" }
        }
    }
}
