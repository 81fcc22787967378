//! Activities: the upcoming and the overdue ones (and those done), each marked done or undone
//! by a form, through the API's own rules for an activity's change.

use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde_json::{Map, json};

use super::forms::{self, Problem, field, text_field};
use super::pages::{error_page, failure, forbidden, layout, not_found, pager};
use super::{Form, Posted, Web, html as page, see};
use crate::domain::activity::{self, Activity, ActivityDraft, ActivityFilter, ActivityType};
use crate::domain::query::{Direction, ListQuery, Page, SortField};
use crate::domain::{Fields, Kind};
use crate::error::ApiError;

/// The most activities a list shows.
const PAGE: i64 = 100;
/// The lists the page offers: (value, label).
const SHOWS: [(&str, &str); 3] = [
    ("upcoming", "Upcoming"),
    ("overdue", "Overdue"),
    ("done", "Done"),
];

/// `GET /app/activities?show=upcoming|overdue|done`: by due date, the undone ones due today or
/// later, those due before today, or the done ones (last first).
pub async fn list(web: Web, RawQuery(query): RawQuery) -> Response {
    let params = Form::parse(query.unwrap_or_default().as_bytes());
    let show = SHOWS
        .iter()
        .map(|(v, _)| *v)
        .find(|v| *v == params.get("show"))
        .unwrap_or("upcoming");
    let today = today(&web);
    let filter = match show {
        "overdue" => ActivityFilter {
            done: Some(false),
            due_to: Some(yesterday(&today)),
            ..ActivityFilter::default()
        },
        "done" => ActivityFilter {
            done: Some(true),
            ..ActivityFilter::default()
        },
        _ => ActivityFilter {
            done: Some(false),
            due_from: Some(today.clone()),
            ..ActivityFilter::default()
        },
    };
    let start: i64 = params
        .get("start")
        .parse()
        .unwrap_or(0)
        .clamp(0, super::MAX_START);
    let (list, more, types) = match load(&web, filter, start, PAGE).await {
        Ok(loaded) => loaded,
        Err(e) => return failure(&web, e.status(), &e.to_string()),
    };
    let back = format!("/app/activities?show={show}&start={start}");
    let link = |start: i64| format!("/app/activities?show={show}&start={start}");
    let body = html! {
        h1 { "Activities" }
        nav.tabs aria-label="Which activities" {
            @for (value, label) in SHOWS {
                a href={ "/app/activities?show=" (value) } aria-current=[(value == show).then_some("page")] { (label) }
            }
        }
        p { a href="/app/activities/new" { "Add an activity" } }
        (table(&web, &list, &types, &back, &today))
        (pager(start, PAGE, more, link))
    };
    page(StatusCode::OK, layout(Some(&web), "Activities", body))
}

/// A page of the activities the filter lets through (`limit` from `start`), whether more
/// follow, and the company's activity types.
pub async fn load(
    web: &Web,
    filter: ActivityFilter,
    start: i64,
    limit: i64,
) -> Result<(Vec<Activity>, bool, Vec<ActivityType>), ApiError> {
    let (store, session) = (web.state.store.as_ref(), web.session.as_ref());
    // Soonest first (the done ones: last first).
    let direction = if filter.done == Some(true) {
        Direction::Desc
    } else {
        Direction::Asc
    };
    let query = ListQuery {
        filter,
        order: vec![(SortField::DueDate, direction)],
        page: Page::Offset { start },
        limit,
    };
    let (list, more) = activity::list_activities(store, session, query).await?;
    let types = store.activity_types(session.company.id).await?;
    Ok((list, more, types))
}

