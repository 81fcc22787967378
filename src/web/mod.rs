//! The web app at `/app/`: server-rendered pages (maud) with a little htmx, for the team that
//! keeps its contacts here. Everything goes through the same domain rules, visibility and
//! company scope as the API: a page is a dialect like v1 and v2, not a copy.
//!
//! Signing in turns a user's API token into a session cookie (`HttpOnly`, `SameSite=Strict`,
//! `Secure` behind TLS); every form carries a CSRF token derived from that cookie, checked on
//! every `POST`. No page but the sign-in page (and its assets) answers without a session.

mod activities;
mod admin;
mod deals;
mod forms;
mod history;
mod organizations;
mod pages;
mod persons;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::Markup;
use sha2::{Digest, Sha256};

use crate::api::AppState;
use crate::api::auth::session_of;
use crate::domain::Session;
use crate::domain::webhook::ChangeSource;

/// The deepest a list's page may start (deeper is that deep): an offset is skipped entry by
/// entry (32–63 ms at 500,000 of a million persons, against the app's 50 ms a page); past it,
/// one searches, filters or sorts the other way, as in most lists that page by number.
const MAX_START: i64 = 10_000;
/// The cookie that holds the signed-in user's API token.
const SESSION_COOKIE: &str = "pipestack_session";
/// The cookie the sign-in form's CSRF token is checked against (there is no session yet).
const SIGN_IN_COOKIE: &str = "pipestack_sign_in";

/// Every route of the app, under `/app`.
pub fn routes() -> Router<AppState> {
    let app = Router::new()
        .route("/", get(|| async { Redirect::to("/app/persons") }))
        .route("/assets/htmx.min.js", get(htmx))
        .route("/assets/app.css", get(css))
        .route("/sign-in", get(sign_in_page).post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/persons", get(persons::list).post(persons::create))
        .route("/persons/new", get(persons::new))
        .route("/persons/{id}", get(persons::show))
        .route(
            "/persons/{id}/edit",
            get(persons::edit).post(persons::update),
        )
        .route("/persons/{id}/notes", post(persons::add_note))
        .route("/persons/{id}/history", get(history::show))
        .route(
            "/organizations",
            get(organizations::list).post(organizations::create),
        )
        .route("/organizations/new", get(organizations::new))
        .route("/organizations/{id}", get(organizations::show))
        .route(
            "/organizations/{id}/edit",
            get(organizations::edit).post(organizations::update),
        )
        .route("/fields/{kind}", get(admin::fields).post(admin::add_field))
        .route("/fields/{kind}/{id}/delete", post(admin::delete_field))
        .route("/webhooks", get(admin::webhooks))
        .route("/webhooks/{id}", get(admin::webhook_log))
        .route("/webhooks/{id}/delete", post(admin::delete_webhook))
        .route("/requests", get(admin::requests))
        .route("/deals", get(deals::board).post(deals::create))
        .route("/deals/new", get(deals::new))
        .route("/deals/{id}/stage", post(deals::move_to_stage))
        .route(
            "/activities",
            get(activities::list).post(activities::create),
        )
        .route("/activities/new", get(activities::new))
        .route("/activities/{id}/done", post(activities::mark))
        .fallback(|web: Result<Web, Response>| async move {
            match web {
                Ok(web) => pages::not_found(Some(&web), "There is no such page."),
                Err(to_sign_in) => to_sign_in,
            }
        });
    Router::new()
        .route("/app/", get(|| async { Redirect::to("/app/persons") }))
        .nest("/app", app)
}

/// A signed-in request: the session its cookie opens and the CSRF token its forms carry.
/// Without one, the request is sent to the sign-in page.
pub struct Web {
    pub session: Arc<Session>,
    pub state: AppState,
    pub csrf: String,
}

impl FromRequestParts<AppState> for Web {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let token = cookie(&parts.headers, SESSION_COOKIE);
        match session_of(state, token.clone()).await {
            Ok(session) => {
                crate::api::auth::note_login(state, &session).await;
                // What is changed here is changed in the app (a person's changelog says so).
                let session = Arc::new(Session {
                    source: ChangeSource::App,
                    ..Session::clone(&session)
                });
                Ok(Self {
                    session,
                    state: state.clone(),
                    csrf: csrf_token(token.as_deref().unwrap_or_default()),
                })
            }
            Err(_) => Err(Redirect::to("/app/sign-in").into_response()),
        }
    }
}

