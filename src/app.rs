//! The one loop: consume → (worker threads) pipeline → produce → acknowledge → store offset.
//!
//! Delivery guarantee (at-least-once, nothing dropped silently):
//! - every consumed message gets a ticket in the [`OffsetTracker`]; its offset is stored for
//!   commit only when it and every earlier message of its partition are finished: published
//!   (delivery report received), dead-lettered (report received) or dropped as a duplicate;
//! - a failed delivery is retried with backoff for as long as it takes (back-pressure pauses
//!   consumption meanwhile); a record the broker can never accept (too large, invalid) is
//!   dead-lettered with the reason `publish_rejected`;
//! - on revoke and on shutdown: stop fetching, drain within `drain_timeout`, flush, commit
//!   synchronously. Whatever did not finish is not committed and will be redelivered.
//!
//! Per-partition order: all messages of a partition go to the same worker thread, which
//! enqueues their output in order; the CPU-bound stages of different partitions run in
//! parallel on `processing.workers` threads.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;
use tokio::runtime::Handle;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::changelog::TailProgress;
use crate::config::Settings;
use crate::kafka::{self, ConsumerCtx, ConsumerShared, EmbeddedBroker};
use crate::metrics::{Client, Metrics};
use crate::offsets::Ticket;
use crate::pipeline::{Outcome, Pipeline, PipelineOptions, SourceMeta};

type Consumer_ = StreamConsumer<ConsumerCtx>;

/// Longest wait, after the drain deadline, for the final commit and for leaving the group
/// (a broker that is down must not keep the process from exiting).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Runs `f` on a thread of its own and hands its result to the receiver. For the shutdown
/// steps that call into librdkafka and can block without end (a commit or consumer close
/// that races the consumer group's own shutdown, librdkafka issue 4041): callers wait with
/// a timeout and move on. An abandoned thread, unlike a `spawn_blocking` task, does not hold
/// up the runtime's shutdown, which waits for every blocking task it started.
pub(crate) fn off_runtime<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> tokio::sync::oneshot::Receiver<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    // If the thread cannot start, `tx` is dropped with the closure and the receiver errs.
    let _ = std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let _ = tx.send(f());
        });
    rx
}

/// Header names on dead-lettered messages.
pub const HEADER_ERROR: &str = "newsflow-error";
pub const HEADER_ERROR_DETAIL: &str = "newsflow-error-detail";
pub const HEADER_SOURCE_TOPIC: &str = "newsflow-source-topic";
pub const HEADER_SOURCE_PARTITION: &str = "newsflow-source-partition";
pub const HEADER_SOURCE_OFFSET: &str = "newsflow-source-offset";

/// Where the service listens and connects, once started (for tests, `demo` and logs).
#[derive(Debug, Clone)]
pub struct Started {
    pub http_addr: std::net::SocketAddr,
    pub brokers: String,
}

/// Builds the stage options from settings.
pub fn pipeline_options(s: &Settings) -> PipelineOptions {
    let mut o = PipelineOptions::default();
    o.decode.max_bytes = s.processing.max_message_bytes;
    o.decode.max_json_depth = s.processing.max_json_depth;
    o.normalize.default_utc_offset_minutes = s.normalize.default_utc_offset_minutes;
    o.dedup.window = chrono::Duration::hours(s.dedup.window_hours as i64);
    o.dedup.max_entries = s.dedup.max_entries;
    o.dedup.revisions = s.dedup.revisions;
    o.dedup.min_words_for_near = s.dedup.min_words_for_near;
    o.dedup.near_threshold = s.dedup.near_threshold;
    o.enrich.max_keywords = s.enrich.max_keywords;
    o.enrich.languages = s.enrich.languages.clone();
    o.enrich.min_language_confidence = s.enrich.min_language_confidence;
    o.enrich.publishers_path = Some(&s.enrich.publishers_file)
        .filter(|p| !p.is_empty())
        .map(Into::into);
    o.enrich.organizations_path = Some(&s.enrich.organizations_file)
        .filter(|p| !p.is_empty())
        .map(Into::into);
    o.enrich.scan_body_bytes = s.enrich.scan_body_bytes;
    o.duplicate_notices = !s.kafka.duplicates_topic.is_empty();
    o
}

