//! The frame every page shares, and the pages that are not about one kind of item.

use axum::http::StatusCode;
use axum::response::Response;
use maud::{DOCTYPE, Markup, html};

use super::{Web, html as page};

/// A whole page: the head, the navigation (with sign-out) when signed in, and `body`.
pub fn layout(web: Option<&Web>, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · pipestack" }
                link rel="stylesheet" href="/app/assets/app.css";
                // No copies of pages in the tab's storage (they would outlive signing out).
                meta name="htmx-config" content=r#"{"historyCacheSize":0,"refreshOnHistoryMiss":true}"#;
                script src="/app/assets/htmx.min.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/app/persons" { "pipestack" }
                    @if let Some(web) = web {
                        nav aria-label="Main" {
                            a href="/app/persons" { "Persons" }
                            a href="/app/persons/new" { "Add a person" }
                            a href="/app/organizations" { "Organizations" }
                            a href="/app/deals" { "Deals" }
                            a href="/app/activities" { "Activities" }
                            a href="/app/webhooks" { "Webhooks" }
                            @if web.session.user.is_admin {
                                a href="/app/fields/person" { "Fields" }
                                @if web.state.toolkit.is_some() { a href="/app/requests" { "Requests" } }
                            }
                        }
                        form.sign-out method="post" action="/app/sign-out" {
                            input type="hidden" name="csrf" value=(web.csrf);
                            span.who { (web.session.user.name) " · " (web.session.company.name) }
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main #main { (body) }
            }
        }
    }
}

/// The sign-in page: what the root page showed (what the server is, its base URLs, the
/// contract), and the form.
pub fn sign_in(nonce: &str, error: Option<&str>) -> Markup {
    layout(
        None,
        "Sign in",
        html! {
            h1 { "Sign in" }
            p { "pipestack is a server that speaks Pipedrive's CRM API, v1 and v2, over one durable store. Sign in with your API token to see and change your company's contacts." }
            form.card method="post" action="/app/sign-in" {
                input type="hidden" name="csrf" value=(nonce);
                @if let Some(error) = error {
                    p.error role="alert" id="token-error" { (error) }
                }
                label for="token" { "API token" }
                input #token type="password" name="token" autocomplete="current-password" required
                    aria-describedby=[error.map(|_| "token-error")];
                button type="submit" { "Sign in" }
            }
            h2 { "Base URLs" }
            ul {
                li { code { "/v1" } " and " code { "/api/v1" } ": the legacy v1 API" }
                li { code { "/api/v2" } ": the current v2 API" }
            }
            h2 { "Contract" }
            ul {
                li { a href="/docs" { "/docs" } ": every operation, in the browser" }
                li { a href="/openapi.json" { "/openapi.json" } ": the OpenAPI document" }
            }
            h2 { "A token" }
            p {
                "The first start prints the admin's; " code { "pipestack users token ID" }
                " makes a new one, and " code { "serve --api-token" } " fixes it. The API takes it as the "
                code { "x-api-token" } " header."
            }
        },
    )
}

/// 404: an unknown page, or an item that does not exist or this user may not see (told
/// apart by nothing, as in the API).
pub fn not_found(web: Option<&Web>, message: &str) -> Response {
    page(
        StatusCode::NOT_FOUND,
        layout(
            web,
            "Not found",
            html! {
                h1 { "Not found" }
                p { (message) }
                p { a href="/app/persons" { "Back to the persons" } }
            },
        ),
    )
}

/// 403: a form without this session's CSRF token.
pub fn forbidden(web: &Web) -> Response {
    page(
        StatusCode::FORBIDDEN,
        layout(
            Some(web),
            "Refused",
            html! {
                h1 { "Refused" }
                p { "The form did not come from this session (its security token is missing or stale). Nothing was changed; go back, reload the page and try again." }
            },
        ),
    )
}

/// An error of the domain or the store as a page: the API's message and status.
pub fn error_page(web: &Web, e: impl Into<crate::error::ApiError>) -> Response {
    let e = e.into();
    failure(web, e.status(), &e.to_string())
}

/// A list's "Previous" and "Next" links: `link` makes the path of a page starting at an offset.
pub fn pager(start: i64, page: i64, more: bool, link: impl Fn(i64) -> String) -> Markup {
    html! {
        nav.pages aria-label="Pages" {
            @if start > 0 { a href=(link((start - page).max(0))) { "← Previous" } }
            @if more && start + page <= super::MAX_START {
                a href=(link(start + page)) { "Next →" }
            } @else if more {
                span.note {
                    "The list pages through its first " (super::MAX_START + page)
                    "; search, filter or sort the other way to see the others."
                }
            }
        }
    }
}

/// How many items a page lists: `500+` when it shows the first 500 of more.
pub fn count(shown: usize, more: bool) -> String {
    if more {
        format!("{shown}+")
    } else {
        shown.to_string()
    }
}

/// A failure that is not the form's: the message the API would give, with its status.
pub fn failure(web: &Web, status: StatusCode, message: &str) -> Response {
    page(
        status,
        layout(
            Some(web),
            "Something went wrong",
            html! {
                h1 { "Something went wrong" }
                p role="alert" { (message) }
                p { a href="/app/persons" { "Back to the persons" } }
            },
        ),
    )
}