/// A table of activities, each with its done/undone form, which comes back to `back`.
pub fn table(
    web: &Web,
    list: &[Activity],
    types: &[ActivityType],
    back: &str,
    today: &str,
) -> Markup {
    html! {
        @if list.is_empty() { p { "No activities." } } @else {
            table {
                thead { tr { th scope="col" { "Subject" } th scope="col" { "Type" } th scope="col" { "Due" } th scope="col" { "Person" } th scope="col" { "Done" } } }
                tbody {
                    @for a in list {
                        @let v = &a.values;
                        @let overdue = !v.done && v.due_date.as_deref().is_some_and(|d| d < today);
                        tr.overdue[overdue] {
                            td { (v.subject) }
                            td { (types.iter().find(|t| t.key_string == v.type_key).map_or(v.type_key.as_str(), |t| t.name.as_str())) }
                            td { (v.due_date.as_deref().unwrap_or("—")) " " (v.due_time.as_deref().unwrap_or("")) @if overdue { " " span.badge { "overdue" } } }
                            td { @if let Some(p) = v.person_id { a href={ "/app/persons/" (p) } { "person " (p) } } @else { "—" } }
                            td {
                                form method="post" action={ "/app/activities/" (a.id) "/done" } {
                                    input type="hidden" name="csrf" value=(web.csrf);
                                    input type="hidden" name="back" value=(back);
                                    input type="hidden" name="done" value=(if v.done { "0" } else { "1" });
                                    button.small type="submit" aria-label={ (if v.done { "Mark undone: " } else { "Mark done: " }) (v.subject) } {
                                        (if v.done { "Undo" } else { "Done" })
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `POST /app/activities/{id}/done`: marked done (`done=1`) or undone (`done=0`), back to the
/// page the form was on (one of the app's own).
pub async fn mark(web: Web, Path(id): Path<String>, Posted(body): Posted) -> Response {
    let Some(form) = web.form(&body) else {
        return forbidden(&web);
    };
    let (store, session) = (web.state.store.as_ref(), web.session.as_ref());
    let current = match id.parse::<i64>() {
        Ok(id) if id > 0 => activity::find_activity(store, session, id)
            .await
            .ok()
            .filter(|a| a.active),
        _ => None,
    };
    let Some(current) = current else {
        return not_found(
            Some(&web),
            "There is no such activity, or you may not see it.",
        );
    };
    let done = match form.get("done") {
        "1" => true,
        "0" => false,
        _ => return failure(&web, StatusCode::BAD_REQUEST, "done: must be 1 or 0"),
    };
    let draft = ActivityDraft {
        done: Some(done),
        ..ActivityDraft::default()
    };
    match activity::update_activity(store, session, &current, draft).await {
        Ok(_) => {
            let back = form.get("back");
            // Only a plain path of the app: a form cannot send the browser elsewhere.
            let safe = back.starts_with("/app/")
                && back
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"/_-.?=&#".contains(&b));
            see(if safe { back } else { "/app/activities" })
        }
        Err(e) => error_page(&web, e),
    }
}

/// Today by the company's clock, `YYYY-MM-DD`.
pub fn today(web: &Web) -> String {
    web.session.now().rfc3339()[..10].to_owned()
}

/// The day before `day` (`YYYY-MM-DD`).
fn yesterday(day: &str) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(day, format)
        .ok()
        .and_then(|d| d.previous_day())
        .and_then(|d| d.format(format).ok())
        .unwrap_or_else(|| day.to_owned())
}

/// The add form's own fields.
const FORM_FIELDS: [&str; 7] = [
    "subject",
    "type",
    "due_date",
    "due_time",
    "person_id",
    "deal_id",
    "note",
];

/// `GET /app/activities/new?person_id=`: the form to add an activity.
pub async fn new(web: Web, RawQuery(query): RawQuery) -> Response {
    let params = Form::parse(query.unwrap_or_default().as_bytes());
    form_page(&web, &params, None, StatusCode::OK).await
}

/// `POST /app/activities`: the activity added through the API's rules (v2's body), back to
/// the upcoming ones (or its person); a refusal shows the form again, the message by its field.
pub async fn create(web: Web, Posted(body): Posted) -> Response {
    let Some(form) = web.form(&body) else {
        return forbidden(&web);
    };
    let mut body = Map::new();
    for text in ["subject", "type", "due_date", "due_time", "note"] {
        if !form.get(text).trim().is_empty() {
            body.insert(text.into(), json!(form.get(text).trim()));
        }
    }
    for id in ["person_id", "deal_id"] {
        if !form.get(id).is_empty() {
            body.insert(id.into(), forms::number(&form, id));
        }
    }
    let (store, session) = (web.state.store.as_ref(), web.session.as_ref());
    let added = async {
        let draft = crate::api::v2::activities::draft(body)?;
        Ok::<_, ApiError>(activity::add_activity(store, session, draft).await?)
    };
    match added.await {
        Ok(a) => match a.values.person_id {
            Some(p) => see(&format!("/app/persons/{p}#activities")),
            None => see("/app/activities"),
        },
        Err(e) => form_page(&web, &form, Some(e), StatusCode::BAD_REQUEST).await,
    }
}

/// The add form, with `error` by its field.
async fn form_page(
    web: &Web,
    form: &Form,
    error: Option<ApiError>,
    status: StatusCode,
) -> Response {
    let types = match web.state.store.activity_types(web.session.company.id).await {
        Ok(types) => types,
        Err(e) => return error_page(web, e),
    };
    let problem = Problem::new(error.as_ref(), |_| None);
    let error_for = |field: &str| problem.for_field(field);
    // Activities have no custom fields.
    let unplaced = problem.unplaced(&FORM_FIELDS, &Fields::none(Kind::Deal));
    let body = html! {
        h1 { "Add an activity" }
        @if let Some(m) = &unplaced { p.error role="alert" { (m) } }
        form.card method="post" action="/app/activities" novalidate {
            input type="hidden" name="csrf" value=(web.csrf);
            (text_field("subject", "Subject (the type's name when empty)", form.get("subject"), error_for("subject"), false))
            (field("type", "Type", error_for("type"), html! {
                select #type name="type" {
                    @for t in types.iter().filter(|t| t.active) {
                        option value=(t.key_string) selected[form.get("type") == t.key_string] { (t.name) }
                    }
                }
            }))
            (field("due_date", "Due date", error_for("due_date"), html! {
                input #due_date name="due_date" type="date" value=(form.get("due_date"));
            }))
            (field("due_time", "Due time (UTC)", error_for("due_time"), html! {
                input #due_time name="due_time" type="time" value=(form.get("due_time"));
            }))
            (text_field("person_id", "Person id", form.get("person_id"), error_for("person_id"), false))
            (text_field("deal_id", "Deal id", form.get("deal_id"), error_for("deal_id"), false))
            (forms::area_field("note", "Note", form.get("note"), error_for("note")))
            button type="submit" { "Add activity" }
            " "
            a href="/app/activities" { "Cancel" }
        }
    };
    page(status, layout(Some(web), "Add an activity", body))
}
