//! A person's history of changes: the newest on the person's page, all of them, a page at a
//! time, on their own page. The same changelog the API serves (`GET /v1/persons/{id}/changelog`),
//! shown with names: fields by their names, owners and users by theirs, labels and options
//! by their labels.

use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde_json::Value;

use super::forms::{custom_text, user_name, visibility_label};
use super::pages::{error_page, layout, not_found};
use super::{Form, Web, html as page};
use crate::domain::person::{self, PersonChange};
use crate::domain::webhook::ChangeSource;
use crate::domain::{Fields, Kind, User};
use crate::error::ApiError;

/// Changes shown on a person's page.
pub const ON_PERSON_PAGE: usize = 10;
/// Changes on a page of the history.
const PAGE: usize = 100;

/// The built-in fields a change may name, with their names.
const BUILT_IN: [(&str, &str); 11] = [
    ("name", "Name"),
    ("first_name", "First name"),
    ("last_name", "Last name"),
    ("owner_id", "Owner"),
    ("org_id", "Organization"),
    ("email", "Email"),
    ("phone", "Phone"),
    ("label_ids", "Labels"),
    ("visible_to", "Visible to"),
    ("marketing_status", "Marketing status"),
    ("add_time", "Added"),
];

/// The table of `changes`, newest first.
pub fn table(changes: &[PersonChange], fields: &Fields, users: &[User]) -> Markup {
    html! {
        table.history {
            thead {
                tr {
                    th scope="col" { "When (UTC)" }
                    th scope="col" { "Who" }
                    th scope="col" { "Field" }
                    th scope="col" { "Before" }
                    th scope="col" { "After" }
                }
            }
            tbody {
                @for c in changes {
                    tr {
                        td { (c.time.v1()) }
                        td {
                            (user_name(users, c.actor_user_id))
                            @if c.source == ChangeSource::App { " " span.badge.app { "in the app" } }
                        }
                        td { (field_name(fields, &c.change.field_key)) }
                        td { (value(fields, users, &c.change.field_key, c.change.old_value.as_deref())) }
                        td { (value(fields, users, &c.change.field_key, c.change.new_value.as_deref())) }
                    }
                }
            }
        }
    }
}

fn field_name(fields: &Fields, key: &str) -> String {
    BUILT_IN
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, name)| (*name).to_owned())
        .or_else(|| {
            fields
                .custom()
                .find(|d| d.key == key)
                .map(|d| d.name.clone())
        })
        // A custom field deleted since: its key.
        .unwrap_or_else(|| key.to_owned())
}

/// A value as the person's page shows the field's values.
fn value(fields: &Fields, users: &[User], key: &str, text: Option<&str>) -> Markup {
    let Some(text) = text else {
        return html! { "—" };
    };
    match key {
        "owner_id" => {
            html! { (text.parse().map_or_else(|_| text.to_owned(), |id| user_name(users, id))) }
        }
        "org_id" => html! { a href={ "/app/organizations/" (text) } { "organization " (text) } },
        "visible_to" => match text.parse() {
            Ok(v) => html! { (visibility_label(v)) },
            Err(_) => html! { (text) },
        },
        "label_ids" => {
            let labels: Vec<String> = text
                .split(',')
                .map(|id| {
                    fields
                        .labels()
                        .iter()
                        .find(|o| o.id.to_string() == id)
                        .map_or_else(|| id.to_owned(), |o| o.label.clone())
                })
                .collect();
            html! { (labels.join(", ")) }
        }
        _ => match fields.custom().find(|d| d.key == key) {
            // Kept as text: a string as itself, other values as JSON.
            Some(def) => {
                let v = serde_json::from_str::<Value>(text)
                    .ok()
                    .filter(|v| !v.is_string())
                    .unwrap_or_else(|| Value::String(text.to_owned()));
                html! { (custom_text(def, Some(&v), users)) }
            }
            None => html! { (text) },
        },
    }
}

/// `GET /app/persons/{id}/history`: every change, newest first, [`PAGE`] at a time
/// (`before`: the oldest change of the page before).
pub async fn show(web: Web, Path(id): Path<String>, RawQuery(query): RawQuery) -> Response {
    let Some(p) = super::persons::visible_person(&web, &id).await else {
        return not_found(
            Some(&web),
            "There is no such person, or you may not see them.",
        );
    };
    let params = Form::parse(query.unwrap_or_default().as_bytes());
    let before: Option<i64> = params.get("before").parse().ok();
    let (store, session) = (web.state.store.as_ref(), web.session.as_ref());
    let loaded = async {
        let changes = person::changelog(store, session, p.id, before, PAGE).await?;
        let fields = Fields::load(store, Kind::Person, session.company.id).await?;
        let users = store.users(session.company.id).await?;
        Ok::<_, ApiError>((changes, fields, users))
    };
    let ((changes, more), fields, users) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return error_page(&web, e),
    };
    let title = format!("History of {}", p.name);
    let body = html! {
        h1 { (title) }
        p { a href={ "/app/persons/" (p.id) } { "← Back to " (p.name) } }
        @if changes.is_empty() {
            p { "No changes " @if before.is_some() { "before these." } @else { "since the person was added." } }
        } @else {
            (table(&changes, &fields, &users))
        }
        nav.pages aria-label="Pages" {
            @if before.is_some() { a href={ "/app/persons/" (p.id) "/history" } { "← Newest" } }
            @if let (true, Some(last)) = (more, changes.last()) {
                a href={ "/app/persons/" (p.id) "/history?before=" (last.id) } { "Older →" }
            }
        }
    };
    page(StatusCode::OK, layout(Some(&web), &title, body))
}