/// What a message turns into on the way out.
enum Kind {
    Publish { revision: u32 },
    DeadLetter { reason: &'static str },
    DuplicateNotice,
}

/// One outgoing record plus what is needed to finish (or dead-letter) its input message.
struct Envelope {
    topic: String,
    key: Option<Vec<u8>>,
    payload: Vec<u8>,
    headers: OwnedHeaders,
    kind: Kind,
    input: Arc<OwnedMessage>,
    ticket: Ticket,
}

impl Envelope {
    fn record(&self) -> FutureRecord<'_, [u8], [u8]> {
        let mut r = FutureRecord::to(&self.topic)
            .payload(&self.payload[..])
            .headers(self.headers.clone());
        if let Some(k) = &self.key {
            r = r.key(&k[..]);
        }
        r
    }
}

struct Job {
    msg: Arc<OwnedMessage>,
    ticket: Ticket,
    received_at: DateTime<Utc>,
}

/// Everything the loop, the workers and the delivery tasks share.
struct Shared {
    settings: Settings,
    consumer: Arc<Consumer_>,
    cshared: Arc<ConsumerShared>,
    producer: FutureProducer<kafka::ErrorCtx>,
    pipeline: Arc<Pipeline>,
    metrics: Metrics,
    in_flight: AtomicUsize,
    in_flight_bytes: AtomicUsize,
    /// Cancelled when the drain deadline passes: retries stop, unfinished work is left
    /// uncommitted for redelivery.
    abort: CancellationToken,
    runtime: Handle,
}

fn is_permanent(e: &KafkaError) -> bool {
    use RDKafkaErrorCode::*;
    matches!(
        e.rdkafka_error_code(),
        Some(
            MessageSizeTooLarge
                | InvalidMessageSize
                | MessageBatchTooLarge
                | InvalidRecord
                | InvalidMessage
        )
    )
}

impl Shared {
    /// The message is done: count it out and move its partition's watermark.
    fn finish(&self, ticket: &Ticket, bytes: usize) {
        {
            let mut tracker = self.cshared.tracker();
            if let Some(next) = tracker.complete(ticket) {
                let tpl = kafka::to_tpl(&[((ticket.topic.clone(), ticket.partition), next)]);
                if let Err(e) = self.consumer.store_offsets(&tpl) {
                    warn!(error = %e, partition = ticket.partition, "storing offset failed");
                }
            }
        }
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.in_flight_bytes.fetch_sub(bytes, Ordering::Relaxed);
        self.metrics.in_flight.dec();
    }

    fn dead_letter_envelope(
        &self,
        input: Arc<OwnedMessage>,
        ticket: Ticket,
        reason: &'static str,
        detail: &str,
    ) -> Envelope {
        let mut headers = OwnedHeaders::new();
        if let Some(h) = input.headers() {
            for i in 0..h.count() {
                let hdr = h.get(i);
                headers = headers.insert(Header {
                    key: hdr.key,
                    value: hdr.value,
                });
            }
        }
        let detail: String = detail.chars().take(1000).collect();
        headers = headers
            .insert(Header {
                key: HEADER_ERROR,
                value: Some(reason),
            })
            .insert(Header {
                key: HEADER_ERROR_DETAIL,
                value: Some(&detail),
            })
            .insert(Header {
                key: HEADER_SOURCE_TOPIC,
                value: Some(input.topic()),
            })
            .insert(Header {
                key: HEADER_SOURCE_PARTITION,
                value: Some(&input.partition().to_string()),
            })
            .insert(Header {
                key: HEADER_SOURCE_OFFSET,
                value: Some(&input.offset().to_string()),
            });
        Envelope {
            topic: self.settings.kafka.dlq_topic.clone(),
            key: input.key().map(<[u8]>::to_vec),
            payload: input.payload().map(<[u8]>::to_vec).unwrap_or_default(),
            headers,
            kind: Kind::DeadLetter { reason },
            input,
            ticket,
        }
    }

