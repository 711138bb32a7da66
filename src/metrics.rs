//! Every metric newsflow exports, registered into a `prometheus::Registry` that the caller
//! creates (so each test has its own). Methods are named by intent; label values come from
//! enums, never from message content. Names follow Prometheus conventions: `newsflow_`
//! prefix, `_total` counters, base units.

use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry,
};

use crate::dedup::DuplicateKind;
use crate::model::NormalizeWarning;

/// The pipeline stages timed in `newsflow_stage_duration_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Decode,
    Normalize,
    Dedup,
    Enrich,
    Serialize,
}

impl Stage {
    pub const ALL: [Stage; 5] = [
        Self::Decode,
        Self::Normalize,
        Self::Dedup,
        Self::Enrich,
        Self::Serialize,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Decode => "decode",
            Self::Normalize => "normalize",
            Self::Dedup => "dedup",
            Self::Enrich => "enrich",
            Self::Serialize => "serialize",
        }
    }
}

/// Every reason a message goes to the dead-letter topic.
pub const DEAD_LETTER_REASONS: [&str; 11] = [
    "empty",
    "too_large",
    "invalid_encoding",
    "invalid_json",
    "too_deep",
    "not_an_object",
    "unrecognized_format",
    "missing_title",
    "missing_body",
    "invalid_url",
    "publish_rejected",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    Consumer,
    Producer,
    /// The short-lived client that checks (and creates) topics before consuming.
    Admin,
}

impl Client {
    pub fn as_str(self) -> &'static str {
        match self {
            Client::Consumer => "consumer",
            Client::Producer => "producer",
            Client::Admin => "admin",
        }
    }
}

#[derive(Clone)]
pub struct Metrics {
    consumed: IntCounter,
    published: IntCounter,
    revisions: IntCounter,
    duplicates: IntCounterVec,
    dead_letters: IntCounterVec,
    publish_retries: IntCounter,
    publish_errors: IntCounterVec,
    normalize_warnings: IntCounterVec,
    commits: IntCounterVec,
    rebalances: IntCounterVec,
    kafka_errors: IntCounterVec,
    pub dedup_evictions: IntCounter,
    pub dedup_rebuild_records: IntCounter,
    pub handoff_timeouts: IntCounter,
    pub in_flight: IntGauge,
    consumer_lag: IntGaugeVec,
    ready: IntGauge,
    pub paused: IntGauge,
    pub assigned_partitions: IntGauge,
    pub dedup_entries: IntGauge,
    pub dedup_capacity: IntGauge,
    pub dedup_bytes: IntGauge,
    stage_duration: HistogramVec,
    end_to_end: Histogram,
    publish_duration: Histogram,
    changelog_lag: Histogram,
    dead_letter_redeliveries: IntCounter,
}

fn reg<C: prometheus::core::Collector + Clone + 'static>(
    r: &Registry,
    c: C,
) -> prometheus::Result<C> {
    r.register(Box::new(c.clone()))?;
    Ok(c)
}