impl Web {
    /// The form's fields, if it carries this session's CSRF token: a `POST` without it is
    /// refused ([`pages::forbidden`]) before anything is read or written.
    pub fn form(&self, body: &Bytes) -> Option<Form> {
        let form = Form::parse(body);
        constant_time_eq(form.get("csrf").as_bytes(), self.csrf.as_bytes()).then_some(form)
    }
}

/// Whether a path is the web app's.
pub fn is_app_path(path: &str) -> bool {
    path == "/app" || path.starts_with("/app/")
}

/// A request refused before it reached the app (its headers or size over the limits), as a
/// page.
pub fn refusal(status: StatusCode, message: &str) -> Response {
    html(
        status,
        pages::layout(
            None,
            "Refused",
            maud::html! {
                h1 { "Refused" }
                p { (message) }
                p { "Nothing was changed." }
            },
        ),
    )
}

/// A form's body, read within the server's body limit: past it, a 413 page (not a framework's
/// plain text), before anything is read or written.
pub struct Posted(pub Bytes);

impl axum::extract::FromRequest<AppState> for Posted {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &AppState) -> Result<Self, Response> {
        let limit = state.limits.max_body_bytes;
        match axum::body::to_bytes(req.into_body(), limit).await {
            Ok(bytes) => Ok(Self(bytes)),
            Err(_) => Err(refusal(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("The form was larger than the server takes ({limit} bytes)."),
            )),
        }
    }
}

/// A form's fields in order (a name may repeat: checkboxes).
pub struct Form(Vec<(String, String)>);

impl Form {
    /// Line breaks as `\n` (browsers send a textarea's as `\r\n`), and no NUL characters,
    /// which no one types and the stores refuse.
    pub fn parse(body: &[u8]) -> Self {
        let clean = |v: String| v.replace("\r\n", "\n").replace('\0', "");
        Self(
            form_urlencoded::parse(body)
                .into_owned()
                .map(|(k, v)| (clean(k), clean(v)))
                .collect(),
        )
    }

    /// The fields, URL-encoded (but the CSRF token and an `original` of their own): what an
    /// edit form carries as `original`, the item as the form first showed it.
    pub fn encode(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(
                self.0
                    .iter()
                    .filter(|(k, _)| k != "csrf" && k != "original"),
            )
            .finish()
    }

    /// What an edit form carries as `original`: the one it came with (shown again after a
    /// refusal), else the form itself (first shown: the item as it is).
    pub fn original_field(&self) -> String {
        match self.get("original") {
            "" => self.encode(),
            o => o.to_owned(),
        }
    }

    /// The item as the edit form first showed it: its `original`, else `now` (the item as it
    /// is). Comparing with it, a save sends only what its user changed, so that it undoes
    /// nobody's change made while the form was open.
    pub fn original(&self, now: impl FnOnce() -> Form) -> Form {
        match self.get("original") {
            "" => now(),
            o => Form::parse(o.as_bytes()),
        }
    }

    /// The form with `held` as its `original`, when it came without one.
    pub fn with_original(mut self, held: &Form) -> Form {
        if self.get("original").is_empty() {
            self.0.push(("original".to_owned(), held.encode()));
        }
        self
    }