    /// Runs on a worker thread: the stages, then the outgoing record is enqueued in order.
    fn handle(self: &Arc<Self>, job: Job) {
        if self.abort.is_cancelled() {
            return; // past the drain deadline: leave it uncommitted, it will be redelivered
        }
        let Job {
            msg,
            ticket,
            received_at,
        } = job;
        let meta = SourceMeta {
            topic: msg.topic(),
            partition: msg.partition(),
            offset: msg.offset(),
            received_at,
        };
        let payload = msg.payload().unwrap_or_default();
        let outcome = self.pipeline.process(payload, &meta, Utc::now());
        let env = match outcome {
            Outcome::Publish {
                key,
                payload,
                revision,
            } => Envelope {
                topic: self.settings.kafka.output_topic.clone(),
                key: Some(key.into_bytes()),
                payload,
                headers: OwnedHeaders::new()
                    .insert(Header {
                        key: "content-type",
                        value: Some("application/json"),
                    })
                    .insert(Header {
                        key: "newsflow-schema-version",
                        value: Some("1"),
                    }),
                kind: Kind::Publish { revision },
                input: msg,
                ticket,
            },
            Outcome::DeadLetter { .. }
                if !self.pipeline.remember_dead_letter(
                    msg.topic(),
                    msg.partition(),
                    msg.offset(),
                ) =>
            {
                // Redelivered after a crash or rebalance, and already in the dead-letter topic.
                self.metrics.record_dead_letter_redelivery();
                self.finish(&ticket, payload_len(&msg));
                return;
            }
            Outcome::DeadLetter { reason, detail } => {
                warn!(reason, detail = %detail.chars().take(200).collect::<String>(), topic = msg.topic(),
                      partition = msg.partition(), offset = msg.offset(), "dead-lettering message");
                self.dead_letter_envelope(msg, ticket, reason, &detail)
            }
            Outcome::Duplicate {
                kind,
                of: _,
                notice,
            } => {
                self.metrics.record_duplicate(kind);
                match notice {
                    Some(n) if !self.settings.kafka.duplicates_topic.is_empty() => Envelope {
                        topic: self.settings.kafka.duplicates_topic.clone(),
                        key: msg.key().map(<[u8]>::to_vec),
                        payload: n,
                        headers: OwnedHeaders::new(),
                        kind: Kind::DuplicateNotice,
                        input: msg,
                        ticket,
                    },
                    _ => {
                        let bytes = payload_len(&msg);
                        self.finish(&ticket, bytes);
                        return;
                    }
                }
            }
        };
        let first = self.enqueue(&env);
        let me = self.clone();
        self.runtime
            .spawn(async move { me.deliver(env, first).await });
    }

