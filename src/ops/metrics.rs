//! Prometheus text metrics, kept with atomics so recording costs no lock on the
//! hot path (a read lock finds the route's counters; a write lock only the
//! first time a route is seen).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
struct RouteStats {
    /// Requests by status class 1xx..5xx (index 0..5).
    by_class: [AtomicU64; 5],
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

#[derive(Default)]
pub struct Metrics {
    routes: RwLock<BTreeMap<(String, String), Arc<RouteStats>>>,
}

/// Values read at scrape time from elsewhere (pool, queues).
pub struct Gauges {
    pub pool_size: u32,
    pub pool_idle: usize,
    pub letters_queued: Option<i64>,
    pub outbox_queued: Option<i64>,
    pub webhooks_queued: Option<i64>,
    pub status_cache_entries: usize,
}

impl Metrics {
    pub fn record(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let key = (method.to_string(), route.to_string());
        let stats = {
            let read = self.routes.read().unwrap_or_else(|p| p.into_inner());
            read.get(&key).cloned()
        };
        let stats = match stats {
            Some(s) => s,
            None => {
                let mut write = self.routes.write().unwrap_or_else(|p| p.into_inner());
                write.entry(key).or_default().clone()
            }
        };
        let class = usize::from((status / 100).clamp(1, 5)) - 1;
        stats.by_class[class].fetch_add(1, Ordering::Relaxed);
        let secs = elapsed.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                stats.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        stats.count.fetch_add(1, Ordering::Relaxed);
        stats
            .sum_micros
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }

    pub fn render(&self, g: &Gauges) -> String {
        let mut out = String::new();
        let routes = self.routes.read().unwrap_or_else(|p| p.into_inner());
        out.push_str(
            "# HELP casegate_http_requests_total HTTP requests by route and status class.\n",
        );
        out.push_str("# TYPE casegate_http_requests_total counter\n");
        for ((method, route), s) in routes.iter() {
            for (i, c) in s.by_class.iter().enumerate() {
                let n = c.load(Ordering::Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "casegate_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{}xx\"}} {n}",
                        i + 1
                    );
                }
            }
        }
        out.push_str("# HELP casegate_http_request_duration_seconds Request latency.\n");
        out.push_str("# TYPE casegate_http_request_duration_seconds histogram\n");
        for ((method, route), s) in routes.iter() {
            let labels = format!("method=\"{method}\",route=\"{route}\"");
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "casegate_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}",
                    s.buckets[i].load(Ordering::Relaxed)
                );
            }
            let count = s.count.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "casegate_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "casegate_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "casegate_http_request_duration_seconds_count{{{labels}}} {count}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP casegate_db_pool_connections Open database connections.\n# TYPE casegate_db_pool_connections gauge\ncasegate_db_pool_connections {}",
            g.pool_size
        );
        let _ = writeln!(
            out,
            "# HELP casegate_db_pool_idle Idle database connections.\n# TYPE casegate_db_pool_idle gauge\ncasegate_db_pool_idle {}",
            g.pool_idle
        );
        if let Some(q) = g.letters_queued {
            let _ = writeln!(
                out,
                "# HELP casegate_letters_queued Letters waiting in the mail-room queue.\n# TYPE casegate_letters_queued gauge\ncasegate_letters_queued {q}"
            );
        }
        if let Some(q) = g.outbox_queued {
            let _ = writeln!(
                out,
                "# HELP casegate_outbox_queued Emails waiting to be sent.\n# TYPE casegate_outbox_queued gauge\ncasegate_outbox_queued {q}"
            );
        }
        if let Some(q) = g.webhooks_queued {
            let _ = writeln!(
                out,
                "# HELP casegate_webhooks_queued Webhook deliveries neither delivered nor given up.\n# TYPE casegate_webhooks_queued gauge\ncasegate_webhooks_queued {q}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP casegate_status_cache_entries Case statuses held by this instance's cache.\n# TYPE casegate_status_cache_entries gauge\ncasegate_status_cache_entries {}",
            g.status_cache_entries
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_renders() {
        let m = Metrics::default();
        m.record("GET", "/status", 200, Duration::from_micros(700));
        m.record("GET", "/status", 404, Duration::from_millis(20));
        let text = m.render(&Gauges {
            pool_size: 3,
            pool_idle: 2,
            letters_queued: Some(5),
            outbox_queued: Some(2),
            webhooks_queued: Some(3),
            status_cache_entries: 1,
        });
        assert!(text.contains(
            "casegate_http_requests_total{method=\"GET\",route=\"/status\",status=\"2xx\"} 1"
        ));
        assert!(text.contains("status=\"4xx\"} 1"));
        assert!(text.contains("le=\"0.001\"} 1"));
        assert!(text.contains("le=\"+Inf\"} 2"));
        assert!(text.contains("casegate_letters_queued 5"));
        assert!(text.contains("casegate_webhooks_queued 3"));
    }
}
