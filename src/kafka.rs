//! The Kafka edge: client configuration, the consumer context (rebalance drain and commit,
//! statistics into metrics), topic checks and creation, and the in-process broker used by
//! `brokers = "embedded"`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::ClientContext;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, RebalanceProtocol,
};
use rdkafka::error::{KafkaError, KafkaResult, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, Producer};
use rdkafka::statistics::Statistics;
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{Offset, TopicPartitionList};
use tracing::{debug, error, info, warn};

use crate::config::Settings;
use crate::metrics::{Client, Metrics};
use crate::offsets::{OffsetTracker, TopicPartition};

/// Consumer properties newsflow relies on; user properties may add to them but these
/// carry the delivery guarantee and are applied last.
const CONSUMER_INVARIANTS: [(&str, &str); 2] = [
    ("enable.auto.offset.store", "false"),
    ("enable.partition.eof", "false"),
];

pub fn consumer_config(s: &Settings, brokers: &str) -> anyhow::Result<ClientConfig> {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", brokers)
        .set("group.id", &s.kafka.group_id)
        .set("client.id", "newsflow")
        .set("enable.auto.commit", "true")
        .set("auto.commit.interval.ms", "5000")
        .set("auto.offset.reset", "earliest")
        .set(
            "statistics.interval.ms",
            s.kafka.statistics_interval_ms.to_string(),
        )
        // Bound librdkafka's prefetch: at most this many KiB buffered per partition.
        .set("queued.max.messages.kbytes", "16384")
        .set_log_level(RDKafkaLogLevel::Warning);
    apply(&mut c, s.client_properties(true)?);
    for (k, v) in CONSUMER_INVARIANTS {
        c.set(k, v);
    }
    Ok(c)
}

pub fn producer_config(s: &Settings, brokers: &str) -> anyhow::Result<ClientConfig> {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", brokers)
        .set("client.id", "newsflow")
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("queue.buffering.max.kbytes", "65536")
        .set_log_level(RDKafkaLogLevel::Warning);
    apply(&mut c, s.client_properties(false)?);
    Ok(c)
}

/// Applies the user's client properties. One that turns on librdkafka's `debug` contexts
/// also lets their messages through (librdkafka drops them at the default log level); they
/// are logged under the `librdkafka` target at debug level.
fn apply(c: &mut ClientConfig, props: BTreeMap<String, String>) {
    for (k, v) in props {
        c.set(k, v);
    }
    if c.get("debug").is_some_and(|d| !d.is_empty()) {
        c.set_log_level(RDKafkaLogLevel::Debug);
    }
}

/// State shared between the consumer context (rebalance callbacks run inside `recv`) and
/// the delivery tasks that finish messages.
pub struct ConsumerShared {
    pub metrics: Metrics,
    pub tracker: Mutex<OffsetTracker>,
    pub input_topic: String,
    pub drain_timeout: Duration,
    /// Set from statistics: at least one broker connection is up.
    pub connected: AtomicBool,
    /// Set on every assignment; the next message waits for the dedup index to catch up
    /// with the output topic first (see `app::await_handoff`).
    pub handoff_pending: AtomicBool,
    /// The group's rebalance protocol (cooperative or not), asked once; see
    /// [`ConsumerCtx::rebalance`]. Starts empty.
    pub cooperative: OnceLock<bool>,
}

pub struct ConsumerCtx(pub Arc<ConsumerShared>);

impl ConsumerShared {
    pub fn new(settings: &Settings, metrics: Metrics) -> ConsumerShared {
        ConsumerShared {
            metrics,
            tracker: Mutex::new(OffsetTracker::new()),
            input_topic: settings.kafka.input_topic.clone(),
            drain_timeout: Duration::from_secs(settings.processing.drain_timeout_secs),
            connected: AtomicBool::new(true),
            handoff_pending: AtomicBool::new(false),
            cooperative: OnceLock::new(),
        }
    }

