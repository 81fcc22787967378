//! The pages that are about the company's setup and the server's traffic: person and
//! organization fields (admins), webhooks with their delivery log, and, with `--admin-api`,
//! the request journal (admins).

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;

use super::pages::{error_page, failure, forbidden, layout, not_found};
use super::{Posted, Web, html as page, see};
use crate::api::admin::journal::Filter;
use crate::domain::field_admin::{self, FieldDraft};
use crate::domain::fields::{FieldSettings, FieldType};
use crate::domain::{Fields, Kind, Timestamp, webhook};
use crate::error::ApiError;

/// The kinds whose fields the app lets admins manage: (path segment, kind, title).
const KINDS: [(&str, Kind, &str); 2] = [
    ("person", Kind::Person, "Person fields"),
    ("organization", Kind::Organization, "Organization fields"),
];
/// The types a custom field can be made with here: (API name, label).
const TYPES: [(&str, &str); 10] = [
    ("varchar", "Text"),
    ("text", "Long text"),
    ("double", "Number"),
    ("monetary", "Money"),
    ("date", "Date"),
    ("time", "Time"),
    ("phone", "Phone"),
    ("enum", "Single option"),
    ("set", "Multiple options"),
    ("user", "User"),
];

fn kind_of(segment: &str) -> Option<(Kind, &'static str)> {
    KINDS
        .iter()
        .find(|(s, _, _)| *s == segment)
        .map(|(_, k, t)| (*k, *t))
}

/// Admins only: other users get a 403 page.
fn admin_only(web: &Web) -> Option<Response> {
    (!web.session.user.is_admin).then(|| {
        failure(
            web,
            StatusCode::FORBIDDEN,
            "Only an admin of the company manages its fields and sees the request journal.",
        )
    })
}

/// `GET /app/fields/{kind}`: the kind's fields (built-in and custom), and a form to add one.
pub async fn fields(web: Web, Path(kind): Path<String>) -> Response {
    fields_page(&web, &kind, None, StatusCode::OK).await
}