    /// Enqueues without blocking the reactor (called from worker threads): waits while the
    /// producer queue is full. Keeps the per-partition order of the calls.
    fn enqueue(&self, env: &Envelope) -> Result<DeliveryFuture, KafkaError> {
        loop {
            match self.producer.send_result(env.record()) {
                Ok(f) => return Ok(f),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _))
                    if !self.abort.is_cancelled() =>
                {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err((e, _)) => return Err(e),
            }
        }
    }

    /// Awaits the delivery report; retries with backoff; dead-letters what can never be
    /// published; finishes the input message once its outcome is acknowledged.
    async fn deliver(
        self: Arc<Self>,
        mut env: Envelope,
        first: Result<DeliveryFuture, KafkaError>,
    ) {
        let min = Duration::from_millis(self.settings.processing.retry_backoff_min_ms);
        let max = Duration::from_millis(self.settings.processing.retry_backoff_max_ms);
        let mut backoff = min;
        let started = Instant::now();
        let mut result = match first {
            Ok(fut) => delivered(fut).await,
            Err(e) => Err(e),
        };
        loop {
            match result {
                Ok(()) => {
                    self.metrics
                        .observe_publish(started.elapsed().as_secs_f64());
                    self.acknowledged(&env);
                    return;
                }
                Err(e) if is_permanent(&e) && matches!(env.kind, Kind::Publish { .. }) => {
                    self.metrics.record_publish_permanent_error();
                    error!(error = %e, partition = env.ticket.partition, offset = env.ticket.offset,
                           "output rejected the record; dead-lettering the input message");
                    let input = env.input.clone();
                    if !self.pipeline.remember_dead_letter(
                        input.topic(),
                        input.partition(),
                        input.offset(),
                    ) {
                        self.metrics.record_dead_letter_redelivery();
                        self.finish(&env.ticket, payload_len(&input));
                        return;
                    }
                    env = self.dead_letter_envelope(
                        input,
                        env.ticket.clone(),
                        "publish_rejected",
                        &e.to_string(),
                    );
                }
                Err(e) => {
                    self.metrics.record_publish_retry();
                    warn!(error = %e, topic = %env.topic, partition = env.ticket.partition, offset = env.ticket.offset,
                          backoff_ms = backoff.as_millis() as u64, "delivery failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = self.abort.cancelled() => return,
                    }
                    backoff = (backoff * 2).min(max);
                }
            }
            if self.abort.is_cancelled() {
                return;
            }
            result = self.send_again(&env).await;
        }
    }

    async fn send_again(&self, env: &Envelope) -> Result<(), KafkaError> {
        loop {
            match self.producer.send_result(env.record()) {
                Ok(fut) => return delivered(fut).await,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err((e, _)) => return Err(e),
            }
        }
    }

    fn acknowledged(&self, env: &Envelope) {
        match env.kind {
            Kind::Publish { revision } => {
                self.metrics.record_published(revision);
                if let Some(ts) = env.input.timestamp().to_millis() {
                    let secs = (Utc::now().timestamp_millis() - ts) as f64 / 1000.0;
                    if secs >= 0.0 {
                        self.metrics.observe_end_to_end(secs);
                    }
                }
            }
            Kind::DeadLetter { reason } => self.metrics.record_dead_letter(reason),
            Kind::DuplicateNotice => {}
        }
        self.finish(&env.ticket, payload_len(&env.input));
    }
}

async fn delivered(fut: DeliveryFuture) -> Result<(), KafkaError> {
    match fut.await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err((e, _))) => Err(e),
        Err(_canceled) => Err(KafkaError::Canceled),
    }
}

fn worker_count(s: &Settings) -> usize {
    match s.processing.workers {
        0 => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        n => n,
    }
}

