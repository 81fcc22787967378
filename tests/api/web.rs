//! The web app at `/app/`: sessions from tokens, CSRF on every form, the same rules and scope
//! as the API, bad input shown by its field, and a 404 page for what one may not see.

use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// A browser without JavaScript: its cookie, no redirects followed.
struct Browser {
    client: Client,
    base: String,
    cookie: String,
}

struct Page {
    status: StatusCode,
    headers: HeaderMap,
    html: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The value of the first hidden `csrf` field.
    fn csrf(&self) -> String {
        let at = self
            .html
            .find("name=\"csrf\" value=\"")
            .expect("a form with a csrf field");
        let rest = &self.html[at + 19..];
        rest[..rest.find('"').unwrap()].to_owned()
    }

    /// The value of the hidden input `name`, its HTML escapes undone.
    fn hidden(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let at = self.html.find(&marker).expect("the hidden input");
        let rest = &self.html[at + marker.len()..];
        rest[..rest.find('"').unwrap()]
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    }

    fn cookies(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }
}

impl Browser {
    fn new(app: &TestApp) -> Self {
        Self {
            client: Client::builder().redirect(Policy::none()).build().unwrap(),
            base: app.base.clone(),
            cookie: String::new(),
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let req = if self.cookie.is_empty() {
            req
        } else {
            req.header("cookie", &self.cookie)
        };
        let resp = req.send().await.unwrap();
        let page = Page {
            status: resp.status(),
            headers: resp.headers().clone(),
            html: resp.text().await.unwrap(),
        };
        for c in page.cookies() {
            let pair = c.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            let mut kept: Vec<String> = self
                .cookie
                .split("; ")
                .filter(|p| !p.is_empty() && !p.starts_with(&format!("{name}=")))
                .map(str::to_owned)
                .collect();
            if !value.is_empty() {
                kept.push(pair.to_owned());
            }
            self.cookie = kept.join("; ");
        }
        page
    }

    async fn get(&mut self, path: &str) -> Page {
        let req = self.client.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(req).await
    }

    /// Signs in with `token` through the sign-in form.
    async fn sign_in(&mut self, token: &str) -> Page {
        let form = self.get("/app/sign-in").await;
        let csrf = form.csrf();
        self.post("/app/sign-in", &[("csrf", &csrf), ("token", token)])
            .await
    }

    /// The CSRF token of the signed-in session (from any page's form).
    async fn csrf(&mut self) -> String {
        self.get("/app/persons/new").await.csrf()
    }
}

#[tokio::test]
async fn a_browser_at_the_root_goes_to_the_app_and_no_page_opens_without_a_session() {
    let app = TestApp::spawn().await;
    let mut b = Browser::new(&app);
    let root = b
        .send(
            b.client
                .get(format!("{}/", app.base))
                .header("accept", "text/html"),
        )
        .await;
    assert_eq!(root.status, StatusCode::SEE_OTHER);
    assert_eq!(root.location(), "/app/");
    let api = app.get("/").await;
    assert_eq!(api.status, StatusCode::OK, "an API client still gets JSON");
    assert_eq!(api.data()["openapi"], "/openapi.json");

    for path in [
        "/app/",
        "/app/persons",
        "/app/persons/new",
        "/app/persons/1",
        "/app/persons/1/edit",
        "/app/nothing",
    ] {
        let page = b.get(path).await;
        assert!(
            page.status == StatusCode::SEE_OTHER && page.location().ends_with("/app/sign-in")
                || path == "/app/" && page.location() == "/app/persons",
            "{path}: {} {}",
            page.status,
            page.location()
        );
        assert!(!page.html.contains("Admin"), "{path} shows nothing");
    }
    let posted = b
        .post("/app/persons", &[("name", "Sneaky"), ("csrf", "x")])
        .await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER);
    assert_eq!(app.count_rows("persons").await, 0, "nothing was added");

    let sign_in = b.get("/app/sign-in").await;
    assert_eq!(sign_in.status, StatusCode::OK);
    for shown in ["/openapi.json", "/docs", "/api/v2", "/v1", "API token"] {
        assert!(
            sign_in.html.contains(shown),
            "the sign-in page shows {shown}"
        );
    }
    let css = b.get("/app/assets/app.css").await;
    assert_eq!(css.status, StatusCode::OK);
    let js = b.get("/app/assets/htmx.min.js").await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.html.contains("htmx"), "htmx is served from the binary");
}

#[tokio::test]
async fn signing_in_makes_a_strict_http_only_cookie_and_signing_out_drops_it() {
    let app = TestApp::spawn().await;
    let mut b = Browser::new(&app);

    let wrong = b.sign_in("not-a-token-of-anyone").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.html.contains("That token opens no session"));
    assert!(!b.cookie.contains("pipestack_session"));

    // Without the sign-in form's own token (a page of another site posting it), refused.
    let forged = b
        .post("/app/sign-in", &[("csrf", "forged"), ("token", &app.token)])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(!b.cookie.contains("pipestack_session"));

    let ok = b.sign_in(&app.token).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.location(), "/app/persons");
    let session = ok
        .cookies()
        .into_iter()
        .find(|c| c.starts_with("pipestack_session="))
        .expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/app"] {
        assert!(session.contains(attribute), "{session} has {attribute}");
    }
    assert!(!session.contains("Secure"), "plain HTTP: not Secure");
    let list = b.get("/app/persons").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.html.contains("Sign out"));

    // Behind a TLS proxy, the cookie is Secure.
    let mut tls = Browser::new(&app);
    let form = tls.get("/app/sign-in").await;
    let csrf = form.csrf();
    let body = format!("csrf={csrf}&token={}", app.token);
    let req = tls
        .client
        .post(format!("{}/app/sign-in", app.base))
        .header("x-forwarded-proto", "https")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    let secure = tls.send(req).await;
    assert!(
        secure
            .cookies()
            .iter()
            .any(|c| c.starts_with("pipestack_session=") && c.contains("; Secure"))
    );

    let refused = b.post("/app/sign-out", &[("csrf", "wrong")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        b.get("/app/persons").await.status,
        StatusCode::OK,
        "still signed in"
    );
    let csrf = b.csrf().await;
    let out = b.post("/app/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(
        out.cookies()
            .iter()
            .any(|c| c.starts_with("pipestack_session=;") && c.contains("Max-Age=0"))
    );
    assert_eq!(b.get("/app/persons").await.location(), "/app/sign-in");
}