    /// Whether the values of `name` are those of `held`, in any order (checkboxes come in the
    /// options' order, not the stored one).
    pub fn same_values(&self, held: &Form, name: &str) -> bool {
        fn sorted<'a>(f: &'a Form, name: &'a str) -> Vec<&'a str> {
            let mut v: Vec<&str> = f.all(name).filter(|v| !v.is_empty()).collect();
            v.sort_unstable();
            v
        }
        sorted(self, name) == sorted(held, name)
    }

    /// The first value of `name`, trimmed; empty when absent.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    }

    /// Every value of `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.trim())
    }
}

/// The CSRF token of a session: a digest of its cookie, which a page of another site can
/// neither read nor compute.
fn csrf_token(token: &str) -> String {
    let digest = Sha256::digest(format!("pipestack web form\0{token}").as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && !b.is_empty() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// A cookie's value from the request's `Cookie` headers.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

/// `Set-Cookie` for one of the app's cookies: `HttpOnly`, `SameSite=Strict`, under `/app`,
/// `Secure` when the request came over TLS (as a proxy in front says), gone when `value` is
/// empty.
fn set_cookie(headers: &HeaderMap, name: &str, value: &str) -> HeaderValue {
    let tls = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    let mut cookie = format!("{name}={value}; Path=/app; HttpOnly; SameSite=Strict");
    if value.is_empty() {
        cookie.push_str("; Max-Age=0");
    }
    if tls {
        cookie.push_str("; Secure");
    }
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A page: HTML, never cached (it shows a user's data), framed out of other sites.
pub fn html(status: StatusCode, page: Markup) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_FRAME_OPTIONS, "DENY"),
        ],
        page.into_string(),
    )
        .into_response()
}

/// After a form that changed something: see the result (303, so a reload does not post again).
pub fn see(path: &str) -> Response {
    Redirect::to(path).into_response()
}

async fn htmx() -> Response {
    asset("text/javascript", include_str!("assets/htmx-2.0.11.min.js"))
}

async fn css() -> Response {
    asset("text/css", include_str!("assets/app.css"))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// `GET /app/sign-in`: what the server is, and the form; a fresh CSRF cookie for it.
async fn sign_in_page(headers: HeaderMap) -> Response {
    sign_in_form(&headers, StatusCode::OK, None)
}

fn sign_in_form(headers: &HeaderMap, status: StatusCode, error: Option<&str>) -> Response {
    let nonce = crate::domain::random_hex40().unwrap_or_default();
    let mut response = html(status, pages::sign_in(&nonce, error));
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(headers, SIGN_IN_COOKIE, &nonce),
    );
    response
}

/// `POST /app/sign-in`: a token that opens a session becomes the session cookie.
async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    Posted(body): Posted,
) -> Response {
    let form = Form::parse(&body);
    let expected = cookie(&headers, SIGN_IN_COOKIE).unwrap_or_default();
    if !constant_time_eq(form.get("csrf").as_bytes(), expected.as_bytes()) {
        return sign_in_form(
            &headers,
            StatusCode::FORBIDDEN,
            Some("The form had expired; sign in again."),
        );
    }
    let token = form.get("token");
    let opens = !token.is_empty()
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && session_of(&state, Some(token.to_owned())).await.is_ok();
    if !opens {
        return sign_in_form(
            &headers,
            StatusCode::UNAUTHORIZED,
            Some("That token opens no session: check it, or ask an admin for a new one."),
        );
    }
    let mut response = see("/app/persons");
    let h = response.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(&headers, SESSION_COOKIE, token),
    );
    h.append(header::SET_COOKIE, set_cookie(&headers, SIGN_IN_COOKIE, ""));
    response
}

/// `POST /app/sign-out`: the session cookie is dropped.
async fn sign_out(web: Web, headers: HeaderMap, Posted(body): Posted) -> Response {
    if web.form(&body).is_none() {
        return pages::forbidden(&web);
    }
    let mut response = see("/app/sign-in");
    response
        .headers_mut()
        .append(header::SET_COOKIE, set_cookie(&headers, SESSION_COOKIE, ""));
    response
}