/// Runs the service until `shutdown` is cancelled, then drains and commits.
/// `on_start` receives the bound HTTP address and the brokers in use. Needs a
/// multi-threaded tokio runtime (rebalance callbacks drain without stalling the reactor).
pub async fn run(
    settings: Settings,
    registry: prometheus::Registry,
    metrics: Metrics,
    shutdown: CancellationToken,
    on_start: Option<tokio::sync::oneshot::Sender<Started>>,
) -> anyhow::Result<()> {
    let k = &settings.kafka;
    let mut topics = vec![
        k.input_topic.as_str(),
        k.output_topic.as_str(),
        k.dlq_topic.as_str(),
    ];
    if !k.duplicates_topic.is_empty() {
        topics.push(k.duplicates_topic.as_str());
    }
    let embedded = if settings.is_embedded() {
        let b = EmbeddedBroker::start(&topics, k.topic_partitions)?;
        info!(brokers = %b.bootstrap, "embedded broker listening; feed it with: newsflow produce --brokers {} --topic {} FILES", b.bootstrap, k.input_topic);
        warn!(
            "the embedded broker is for trying newsflow out: it keeps topics in memory only, \
             at most 5 MiB per partition (older messages are deleted, even unconsumed ones); \
             set kafka.brokers to a real cluster for anything else"
        );
        Some(b)
    } else {
        None
    };
    let brokers = embedded
        .as_ref()
        .map(|b| b.bootstrap.clone())
        .unwrap_or_else(|| k.brokers.clone());

    let http_stop = CancellationToken::new();
    let (http_addr, server) = crate::http::serve(
        &settings.http.listen,
        registry,
        metrics.clone(),
        http_stop.clone(),
    )
    .await?;
    let server = tokio::spawn(server);
    info!(addr = %http_addr, "serving /metrics, /healthz and /readyz");
    if let Some(tx) = on_start {
        let _ = tx.send(Started {
            http_addr,
            brokers: brokers.clone(),
        });
    }
    metrics.set_ready(false);

    // Topics must exist before consuming; until they do, stay up and not ready.
    loop {
        match kafka::ensure_topics(&settings, &brokers, &topics, &metrics).await {
            Ok(()) => break,
            Err(e) => {
                error!(
                    error = format!("{e:#}"),
                    "topics not available; retrying in 10s"
                );
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(10)) => {}
                    _ = shutdown.cancelled() => {
                        http_stop.cancel();
                        let _ = server.await;
                        return Ok(());
                    }
                }
            }
        }
    }

    let pipeline = Arc::new(Pipeline::new(pipeline_options(&settings), metrics.clone())?);
    // Rebuild the dedup index from the output topic before consuming; keep tailing it.
    let changelog_stop = CancellationToken::new();
    let progress = Arc::new(TailProgress::default());
    let (changelog, rebuilt) = crate::changelog::spawn(
        &settings,
        &brokers,
        pipeline.clone(),
        metrics.clone(),
        progress.clone(),
        changelog_stop.clone(),
    )?;
    let rebuilt = off_runtime("newsflow-rebuild", move || rebuilt.recv());
    let result = tokio::select! {
        _ = shutdown.cancelled() => Ok(()),
        r = rebuilt => {
            if let Ok(Ok(report)) = r {
                info!(records = report.records, complete = report.complete, "dedup index ready");
            }
            consume(&settings, &brokers, pipeline, progress, metrics.clone(), shutdown).await
        }
    };
    changelog_stop.cancel();
    let _ = tokio::time::timeout(
        SHUTDOWN_GRACE,
        off_runtime("newsflow-changelog-join", move || changelog.join()),
    )
    .await;
    metrics.set_ready(false);
    http_stop.cancel();
    let _ = server.await;
    drop(embedded);
    result
}

