//! Adapters layer: the Prometheus metrics every adapter reports into, exposed at `/metrics` on
//! the metrics listener (`METRICS_ADDR`), apart from the public API.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The labels of one HTTP request. Every value comes from a fixed set, so no client can grow
/// the metrics (and the memory behind them) by sending made-up methods, paths or statuses.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// One of [`KNOWN_METHODS`], else `other`.
    pub method: &'static str,
    /// The route template (`/api/v1/orders/{id}`) or the one label of unmatched requests;
    /// never the raw path.
    pub route: String,
    /// The status class: `1xx` … `5xx`, else `other`.
    pub status: &'static str,
}

/// The methods counted under their own name; any other method is counted as `other`.
pub const KNOWN_METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

impl RouteLabels {
    /// The labels of a request with this method, route template and status.
    pub fn new(method: &str, route: String, status: u16) -> Self {
        let method = KNOWN_METHODS
            .iter()
            .find(|known| **known == method)
            .copied()
            .unwrap_or("other");
        let status = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            500..=599 => "5xx",
            _ => "other",
        };
        Self {
            method,
            route,
            status,
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MailStateLabels {
    /// `queued`, `sent` or `abandoned`.
    pub state: String,
}

/// All metrics of one process. Cloning shares the underlying counters.
#[derive(Clone)]
pub struct Metrics {
    registry: std::sync::Arc<Registry>,
    pub http_requests: Family<RouteLabels, Counter>,
    pub http_duration: Family<RouteLabels, Histogram>,
    pub login_outcomes: Family<OutcomeLabels, Counter>,
    /// Password hashes waiting for a free hashing slot.
    pub hashes_waiting: Gauge,
    /// Password hashes being computed right now.
    pub hashes_running: Gauge,
    /// Argon2 work buffers held by the hashing threads (none once they have been idle).
    pub hash_buffers: Gauge,
    /// Deliveries by this process's mail sender, by outcome (`sent`, `retried`, `abandoned`).
    pub mail_deliveries: Family<OutcomeLabels, Counter>,
    /// Mails in the outbox by state, shared by every instance on the store (delivered and
    /// abandoned ones until the retention purges them).
    pub mail_outbox: Family<MailStateLabels, Gauge>,
    /// Age of the oldest mail still waiting; 0 when none waits.
    pub mail_oldest_queued_age_seconds: Gauge,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("allomedia");
        let http_requests = Family::<RouteLabels, Counter>::default();
        let http_duration = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ])
        });
        let login_outcomes = Family::<OutcomeLabels, Counter>::default();
        let hashes_waiting = Gauge::default();
        let hashes_running = Gauge::default();
        let hash_buffers = Gauge::default();
        registry.register(
            "http_requests",
            "HTTP requests by method, route and status class",
            http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by method, route and status class",
            http_duration.clone(),
        );
        registry.register(
            "login_outcomes",
            "Password logins by outcome",
            login_outcomes.clone(),
        );
        registry.register(
            "password_hashes_waiting",
            "Password hashes waiting for a hashing slot",
            hashes_waiting.clone(),
        );
        registry.register(
            "password_hashes_running",
            "Password hashes being computed",
            hashes_running.clone(),
        );
        registry.register(
            "password_hash_buffers",
            "Argon2 work buffers held by the hashing threads (given back after 30 s without work)",
            hash_buffers.clone(),
        );
        let mail_deliveries = Family::<OutcomeLabels, Counter>::default();
        let mail_outbox = Family::<MailStateLabels, Gauge>::default();
        let mail_oldest_queued_age_seconds = Gauge::default();
        registry.register(
            "mail_deliveries",
            "Mail delivery attempts by this instance, by outcome",
            mail_deliveries.clone(),
        );
        registry.register(
            "mail_outbox",
            "Mails in the outbox by state (all instances)",
            mail_outbox.clone(),
        );
        registry.register(
            "mail_oldest_queued_age_seconds",
            "Age of the oldest mail waiting in the outbox",
            mail_oldest_queued_age_seconds.clone(),
        );
        Self {
            registry: std::sync::Arc::new(registry),
            mail_deliveries,
            mail_outbox,
            mail_oldest_queued_age_seconds,
            http_requests,
            http_duration,
            login_outcomes,
            hashes_waiting,
            hashes_running,
            hash_buffers,
        }
    }

    /// Shows the outbox's counts as read at `now`.
    pub fn report_outbox(
        &self,
        status: crate::core::model::OutboxStatus,
        now: chrono::DateTime<chrono::Utc>,
    ) {
        for (state, count) in [
            ("queued", status.queued),
            ("sent", status.sent),
            ("abandoned", status.abandoned),
        ] {
            self.mail_outbox
                .get_or_create(&MailStateLabels {
                    state: state.to_owned(),
                })
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
        let age = status
            .oldest_queued_at
            .map_or(0, |queued_at| (now - queued_at).num_seconds().max(0));
        self.mail_oldest_queued_age_seconds.set(age);
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_method_keeps_its_name_and_any_other_is_other() {
        assert_eq!(RouteLabels::new("PATCH", "/x".into(), 200).method, "PATCH");
        for odd in ["BREW", "get", "PROPFIND", ""] {
            assert_eq!(
                RouteLabels::new(odd, "/x".into(), 200).method,
                "other",
                "{odd}"
            );
        }
    }

    #[test]
    fn a_status_is_labelled_by_its_class() {
        let class = |status| RouteLabels::new("GET", "/x".into(), status).status;
        assert_eq!(class(101), "1xx");
        assert_eq!(class(204), "2xx");
        assert_eq!(class(308), "3xx");
        assert_eq!(class(429), "4xx");
        assert_eq!(class(503), "5xx");
        assert_eq!(class(999), "other");
    }
}
