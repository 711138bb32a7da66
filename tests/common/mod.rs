//! Test harness: an in-process Kafka-protocol broker (librdkafka's mock cluster), unique
//! topic and group names, the service started in-process on port 0 or as a separate
//! process, and readers for what it wrote.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use rdkafka::{Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;

use newsflow::config::{Settings, Sources};
use newsflow::metrics::Metrics;

pub mod real;
pub mod tls;

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Topic and group names for one test.
#[derive(Clone, Debug)]
pub struct Names {
    pub input: String,
    pub output: String,
    pub dlq: String,
    pub group: String,
}

impl Names {
    pub fn new() -> Names {
        Names {
            input: unique("in"),
            output: unique("out"),
            dlq: unique("dlq"),
            group: unique("group"),
        }
    }
}

pub struct Broker {
    pub cluster: MockCluster<'static, DefaultProducerContext>,
    pub bootstrap: String,
}

impl Broker {
    pub fn start() -> Broker {
        let cluster = MockCluster::new(1).expect("mock cluster");
        let bootstrap = cluster.bootstrap_servers();
        Broker { cluster, bootstrap }
    }

    pub fn create_topics(&self, names: &Names, partitions: i32) {
        for t in [&names.input, &names.output, &names.dlq] {
            self.cluster
                .create_topic(t, partitions, 1)
                .expect("create topic");
        }
    }
}

/// Settings for a test: the given brokers and names, port 0, fast commits and stats.
pub fn settings(bootstrap: &str, names: &Names, extra: &[(&str, &str)]) -> Settings {
    let mut overrides: Vec<(String, String)> = vec![
        ("kafka.brokers".into(), bootstrap.into()),
        ("kafka.input_topic".into(), names.input.clone()),
        ("kafka.output_topic".into(), names.output.clone()),
        ("kafka.dlq_topic".into(), names.dlq.clone()),
        ("kafka.group_id".into(), names.group.clone()),
        ("kafka.statistics_interval_ms".into(), "500".into()),
        ("http.listen".into(), "127.0.0.1:0".into()),
        ("processing.drain_timeout_secs".into(), "10".into()),
        ("processing.retry_backoff_max_ms".into(), "500".into()),
        (
            "kafka.consumer_properties.auto.commit.interval.ms".into(),
            "200".into(),
        ),
        ("log.level".into(), "warn".into()),
    ];
    overrides.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Settings::load(&Sources {
        overrides,
        env: Some(BTreeMap::new()),
        ..Default::default()
    })
    .expect("test settings")
}

/// The service running in-process on its own runtime.
pub struct Service {
    runtime: Option<tokio::runtime::Runtime>,
    pub metrics: Metrics,
    pub shutdown: CancellationToken,
    pub handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    pub http: std::net::SocketAddr,
}

impl Service {
    pub fn start(settings: Settings) -> Service {
        newsflow::telemetry::init(&settings.log);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let registry = prometheus::Registry::new();
        let metrics = Metrics::new(&registry).unwrap();
        let shutdown = CancellationToken::new();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let handle = runtime.spawn(newsflow::app::run(
            settings,
            registry,
            metrics.clone(),
            shutdown.clone(),
            Some(tx),
        ));
        let started = runtime.block_on(rx).expect("service started");
        Service {
            runtime: Some(runtime),
            metrics,
            shutdown,
            handle: Some(handle),
            http: started.http_addr,
        }
    }

    /// Waits until `cond` holds on the metrics, or panics after `secs`.
    pub fn wait_for(&self, secs: u64, what: &str, cond: impl Fn(&Metrics) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !cond(&self.metrics) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: consumed {} published {} in flight {}",
                self.metrics.consumed(),
                self.metrics.published(),
                self.metrics.in_flight.get()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Graceful stop; returns the service's result. Panics if the service does not return
    /// within [`STOP_BOUND`], or if its runtime then cannot shut down within
    /// [`RUNTIME_SHUTDOWN_BOUND`] (a blocking task still running): a stop that hangs fails
    /// the test instead of hanging it.
    pub fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        let h = self.handle.take().unwrap();
        let runtime = self.runtime.take().unwrap();
        let result = runtime
            .block_on(async { tokio::time::timeout(STOP_BOUND, h).await })
            .unwrap_or_else(|_| panic!("the service did not stop within {STOP_BOUND:?}"))
            .expect("service task");
        let started = Instant::now();
        runtime.shutdown_timeout(RUNTIME_SHUTDOWN_BOUND);
        assert!(
            started.elapsed() < RUNTIME_SHUTDOWN_BOUND,
            "the service's runtime did not shut down within {RUNTIME_SHUTDOWN_BOUND:?}: a blocking task is stuck"
        );
        result
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        http_get(self.http, path)
    }
}