/// Runs before the first message after an assignment: waits until the changelog reader has
/// read the output and dead-letter topics up to their current end, so the records a
/// partition's previous owner published before handing it over are in the dedup index and
/// its uncommitted messages, redelivered here, are recognised as already done.
///
/// The end is read twice, the second time at least [`HANDOFF_SETTLE`] after the first: a
/// broker that hands a partition over before its previous owner has finished draining it
/// (Tansu does) lets that owner publish its last in-flight records after the first
/// reading, and the second one takes them in. The extra wait happens once per assignment.
fn await_handoff(progress: &TailProgress, timeout: Duration, metrics: &Metrics) {
    let started = Instant::now();
    let deadline = started + timeout;
    let mut partitions = 0;
    for round in 0..2 {
        if round == 1 {
            std::thread::sleep(
                (started + HANDOFF_SETTLE).saturating_duration_since(Instant::now()),
            );
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let targets = match progress.end_offsets(left) {
            Ok(t) => t,
            Err(e) => {
                // Nothing to wait for: counted like a timeout, the index may be behind.
                metrics.handoff_timeouts.inc();
                warn!(
                    error = format!("{e:#}"),
                    "hand-over: end offsets unknown; consuming without waiting"
                );
                return;
            }
        };
        partitions = targets.len();
        let short = progress.wait_for(&targets, deadline);
        if short > 0 {
            metrics.handoff_timeouts.inc();
            warn!(
                partitions = short,
                timeout_secs = timeout.as_secs(),
                "hand-over: the dedup index has not caught up with the output topic; records the previous owner published just before may be published again"
            );
            return;
        }
    }
    info!(
        waited_ms = started.elapsed().as_millis() as u64,
        partitions, "hand-over: dedup index caught up with the output topic"
    );
}

/// How long after an assignment the hand-over reads the output topic's end a second time.
const HANDOFF_SETTLE: Duration = Duration::from_millis(250);

async fn consume(
    settings: &Settings,
    brokers: &str,
    pipeline: Arc<Pipeline>,
    progress: Arc<TailProgress>,
    metrics: Metrics,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let cshared = Arc::new(ConsumerShared::new(settings, metrics.clone()));
    let consumer: Consumer_ = kafka::consumer_config(settings, brokers)?
        .create_with_context(ConsumerCtx(cshared.clone()))
        .context("creating consumer")?;
    let consumer = Arc::new(consumer);
    let producer: FutureProducer<kafka::ErrorCtx> = kafka::producer_config(settings, brokers)?
        .create_with_context(kafka::ErrorCtx::new(&metrics, Client::Producer))
        .context("creating producer")?;
    consumer
        .subscribe(&[&settings.kafka.input_topic])
        .context("subscribing")?;

    let shared = Arc::new(Shared {
        settings: settings.clone(),
        consumer: consumer.clone(),
        cshared: cshared.clone(),
        producer,
        pipeline,
        metrics: metrics.clone(),
        in_flight: AtomicUsize::new(0),
        in_flight_bytes: AtomicUsize::new(0),
        abort: CancellationToken::new(),
        runtime: Handle::current(),
    });
    let n = worker_count(settings);
    let mut senders = Vec::with_capacity(n);
    let mut workers = Vec::with_capacity(n);
    for i in 0..n {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let s = shared.clone();
        workers.push(
            std::thread::Builder::new()
                .name(format!("newsflow-worker-{i}"))
                .spawn(move || {
                    for job in rx {
                        s.handle(job);
                    }
                })?,
        );
        senders.push(tx);
    }
    info!(workers = n, input = %settings.kafka.input_topic, output = %settings.kafka.output_topic, "consuming");

    let handoff_timeout = Duration::from_secs(settings.dedup.handoff_timeout_secs);
    let max_msgs = settings.processing.max_in_flight_messages;
    let max_bytes = settings.processing.max_in_flight_bytes;
    let mut paused = false;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        let msgs = shared.in_flight.load(Ordering::Relaxed);
        let bytes = shared.in_flight_bytes.load(Ordering::Relaxed);
        if msgs >= max_msgs || bytes >= max_bytes {
            // Pause (again: new assignments arrive unpaused); keep polling so the group
            // membership stays alive while the output catches up.
            let assignment = consumer.assignment().unwrap_or_default();
            if !paused {
                info!(
                    in_flight = msgs,
                    in_flight_bytes = bytes,
                    "pausing consumption (back-pressure)"
                );
            }
            let _ = consumer.pause(&assignment);
            paused = true;
            metrics.paused.set(1);
        } else if paused && msgs < max_msgs / 2 && bytes < max_bytes / 2 {
            let assignment = consumer.assignment().unwrap_or_default();
            let _ = consumer.resume(&assignment);
            paused = false;
            metrics.paused.set(0);
            info!("resuming consumption");
        }
        let assigned = metrics.assigned_partitions.get() > 0;
        metrics.set_ready(assigned && cshared.connected.load(Ordering::Relaxed));
        tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            r = consumer.recv() => match r {
                Ok(m) => {
                    let msg = m.detach();
                    metrics.record_consumed();
                    cshared.connected.store(true, Ordering::Relaxed);
                    let Some(ticket) = cshared.tracker().begin(msg.topic(), msg.partition(), msg.offset()) else {
                        continue; // not assigned any more, or an offset already being handled
                    };
                    if cshared.handoff_pending.swap(false, Ordering::AcqRel) {
                        kafka::blocking(|| await_handoff(&progress, handoff_timeout, &metrics));
                    }
                    let len = payload_len(&msg);
                    shared.in_flight.fetch_add(1, Ordering::Relaxed);
                    shared.in_flight_bytes.fetch_add(len, Ordering::Relaxed);
                    metrics.in_flight.inc();
                    let worker = msg.partition().unsigned_abs() as usize % n;
                    let job = Job { msg: Arc::new(msg), ticket, received_at: Utc::now() };
                    if senders[worker].send(job).is_err() {
                        anyhow::bail!("worker thread {worker} stopped");
                    }
                }
                Err(e) => {
                    metrics.record_kafka_error(crate::metrics::Client::Consumer);
                    warn!(error = %e, "consume failed");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            },
            _ = tick.tick() => {}
        }
    }

    // Graceful drain: stop fetching, let in-flight work finish, flush, commit.
    metrics.set_ready(false);
    let drain = Duration::from_secs(settings.processing.drain_timeout_secs);
    let deadline = Instant::now() + drain;
    info!(
        in_flight = shared.in_flight.load(Ordering::Relaxed),
        deadline_secs = drain.as_secs(),
        "draining"
    );
    let _ = consumer.pause(&consumer.assignment().unwrap_or_default());
    let cs = cshared.clone();
    let left = tokio::task::spawn_blocking(move || cs.wait_drained(None, deadline))
        .await
        .unwrap_or(usize::MAX);
    if left > 0 {
        warn!(
            unfinished = left,
            "drain deadline passed; unfinished messages stay uncommitted and will be redelivered"
        );
    }
    shared.abort.cancel();
    drop(senders);
    let joined = off_runtime("newsflow-worker-join", move || {
        for w in workers {
            let _ = w.join();
        }
    });
    let worker_wait = deadline.saturating_duration_since(Instant::now()) + SHUTDOWN_GRACE;
    if tokio::time::timeout(worker_wait, joined).await.is_err() {
        warn!("stage workers did not stop in time");
    }
    let remaining = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_secs(1));
    let p = shared.producer.clone();
    let _ = tokio::task::spawn_blocking(move || p.flush(Timeout::After(remaining))).await;
    // The broker may be unreachable now: every remaining step is bounded, and whatever
    // does not finish leaves offsets uncommitted (redelivered), never lost.
    let marks = cshared.tracker().watermarks(None);
    if !marks.is_empty() {
        let c = consumer.clone();
        let tpl = kafka::to_tpl(&marks);
        let commit = off_runtime("newsflow-commit", move || c.commit(&tpl, CommitMode::Sync));
        match tokio::time::timeout(remaining + SHUTDOWN_GRACE, commit).await {
            Ok(Ok(Ok(()))) => {
                metrics.record_commit(true);
                info!(partitions = marks.len(), "committed offsets");
            }
            Ok(Ok(Err(e))) => {
                metrics.record_commit(false);
                warn!(error = %e, "final commit failed; uncommitted messages will be redelivered");
            }
            _ => {
                metrics.record_commit(false);
                warn!(
                    "final commit did not finish in time; uncommitted messages will be redelivered"
                );
            }
        }
    }
    // Leave the group (the revoke callback finds nothing in flight) and close the clients
    // off the reactor; the last references go with this task.
    drop(shared);
    let close = off_runtime("newsflow-close", move || {
        let t0 = Instant::now();
        consumer.unsubscribe();
        drop(consumer);
        drop(cshared);
        info!(
            elapsed_ms = t0.elapsed().as_millis() as u64,
            "left the consumer group"
        );
    });
    if tokio::time::timeout(SHUTDOWN_GRACE, close).await.is_err() {
        warn!("leaving the consumer group did not finish in time; exiting anyway");
    }
    info!("stopped");
    Ok(())
}

fn payload_len(m: &OwnedMessage) -> usize {
    m.payload().map_or(0, <[u8]>::len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_that_never_returns_does_not_hold_up_the_runtime_shutdown() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (release, stuck) = std::sync::mpsc::channel::<()>();
        let waited = runtime.block_on(async {
            let call = off_runtime("test-stuck", move || stuck.recv());
            tokio::time::timeout(Duration::from_millis(100), call).await
        });
        assert!(waited.is_err(), "the call is still blocked");
        let started = Instant::now();
        drop(runtime);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "the runtime shut down without waiting for the blocked call"
        );
        release.send(()).unwrap();
    }

    #[test]
    fn a_call_that_returns_hands_over_its_result() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let got = runtime.block_on(off_runtime("test-quick", || 6 * 7));
        assert_eq!(got.unwrap(), 42);
    }
}