async fn fields_page(
    web: &Web,
    segment: &str,
    error: Option<ApiError>,
    status: StatusCode,
) -> Response {
    if let Some(refused) = admin_only(web) {
        return refused;
    }
    let Some((kind, title)) = kind_of(segment) else {
        return not_found(Some(web), "There is no such kind of field.");
    };
    let defs = match Fields::load(web.state.store.as_ref(), kind, web.session.company.id).await {
        Ok(fields) => fields.defs.clone(),
        Err(e) => return error_page(web, e),
    };
    let body = html! {
        h1 { (title) }
        nav.tabs aria-label="Kinds" {
            @for (s, _, t) in KINDS { a href={ "/app/fields/" (s) } aria-current=[(s == segment).then_some("page")] { (t) } }
        }
        table {
            thead { tr { th scope="col" { "Name" } th scope="col" { "Key" } th scope="col" { "Type" } th scope="col" { "Options" } th scope="col" { span.visually-hidden { "Delete" } } } }
            tbody {
                @for d in defs.iter() {
                    tr {
                        td { (d.name) }
                        td { code { (d.key) } }
                        td { (d.field_type.as_str()) }
                        td { (d.options.iter().map(|o| o.label.as_str()).collect::<Vec<_>>().join(", ")) }
                        td {
                            @if d.is_custom {
                                form method="post" action={ "/app/fields/" (segment) "/" (d.id) "/delete" } {
                                    input type="hidden" name="csrf" value=(web.csrf);
                                    button.small type="submit" aria-label={ "Delete the field " (d.name) } { "Delete" }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Add a field" }
        @if let Some(e) = &error { p.error role="alert" id="field-error" { (e.to_string()) } }
        form.card method="post" action={ "/app/fields/" (segment) } {
            input type="hidden" name="csrf" value=(web.csrf);
            label for="field-name" { "Name" }
            input #field-name type="text" name="name" required aria-describedby=[error.as_ref().map(|_| "field-error")];
            label for="field-type" { "Type" }
            select #field-type name="field_type" {
                @for (value, label) in TYPES { option value=(value) { (label) } }
            }
            label for="field-options" { "Options (one a line, for the option types)" }
            textarea #field-options name="options" rows="3" {}
            button type="submit" { "Add field" }
        }
    };
    page(status, layout(Some(web), title, body))
}

/// `POST /app/fields/{kind}`: the field added with the API's rules, or the page with their
/// message.
pub async fn add_field(web: Web, Path(segment): Path<String>, Posted(body): Posted) -> Response {
    let Some(form) = web.form(&body) else {
        return forbidden(&web);
    };
    if let Some(refused) = admin_only(&web) {
        return refused;
    }
    let Some((kind, _)) = kind_of(&segment) else {
        return not_found(Some(&web), "There is no such kind of field.");
    };
    let field_type = form.get("field_type");
    let wants_options = FieldType::from_name(field_type)
        .is_some_and(|t| matches!(t, FieldType::Enum | FieldType::Set));
    let draft = FieldDraft {
        name: Some(form.get("name")),
        field_type: Some(field_type),
        options: if wants_options {
            form.get("options")
                .lines()
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_owned)
                .collect()
        } else {
            Vec::new()
        },
        add_visible_flag: true,
        settings: FieldSettings::default(),
    };
    match field_admin::add_field(web.state.store.as_ref(), &web.session, kind, draft, false).await {
        Ok(_) => see(&format!("/app/fields/{segment}")),
        Err(e) => fields_page(&web, &segment, Some(e.into()), StatusCode::BAD_REQUEST).await,
    }
}

/// `POST /app/fields/{kind}/{id}/delete`: the custom field and its values go.
pub async fn delete_field(
    web: Web,
    Path((segment, id)): Path<(String, String)>,
    Posted(body): Posted,
) -> Response {
    if web.form(&body).is_none() {
        return forbidden(&web);
    }
    if let Some(refused) = admin_only(&web) {
        return refused;
    }
    let (Some((kind, _)), Ok(id)) = (kind_of(&segment), id.parse::<i64>()) else {
        return not_found(Some(&web), "There is no such field.");
    };
    match field_admin::delete_fields(web.state.store.as_ref(), &web.session, kind, &[id]).await {
        Ok(_) => see(&format!("/app/fields/{segment}")),
        Err(e) => error_page(&web, e),
    }
}

/// `GET /app/webhooks`: the webhooks this user manages (an admin: the company's).
pub async fn webhooks(web: Web) -> Response {
    let list = match webhook::list(web.state.store.as_ref(), &web.session).await {
        Ok(list) => list,
        Err(e) => return error_page(&web, e),
    };
    let body = html! {
        h1 { "Webhooks" }
        p.hint { "Added through the API (" code { "POST /v1/webhooks" } "); each one's deliveries are here." }
        @if list.is_empty() { p { "No webhooks." } } @else {
            table {
                thead { tr { th scope="col" { "Event" } th scope="col" { "URL" } th scope="col" { "Last status" } th scope="col" { "Last delivery" } } }
                tbody {
                    @for w in &list {
                        tr {
                            td { a href={ "/app/webhooks/" (w.id) } { (w.event_action) "." (w.event_object) } }
                            td { (w.subscription_url) }
                            td { (w.last_http_status.map_or("—".to_owned(), |s| s.to_string())) }
                            td { (w.last_delivery_time.map_or("—".to_owned(), |t| format!("{} UTC", t.v1()))) }
                        }
                    }
                }
            }
        }
    };
    page(StatusCode::OK, layout(Some(&web), "Webhooks", body))
}

/// `GET /app/webhooks/{id}`: the webhook and its last delivery attempts, newest first.
pub async fn webhook_log(web: Web, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return not_found(Some(&web), "There is no such webhook.");
    };
    let (w, attempts) = match webhook::deliveries(web.state.store.as_ref(), &web.session, id).await
    {
        Ok(found) => found,
        // Another user's webhook is answered as one that does not exist.
        Err(_) => return not_found(Some(&web), "There is no such webhook, or it is not yours."),
    };
    let body = html! {
        h1 { "Webhook " (w.event_action) "." (w.event_object) }
        dl.fields {
            dt { "URL" } dd { (w.subscription_url) }
            dt { "Version" } dd { (w.version.as_str()) }
            dt { "Last status" } dd { (w.last_http_status.map_or("—".to_owned(), |s| s.to_string())) }
            @if let Some(reason) = &w.remove_reason { dt { "Removed" } dd { (reason) } }
        }
        h2 { "Deliveries (" (attempts.len()) ")" }
        @if attempts.is_empty() { p { "Nothing delivered yet." } } @else {
            table {
                thead { tr { th scope="col" { "Time (UTC)" } th scope="col" { "Event" } th scope="col" { "Item" } th scope="col" { "Attempt" } th scope="col" { "Status" } th scope="col" { "Took" } } }
                tbody {
                    @for a in &attempts {
                        tr.overdue[!a.succeeded()] {
                            td { (Timestamp(a.time_ms.div_euclid(1000)).v1()) }
                            td { (a.event) }
                            td { (a.object_id) }
                            td { (a.attempt) }
                            td { (a.http_status.map_or_else(|| a.error.clone().unwrap_or_else(|| "no answer".into()), |s| s.to_string())) }
                            td { (a.latency_ms) " ms" }
                        }
                    }
                }
            }
        }
        form method="post" action={ "/app/webhooks/" (w.id) "/delete" } {
            input type="hidden" name="csrf" value=(web.csrf);
            button type="submit" { "Delete this webhook" }
        }
    };
    page(StatusCode::OK, layout(Some(&web), "Webhook", body))
}

/// `POST /app/webhooks/{id}/delete`.
pub async fn delete_webhook(web: Web, Path(id): Path<String>, Posted(body): Posted) -> Response {
    if web.form(&body).is_none() {
        return forbidden(&web);
    }
    let Ok(id) = id.parse::<i64>() else {
        return not_found(Some(&web), "There is no such webhook.");
    };
    match webhook::delete(web.state.store.as_ref(), &web.session, id).await {
        Ok(()) => see("/app/webhooks"),
        Err(_) => not_found(Some(&web), "There is no such webhook, or it is not yours."),
    }
}

/// `GET /app/requests`: the company's request journal, newest first (admins, with
/// `--admin-api`; a 404 page without it, as the admin API's routes are).
pub async fn requests(web: Web) -> Response {
    let Some(toolkit) = &web.state.toolkit else {
        return not_found(
            Some(&web),
            "The request journal is off: start the server with --admin-api.",
        );
    };
    if let Some(refused) = admin_only(&web) {
        return refused;
    }
    let filter = Filter {
        limit: 200,
        ..Filter::default()
    };
    let entries = toolkit.journal.list(web.session.company.id, &filter);
    let body = html! {
        h1 { "Requests" }
        p.hint { "The last requests of this company's tokens (" code { "GET /_pipestack/requests" } " gives them as JSON)." }
        @if entries.is_empty() { p { "No requests yet." } } @else {
            table {
                thead { tr { th scope="col" { "Time" } th scope="col" { "Request" } th scope="col" { "Status" } th scope="col" { "Took" } } }
                tbody {
                    @for e in &entries {
                        tr.overdue[e.status.is_none_or(|s| s >= 400)] {
                            td { (e.time) }
                            td {
                                details {
                                    summary { code { (e.method) " " (e.path) @if let Some(q) = &e.query { "?" (q) } } }
                                    p { "Request body" }
                                    pre { (serde_json::to_string_pretty(&e.request_body).unwrap_or_default()) }
                                    p { "Answer" }
                                    pre { (serde_json::to_string_pretty(&e.response_body).unwrap_or_default()) }
                                }
                            }
                            td { (e.status.map_or("closed".to_owned(), |s| s.to_string())) }
                            td { (format!("{:.1}", e.duration_ms)) " ms" }
                        }
                    }
                }
            }
        }
    };
    page(StatusCode::OK, layout(Some(&web), "Requests", body))
}
