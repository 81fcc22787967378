//! The contract: `/openapi.json` lists exactly the routes the server has (each described),
//! every documented route answers, every other method on it is a 405, and `/docs` is a
//! self-contained page.

use std::collections::BTreeSet;

use pipestack::api::{openapi, routes};
use reqwest::Method;
use serde_json::Value;

use crate::helpers::TestApp;

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_ascii_uppercase(), path.clone()))
        })
        .collect()
}

#[tokio::test]
async fn the_document_lists_every_route_and_only_routes() {
    let app = TestApp::spawn().await;
    let r = app.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(r.status, 200);
    let doc = r.body;
    assert_eq!(doc, openapi::document(), "served = generated");
    assert_eq!(doc["openapi"], "3.1.0");
    let routes: BTreeSet<(String, String)> = routes::list()
        .into_iter()
        .map(|(m, p)| (m.to_string(), p))
        .collect();
    let in_doc = documented(&doc);
    let missing: Vec<_> = routes.difference(&in_doc).collect();
    let extra: Vec<_> = in_doc.difference(&routes).collect();
    assert!(
        missing.is_empty(),
        "routes missing from the document: {missing:?}"
    );
    assert!(extra.is_empty(), "documented but not routed: {extra:?}");
    assert!(
        openapi::undescribed().is_empty(),
        "routes without a description: {:?}",
        openapi::undescribed()
    );
    // Operation ids are unique, and each API operation carries Pipedrive's token cost.
    let mut ids = BTreeSet::new();
    for e in routes::table() {
        for prefix in e.dialect.prefixes() {
            let path = format!("{prefix}{}", e.path);
            let op = &doc["paths"][&path][e.method.as_str().to_ascii_lowercase()];
            assert!(ids.insert(op["operationId"].as_str().unwrap().to_owned()));
            if e.dialect != routes::Dialect::Service {
                assert_eq!(op["x-token-cost"], e.cost, "{path}");
                assert!(op["responses"]["401"].is_object(), "{path}");
            }
        }
    }
}

/// A documented path with its placeholders filled in.
fn concrete(path: &str) -> String {
    path.replace("{id}", "1")
        .replace("{follower_id}", "1")
        .replace("{field_code}", "name")
}

#[tokio::test]
async fn every_documented_route_answers_and_other_methods_are_405() {
    let app = TestApp::spawn().await;
    let doc = openapi::document();
    let in_doc = documented(&doc);
    let paths: BTreeSet<&String> = in_doc.iter().map(|(_, p)| p).collect();
    for path in paths {
        let url = concrete(path);
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            let m = Method::from_bytes(method.as_bytes()).unwrap();
            let res = reqwest::Client::new()
                .request(m, format!("{}{url}", app.base))
                .header("x-api-token", &app.token)
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let text = res.text().await.unwrap();
            if in_doc.contains(&(method.to_owned(), path.clone())) {
                assert!(
                    status != 405 && !text.contains("Unknown route"),
                    "{method} {url} is documented but not served: {status} {text}"
                );
                assert!(status < 500, "{method} {url}: {status} {text}");
            } else {
                assert_eq!(status, 405, "{method} {url} is not documented: {text}");
                let body: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(body["success"], false);
            }
        }
    }
    let r = app.get("/api/v2/nothing-here").await;
    r.assert_error(404, "Unknown route");
}

#[tokio::test]
async fn the_docs_page_is_self_contained() {
    let app = TestApp::spawn().await;
    let res = reqwest::get(format!("{}/docs", app.base)).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = res.text().await.unwrap();
    assert!(html.contains("fetch(\"/openapi.json\")"));
    for outside in [
        "src=\"http",
        "href=\"http",
        "src=\"//",
        "href=\"//",
        "@import",
        "url(http",
    ] {
        assert!(!html.contains(outside), "the page loads {outside}…");
    }
}

/// The README's compatibility table names every route the router has, with its methods, and
/// no route it does not have.
#[test]
fn readme_lists_every_route() {
    let readme = include_str!("../../README.md");
    let rows: Vec<(String, String, String)> = readme
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            match cells.as_slice() {
                ["", dialect @ ("v1" | "v2"), methods, route, ..] => Some((
                    dialect.to_string(),
                    methods.replace('`', ""),
                    route.trim_matches('`').to_owned(),
                )),
                _ => None,
            }
        })
        .collect();
    let mut listed = BTreeSet::new();
    for e in routes::table() {
        let dialect = match e.dialect {
            routes::Dialect::V1 => "v1",
            routes::Dialect::V2 => "v2",
            routes::Dialect::Service => continue,
        };
        let row = rows
            .iter()
            .find(|(d, _, r)| d == dialect && r == e.path)
            .unwrap_or_else(|| panic!("README lists no {dialect} {}", e.path));
        assert!(
            row.1.split_whitespace().any(|m| m == e.method.as_str()),
            "README's {dialect} {} row lacks {}",
            e.path,
            e.method
        );
        listed.insert((dialect.to_owned(), e.path.to_owned()));
    }
    for (d, _, r) in &rows {
        assert!(
            listed.contains(&(d.clone(), r.clone())),
            "README lists {d} {r}, which the router does not have"
        );
    }
}