    pub fn tracker(&self) -> std::sync::MutexGuard<'_, OffsetTracker> {
        self.tracker.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until the partitions have nothing in flight, or the deadline passes.
    /// Returns the number still unfinished.
    pub fn wait_drained(&self, partitions: Option<&[TopicPartition]>, deadline: Instant) -> usize {
        loop {
            let left = self.tracker().pending(partitions);
            if left == 0 || Instant::now() >= deadline {
                return left;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Committable offsets as a partition list.
pub fn to_tpl(watermarks: &[(TopicPartition, i64)]) -> TopicPartitionList {
    let mut tpl = TopicPartitionList::new();
    for ((topic, partition), offset) in watermarks {
        let _ = tpl.add_partition_offset(topic, *partition, Offset::Offset(*offset));
    }
    tpl
}

fn partitions_of(tpl: &TopicPartitionList) -> Vec<TopicPartition> {
    tpl.elements()
        .iter()
        .map(|e| (e.topic().to_owned(), e.partition()))
        .collect()
}

/// Runs blocking work from inside a callback on a tokio worker without stalling other tasks.
pub(crate) fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

impl ClientContext for ConsumerCtx {
    fn stats(&self, stats: Statistics) {
        let up = stats.brokers.values().any(|b| b.state == "UP");
        self.0.connected.store(up, Ordering::Relaxed);
        if let Some(topic) = stats.topics.get(&self.0.input_topic) {
            for (p, part) in &topic.partitions {
                // -1 means "unknown" (not assigned or no committed offset yet).
                if *p >= 0 && part.consumer_lag >= 0 {
                    self.0
                        .metrics
                        .set_consumer_lag(&self.0.input_topic, *p, part.consumer_lag);
                }
            }
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.0.metrics.record_kafka_error(Client::Consumer);
        if matches!(
            error.rdkafka_error_code(),
            Some(RDKafkaErrorCode::AllBrokersDown)
        ) {
            self.0.connected.store(false, Ordering::Relaxed);
        }
        warn!(error = %error, reason, "kafka consumer error");
    }
}

/// The producer's and the admin client's context: client-level errors (brokers down,
/// authentication, TLS handshakes) are counted in `newsflow_kafka_errors_total{client}` and
/// logged with librdkafka's reason. Delivery failures of single records arrive through
/// their delivery futures instead.
pub struct ErrorCtx {
    metrics: Metrics,
    client: Client,
    /// The last error seen, to count each once: rdkafka 0.39's producer poll hands every
    /// error event to `error` twice in a row (once in the client, once in the producer).
    last: Mutex<Option<(String, Instant)>>,
}

impl ErrorCtx {
    pub fn new(metrics: &Metrics, client: Client) -> ErrorCtx {
        ErrorCtx {
            metrics: metrics.clone(),
            client,
            last: Mutex::new(None),
        }
    }
}

impl rdkafka::producer::ProducerContext for ErrorCtx {
    type DeliveryOpaque = ();
    fn delivery(&self, _: &rdkafka::message::DeliveryResult<'_>, _: ()) {}
}

impl ClientContext for ErrorCtx {
    fn error(&self, error: KafkaError, reason: &str) {
        let key = format!("{error}|{reason}");
        let now = Instant::now();
        {
            let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
            let repeat = matches!(&*last, Some((k, at)) if *k == key
                && now.duration_since(*at) < Duration::from_millis(5));
            *last = Some((key, now));
            if repeat {
                return;
            }
        }
        self.metrics.record_kafka_error(self.client);
        warn!(client = self.client.as_str(), error = %error, reason, "kafka client error");
    }
}

impl ConsumerCtx {
    /// Whether the group rebalances cooperatively (incremental assign and unassign) or
    /// eagerly. Asked of librdkafka at the first assignment, while the group is certainly
    /// alive, and remembered: a member's protocol follows from its configured assignors (or
    /// `group.protocol=consumer`) and does not change.
    fn cooperative(&self, consumer: &BaseConsumer<Self>) -> bool {
        if let Some(c) = self.0.cooperative.get() {
            return *c;
        }
        let cooperative = match consumer.rebalance_protocol() {
            RebalanceProtocol::Cooperative => true,
            RebalanceProtocol::Eager => false,
            RebalanceProtocol::None => return false, // not joined yet: ask again next time
        };
        *self.0.cooperative.get_or_init(|| cooperative)
    }
}

impl ConsumerContext for ConsumerCtx {
    /// rdkafka's default, except that the rebalance protocol is asked once (see
    /// [`ConsumerCtx::cooperative`]) instead of on every call. librdkafka answers that
    /// question through the consumer group's queue, and a question queued just as the
    /// group finishes shutting down is never answered (librdkafka issue 4041): a consumer
    /// whose revoke commit met `UnknownMemberId` while closing then hung in drop for good.
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        let tpl = &*tpl;
        let rebalance = match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => Rebalance::Assign(tpl),
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => Rebalance::Revoke(tpl),
            _ => Rebalance::Error(KafkaError::Rebalance(err.into())),
        };
        self.pre_rebalance(consumer, &rebalance);
        let cooperative = match rebalance {
            Rebalance::Assign(_) => self.cooperative(consumer),
            _ => self.0.cooperative.get().copied().unwrap_or(false),
        };
        let done = match (&rebalance, cooperative) {
            (Rebalance::Assign(tpl), true) => consumer.incremental_assign(tpl),
            (Rebalance::Assign(tpl), false) => consumer.assign(tpl),
            (_, true) => consumer.incremental_unassign(tpl),
            (_, false) => consumer.unassign(),
        };
        if let Err(e) = done {
            self.0.metrics.record_kafka_error(Client::Consumer);
            warn!(error = %e, "applying the rebalance failed");
        }
        self.post_rebalance(consumer, &rebalance);
    }

    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Rebalance::Revoke(tpl) = rebalance else {
            return;
        };
        let parts = partitions_of(tpl);
        self.0.metrics.record_rebalance(false);
        // Drain: let in-flight messages of these partitions finish, then commit their
        // watermarks synchronously, then fence late acknowledgements.
        let left = blocking(|| {
            self.0
                .wait_drained(Some(&parts), Instant::now() + self.0.drain_timeout)
        });
        if left > 0 {
            warn!(
                unfinished = left,
                "revoke drain deadline passed; unfinished messages will be redelivered"
            );
        }
        let marks = self.0.tracker().watermarks(Some(&parts));
        if !marks.is_empty() {
            let ok = consumer.commit(&to_tpl(&marks), CommitMode::Sync);
            if let Err(e) = ok {
                warn!(error = %e, "commit on revoke failed");
            }
        }
        self.0.tracker().revoke(&parts);
        for (topic, p) in &parts {
            self.0.metrics.forget_consumer_lag(topic, *p);
        }
        self.0
            .metrics
            .assigned_partitions
            .set(self.0.tracker().assigned().len() as i64);
        info!(partitions = ?parts, "partitions revoked");
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(tpl) => {
                let parts = partitions_of(tpl);
                self.0.metrics.record_rebalance(true);
                self.0.tracker().assign(&parts);
                self.0.handoff_pending.store(true, Ordering::Release);
                self.0
                    .metrics
                    .assigned_partitions
                    .set(self.0.tracker().assigned().len() as i64);
                info!(partitions = ?parts, "partitions assigned");
            }
            Rebalance::Error(e) => {
                self.0.metrics.record_kafka_error(Client::Consumer);
                error!(error = %e, "rebalance failed");
            }
            Rebalance::Revoke(_) => {}
        }
    }

    fn commit_callback(&self, result: KafkaResult<()>, _offsets: &TopicPartitionList) {
        match result {
            Ok(()) => self.0.metrics.record_commit(true),
            // Nothing stored since the last commit: not a failure.
            Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
            Err(e) => {
                self.0.metrics.record_commit(false);
                warn!(error = %e, "offset commit failed");
            }
        }
    }
}

/// Creates the topics that are missing (when allowed), then checks they all exist.
/// The error names every missing topic.
pub async fn ensure_topics(
    s: &Settings,
    brokers: &str,
    topics: &[&str],
    metrics: &Metrics,
) -> anyhow::Result<()> {
    let mut cfg = ClientConfig::new();
    cfg.set("bootstrap.servers", brokers)
        .set_log_level(RDKafkaLogLevel::Error);
    apply(&mut cfg, s.client_properties(false)?);
    // The metadata probe is a producer handle because it can be polled: its client errors
    // (e.g. a failed TLS handshake) reach ErrorCtx and the log; the admin client's would not.
    let probe: BaseProducer<ErrorCtx> = cfg
        .create_with_context(ErrorCtx::new(metrics, Client::Admin))
        .context("creating metadata client")?;
    let have = blocking(|| {
        let md = probe.client().fetch_metadata(None, Duration::from_secs(10));
        probe.poll(Duration::from_millis(100));
        let md = md.context("fetching cluster metadata")?;
        anyhow::Ok(
            md.topics()
                .iter()
                .filter(|t| t.error().is_none())
                .map(|t| t.name().to_owned())
                .collect::<Vec<String>>(),
        )
    })?;
    let missing: Vec<&str> = topics
        .iter()
        .copied()
        .filter(|t| !have.iter().any(|h| h == t))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !s.kafka.create_topics {
        bail!(
            "missing topic(s): {} (create them, or set kafka.create_topics = true)",
            missing.join(", ")
        );
    }
    let admin: AdminClient<ErrorCtx> = cfg
        .create_with_context(ErrorCtx::new(metrics, Client::Admin))
        .context("creating admin client")?;
    let new: Vec<NewTopic> = missing
        .iter()
        .map(|t| {
            NewTopic::new(
                t,
                s.kafka.topic_partitions,
                TopicReplication::Fixed(s.kafka.topic_replication),
            )
        })
        .collect();
    let results = admin
        .create_topics(
            &new,
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(30))),
        )
        .await
        .context("creating topics")?;
    for r in results {
        match r {
            Ok(t) => info!(topic = %t, partitions = s.kafka.topic_partitions, "created topic"),
            Err((t, RDKafkaErrorCode::TopicAlreadyExists)) => {
                debug!(topic = %t, "topic already exists")
            }
            Err((t, e)) => bail!("creating topic {t}: {e}"),
        }
    }
    Ok(())
}