#[tokio::test]
async fn a_person_added_and_changed_in_the_app_is_the_api_s_person_with_its_custom_field_and_note()
{
    let app = TestApp::spawn().await;
    let field = app
        .post(
            "/v1/personFields",
            &json!({ "name": "Shoe size", "field_type": "double" }),
        )
        .await;
    let key = field.data()["key"].as_str().unwrap().to_owned();
    let mut b = Browser::new(&app);
    b.sign_in(&app.token).await;
    let csrf = b.csrf().await;
    let added = b
        .post(
            "/app/persons",
            &[
                ("csrf", &csrf),
                ("name", "Ada Lovelace"),
                ("email", "ada@example.com\nada@work.example"),
                ("phone", "+44 20 7946 0000"),
                ("owner_id", &app.admin.id.to_string()),
                ("visible_to", "3"),
                ("marketing_status", "subscribed"),
                ("label_ids", "1"),
                (&key, "42.5"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
    let id: i64 = added
        .location()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();

    let api = app.get(&format!("/v1/persons/{id}")).await;
    let p = api.data();
    assert_eq!(p["name"], "Ada Lovelace");
    assert_eq!(p["email"][0]["value"], "ada@example.com");
    assert_eq!(p["email"][0]["primary"], true);
    assert_eq!(p["email"][1]["value"], "ada@work.example");
    assert_eq!(p["phone"][0]["value"], "+44 20 7946 0000");
    assert_eq!(p["marketing_status"], "subscribed");
    assert_eq!(p["label_ids"], json!([1]));
    assert_eq!(p[&key], json!(42.5));

    let shown = b.get(&format!("/app/persons/{id}")).await;
    assert_eq!(shown.status, StatusCode::OK);
    for text in [
        "Ada Lovelace",
        "ada@work.example",
        "Shoe size",
        "42.5",
        "Customer",
        "Notes (<span id=\"note-count\">0</span>)",
    ] {
        assert!(shown.html.contains(text), "the person's page shows {text}");
    }

    // The edit form holds what the person holds; a change goes through the API's rules.
    let form = b.get(&format!("/app/persons/{id}/edit")).await;
    assert!(
        form.html.contains("value=\"42.5\""),
        "the custom value is in the form"
    );
    let changed = b
        .post(
            &format!("/app/persons/{id}/edit"),
            &[
                ("csrf", &csrf),
                ("name", "Ada King"),
                ("email", "ada@example.com"),
                ("phone", ""),
                ("owner_id", &app.admin.id.to_string()),
                ("visible_to", "3"),
                ("marketing_status", "subscribed"),
                (&key, "43"),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.html);
    let p = app.get(&format!("/v1/persons/{id}")).await;
    let p = p.data();
    assert_eq!(p["name"], "Ada King");
    assert_eq!(p["email"].as_array().unwrap().len(), 1);
    assert_eq!(p["phone"][0]["value"], "", "the phones were cleared");
    assert_eq!(p["label_ids"], json!([]), "the unchecked label is gone");
    assert_eq!(p[&key], json!(43), "a whole number stays whole");

    let noted = b
        .post(
            &format!("/app/persons/{id}/notes"),
            &[
                ("csrf", &csrf),
                ("content", "Met at the <b>Analytical</b> Society"),
            ],
        )
        .await;
    assert_eq!(noted.status, StatusCode::SEE_OTHER);
    let notes = app.get(&format!("/v1/notes?person_id={id}")).await;
    assert_eq!(notes.data().as_array().unwrap().len(), 1);
    let shown = b.get(&format!("/app/persons/{id}")).await;
    assert!(
        shown
            .html
            .contains("Notes (<span id=\"note-count\">1</span>)")
    );
    assert!(
        !shown.html.contains("<b>Analytical</b>"),
        "a note's text is escaped on the page"
    );
    assert!(shown.html.contains("Analytical"));

    let found = b.get("/app/persons?q=ada+k").await;
    assert!(
        found.html.contains(&format!("href=\"/app/persons/{id}\"")),
        "search finds the person"
    );
    let none = b.get("/app/persons?q=nobody-here").await;
    assert!(none.html.contains("No persons match"));
}

#[tokio::test]
async fn a_name_is_given_whole_or_by_its_parts_as_the_api_takes_it() {
    let app = TestApp::spawn().await;
    let mut b = Browser::new(&app);
    b.sign_in(&app.token).await;
    let csrf = b.csrf().await;
    // Added by its parts alone: the API makes the name of them.
    let added = b
        .post(
            "/app/persons",
            &[
                ("csrf", &csrf),
                ("name", ""),
                ("first_name", "Ada"),
                ("last_name", "Lovelace"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
    let id: i64 = added
        .location()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let p = app.get(&format!("/v1/persons/{id}")).await;
    assert_eq!(p.data()["name"], "Ada Lovelace");
    assert_eq!(p.data()["first_name"], "Ada");
    assert_eq!(p.data()["last_name"], "Lovelace");

    // A changed last name alone makes the name anew; a changed name is split as the API does.
    let form = b.get(&format!("/app/persons/{id}/edit")).await;
    assert!(form.html.contains("value=\"Lovelace\""), "{}", form.html);
    let saved = post_fields(
        &mut b,
        &format!("/app/persons/{id}/edit"),
        &filled(&form, &[("last_name", "Byron")]),
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    assert_eq!(
        app.get(&format!("/v1/persons/{id}")).await.data()["name"],
        "Ada Byron"
    );
    let form = b.get(&format!("/app/persons/{id}/edit")).await;
    let saved = post_fields(
        &mut b,
        &format!("/app/persons/{id}/edit"),
        &filled(&form, &[("name", "Augusta Ada King")]),
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    let p = app.get(&format!("/v1/persons/{id}")).await;
    assert_eq!(p.data()["first_name"], "Augusta");
    assert_eq!(p.data()["last_name"], "Ada King");
    // The name emptied and a part changed: the parts make the name.
    let form = b.get(&format!("/app/persons/{id}/edit")).await;
    let saved = post_fields(
        &mut b,
        &format!("/app/persons/{id}/edit"),
        &filled(&form, &[("name", ""), ("last_name", "King")]),
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    assert_eq!(
        app.get(&format!("/v1/persons/{id}")).await.data()["name"],
        "Augusta King"
    );

    // Neither the name nor its parts: the API's message, by the name.
    let refused = b
        .post(
            "/app/persons",
            &[("csrf", &csrf), ("name", ""), ("first_name", "")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.html.contains("id=\"name-error\""),
        "{}",
        refused.html
    );
}

#[tokio::test]
async fn forms_without_the_session_s_csrf_token_change_nothing() {
    let app = TestApp::spawn().await;
    let person = app.add_person(json!({ "name": "Kept" })).await;
    let id = person["id"].as_i64().unwrap();
    let mut b = Browser::new(&app);
    b.sign_in(&app.token).await;
    for (path, form) in [
        ("/app/persons".to_owned(), vec![("name", "Added")]),
        (format!("/app/persons/{id}/edit"), vec![("name", "Changed")]),
        (
            format!("/app/persons/{id}/notes"),
            vec![("content", "A note")],
        ),
    ] {
        for csrf in [None, Some("0123456789abcdef0123456789abcdef")] {
            let mut fields = form.clone();
            if let Some(c) = csrf {
                fields.push(("csrf", c));
            }
            let page = b.post(&path, &fields).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
            assert!(page.html.contains("Nothing was changed"));
        }
    }
    assert_eq!(app.count_rows("persons").await, 1);
    assert_eq!(app.count_rows("notes").await, 0);
    assert_eq!(
        app.get(&format!("/v1/persons/{id}")).await.data()["name"],
        "Kept"
    );
}

#[tokio::test]
async fn bad_input_is_shown_by_its_field_with_the_api_s_message_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let field = app
        .post(
            "/v1/personFields",
            &json!({ "name": "Birthday", "field_type": "date" }),
        )
        .await;
    let key = field.data()["key"].as_str().unwrap().to_owned();
    let mut b = Browser::new(&app);
    b.sign_in(&app.token).await;
    let csrf = b.csrf().await;

    let nameless = b
        .post("/app/persons", &[("csrf", &csrf), ("name", "")])
        .await;
    assert_eq!(nameless.status, StatusCode::BAD_REQUEST);
    let api = app.post("/v1/persons", &json!({ "name": "" })).await;
    let message = api.body["error"].as_str().unwrap().to_owned();
    let by_name = format!("<p class=\"error\" id=\"name-error\">{message}</p>");
    assert!(
        nameless.html.contains(&by_name),
        "{message} by the name: {}",
        nameless.html
    );

    let bad_date = b
        .post(
            "/app/persons",
            &[("csrf", &csrf), ("name", "Bea"), (&key, "31/02/2020")],
        )
        .await;
    assert_eq!(bad_date.status, StatusCode::BAD_REQUEST);
    let api = app
        .post("/v1/persons", &json!({ "name": "Bea", &key: "31/02/2020" }))
        .await;
    let message = api.body["error"].as_str().unwrap();
    assert!(
        bad_date.html.contains(&format!(
            "id=\"{key}-error\">{}",
            message.replace('\'', "&#39;").replace('"', "&quot;")
        )),
        "{message} by the date field: {}",
        bad_date.html
    );
    assert!(
        bad_date.html.contains("value=\"Bea\""),
        "what was typed is kept"
    );

    let no_org = b
        .post(
            "/app/persons",
            &[("csrf", &csrf), ("name", "Cy"), ("org_id", "999")],
        )
        .await;
    assert_eq!(no_org.status, StatusCode::BAD_REQUEST);
    assert!(
        no_org.html.contains("id=\"org_id-error\""),
        "{}",
        no_org.html
    );

    let stranger = b
        .post(
            "/app/persons",
            &[
                ("csrf", &csrf),
                ("name", "Di"),
                ("owner_id", "not a number"),
            ],
        )
        .await;
    assert_eq!(stranger.status, StatusCode::BAD_REQUEST);
    assert!(
        stranger.html.contains("id=\"owner_id-error\""),
        "{}",
        stranger.html
    );
    assert_eq!(app.count_rows("persons").await, 0, "nothing was stored");
}

#[tokio::test]
async fn another_company_s_person_a_private_one_and_bad_ids_are_404_pages() {
    let app = TestApp::spawn().await;
    let (_, other_admin) = app.other_company("Elsewhere").await;
    let theirs = app
        .post_as(
            &other_admin.api_token,
            "/v1/persons",
            &json!({ "name": "Their Secret" }),
        )
        .await;
    let theirs = theirs.data()["id"].as_i64().unwrap();
    let colleague = app.add_user("Colleague").await;
    let private = app
        .post_as(
            &colleague.api_token,
            "/v1/persons",
            &json!({ "name": "Private Pat", "visible_to": "1" }),
        )
        .await;
    let private = private.data()["id"].as_i64().unwrap();
    let viewer = app.add_user("Viewer").await;

    let mut b = Browser::new(&app);
    b.sign_in(&viewer.api_token).await;
    let csrf = b.csrf().await;
    for id in [
        theirs.to_string(),
        private.to_string(),
        "0".into(),
        "-1".into(),
        "abc".into(),
        "99999999999999999999".into(),
    ] {
        for path in [
            format!("/app/persons/{id}"),
            format!("/app/persons/{id}/edit"),
        ] {
            let page = b.get(&path).await;
            assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
            assert!(page.html.contains("Not found"));
            assert!(!page.html.contains("Their Secret") && !page.html.contains("Private Pat"));
        }
        let edit = b
            .post(
                &format!("/app/persons/{id}/edit"),
                &[("csrf", &csrf), ("name", "Mine now")],
            )
            .await;
        assert_eq!(edit.status, StatusCode::NOT_FOUND);
        let note = b
            .post(
                &format!("/app/persons/{id}/notes"),
                &[("csrf", &csrf), ("content", "x")],
            )
            .await;
        assert_eq!(note.status, StatusCode::NOT_FOUND);
    }
    let list = b.get("/app/persons").await;
    assert!(!list.html.contains("Their Secret") && !list.html.contains("Private Pat"));
    let search = b.get("/app/persons?q=secret").await;
    assert!(!search.html.contains("Their Secret"));
    assert_eq!(app.count_rows("notes").await, 0);
    let name = app.get(&format!("/v1/persons/{private}")).await;
    assert_eq!(name.data()["name"], "Private Pat", "unchanged");
}

#[tokio::test]
async fn saving_the_edit_form_unchanged_keeps_what_the_api_set() {
    let app = TestApp::spawn().await;
    let person = app
        .add_person(json!({
            "name": "Lin",
            "email": [
                { "value": "lin@home.example", "label": "home", "primary": false },
                { "value": "lin@work.example", "label": "work", "primary": true }
            ],
            "phone": [{ "value": "555-0100", "label": "mobile", "primary": true }],
            "marketing_status": "subscribed"
        }))
        .await;
    let id = person["id"].as_i64().unwrap();
    let before = app.get(&format!("/v1/persons/{id}")).await.body;
    let mut b = Browser::new(&app);
    b.sign_in(&app.token).await;
    let form = b.get(&format!("/app/persons/{id}/edit")).await;
    assert!(
        form.html.contains("lin@work.example\nlin@home.example"),
        "the primary email comes first: {}",
        form.html
    );
    // Send the form back as a browser would, every field as shown.
    let csrf = form.csrf();
    let saved = b
        .post(
            &format!("/app/persons/{id}/edit"),
            &[
                ("csrf", &csrf),
                ("name", "Lin"),
                ("email", "lin@work.example\nlin@home.example"),
                ("phone", "555-0100"),
                ("owner_id", &app.admin.id.to_string()),
                ("org_id", ""),
                ("visible_to", "3"),
                ("marketing_status", "subscribed"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    let after = app.get(&format!("/v1/persons/{id}")).await.body;
    for key in [
        "email",
        "phone",
        "marketing_status",
        "update_time",
        "label_ids",
    ] {
        assert_eq!(
            after["data"][key], before["data"][key],
            "{key} is unchanged"
        );
    }
}

#[tokio::test]
async fn a_deal_moves_between_stages_and_activities_are_marked_done_through_the_api_s_rules() {
    let app = TestApp::spawn().await;
    let person = app.add_person(json!({ "name": "Dee" })).await;
    let pid = person["id"].as_i64().unwrap();
    let deal = app
        .post(
            "/api/v2/deals",
            &json!({ "title": "Big sale", "value": 1200, "person_id": pid }),
        )
        .await;
    let deal = deal.data().clone();
    let (deal_id, pipeline) = (
        deal["id"].as_i64().unwrap(),
        deal["pipeline_id"].as_i64().unwrap(),
    );
    let stages = app
        .get(&format!("/api/v2/stages?pipeline_id={pipeline}"))
        .await;
    let stages: Vec<i64> = stages
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    assert_eq!(deal["stage_id"].as_i64().unwrap(), stages[0]);
    let soon = app
        .post(
            "/api/v2/activities",
            &json!({ "subject": "Call Dee", "person_id": pid, "due_date": "2999-01-01" }),
        )
        .await;
    let soon = soon.data()["id"].as_i64().unwrap();
    app.post(
        "/api/v2/activities",
        &json!({ "subject": "Late lunch", "person_id": pid, "due_date": "2001-01-01" }),
    )
    .await;

    let mut b = Browser::new(&app);
    b.sign_in(&app.token).await;
    let csrf = b.csrf().await;
    let board = b.get("/app/deals").await;
    assert_eq!(board.status, StatusCode::OK);
    assert!(
        board.html.contains("Big sale") && board.html.contains("1200 USD"),
        "{}",
        board.html
    );

    let moved = b
        .post(
            &format!("/app/deals/{deal_id}/stage"),
            &[("csrf", &csrf), ("stage_id", &stages[2].to_string())],
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER);
    assert_eq!(
        moved.location(),
        format!("/app/deals?pipeline_id={pipeline}")
    );
    assert_eq!(
        app.get(&format!("/v1/deals/{deal_id}")).await.data()["stage_id"]
            .as_i64()
            .unwrap(),
        stages[2]
    );
    let forged = b
        .post(
            &format!("/app/deals/{deal_id}/stage"),
            &[("csrf", "nope"), ("stage_id", &stages[0].to_string())],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let nowhere = b
        .post(
            &format!("/app/deals/{deal_id}/stage"),
            &[("csrf", &csrf), ("stage_id", "999999")],
        )
        .await;
    assert_eq!(
        nowhere.status,
        StatusCode::BAD_REQUEST,
        "the API's refusal: {}",
        nowhere.html
    );
    assert_eq!(
        app.get(&format!("/v1/deals/{deal_id}")).await.data()["stage_id"]
            .as_i64()
            .unwrap(),
        stages[2]
    );

    let upcoming = b.get("/app/activities").await;
    assert!(upcoming.html.contains("Call Dee") && !upcoming.html.contains("Late lunch"));
    let overdue = b.get("/app/activities?show=overdue").await;
    assert!(overdue.html.contains("Late lunch") && overdue.html.contains("overdue"));
    let done = b
        .post(
            &format!("/app/activities/{soon}/done"),
            &[
                ("csrf", &csrf),
                ("done", "1"),
                ("back", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.location(), "/app/activities", "never sent off the app");
    assert_eq!(
        app.get(&format!("/v1/activities/{soon}")).await.data()["done"],
        true
    );
    assert!(
        b.get("/app/activities?show=done")
            .await
            .html
            .contains("Call Dee")
    );
    let undone = b
        .post(
            &format!("/app/activities/{soon}/done"),
            &[
                ("csrf", &csrf),
                ("done", "0"),
                ("back", &format!("/app/persons/{pid}")),
            ],
        )
        .await;
    assert_eq!(undone.location(), format!("/app/persons/{pid}"));
    assert_eq!(
        app.get(&format!("/v1/activities/{soon}")).await.data()["done"],
        false
    );

    let shown = b.get(&format!("/app/persons/{pid}")).await;
    for text in [
        "Deals (1)",
        "Big sale",
        "Activities (2)",
        "Call Dee",
        "Late lunch",
    ] {
        assert!(shown.html.contains(text), "the person's page shows {text}");
    }
    for path in [
        "/app/activities/999999/done",
        "/app/activities/abc/done",
        "/app/deals/999999/stage",
    ] {
        let page = b
            .post(path, &[("csrf", &csrf), ("done", "1"), ("stage_id", "1")])
            .await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn organizations_are_listed_added_shown_and_changed_through_the_api_s_rules() {
    let app = TestApp::spawn().await;
    let field = app
        .post(
            "/v1/organizationFields",
            &json!({ "name": "Employees", "field_type": "double" }),
        )
        .await;
    let key = field.data()["key"].as_str().unwrap().to_owned();
    let mut b = Browser::new(&app);
    b.sign_in(&app.token).await;
    let csrf = b.csrf().await;

    let nameless = b
        .post("/app/organizations", &[("csrf", &csrf), ("name", "")])
        .await;
    assert_eq!(nameless.status, StatusCode::BAD_REQUEST);
    assert!(
        nameless.html.contains("id=\"name-error\""),
        "{}",
        nameless.html
    );
    let forged = b
        .post("/app/organizations", &[("csrf", "x"), ("name", "Forged")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count_rows("organizations").await, 0);

    let added = b
        .post(
            "/app/organizations",
            &[
                ("csrf", &csrf),
                ("name", "Analytical Engines"),
                ("address", "London"),
                ("label_ids", "5"),
                (&key, "12"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
    let id: i64 = added
        .location()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let api = app.get(&format!("/v1/organizations/{id}")).await;
    assert_eq!(api.data()["name"], "Analytical Engines");
    assert_eq!(api.data()["address"], "London");
    assert_eq!(api.data()[&key], json!(12));
    app.add_person(json!({ "name": "Ada", "org_id": id })).await;

    let shown = b.get(&format!("/app/organizations/{id}")).await;
    for text in [
        "Analytical Engines",
        "London",
        "Employees",
        "People (1)",
        "Ada",
    ] {
        assert!(
            shown.html.contains(text),
            "the organization's page shows {text}"
        );
    }
    let list = b.get("/app/organizations?q=analyt").await;
    assert!(
        list.html
            .contains(&format!("href=\"/app/organizations/{id}\""))
    );

    let form = b.get(&format!("/app/organizations/{id}/edit")).await;
    assert!(form.html.contains("value=\"London\"") && form.html.contains("value=\"12\""));
    let changed = b
        .post(
            &format!("/app/organizations/{id}/edit"),
            &[
                ("csrf", &csrf),
                ("name", "Engines Ltd"),
                ("address", ""),
                ("visible_to", "3"),
                (&key, ""),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.html);
    let api = app.get(&format!("/v1/organizations/{id}")).await;
    assert_eq!(api.data()["name"], "Engines Ltd");
    assert!(
        api.data()["address"].is_null(),
        "the emptied address is cleared"
    );
    assert!(
        api.data()[&key].is_null(),
        "the emptied custom value is cleared"
    );

    let (_, other) = app.other_company("Elsewhere").await;
    let theirs = app
        .post_as(
            &other.api_token,
            "/v1/organizations",
            &json!({ "name": "Their Org" }),
        )
        .await;
    let theirs = theirs.data()["id"].as_i64().unwrap();
    for path in [
        format!("/app/organizations/{theirs}"),
        format!("/app/organizations/{theirs}/edit"),
        "/app/organizations/abc".into(),
        "/app/organizations/0".into(),
    ] {
        let page = b.get(&path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!page.html.contains("Their Org"));
    }
    let stolen = b
        .post(
            &format!("/app/organizations/{theirs}/edit"),
            &[("csrf", &csrf), ("name", "Mine")],
        )
        .await;
    assert_eq!(stolen.status, StatusCode::NOT_FOUND);
    assert!(!b.get("/app/organizations").await.html.contains("Their Org"));
}

#[tokio::test]
async fn admins_manage_fields_and_everyone_sees_the_delivery_log_of_their_webhooks() {
    let app =
        TestApp::spawn_with(|o| o.admin = Some(pipestack::api::admin::Config::default())).await;
    let mut b = Browser::new(&app);
    b.sign_in(&app.token).await;
    let csrf = b.csrf().await;

    let fields = b.get("/app/fields/person").await;
    assert_eq!(fields.status, StatusCode::OK);
    assert!(fields.html.contains("marketing_status") || fields.html.contains("Email"));
    let added = b
        .post(
            "/app/fields/person",
            &[
                ("csrf", &csrf),
                ("name", "Tier"),
                ("field_type", "enum"),
                ("options", "Gold\nSilver"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
    let listed = app.get("/v1/personFields").await;
    let tier = listed
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Tier")
        .expect("the field was added")
        .clone();
    assert_eq!(tier["options"].as_array().unwrap().len(), 2);
    let bad = b
        .post(
            "/app/fields/person",
            &[("csrf", &csrf), ("name", "X"), ("field_type", "nonsense")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.html.contains("field_type"),
        "the API's message names the field: {}",
        bad.html
    );
    // The new field is on the person form, as a select of its options.
    let form = b.get("/app/persons/new").await;
    assert!(form.html.contains(">Gold</option>") && form.html.contains(">Silver</option>"));
    let id = tier["id"].as_i64().unwrap();
    let gone = b
        .post(
            &format!("/app/fields/person/{id}/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER);
    let listed = app.get("/v1/personFields").await;
    assert!(
        !listed
            .data()
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "Tier")
    );
    assert_eq!(
        b.get("/app/fields/nonsense").await.status,
        StatusCode::NOT_FOUND
    );

    // A user who is not an admin: no fields page, no journal, nothing added.
    let user = app.add_user("Member").await;
    let mut m = Browser::new(&app);
    m.sign_in(&user.api_token).await;
    let member_csrf = m.csrf().await;
    assert_eq!(
        m.get("/app/fields/person").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(m.get("/app/requests").await.status, StatusCode::FORBIDDEN);
    let refused = m
        .post(
            "/app/fields/person",
            &[
                ("csrf", &member_csrf),
                ("name", "Sneaky"),
                ("field_type", "varchar"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        !app.get("/v1/personFields")
            .await
            .body
            .to_string()
            .contains("Sneaky")
    );

    // A webhook to a closed port: its failed deliveries show in its log.
    let hook = app
        .post("/v1/webhooks", &json!({ "subscription_url": "http://127.0.0.1:9/hook", "event_action": "create", "event_object": "person" }))
        .await;
    let hook = hook.data()["id"].as_i64().unwrap();
    app.add_person(json!({ "name": "Wendy" })).await;
    let list = b.get("/app/webhooks").await;
    assert!(list.html.contains("create.person") && list.html.contains("http://127.0.0.1:9/hook"));
    let mut log = b.get(&format!("/app/webhooks/{hook}")).await;
    for _ in 0..50 {
        if !log.html.contains("Deliveries (0)") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        log = b.get(&format!("/app/webhooks/{hook}")).await;
    }
    assert!(
        log.html.contains("Deliveries (1)") && log.html.contains("create.person"),
        "{}",
        log.html
    );
    // Another user's webhook is not the member's to see or delete.
    assert_eq!(
        m.get(&format!("/app/webhooks/{hook}")).await.status,
        StatusCode::NOT_FOUND
    );
    let kept = m
        .post(
            &format!("/app/webhooks/{hook}/delete"),
            &[("csrf", &member_csrf)],
        )
        .await;
    assert_eq!(kept.status, StatusCode::NOT_FOUND);
    assert_eq!(
        m.get("/app/webhooks/abc").await.status,
        StatusCode::NOT_FOUND
    );
    let deleted = b
        .post(&format!("/app/webhooks/{hook}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert!(
        app.get("/v1/webhooks")
            .await
            .data()
            .as_array()
            .unwrap()
            .is_empty()
    );

    // The journal shows the API's requests with their answers.
    let journal = b.get("/app/requests").await;
    assert_eq!(journal.status, StatusCode::OK);
    assert!(
        journal.html.contains("POST /v1/webhooks"),
        "{}",
        journal.html
    );
}

#[tokio::test]
async fn without_the_admin_api_the_request_journal_is_a_404_page() {
    let app = TestApp::spawn().await;
    let mut b = Browser::new(&app);
    b.sign_in(&app.token).await;
    let page = b.get("/app/requests").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.html.contains("--admin-api"));
}

#[tokio::test]
async fn a_form_over_the_body_limit_is_a_413_page_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let mut b = Browser::new(&app);
    b.sign_in(&app.token).await;
    let csrf = b.csrf().await;
    let huge = "x".repeat(3 * 1024 * 1024);
    let page = b
        .post("/app/persons", &[("csrf", &csrf), ("name", &huge)])
        .await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.html.contains("Nothing was changed"));
    assert_eq!(app.count_rows("persons").await, 0);
    // A method a page does not take: a page too, not the API's envelope.
    let put = b
        .send(b.client.put(format!("{}/app/persons", app.base)))
        .await;
    assert_eq!(put.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(
        put.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    // A name over the API's own limit is the API's refusal, by the field.
    let long = b
        .post(
            "/app/persons",
            &[("csrf", &csrf), ("name", &"y".repeat(300))],
        )
        .await;
    assert_eq!(long.status, StatusCode::BAD_REQUEST, "{}", long.html);
    assert!(long.html.contains("id=\"name-error\""), "{}", long.html);
}

#[tokio::test]
async fn the_list_narrows_by_name_start_text_phone_digits_owner_and_label_in_its_order() {
    let app = TestApp::spawn().await;
    let other = app.add_user("Other").await;
    for (name, email, phone, labels, owner) in [
        (
            "Émile Zola",
            "emile@example.com",
            "+33 1 23 45 67",
            json!([1]),
            app.admin.id,
        ),
        (
            "Emma Stone",
            "emma@films.example",
            "555 0101",
            json!([2]),
            app.admin.id,
        ),
        (
            "Bob Emmet",
            "bob@example.com",
            "555 0102",
            json!([1, 2]),
            other.user.id,
        ),
        ("Zed", "zed@corp.example", "", json!([]), app.admin.id),
    ] {
        app.add_person(json!({ "name": name, "email": email, "phone": phone, "label_ids": labels, "owner_id": owner }))
            .await;
    }
    let mut b = Browser::new(&app);
    b.sign_in(&app.token).await;
    let names = |html: &str| -> Vec<String> {
        html.split("<td><a href=\"/app/persons/")
            .skip(1)
            .map(|s| s[s.find('>').unwrap() + 1..s.find('<').unwrap()].to_owned())
            .collect()
    };
    // One or two characters: names starting with them, accents and case aside.
    assert_eq!(
        names(&b.get("/app/persons?q=em").await.html),
        ["Émile Zola", "Emma Stone"]
    );
    assert_eq!(
        names(&b.get("/app/persons?q=E").await.html),
        ["Émile Zola", "Emma Stone"]
    );
    // Three or more: anywhere in the name, emails, phones; in the chosen order.
    assert_eq!(
        names(&b.get("/app/persons?q=emm").await.html),
        ["Bob Emmet", "Emma Stone"]
    );
    assert_eq!(
        names(&b.get("/app/persons?q=emm&sort=update_time+DESC").await.html),
        ["Bob Emmet", "Emma Stone"],
        "last changed first"
    );
    assert_eq!(
        names(&b.get("/app/persons?q=emm&sort=name+DESC").await.html),
        ["Bob Emmet", "Emma Stone"],
        "an order the list does not offer falls back to by name"
    );
    assert_eq!(
        names(&b.get("/app/persons?q=example.com").await.html),
        ["Bob Emmet", "Émile Zola"]
    );
    assert_eq!(
        names(&b.get("/app/persons?q=films").await.html),
        ["Emma Stone"]
    );
    assert_eq!(
        names(&b.get("/app/persons?q=555+01").await.html),
        ["Bob Emmet", "Emma Stone"]
    );
    assert_eq!(
        names(&b.get("/app/persons?q=%2B33+1+23").await.html),
        ["Émile Zola"]
    );
    // Owner and label, alone and with a term.
    let owner = format!("/app/persons?owner_id={}", other.user.id);
    assert_eq!(names(&b.get(&owner).await.html), ["Bob Emmet"]);
    assert_eq!(
        names(&b.get("/app/persons?label_id=1").await.html),
        ["Bob Emmet", "Émile Zola"]
    );
    assert_eq!(
        names(&b.get("/app/persons?label_id=2&q=emm").await.html),
        ["Bob Emmet", "Emma Stone"]
    );
    assert_eq!(
        names(&b.get("/app/persons?label_id=3").await.html),
        Vec::<String>::new()
    );
    // Bad parameters are ignored, never an error.
    for path in [
        "/app/persons?label_id=x&owner_id=y&start=-5&sort=%27",
        "/app/persons?q=%22%27%25_*",
    ] {
        assert_eq!(b.get(path).await.status, StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn saving_an_edit_form_sends_only_what_its_user_changed() {
    let app = TestApp::spawn().await;
    let number = app
        .post(
            "/v1/personFields",
            &json!({ "name": "Seats", "field_type": "double" }),
        )
        .await;
    let number = number.data()["key"].as_str().unwrap().to_owned();
    let notes = app
        .post(
            "/v1/personFields",
            &json!({ "name": "Notes", "field_type": "text" }),
        )
        .await;
    let notes = notes.data()["key"].as_str().unwrap().to_owned();
    let person = app
        .add_person(json!({
            "first_name": "Mary Ann", "last_name": "Smith",
            "label_ids": [3, 1], &number: 500, &notes: "line one\nline two"
        }))
        .await;
    let id = person["id"].as_i64().unwrap();
    let before = app.get(&format!("/v1/persons/{id}")).await.body["data"].clone();
    assert_eq!(before["name"], "Mary Ann Smith");

    // Two people open the form; one changes the phone, then the other the name, each from the
    // form as they opened it.
    let mut a = Browser::new(&app);
    a.sign_in(&app.token).await;
    let mut b = Browser::new(&app);
    b.sign_in(&app.token).await;
    let form_a = a.get(&format!("/app/persons/{id}/edit")).await;
    let form_b = b.get(&format!("/app/persons/{id}/edit")).await;
    let send = filled;
    let untouched = send(&form_a, &[]);
    let pairs: Vec<(&str, &str)> = untouched
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let saved = a.post(&format!("/app/persons/{id}/edit"), &pairs).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    let after = app.get(&format!("/v1/persons/{id}")).await.body["data"].clone();
    for key in [
        "first_name",
        "last_name",
        "label_ids",
        "update_time",
        number.as_str(),
        notes.as_str(),
    ] {
        assert_eq!(after[key], before[key], "saving untouched keeps {key}");
    }

    let phone = send(&form_a, &[("phone", "555 0199")]);
    let pairs: Vec<(&str, &str)> = phone
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        a.post(&format!("/app/persons/{id}/edit"), &pairs)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let name = send(&form_b, &[("name", "Mary Ann Jones"), (&number, "12")]);
    let pairs: Vec<(&str, &str)> = name.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        b.post(&format!("/app/persons/{id}/edit"), &pairs)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let after = app.get(&format!("/v1/persons/{id}")).await.body["data"].clone();
    assert_eq!(after["name"], "Mary Ann Jones");
    assert_eq!(
        after["phone"][0]["value"], "555 0199",
        "the other form's change is kept"
    );
    assert_eq!(after[&number], json!(12), "a whole number stays whole");
    assert_eq!(after[&notes], before[&notes]);
    assert_eq!(after["label_ids"], before["label_ids"]);
}

/// What a browser sends from an edit `form` with `changes` made: every field as the form
/// shows it, then the changes.
fn filled(form: &Page, changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = vec![
        ("csrf".into(), form.csrf()),
        ("original".into(), form.hidden("original")),
    ];
    for (k, v) in form_urlencoded::parse(form.hidden("original").as_bytes()) {
        let v = changes
            .iter()
            .find(|(ck, _)| *ck == k)
            .map_or(v.into_owned(), |(_, cv)| (*cv).to_owned());
        fields.push((k.into_owned(), v));
    }
    for (k, v) in changes {
        if !fields.iter().any(|(fk, _)| fk == k) {
            fields.push(((*k).to_owned(), (*v).to_owned()));
        }
    }
    fields
}

/// Posts `fields` as a form.
async fn post_fields(b: &mut Browser, path: &str, fields: &[(String, String)]) -> Page {
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    b.post(path, &pairs).await
}

#[tokio::test]
async fn a_person_s_history_shows_each_change_by_whom_and_where_and_pages() {
    let app = TestApp::spawn().await;
    let rx = crate::receiver::Receiver::start().await;
    let hook = app
        .post(
            "/v1/webhooks",
            &json!({"subscription_url": format!("{}/v2", rx.url), "event_action": "change",
                    "event_object": "person", "version": "2.0"}),
        )
        .await;
    assert_eq!(hook.status, 201, "{}", hook.body);
    let id = app
        .add_person(json!({"name": "Ann Lee", "label_ids": [1]}))
        .await["id"]
        .as_i64()
        .unwrap();
    let mut b = Browser::new(&app);
    b.sign_in(&app.token).await;
    let page = b.get(&format!("/app/persons/{id}")).await;
    assert!(
        page.html.contains("No changes since the person was added."),
        "{}",
        page.html
    );

    // Changed in the app: the changelog and the webhook say so.
    let form = b.get(&format!("/app/persons/{id}/edit")).await;
    let saved = post_fields(
        &mut b,
        &format!("/app/persons/{id}/edit"),
        &filled(&form, &[("name", "Ann Berg")]),
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    let log = app.get(&format!("/v1/persons/{id}/changelog")).await;
    let first = &log.data()[0];
    assert_eq!(first["field_key"], "name", "{}", log.body);
    assert_eq!(first["change_source"], "app");
    let events = rx
        .wait_for("/v2", 1, std::time::Duration::from_secs(10))
        .await;
    assert_eq!(events[0]["meta"]["change_source"], "app", "{:#?}", events);
    // Changed through the API.
    app.put(&format!("/v1/persons/{id}"), &json!({"label_ids": []}))
        .await;
    let events = rx
        .wait_for("/v2", 2, std::time::Duration::from_secs(10))
        .await;
    assert_eq!(events[1]["meta"]["change_source"], "api", "{:#?}", events);

    let page = b.get(&format!("/app/persons/{id}")).await;
    let history = &page.html[page.html.find("id=\"history\"").unwrap()..];
    // Newest first, fields by name, labels by label, the app's change marked.
    let labels_at = history.find("<td>Labels</td>").expect(history);
    let name_at = history.find("<td>Name</td>").expect(history);
    assert!(labels_at < name_at, "{history}");
    assert!(
        history.contains("<td>Ann Lee</td><td>Ann Berg</td>"),
        "{history}"
    );
    assert_eq!(
        history.matches("in the app").count(),
        2,
        "name and last name: {history}"
    );
    assert!(!history.contains("All changes"), "everything is shown");

    // More than the page shows: a link to every change, a hundred a page.
    for i in 0..110 {
        app.put(
            &format!("/v1/persons/{id}"),
            &json!({"name": format!("Name {i:03}")}),
        )
        .await;
    }
    let page = b.get(&format!("/app/persons/{id}")).await;
    assert!(page.html.contains("All changes"), "{}", page.html);
    let all = b.get(&format!("/app/persons/{id}/history")).await;
    assert_eq!(all.status, StatusCode::OK);
    assert!(
        all.html.contains("<td>Name 108</td><td>Name 109</td>"),
        "newest first"
    );
    // Each rename changes the name and its last part (the first its first part too): 224
    // changes, pages of 100.
    let mut rows = Vec::new();
    let mut page = all;
    loop {
        rows.push(page.html.matches("<tr><td>").count());
        let Some(older) = page.html.split("history?before=").nth(1) else {
            break;
        };
        let before: String = older.chars().take_while(char::is_ascii_digit).collect();
        page = b
            .get(&format!("/app/persons/{id}/history?before={before}"))
            .await;
        assert_eq!(page.status, StatusCode::OK);
    }
    assert_eq!(rows, [100, 100, 24]);
    assert!(
        page.html.contains("<td>Ann Lee</td><td>Ann Berg</td>"),
        "the oldest change on the last page: {}",
        page.html
    );

    // Another company's person, and ids that are none, are 404 pages.
    let (_, other) = app.other_company("Elsewhere").await;
    let theirs = app
        .post_as(&other.api_token, "/v1/persons", &json!({"name": "Theirs"}))
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    for path in [
        format!("/app/persons/{theirs}/history"),
        "/app/persons/0/history".into(),
        "/app/persons/abc/history".into(),
    ] {
        let page = b.get(&path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!page.html.contains("Theirs"), "{path}");
    }
}

#[tokio::test]
async fn odd_input_is_a_page_never_a_500() {
    let app = TestApp::spawn().await;
    let person = app.add_person(json!({ "name": "Odd" })).await;
    let pid = person["id"].as_i64().unwrap();
    let act = app
        .post(
            "/api/v2/activities",
            &json!({ "subject": "Call", "person_id": pid }),
        )
        .await;
    let act = act.data()["id"].as_i64().unwrap();
    let mut b = Browser::new(&app);
    b.sign_in(&app.token).await;
    let csrf = b.csrf().await;
    // A NUL typed into no browser: dropped, not stored (PostgreSQL refuses it in text).
    let added = b
        .post("/app/persons", &[("csrf", &csrf), ("name", "Nul\0Byte")])
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
    let id: i64 = added
        .location()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        app.get(&format!("/v1/persons/{id}")).await.data()["name"],
        "NulByte"
    );
    for path in [
        "/app/organizations?q=ab&start=9223372036854775807",
        "/app/persons?q=ab&start=9223372036854775807",
        "/app/persons?q=%00%00%00",
        "/app/activities?show=%00",
        "/app/persons?q=%F0%9F%92%A9%F0%9F%92%A9%F0%9F%92%A9",
    ] {
        let page = b.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.html);
    }
    // A `back` with a line break goes nowhere but the activities.
    let done = b
        .post(
            &format!("/app/activities/{act}/done"),
            &[
                ("csrf", &csrf),
                ("done", "1"),
                ("back", "/app/\nSet-Cookie: x"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.location(), "/app/activities");
}

/// The persons the web list shows for each label, against the labels the API shows.
async fn assert_label_index_matches(app: &TestApp, b: &mut Browser, labels: &[i64], when: &str) {
    let all = app.get("/v1/persons?limit=500").await;
    let all = all.data().as_array().cloned().unwrap_or_default();
    for &label in labels {
        let mut expected: Vec<i64> = all
            .iter()
            .filter(|p| p["label_ids"].as_array().unwrap().contains(&json!(label)))
            .map(|p| p["id"].as_i64().unwrap())
            .collect();
        expected.sort_unstable();
        let page = b.get(&format!("/app/persons?label_id={label}")).await;
        let mut shown: Vec<i64> = page
            .html
            .split("<td><a href=\"/app/persons/")
            .skip(1)
            .map(|s| s[..s.find('"').unwrap()].parse().unwrap())
            .collect();
        shown.sort_unstable();
        assert_eq!(shown, expected, "label {label} {when}");
    }
}

#[tokio::test]
async fn the_label_filter_follows_every_write_of_a_person_s_labels() {
    let app =
        TestApp::spawn_with(|o| o.admin = Some(pipestack::api::admin::Config::default())).await;
    let mut b = Browser::new(&app);
    b.sign_in(&app.token).await;
    let id = |p: Value| p["id"].as_i64().unwrap();
    let labels: Vec<i64> = app
        .labels_of(app.company.id, pipestack::domain::Kind::Person)
        .await
        .iter()
        .map(|l| l.id)
        .collect();
    let l = |i: usize| labels[i];
    let a = id(app
        .add_person(json!({ "name": "A", "label_ids": [l(0)] }))
        .await);
    let bb = id(app
        .add_person(json!({ "name": "B", "label_ids": [l(1), l(2)] }))
        .await);
    let c = id(app.add_person(json!({ "name": "C" })).await);
    assert_label_index_matches(&app, &mut b, &labels, "after adds").await;

    app.put(
        &format!("/v1/persons/{bb}"),
        &json!({ "label_ids": [l(0), l(1)] }),
    )
    .await;
    app.put(&format!("/v1/persons/{a}"), &json!({ "label_ids": [] }))
        .await;
    app.patch(
        &format!("/api/v2/persons/{c}"),
        &json!({ "label_ids": [l(3)] }),
    )
    .await;
    assert_label_index_matches(&app, &mut b, &labels, "after changes").await;

    let snap = app
        .post("/_pipestack/snapshots", &json!({ "name": "labels" }))
        .await;
    assert_eq!(snap.status, StatusCode::CREATED, "{}", snap.body);
    let merged = app
        .put(
            &format!("/v1/persons/{c}/merge"),
            &json!({ "merge_with_id": bb }),
        )
        .await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.body);
    app.delete(&format!("/v1/persons/{a}")).await;
    assert_label_index_matches(&app, &mut b, &labels, "after a merge and a delete").await;

    let restored = app
        .post("/_pipestack/snapshots/labels/restore", &json!({}))
        .await;
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.body);
    assert_label_index_matches(&app, &mut b, &labels, "after a restore").await;
    assert!(
        b.get(&format!("/app/persons?label_id={}", l(3)))
            .await
            .html
            .contains(">C<")
    );

    let reset = app.post("/_pipestack/reset", &json!({})).await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);
    let mut b = Browser::new(&app);
    b.sign_in(&app.token).await;
    assert_label_index_matches(&app, &mut b, &labels, "after a reset").await;
    // A reset makes the labels again, with new ids.
    let fields = app.get("/v1/personFields").await;
    let labels: Vec<i64> = fields
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "label")
        .unwrap()["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect();
    app.add_person(json!({ "name": "D", "label_ids": [labels[1]] }))
        .await;
    assert_label_index_matches(&app, &mut b, &labels, "after an add on the reset company").await;
}

#[tokio::test]
async fn a_search_with_thousands_of_matches_walks_the_list_in_its_order() {
    let app = TestApp::spawn().await;
    let mut csv = String::from("name,email\n");
    for i in 0..2_100 {
        csv.push_str(&format!("Dense {i:04},dense{i}@many.example\n"));
    }
    csv.push_str("Alone Rare,rare@one.example\n");
    import_persons(&app, csv).await;
    let mut b = Browser::new(&app);
    b.sign_in(&app.token).await;
    let names = |html: &str| -> Vec<String> {
        html.split("<td><a href=\"/app/persons/")
            .skip(1)
            .map(|s| s[s.find('>').unwrap() + 1..s.find('<').unwrap()].to_owned())
            .collect()
    };
    let first = b.get("/app/persons?q=dens").await;
    let expected: Vec<String> = (0..50).map(|i| format!("Dense {i:04}")).collect();
    assert_eq!(names(&first.html), expected);
    assert!(first.html.contains("start=50"), "a next page");
    let deep = b.get("/app/persons?q=many.example&start=2050").await;
    let expected: Vec<String> = (2050..2100).map(|i| format!("Dense {i:04}")).collect();
    assert_eq!(names(&deep.html), expected);
    assert!(!deep.html.contains("start=2100"), "no page after the last");
    assert_eq!(
        names(&b.get("/app/persons?q=rare").await.html),
        ["Alone Rare"]
    );
    // Another company's persons and deleted ones are not among the matches.
    let (_, other) = app.other_company("Elsewhere").await;
    for i in 0..3 {
        let body = json!({"name": format!("Rare Other {i}")});
        app.post_as(&other.api_token, "/v1/persons", &body).await;
    }
    let gone = app.add_person_v2(json!({"name": "Rare Gone"})).await["id"]
        .as_i64()
        .unwrap();
    app.delete(&format!("/api/v2/persons/{gone}")).await;
    assert_eq!(
        names(&b.get("/app/persons?q=rare").await.html),
        ["Alone Rare"]
    );
}

#[tokio::test]
async fn the_list_pages_ten_thousand_deep_and_says_how_to_reach_the_rest() {
    let app = TestApp::spawn().await;
    let mut csv = String::from("name\n");
    for i in 0..10_120 {
        csv.push_str(&format!("Many {i:05}\n"));
    }
    import_persons(&app, csv).await;
    let mut b = Browser::new(&app);
    b.sign_in(&app.token).await;
    let before = b.get("/app/persons?start=9950").await;
    assert!(before.html.contains("Many 09950"), "{}", before.html);
    assert!(before.html.contains("start=10000"), "a next page");
    // Deeper than 10,000 is 10,000, which has no next page but a hint.
    for path in ["/app/persons?start=10000", "/app/persons?start=999999999"] {
        let last = b.get(path).await;
        assert_eq!(last.status, 200);
        assert!(last.html.contains("Many 10000"), "{}", last.html);
        assert!(!last.html.contains("Many 10050"), "one page");
        assert!(!last.html.contains("start=10050"), "no next page");
        assert!(
            last.html.contains("search, filter or sort the other way"),
            "{}",
            last.html
        );
    }
    // Newest first, the last ones are on the first page.
    let desc = b.get("/app/persons?sort=add_time+DESC").await;
    assert!(desc.html.contains("Many 10119"), "{}", desc.html);
}

#[tokio::test]
async fn long_stages_activities_and_an_organization_s_people_page_rather_than_stop() {
    let app = TestApp::spawn().await;
    let first = app
        .post("/api/v2/deals", &json!({"title": "Deal 000"}))
        .await;
    let pipeline = first.data()["pipeline_id"].as_i64().unwrap();
    let stages = app
        .get(&format!("/api/v2/stages?pipeline_id={pipeline}"))
        .await;
    let stages: Vec<i64> = stages
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    for i in 1..105 {
        let body = json!({"title": format!("Deal {i:03}"), "stage_id": stages[0]});
        app.post("/api/v2/deals", &body).await;
    }
    app.post(
        "/api/v2/deals",
        &json!({"title": "Later deal", "stage_id": stages[1]}),
    )
    .await;
    for i in 0..103 {
        let body = json!({"subject": format!("Call {i:03}"), "due_date": format!("2999-01-{:02}", 1 + i / 10)});
        app.post("/api/v2/activities", &body).await;
    }
    let org = app.add_org("Big Co").await;
    for i in 0..501 {
        app.add_person(json!({"name": format!("Staff {i:03}"), "org_id": org}))
            .await;
    }
    app.add_person(json!({"name": "Outsider"})).await;

    let mut b = Browser::new(&app);
    b.sign_in(&app.token).await;
    // Each stage pages by itself; the other stages stay on their first page.
    let board = b.get("/app/deals").await;
    assert!(board.html.contains("Open deals 1–100"), "{}", board.html);
    assert!(board.html.contains("Deal 099") && !board.html.contains("Deal 100"));
    assert!(board.html.contains("Later deal"));
    let next = format!(
        "/app/deals?pipeline_id={pipeline}&amp;stage_id={}&amp;start=100",
        stages[0]
    );
    assert!(board.html.contains(&next), "{}", board.html);
    let rest = b.get(&next.replace("&amp;", "&")).await;
    assert!(rest.html.contains("Open deals 101–105"), "{}", rest.html);
    assert!(rest.html.contains("Deal 104") && !rest.html.contains("Deal 099"));
    assert!(rest.html.contains("Later deal"), "the next stage as it was");

    // A hundred activities a page.
    let list = b.get("/app/activities").await;
    assert!(list.html.contains("Call 099") && !list.html.contains("Call 100"));
    assert!(list.html.contains("show=upcoming&amp;start=100"));
    let more = b.get("/app/activities?show=upcoming&start=100").await;
    assert!(more.html.contains("Call 102") && !more.html.contains("Call 099"));

    // An organization shows its first 500 people and links to all of them.
    let page = b.get(&format!("/app/organizations/{org}")).await;
    assert!(page.html.contains("People (500+)"), "{}", page.html);
    let all = format!("/app/persons?org_id={org}");
    assert!(page.html.contains(&all), "{}", page.html);
    let people = b.get(&all).await;
    assert!(people.html.contains("Staff 000") && !people.html.contains("Outsider"));
    let last = b.get(&format!("{all}&start=500")).await;
    assert!(last.html.contains("Staff 500"), "{}", last.html);
    assert!(
        last.html
            .contains(&format!("name=\"org_id\" value=\"{org}\""))
    );
}

#[tokio::test]
async fn deals_and_activities_are_added_in_the_app_through_the_api_s_rules() {
    let app = TestApp::spawn().await;
    let pid = app.add_person(json!({"name": "Dee"})).await["id"]
        .as_i64()
        .unwrap();
    let (_, other) = app.other_company("Elsewhere").await;
    let theirs = app
        .post_as(&other.api_token, "/v1/persons", &json!({"name": "Theirs"}))
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    let mut b = Browser::new(&app);
    b.sign_in(&app.token).await;
    let csrf = b.csrf().await;
    let board = b.get("/app/deals").await;
    assert!(board.html.contains("Add a deal"), "{}", board.html);
    let form = b.get("/app/deals/new").await;
    assert_eq!(form.status, StatusCode::OK);
    let stages = app.get("/api/v2/stages").await;
    let second = stages.data()[1].clone();
    let (stage, pipeline) = (
        second["id"].as_i64().unwrap(),
        second["pipeline_id"].as_i64().unwrap(),
    );
    assert!(form.html.contains(&format!("<option value=\"{stage}\"")));
    let stage_s = stage.to_string();
    let pid_s = pid.to_string();
    let added = b
        .post(
            "/app/deals",
            &[
                ("csrf", &csrf),
                ("pipeline_id", &pipeline.to_string()),
                ("title", "Big sale"),
                ("value", "1500.5"),
                ("currency", "EUR"),
                ("stage_id", &stage_s),
                ("person_id", &pid_s),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
    assert_eq!(
        added.location(),
        format!("/app/deals?pipeline_id={pipeline}#stage-{stage}")
    );
    let deals = app.get("/api/v2/deals").await;
    let deal = &deals.data()[0];
    assert_eq!(deal["title"], "Big sale");
    assert_eq!(deal["value"], 1500.5);
    assert_eq!(deal["currency"], "EUR");
    assert_eq!(deal["stage_id"], stage);
    assert_eq!(deal["person_id"], pid);
    // Refused: by the field the API names; nothing added.
    let theirs_s = theirs.to_string();
    for (form, field) in [
        (vec![("title", "")], "title"),
        (
            vec![("title", "X"), ("person_id", theirs_s.as_str())],
            "person_id",
        ),
        (vec![("title", "X"), ("value", "lots")], "value"),
    ] {
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend(form);
        let refused = b.post("/app/deals", &fields).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{field}");
        assert!(
            refused.html.contains(&format!("id=\"{field}-error\"")),
            "{field}: {}",
            refused.html
        );
    }
    let forged = b.post("/app/deals", &[("csrf", "x"), ("title", "Y")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/api/v2/deals")
            .await
            .data()
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // A deal added to another pipeline's form goes to that pipeline (its first stage when
    // none is chosen).
    let renewals = app
        .post("/api/v2/pipelines", &json!({"name": "Renewals"}))
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    let call = app
        .post(
            "/api/v2/stages",
            &json!({"name": "Call", "pipeline_id": renewals}),
        )
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    let form = b
        .get(&format!("/app/deals/new?pipeline_id={renewals}"))
        .await;
    assert!(
        form.html.contains("Add a deal to Renewals"),
        "{}",
        form.html
    );
    let added = b
        .post(
            "/app/deals",
            &[
                ("csrf", &csrf),
                ("pipeline_id", &renewals.to_string()),
                ("title", "Renewal"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
    assert_eq!(
        added.location(),
        format!("/app/deals?pipeline_id={renewals}#stage-{call}")
    );

    // An activity, back on its person's page.
    let list = b.get("/app/activities").await;
    assert!(list.html.contains("Add an activity"));
    let form = b.get("/app/activities/new").await;
    assert!(
        form.html.contains("<option value=\"meeting\""),
        "{}",
        form.html
    );
    let added = b
        .post(
            "/app/activities",
            &[
                ("csrf", &csrf),
                ("subject", "Call Dee"),
                ("type", "meeting"),
                ("due_date", "2999-01-02"),
                ("due_time", "09:30"),
                ("person_id", &pid_s),
                ("note", "About the sale"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
    assert_eq!(added.location(), format!("/app/persons/{pid}#activities"));
    let activities = app.get("/api/v2/activities").await;
    let a = &activities.data()[0];
    assert_eq!(a["subject"], "Call Dee");
    assert_eq!(a["type"], "meeting");
    assert_eq!(a["due_date"], "2999-01-02");
    assert_eq!(a["due_time"], "09:30");
    assert_eq!(a["person_id"], pid);
    for (form, field) in [
        (vec![("due_date", "soon")], "due_date"),
        (vec![("type", "nonsense")], "type"),
        (vec![("person_id", theirs_s.as_str())], "person_id"),
    ] {
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend(form);
        let refused = b.post("/app/activities", &fields).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{field}");
        assert!(
            refused.html.contains(&format!("id=\"{field}-error\"")),
            "{field}: {}",
            refused.html
        );
    }
    assert_eq!(
        app.get("/api/v2/activities")
            .await
            .data()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn what_is_added_in_the_app_is_sent_to_webhooks_as_made_in_the_app() {
    let app = TestApp::spawn().await;
    let rx = crate::receiver::Receiver::start().await;
    let hook = app
        .post(
            "/v1/webhooks",
            &json!({"subscription_url": format!("{}/v2", rx.url), "event_action": "create",
                    "event_object": "*", "version": "2.0"}),
        )
        .await;
    assert_eq!(hook.status, 201, "{}", hook.body);
    let mut b = Browser::new(&app);
    b.sign_in(&app.token).await;
    let csrf = b.csrf().await;
    let added = b
        .post("/app/persons", &[("csrf", &csrf), ("name", "Ann")])
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
    let pid = added.location().rsplit('/').next().unwrap().to_owned();
    for (path, fields) in [
        ("/app/organizations".to_owned(), vec![("name", "Acme")]),
        (
            format!("/app/persons/{pid}/notes"),
            vec![("content", "Hello")],
        ),
        ("/app/deals".to_owned(), vec![("title", "Sale")]),
        ("/app/activities".to_owned(), vec![("subject", "Call")]),
    ] {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend(fields);
        let r = b.post(&path, &form).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}: {}", r.html);
    }
    app.add_person_v2(json!({"name": "Through the API"})).await;
    let events = rx
        .wait_for("/v2", 6, std::time::Duration::from_secs(10))
        .await;
    let sources: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            (
                e["meta"]["entity"].as_str().unwrap().to_owned(),
                e["meta"]["change_source"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut expected: Vec<(String, String)> = [
        ("person", "app"),
        ("organization", "app"),
        ("note", "app"),
        ("deal", "app"),
        ("activity", "app"),
        ("person", "api"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    let mut got = sources.clone();
    got.sort();
    expected.sort();
    assert_eq!(got, expected, "{events:#?}");
}

/// Imports `csv` (a header and rows) as the test user's persons.
async fn import_persons(app: &TestApp, csv: String) {
    use pipestack::import::{Format, Items, Options, import};
    let session = app
        .store
        .session_by_digest(&pipestack::domain::user::token_digest(&app.token))
        .await
        .unwrap()
        .unwrap();
    let options = Options {
        format: Format::Csv,
        items: Items::Persons,
        batch_size: 500,
        create_organizations: false,
    };
    let summary = import(
        &app.store,
        &session,
        Box::new(std::io::Cursor::new(csv)),
        options,
        &|_| {},
    )
    .await
    .unwrap();
    assert!(summary.rejected.is_empty(), "{:?}", summary.rejected);
}

#[tokio::test]
async fn a_refused_save_shows_the_form_again_with_what_it_first_showed_as_its_original() {
    let app = TestApp::spawn().await;
    let id = app.add_person(json!({ "name": "Before" })).await["id"]
        .as_i64()
        .unwrap();
    let mut b = Browser::new(&app);
    b.sign_in(&app.token).await;
    let csrf = b.csrf().await;
    // Without an `original` (a scripted client), refused for its organization.
    let refused = b
        .post(
            &format!("/app/persons/{id}/edit"),
            &[("csrf", &csrf), ("name", "After"), ("org_id", "999")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.html.contains("value=\"After\""),
        "what was typed is kept"
    );
    let original = refused.hidden("original");
    assert!(
        original.contains("name=Before"),
        "the original is the person as stored: {original}"
    );
    // Fixed and saved from that page: the name typed the first time is sent.
    let saved = b
        .post(
            &format!("/app/persons/{id}/edit"),
            &[
                ("csrf", &csrf),
                ("original", &original),
                ("name", "After"),
                ("org_id", ""),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    assert_eq!(
        app.get(&format!("/v1/persons/{id}")).await.data()["name"],
        "After"
    );
}

#[tokio::test]
async fn a_money_field_keeps_its_currency_and_takes_a_new_one() {
    let app = TestApp::spawn().await;
    let field = app
        .post(
            "/v1/personFields",
            &json!({ "name": "Budget", "field_type": "monetary" }),
        )
        .await;
    let key = field.data()["key"].as_str().unwrap().to_owned();
    let currency = format!("{key}_currency");
    let person = app
        .add_person(json!({ "name": "Moneyed", &key: 100, &currency: "EUR" }))
        .await;
    let id = person["id"].as_i64().unwrap();
    let mut b = Browser::new(&app);
    b.sign_in(&app.token).await;
    let form = b.get(&format!("/app/persons/{id}/edit")).await;
    assert!(form.html.contains("value=\"EUR\""), "{}", form.html);
    let original = form.hidden("original");
    let csrf = form.csrf();
    let save = |amount: &'static str, code: &'static str| {
        vec![
            ("csrf".to_owned(), csrf.clone()),
            ("original".to_owned(), original.clone()),
            ("name".to_owned(), "Moneyed".to_owned()),
            (key.clone(), amount.to_owned()),
            (currency.clone(), code.to_owned()),
        ]
    };
    let fields = save("150", "EUR");
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        b.post(&format!("/app/persons/{id}/edit"), &pairs)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let p = app.get(&format!("/v1/persons/{id}")).await;
    assert_eq!(p.data()[&key], json!(150));
    assert_eq!(
        p.data()[&currency],
        "EUR",
        "a new amount keeps its currency"
    );
    let fields = save("150", "GBP");
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        b.post(&format!("/app/persons/{id}/edit"), &pairs)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let p = app.get(&format!("/v1/persons/{id}")).await;
    assert_eq!(p.data()[&currency], "GBP");
    let fields = save("150", "pounds");
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let refused = b.post(&format!("/app/persons/{id}/edit"), &pairs).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.html.contains("three-letter code"),
        "{}",
        refused.html
    );
}

#[tokio::test]
async fn two_saves_released_together_each_keep_their_change() {
    let app = TestApp::spawn().await;
    let id = app.add_person(json!({ "name": "Racer 0" })).await["id"]
        .as_i64()
        .unwrap();
    let mut a = Browser::new(&app);
    a.sign_in(&app.token).await;
    let mut b = Browser::new(&app);
    b.sign_in(&app.token).await;
    let path = format!("/app/persons/{id}/edit");
    for round in 1..=20 {
        // Both open the form, then save different fields at the same moment.
        let (fa, fb) = (a.get(&path).await, b.get(&path).await);
        let body = |form: &Page, name: &str, value: &str| {
            form_urlencoded::Serializer::new(String::new())
                .append_pair("csrf", &form.csrf())
                .append_pair("original", &form.hidden("original"))
                .extend_pairs(
                    form_urlencoded::parse(form.hidden("original").as_bytes()).map(|(k, v)| {
                        let v = if k == name {
                            value.to_owned()
                        } else {
                            v.into_owned()
                        };
                        (k.into_owned(), v)
                    }),
                )
                .finish()
        };
        let name = format!("Racer {round}");
        let phone = format!("555 {round:04}");
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
        let send = |browser: &Browser, body: String| {
            let req = browser
                .client
                .post(format!("{}{path}", app.base))
                .header("cookie", &browser.cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body);
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                req.send().await.unwrap().status()
            })
        };
        let ta = send(&a, body(&fa, "name", &name));
        let tb = send(&b, body(&fb, "phone", &phone));
        assert_eq!(ta.await.unwrap(), StatusCode::SEE_OTHER, "round {round}");
        assert_eq!(tb.await.unwrap(), StatusCode::SEE_OTHER, "round {round}");
        let p = app.get(&format!("/v1/persons/{id}")).await;
        assert_eq!(
            p.data()["name"],
            name.as_str(),
            "round {round}: the name is kept"
        );
        assert_eq!(
            p.data()["phone"][0]["value"],
            phone.as_str(),
            "round {round}: the phone is kept"
        );
    }
}