/// How long [`Service::stop`] waits for the service to return: its own bounds (drain
/// deadline 10 s, final commit and close 5 s each) plus slack for a loaded machine.
const STOP_BOUND: Duration = Duration::from_secs(60);
/// How long the runtime may take to shut down once the service has returned.
const RUNTIME_SHUTDOWN_BOUND: Duration = Duration::from_secs(10);

impl Drop for Service {
    /// A test that panicked before `stop`: cancel and shut down without waiting for good.
    fn drop(&mut self) {
        self.shutdown.cancel();
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(RUNTIME_SHUTDOWN_BOUND);
        }
    }
}

/// A minimal HTTP/1.1 GET, enough for /metrics and the health endpoints.
pub fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect http");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).unwrap();
    let status = buf
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = buf
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Produces payloads (no key) and waits for delivery.
pub fn produce(bootstrap: &str, topic: &str, payloads: &[Vec<u8>]) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(newsflow::produce::produce(bootstrap, topic, payloads, &[]))
        .expect("produce");
}

#[derive(Debug, Clone)]
pub struct Read {
    pub key: Option<Vec<u8>>,
    pub payload: Vec<u8>,
    pub headers: BTreeMap<String, String>,
    pub partition: i32,
}

/// Reads every message of `topic` from the beginning until `expect` arrived and nothing
/// more came for `quiet`, or `max_wait` passed.
pub fn read_all(bootstrap: &str, topic: &str, expect: usize, max_wait: Duration) -> Vec<Read> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", unique("reader"))
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let md = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(5))
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in md.topics().iter().flat_map(|t| t.partitions()) {
        tpl.add_partition_offset(topic, p.id(), Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let deadline = Instant::now() + max_wait;
    let mut last = Instant::now();
    while Instant::now() < deadline {
        if out.len() >= expect && last.elapsed() > Duration::from_millis(700) {
            break;
        }
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            let headers = m
                .headers()
                .map(|h| {
                    h.iter()
                        .map(|h| {
                            (
                                h.key.to_owned(),
                                String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.push(Read {
                key: m.key().map(<[u8]>::to_vec),
                payload: m.payload().unwrap_or_default().to_vec(),
                headers,
                partition: m.partition(),
            });
            last = Instant::now();
        }
    }
    out
}

/// Sum of the group's committed offsets on `topic` (partitions with no commit count 0).
pub fn committed_total(bootstrap: &str, group: &str, topic: &str, partitions: i32) -> i64 {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition(topic, p);
    }
    let c = consumer
        .committed_offsets(tpl, Duration::from_secs(5))
        .unwrap();
    c.elements()
        .iter()
        .map(|e| e.offset().to_raw().unwrap_or(0).max(0))
        .sum()
}

/// The record schema, compiled.
pub fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schemas/article-record.v1.json"
    ))
    .unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).expect("schema compiles")
}

pub fn assert_valid(schema: &jsonschema::Validator, record: &serde_json::Value) {
    let errors: Vec<String> = schema
        .iter_errors(record)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "record violates the schema: {errors:#?}\n{record:#}"
    );
}

const WORDS: [&str; 48] = [
    "harbour", "council", "budget", "school", "railway", "bridge", "market", "farmers", "river",
    "museum", "hospital", "library", "festival", "workers", "union", "ferry", "airport", "station",
    "teachers", "nurses", "drought", "flood", "storm", "energy", "solar", "wind", "factory",
    "exports", "tariffs", "election", "minister", "court", "police", "students", "rents",
    "housing", "tourism", "fishing", "mining", "forest", "wildfire", "vaccine", "clinic", "bus",
    "tram", "cyclists", "parking", "water",
];

/// Deterministic text of `n` words, different for every seed.
pub fn words(seed: u64, n: usize) -> String {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        out.push(WORDS[(x >> 33) as usize % WORDS.len()]);
    }
    out.join(" ")
}

/// A deterministic, unique, valid JSON article.
pub fn article(i: usize) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "title": format!("Council approves budget item {i} for the harbour district"),
        "url": format!("https://news.example.com/local/item-{i}?utm_source=feed"),
        "body": format!("<p>The council approved item {i} on Tuesday. {}.</p><p>{}.</p>",
                        words(i as u64, 60), words(i as u64 + 1_000_000, 60)),
        "published_at": "2024-05-01T10:00:00Z",
        "author": "By Ada Lovelace",
    }))
    .unwrap()
}