impl Metrics {
    /// Creates and registers every metric. Label values that are known up front are
    /// initialised to zero so dashboards and alerts see the series before the first event.
    pub fn new(r: &Registry) -> prometheus::Result<Metrics> {
        let counter = |name: &str, help: &str| reg(r, IntCounter::new(name, help)?);
        let counter_vec = |name: &str, help: &str, label: &str| {
            reg(r, IntCounterVec::new(Opts::new(name, help), &[label])?)
        };
        let gauge = |name: &str, help: &str| reg(r, IntGauge::new(name, help)?);
        let latency_buckets = prometheus::exponential_buckets(0.001, 2.0, 16)?;
        let m = Metrics {
            consumed: counter(
                "newsflow_messages_consumed_total",
                "Messages read from the input topic.",
            )?,
            published: counter(
                "newsflow_records_published_total",
                "Records acknowledged by the output topic.",
            )?,
            revisions: counter(
                "newsflow_revisions_published_total",
                "Records published as a new revision of an already published article.",
            )?,
            duplicates: counter_vec(
                "newsflow_duplicates_total",
                "Messages not published because they duplicate a published article, by kind.",
                "kind",
            )?,
            dead_letters: counter_vec(
                "newsflow_dead_letters_total",
                "Messages sent to the dead-letter topic, by reason.",
                "reason",
            )?,
            publish_retries: counter(
                "newsflow_publish_retries_total",
                "Records sent again after a failed delivery.",
            )?,
            publish_errors: counter_vec(
                "newsflow_publish_errors_total",
                "Failed deliveries to the output or dead-letter topic, by kind.",
                "kind",
            )?,
            normalize_warnings: counter_vec(
                "newsflow_normalize_warnings_total",
                "Field values normalization refused or corrected (e.g. implausible dates).",
                "warning",
            )?,
            commits: counter_vec(
                "newsflow_offset_commits_total",
                "Consumer offset commits, by result.",
                "result",
            )?,
            rebalances: counter_vec(
                "newsflow_rebalances_total",
                "Consumer group rebalance events.",
                "event",
            )?,
            kafka_errors: counter_vec(
                "newsflow_kafka_errors_total",
                "Errors reported by the Kafka client (broker down, authentication, ...).",
                "client",
            )?,
            dedup_evictions: counter(
                "newsflow_dedup_evictions_total",
                "Articles evicted from the dedup window (age or memory budget).",
            )?,
            dedup_rebuild_records: counter(
                "newsflow_dedup_rebuild_records_total",
                "Published records read back from the output topic into the dedup index.",
            )?,
            handoff_timeouts: counter(
                "newsflow_handoff_timeouts_total",
                "Partition hand-overs that started consuming before the dedup index had read the output topic to its end (dedup.handoff_timeout_secs passed).",
            )?,
            in_flight: gauge(
                "newsflow_in_flight_messages",
                "Messages consumed whose outcome is not yet acknowledged.",
            )?,
            consumer_lag: reg(
                r,
                IntGaugeVec::new(
                    Opts::new(
                        "newsflow_consumer_lag_messages",
                        "Consumer lag per input partition, from client statistics.",
                    ),
                    &["topic", "partition"],
                )?,
            )?,
            ready: gauge(
                "newsflow_ready",
                "1 when connected, assigned and not draining.",
            )?,
            paused: gauge(
                "newsflow_consumer_paused",
                "1 while consumption is paused for back-pressure.",
            )?,
            assigned_partitions: gauge(
                "newsflow_assigned_partitions",
                "Input partitions assigned to this replica.",
            )?,
            dedup_entries: gauge(
                "newsflow_dedup_index_entries",
                "Articles in the dedup window.",
            )?,
            dedup_capacity: gauge(
                "newsflow_dedup_index_capacity",
                "Maximum articles the dedup window holds.",
            )?,
            dedup_bytes: gauge(
                "newsflow_dedup_index_bytes",
                "Estimated memory of the dedup index.",
            )?,
            stage_duration: reg(
                r,
                HistogramVec::new(
                    HistogramOpts::new(
                        "newsflow_stage_duration_seconds",
                        "Time spent per message in each stage.",
                    )
                    .buckets(prometheus::exponential_buckets(0.000_005, 2.5, 14)?),
                    &["stage"],
                )?,
            )?,
            end_to_end: reg(
                r,
                Histogram::with_opts(
                    HistogramOpts::new(
                        "newsflow_end_to_end_latency_seconds",
                        "From the input message's Kafka timestamp to the output acknowledgement.",
                    )
                    .buckets(latency_buckets.clone()),
                )?,
            )?,
            publish_duration: reg(
                r,
                Histogram::with_opts(
                    HistogramOpts::new(
                        "newsflow_publish_duration_seconds",
                        "From send to delivery acknowledgement.",
                    )
                    .buckets(latency_buckets),
                )?,
            )?,
            changelog_lag: reg(
                r,
                Histogram::with_opts(
                    HistogramOpts::new(
                        "newsflow_changelog_lag_seconds",
                        "From a record's output timestamp to this replica's dedup index knowing it (the cross-replica race window).",
                    )
                    .buckets(prometheus::exponential_buckets(0.001, 2.0, 16)?),
                )?,
            )?,
            dead_letter_redeliveries: counter(
                "newsflow_dead_letter_redeliveries_total",
                "Bad messages redelivered (after a crash or rebalance) that were already in the dead-letter topic; not written again.",
            )?,
        };
        let build = reg(
            r,
            prometheus::GaugeVec::new(
                Opts::new("newsflow_build_info", "Build information; always 1."),
                &["version", "rdkafka_version"],
            )?,
        )?;
        build
            .with_label_values(&[
                env!("CARGO_PKG_VERSION"),
                &rdkafka::util::get_rdkafka_version().1,
            ])
            .set(1.0);
        for kind in DuplicateKind::ALL {
            m.duplicates.with_label_values(&[kind.as_str()]);
        }
        for reason in DEAD_LETTER_REASONS {
            m.dead_letters.with_label_values(&[reason]);
        }
        for w in NormalizeWarning::ALL {
            m.normalize_warnings.with_label_values(&[w.as_str()]);
        }
        for l in ["success", "failure"] {
            m.commits.with_label_values(&[l]);
        }
        for l in ["assign", "revoke"] {
            m.rebalances.with_label_values(&[l]);
        }
        for l in ["retriable", "permanent"] {
            m.publish_errors.with_label_values(&[l]);
        }
        for c in [Client::Consumer, Client::Producer, Client::Admin] {
            m.kafka_errors.with_label_values(&[c.as_str()]);
        }
        for s in Stage::ALL {
            m.stage_duration.with_label_values(&[s.as_str()]);
        }
        #[cfg(target_os = "linux")]
        r.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;
        Ok(m)
    }