/// The in-process Kafka-protocol broker (librdkafka's mock cluster) on a loopback port.
/// It lives on its own thread (the handle is not `Send`) until this value is dropped.
pub struct EmbeddedBroker {
    pub bootstrap: String,
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl EmbeddedBroker {
    /// Starts the broker and creates `topics` with `partitions` each.
    pub fn start(topics: &[&str], partitions: i32) -> anyhow::Result<EmbeddedBroker> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<anyhow::Result<String>>();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let topics: Vec<String> = topics.iter().map(|t| t.to_string()).collect();
        let thread = std::thread::Builder::new()
            .name("embedded-broker".into())
            .spawn(move || {
                let cluster = match rdkafka::mocking::MockCluster::new(1) {
                    Ok(c) => c,
                    Err(e) => {
                        let _ =
                            ready_tx.send(Err(anyhow::anyhow!("starting embedded broker: {e}")));
                        return;
                    }
                };
                for t in &topics {
                    if let Err(e) = cluster.create_topic(t, partitions, 1) {
                        let _ = ready_tx.send(Err(anyhow::anyhow!(
                            "creating topic {t} on embedded broker: {e}"
                        )));
                        return;
                    }
                }
                let _ = ready_tx.send(Ok(cluster.bootstrap_servers()));
                let _ = stop_rx.recv();
                drop(cluster);
            })?;
        let bootstrap = ready_rx.recv().context("embedded broker thread ended")??;
        Ok(EmbeddedBroker {
            bootstrap,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

impl Drop for EmbeddedBroker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_with;
    use prometheus::{Encoder, Registry};

    fn errors_of(r: &Registry, client: &str) -> String {
        let mut out = Vec::new();
        prometheus::TextEncoder::new()
            .encode(&r.gather(), &mut out)
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        let prefix = format!("newsflow_kafka_errors_total{{client=\"{client}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
            .unwrap()
    }

    #[test]
    fn librdkafka_debug_contexts_turn_on_debug_logging() {
        let plain = load_with(&[], &[]).unwrap();
        let c = consumer_config(&plain, "127.0.0.1:9092").unwrap();
        assert!(matches!(c.log_level, RDKafkaLogLevel::Warning));
        let debug = load_with(&[], &[("kafka.consumer_properties.debug", "cgrp,topic")]).unwrap();
        let c = consumer_config(&debug, "127.0.0.1:9092").unwrap();
        assert_eq!(c.get("debug"), Some("cgrp,topic"));
        assert!(matches!(c.log_level, RDKafkaLogLevel::Debug));
        let p = producer_config(&debug, "127.0.0.1:9092").unwrap();
        assert!(
            matches!(p.log_level, RDKafkaLogLevel::Warning),
            "consumer only"
        );
        let both = load_with(&[], &[("kafka.properties.debug", "broker")]).unwrap();
        let p = producer_config(&both, "127.0.0.1:9092").unwrap();
        assert!(matches!(p.log_level, RDKafkaLogLevel::Debug));
    }

    #[test]
    fn client_errors_are_counted_once_per_event() {
        let r = Registry::new();
        let m = Metrics::new(&r).unwrap();
        let ctx = ErrorCtx::new(&m, Client::Producer);
        let down = || KafkaError::Global(RDKafkaErrorCode::AllBrokersDown);
        // The same event handed over twice in a row counts once.
        ctx.error(down(), "1/1 brokers are down");
        ctx.error(down(), "1/1 brokers are down");
        assert_eq!(errors_of(&r, "producer"), "1");
        ctx.error(
            KafkaError::Global(RDKafkaErrorCode::SSL),
            "ssl://127.0.0.1:9093/bootstrap: SSL handshake failed",
        );
        assert_eq!(errors_of(&r, "producer"), "2");
        // A later occurrence of the same error is a new event.
        std::thread::sleep(Duration::from_millis(10));
        ctx.error(down(), "1/1 brokers are down");
        assert_eq!(errors_of(&r, "producer"), "3");
        assert_eq!(errors_of(&r, "admin"), "0");
    }
}
