//! Request metrics in the Prometheus text format (version 0.0.4): requests
//! by protocol (the module's name) and status, request duration histograms
//! by protocol, open connections, requests in flight and requests served
//! on the native HTTP/1 path (ActiveSync). One registry per
//! server, no process-global state.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Upper bounds of the duration buckets, in seconds.
pub const BUCKETS: [f64; 13] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Debug, Default)]
struct Requests {
    by_status: BTreeMap<(&'static str, u16), u64>,
    durations: BTreeMap<&'static str, Histogram>,
}

/// Writes a module's own metrics into the exposition.
pub type MetricsSource = Box<dyn Fn(&mut String) + Send + Sync>;

/// The server's metrics.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<Requests>,
    connections_open: AtomicI64,
    connections_total: AtomicU64,
    in_flight: AtomicI64,
    native: AtomicU64,
    /// The modules' metrics, written after the server's.
    sources: Mutex<Vec<MetricsSource>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Adds a module's metrics to the exposition.
    pub fn add_source(&self, source: MetricsSource) {
        self.sources
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(source);
    }

    /// Counts a finished request of `protocol` with `status` that took `duration`.
    pub fn request_done(&self, protocol: &'static str, status: u16, duration: Duration) {
        let secs = duration.as_secs_f64();
        let mut r = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        *r.by_status.entry((protocol, status)).or_default() += 1;
        let h = r.durations.entry(protocol).or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    /// A connection opened; the guard counts it closed when dropped.
    pub fn connection_opened(self: &std::sync::Arc<Self>) -> ConnectionGuard {
        self.connections_open.fetch_add(1, Ordering::Relaxed);
        self.connections_total.fetch_add(1, Ordering::Relaxed);
        ConnectionGuard(self.clone())
    }

    /// A request started; [`Metrics::request_ended`] when it ends.
    pub fn request_started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// A request's response ended (or was dropped).
    pub fn request_ended(&self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    /// A request was read on the native ActiveSync path, not by hyper.
    pub fn native_request(&self) {
        self.native.fetch_add(1, Ordering::Relaxed);
    }

    /// How many requests were read on the native ActiveSync path.
    pub fn native_requests(&self) -> u64 {
        self.native.load(Ordering::Relaxed)
    }

    /// How many requests of `protocol` ended with `status`.
    pub fn count(&self, protocol: &str, status: u16) -> u64 {
        let r = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        r.by_status
            .iter()
            .filter(|((p, s), _)| *p == protocol && *s == status)
            .map(|(_, n)| *n)
            .sum()
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let r = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = String::new();
        out.push_str("# HELP groxide_http_requests_total HTTP requests answered, by protocol module and status.\n");
        out.push_str("# TYPE groxide_http_requests_total counter\n");
        for ((protocol, status), n) in &r.by_status {
            let _ = writeln!(
                out,
                "groxide_http_requests_total{{protocol=\"{protocol}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str("# HELP groxide_http_request_duration_seconds Time from request head to the end of the response, by protocol module.\n");
        out.push_str("# TYPE groxide_http_request_duration_seconds histogram\n");
        for (protocol, h) in &r.durations {
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "groxide_http_request_duration_seconds_bucket{{protocol=\"{protocol}\",le=\"{bound}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "groxide_http_request_duration_seconds_bucket{{protocol=\"{protocol}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "groxide_http_request_duration_seconds_sum{{protocol=\"{protocol}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "groxide_http_request_duration_seconds_count{{protocol=\"{protocol}\"}} {}",
                h.count
            );
        }
        drop(r);
        out.push_str("# HELP groxide_http_connections Client connections open now.\n");
        out.push_str("# TYPE groxide_http_connections gauge\n");
        let _ = writeln!(
            out,
            "groxide_http_connections {}",
            self.connections_open.load(Ordering::Relaxed)
        );
        out.push_str("# HELP groxide_http_connections_total Client connections accepted.\n");
        out.push_str("# TYPE groxide_http_connections_total counter\n");
        let _ = writeln!(
            out,
            "groxide_http_connections_total {}",
            self.connections_total.load(Ordering::Relaxed)
        );
        out.push_str("# HELP groxide_http_requests_in_flight Requests being answered now.\n");
        out.push_str("# TYPE groxide_http_requests_in_flight gauge\n");
        let _ = writeln!(
            out,
            "groxide_http_requests_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        out.push_str("# HELP groxide_http_native_requests_total Requests read on the native HTTP/1 path (ActiveSync) rather than by hyper.\n");
        out.push_str("# TYPE groxide_http_native_requests_total counter\n");
        let _ = writeln!(
            out,
            "groxide_http_native_requests_total {}",
            self.native.load(Ordering::Relaxed)
        );
        for source in self
            .sources
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            source(&mut out);
        }
        out
    }
}

/// Counts a connection as closed when dropped.
#[derive(Debug)]
pub struct ConnectionGuard(std::sync::Arc<Metrics>);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.connections_open.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn the_exposition_counts_requests_and_fills_cumulative_buckets() {
        let m = Arc::new(Metrics::default());
        m.request_done("discovery", 200, Duration::from_millis(3));
        m.request_done("discovery", 200, Duration::from_millis(200));
        m.request_done("discovery", 401, Duration::from_millis(1));
        m.request_done("none", 404, Duration::from_secs(60));
        let conn = m.connection_opened();
        m.native_request();
        let text = m.render();
        for line in [
            "groxide_http_requests_total{protocol=\"discovery\",status=\"200\"} 2",
            "groxide_http_requests_total{protocol=\"discovery\",status=\"401\"} 1",
            "groxide_http_requests_total{protocol=\"none\",status=\"404\"} 1",
            "groxide_http_request_duration_seconds_bucket{protocol=\"discovery\",le=\"0.001\"} 1",
            "groxide_http_request_duration_seconds_bucket{protocol=\"discovery\",le=\"0.005\"} 2",
            "groxide_http_request_duration_seconds_bucket{protocol=\"discovery\",le=\"0.25\"} 3",
            "groxide_http_request_duration_seconds_bucket{protocol=\"none\",le=\"30\"} 0",
            "groxide_http_request_duration_seconds_bucket{protocol=\"none\",le=\"+Inf\"} 1",
            "groxide_http_request_duration_seconds_count{protocol=\"discovery\"} 3",
            "groxide_http_connections 1",
            "groxide_http_connections_total 1",
            "groxide_http_native_requests_total 1",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line}\n{text}");
        }
        drop(conn);
        assert!(
            m.render()
                .lines()
                .any(|l| l == "groxide_http_connections 0")
        );
        assert_eq!(m.count("discovery", 200), 2);
    }
}