    /// Totals, for summaries (`demo`) and tests.
    pub fn consumed(&self) -> u64 {
        self.consumed.get()
    }
    pub fn published(&self) -> u64 {
        self.published.get()
    }
    pub fn duplicates(&self) -> u64 {
        DuplicateKind::ALL
            .iter()
            .map(|k| self.duplicates.with_label_values(&[k.as_str()]).get())
            .sum()
    }
    pub fn dead_letters(&self) -> u64 {
        DEAD_LETTER_REASONS
            .iter()
            .map(|r| self.dead_letters.with_label_values(&[r]).get())
            .sum()
    }

    pub fn record_consumed(&self) {
        self.consumed.inc();
    }
    pub fn record_published(&self, revision: u32) {
        self.published.inc();
        if revision > 1 {
            self.revisions.inc();
        }
    }
    pub fn record_duplicate(&self, kind: DuplicateKind) {
        self.duplicates.with_label_values(&[kind.as_str()]).inc();
    }
    /// `reason` must be one of [`DEAD_LETTER_REASONS`] (the stages' error codes).
    pub fn record_dead_letter(&self, reason: &'static str) {
        debug_assert!(
            DEAD_LETTER_REASONS.contains(&reason),
            "unknown reason {reason}"
        );
        self.dead_letters.with_label_values(&[reason]).inc();
    }
    pub fn record_publish_retry(&self) {
        self.publish_retries.inc();
        self.publish_errors.with_label_values(&["retriable"]).inc();
    }
    pub fn record_publish_permanent_error(&self) {
        self.publish_errors.with_label_values(&["permanent"]).inc();
    }
    pub fn record_normalize_warning(&self, w: NormalizeWarning) {
        self.normalize_warnings
            .with_label_values(&[w.as_str()])
            .inc();
    }
    pub fn record_commit(&self, ok: bool) {
        self.commits
            .with_label_values(&[if ok { "success" } else { "failure" }])
            .inc();
    }
    pub fn record_rebalance(&self, assign: bool) {
        self.rebalances
            .with_label_values(&[if assign { "assign" } else { "revoke" }])
            .inc();
    }
    pub fn record_kafka_error(&self, client: Client) {
        self.kafka_errors
            .with_label_values(&[client.as_str()])
            .inc();
    }
    pub fn observe_stage(&self, stage: Stage, seconds: f64) {
        self.stage_duration
            .with_label_values(&[stage.as_str()])
            .observe(seconds);
    }
    pub fn observe_end_to_end(&self, seconds: f64) {
        self.end_to_end.observe(seconds);
    }
    pub fn observe_publish(&self, seconds: f64) {
        self.publish_duration.observe(seconds);
    }
    pub fn observe_changelog_lag(&self, seconds: f64) {
        self.changelog_lag.observe(seconds);
    }
    pub fn record_dead_letter_redelivery(&self) {
        self.dead_letter_redeliveries.inc();
    }
    pub fn set_ready(&self, ready: bool) {
        self.ready.set(i64::from(ready));
    }
    pub fn is_ready(&self) -> bool {
        self.ready.get() == 1
    }
    pub fn set_consumer_lag(&self, topic: &str, partition: i32, lag: i64) {
        self.consumer_lag
            .with_label_values(&[topic, &partition.to_string()])
            .set(lag);
    }
    pub fn forget_consumer_lag(&self, topic: &str, partition: i32) {
        let _ = self
            .consumer_lag
            .remove_label_values(&[topic, &partition.to_string()]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus::Encoder;

    #[test]
    fn registers_and_encodes() {
        let r = Registry::new();
        let m = Metrics::new(&r).unwrap();
        m.record_duplicate(DuplicateKind::Url);
        m.record_dead_letter("invalid_json");
        let mut out = Vec::new();
        prometheus::TextEncoder::new()
            .encode(&r.gather(), &mut out)
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("newsflow_duplicates_total{kind=\"url\"} 1"));
        assert!(text.contains("newsflow_dead_letters_total{reason=\"invalid_json\"} 1"));
        assert!(text.contains("newsflow_dead_letters_total{reason=\"too_large\"} 0"));
        assert!(text.contains("newsflow_build_info{"));
    }
}
