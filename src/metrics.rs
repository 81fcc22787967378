//! Counters and histograms for `GET /metrics`, in Prometheus' text format (0.0.4): requests by
//! route and status, request latency by route, and the store's own (the SQLite group commit's
//! batch sizes). Lock-free on the hot path but for one short map lookup per request.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// A cumulative histogram over fixed upper bounds.
pub struct Histogram {
    bounds: &'static [f64],
    counts: Vec<AtomicU64>,
    /// The sum of observations, in millionths.
    sum_micros: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            sum_micros: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, value: f64) {
        if let Some(i) = self.bounds.iter().position(|b| value <= *b) {
            self.counts[i].fetch_add(1, Ordering::Relaxed);
        }
        self.sum_micros
            .fetch_add((value * 1e6) as u64, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Writes the `_bucket`, `_sum` and `_count` lines; `labels` is `""` or `k="v",…`.
    pub fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (bound, count) in self.bounds.iter().zip(&self.counts) {
            cumulative += count.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}"
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum{braces} {sum}");
        let _ = writeln!(out, "{name}_count{braces} {count}");
    }
}

const LATENCY_BOUNDS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Powers of two, for the group commit's writes per transaction.
pub const BATCH_BOUNDS: &[f64] = &[
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0,
];

/// The HTTP side: per (method, route) latency and per (method, route, status) counts. `route`
/// is the matched route pattern (`/api/v2/persons/{id}`), or `unmatched`, never a raw path, so
/// the number of series stays bounded.
#[derive(Default)]
pub struct HttpMetrics {
    /// By method, then route.
    routes: Mutex<BTreeMap<String, BTreeMap<String, RouteStats>>>,
}

struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    latency: Histogram,
}

impl HttpMetrics {
    pub fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut methods = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        if !methods.contains_key(method) {
            methods.insert(method.to_owned(), BTreeMap::new());
        }
        let Some(routes) = methods.get_mut(method) else {
            return;
        };
        if !routes.contains_key(route) {
            routes.insert(
                route.to_owned(),
                RouteStats {
                    by_status: BTreeMap::new(),
                    latency: Histogram::new(LATENCY_BOUNDS),
                },
            );
        }
        if let Some(stats) = routes.get_mut(route) {
            *stats.by_status.entry(status).or_default() += 1;
            stats.latency.observe(seconds);
        }
    }

    pub fn render(&self, out: &mut String) {
        let methods = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let routes = || {
            methods
                .iter()
                .flat_map(|(m, routes)| routes.iter().map(move |(r, s)| (m, r, s)))
        };
        out.push_str("# HELP pipestack_http_requests_total HTTP requests answered, by method, route and status.\n");
        out.push_str("# TYPE pipestack_http_requests_total counter\n");
        for (method, route, stats) in routes() {
            for (status, n) in &stats.by_status {
                let _ = writeln!(
                    out,
                    "pipestack_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        out.push_str("# HELP pipestack_http_request_duration_seconds Time from request to response head, by method and route.\n");
        out.push_str("# TYPE pipestack_http_request_duration_seconds histogram\n");
        for (method, route, stats) in routes() {
            stats.latency.render(
                out,
                "pipestack_http_request_duration_seconds",
                &format!("method=\"{method}\",route=\"{}\"", escape(route)),
            );
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative() {
        let h = Histogram::new(&[1.0, 2.0]);
        h.observe(0.5);
        h.observe(1.5);
        h.observe(3.0);
        let mut out = String::new();
        h.render(&mut out, "x", "a=\"b\"");
        assert!(out.contains("x_bucket{a=\"b\",le=\"1\"} 1\n"), "{out}");
        assert!(out.contains("x_bucket{a=\"b\",le=\"2\"} 2\n"), "{out}");
        assert!(out.contains("x_bucket{a=\"b\",le=\"+Inf\"} 3\n"), "{out}");
        assert!(out.contains("x_sum{a=\"b\"} 5\n"), "{out}");
        assert!(out.contains("x_count{a=\"b\"} 3\n"), "{out}");
    }
}
