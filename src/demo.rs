//! `newsflow demo`: the whole service against the embedded broker, fed with the sample
//! corpus shipped in `samples/` (unique articles, duplicates and bad messages), then a
//! summary and one published record. Nothing external is needed.

use std::time::{Duration, Instant};

use anyhow::Context;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;

use crate::app::{self, Started};
use crate::config::Settings;
use crate::metrics::Metrics;

/// The sample corpus, compiled in so `demo` works from any directory.
pub fn sample_corpus() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = include_str!("../samples/articles.ndjson")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.as_bytes().to_vec())
        .collect();
    out.push(include_bytes!("../samples/text/ferry-line.txt").to_vec());
    out.push(include_bytes!("../samples/text/museum-reopens.txt").to_vec());
    out.push(include_bytes!("../samples/bad-binary.bin").to_vec());
    out
}

#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub fed: u64,
    pub consumed: u64,
    pub published: u64,
    pub duplicates: u64,
    pub dead_lettered: u64,
    pub sample_record: Option<String>,
}

/// Runs the demo; `linger` keeps the service (and `/metrics`) up after the summary until
/// `shutdown` is cancelled.
pub async fn run(
    mut settings: Settings,
    registry: prometheus::Registry,
    metrics: Metrics,
    shutdown: CancellationToken,
    linger: bool,
) -> anyhow::Result<Summary> {
    settings.kafka.brokers = "embedded".into();
    let corpus = sample_corpus();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let service_stop = CancellationToken::new();
    let service = tokio::spawn(app::run(
        settings.clone(),
        registry,
        metrics.clone(),
        service_stop.clone(),
        Some(tx),
    ));
    let started: Started = match rx.await {
        Ok(s) => s,
        Err(_) => {
            return Err(service
                .await?
                .err()
                .unwrap_or_else(|| anyhow::anyhow!("service did not start")))
        }
    };
    println!(
        "embedded broker: {}  (feed it: newsflow produce --brokers {} --topic {} FILE...)",
        started.brokers, started.brokers, settings.kafka.input_topic
    );
    println!("metrics: http://{}/metrics", started.http_addr);
    crate::produce::produce(&started.brokers, &settings.kafka.input_topic, &corpus, &[]).await?;

    let deadline = Instant::now() + Duration::from_secs(60);
    let fed = corpus.len() as u64;
    while metrics.consumed() < fed || metrics.in_flight.get() > 0 {
        if Instant::now() > deadline || shutdown.is_cancelled() {
            anyhow::bail!(
                "demo did not finish: consumed {} of {fed}, {} in flight",
                metrics.consumed(),
                metrics.in_flight.get()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let brokers = started.brokers.clone();
    let topic = settings.kafka.output_topic.clone();
    let sample = tokio::task::spawn_blocking(move || first_record(&brokers, &topic)).await??;
    let summary = Summary {
        fed,
        consumed: metrics.consumed(),
        published: metrics.published(),
        duplicates: metrics.duplicates(),
        dead_lettered: metrics.dead_letters(),
        sample_record: sample,
    };
    if linger {
        println!("{}", render(&summary));
        println!("serving metrics until Ctrl-C");
        shutdown.cancelled().await;
    }
    service_stop.cancel();
    service.await??;
    Ok(summary)
}

/// Reads the first record of partition 0..n of `topic`, whichever has one.
fn first_record(brokers: &str, topic: &str) -> anyhow::Result<Option<String>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "newsflow-demo-reader")
        .set("enable.auto.commit", "false")
        .create()
        .context("creating reader")?;
    let md = consumer.fetch_metadata(Some(topic), Duration::from_secs(5))?;
    let mut tpl = TopicPartitionList::new();
    for p in md.topics().iter().flat_map(|t| t.partitions()) {
        tpl.add_partition_offset(topic, p.id(), Offset::Beginning)?;
    }
    consumer.assign(&tpl)?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            if let Some(p) = m.payload() {
                let v: serde_json::Value = serde_json::from_slice(p)?;
                return Ok(Some(serde_json::to_string_pretty(&v)?));
            }
        }
    }
    Ok(None)
}

pub fn render(s: &Summary) -> String {
    let mut out = format!(
        "newsflow demo: fed {}, consumed {}, published {}, duplicates {}, dead-lettered {}\n",
        s.fed, s.consumed, s.published, s.duplicates, s.dead_lettered
    );
    if let Some(r) = &s.sample_record {
        out.push_str("sample record:\n");
        out.push_str(r);
        out.push('\n');
    }
    out
}
