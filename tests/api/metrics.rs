//! `GET /metrics`: Prometheus' text format, counting requests by route pattern and status.

use reqwest::Method;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn metrics_count_requests_by_route_and_status_and_commit_batches() {
    let app = TestApp::spawn().await;
    let id = app.add_person_v2(json!({"name": "Counted"})).await["id"]
        .as_i64()
        .unwrap();
    app.get(&format!("/api/v2/persons/{id}")).await;
    app.get(&format!("/api/v2/persons/{}", id + 1000)).await;
    app.get("/nowhere").await;
    let r = reqwest::get(format!("{}/metrics", app.base)).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = r.text().await.unwrap();
    for line in [
        "pipestack_http_requests_total{method=\"POST\",route=\"/api/v2/persons\",status=\"200\"} 1",
        "pipestack_http_requests_total{method=\"GET\",route=\"/api/v2/persons/{id}\",status=\"200\"} 1",
        "pipestack_http_requests_total{method=\"GET\",route=\"/api/v2/persons/{id}\",status=\"404\"} 1",
        "pipestack_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1",
        "pipestack_http_request_duration_seconds_count{method=\"GET\",route=\"/api/v2/persons/{id}\"} 2",
        "# TYPE pipestack_http_request_duration_seconds histogram",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    assert!(text.contains(
        "pipestack_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v2/persons/{id}\",le=\"+Inf\"} 2"
    ));
    // No person data, no token.
    assert!(!text.contains("Counted") && !text.contains(&app.token));
    if app.db_url.starts_with("sqlite") {
        // The person, the setup writes: at least one committed batch.
        let count = text
            .lines()
            .find_map(|l| l.strip_prefix("pipestack_store_commit_batch_size_count "))
            .expect("the group commit's histogram");
        assert!(count.parse::<u64>().unwrap() >= 1, "{text}");
    }
    let r = app.call(Method::POST, "/metrics", None, None).await;
    r.assert_error(405, "Method not allowed");
}
