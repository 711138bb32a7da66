//! The output topic is the dedup changelog. Before consuming input, every replica reads the
//! output topic back over the dedup window, up to the end offsets it finds at start-up, into
//! its dedup index (the rebuild; readiness stays false until it is done). It then keeps
//! tailing the output topic, outside the consumer group, so records other replicas publish
//! reach its index too.
//!
//! Remaining race: a copy processed by replica B before replica A's record of the same
//! story reaches B's tail (A's publish latency plus B's fetch wait, typically well under a
//! second) is published by both. It is counted nowhere as a duplicate; downstream keyed
//! compaction on `id` removes URL duplicates.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::config::Settings;
use crate::metrics::Metrics;
use crate::pipeline::Pipeline;

#[derive(Debug, Clone, PartialEq)]
pub struct RebuildReport {
    pub records: u64,
    pub partitions: usize,
    /// False when the rebuild deadline passed before every partition was read.
    pub complete: bool,
    pub elapsed: Duration,
}

/// Starts the changelog reader on its own thread. The receiver yields one report when the
/// rebuild is over; the thread then tails the topic until `stop` is cancelled.
pub fn spawn(
    settings: &Settings,
    brokers: &str,
    pipeline: Arc<Pipeline>,
    metrics: Metrics,
    stop: CancellationToken,
) -> anyhow::Result<(
    std::thread::JoinHandle<()>,
    std::sync::mpsc::Receiver<RebuildReport>,
)> {
    let mut cfg = crate::kafka::consumer_config(settings, brokers)?;
    cfg.set("group.id", format!("{}.changelog", settings.kafka.group_id))
        .set("enable.auto.commit", "false");
    let consumer: BaseConsumer = cfg.create().context("creating changelog reader")?;
    let topic = settings.kafka.output_topic.clone();
    let window = Duration::from_secs(settings.dedup.window_hours * 3600);
    let deadline = Duration::from_secs(settings.dedup.rebuild_timeout_secs);
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = std::thread::Builder::new()
        .name("newsflow-changelog".into())
        .spawn(move || {
            if let Err(e) = read(
                &consumer, &topic, window, deadline, &pipeline, &metrics, &stop, &tx,
            ) {
                warn!(error = format!("{e:#}"), "changelog reader stopped");
            }
            // If the rebuild never reported (error), let start-up continue rather than hang.
            let _ = tx.send(RebuildReport {
                records: 0,
                partitions: 0,
                complete: false,
                elapsed: Duration::ZERO,
            });
        })?;
    Ok((handle, rx))
}

#[allow(clippy::too_many_arguments)]
fn read(
    consumer: &BaseConsumer,
    topic: &str,
    window: Duration,
    deadline: Duration,
    pipeline: &Pipeline,
    metrics: &Metrics,
    stop: &CancellationToken,
    report: &std::sync::mpsc::Sender<RebuildReport>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let timeout = Duration::from_secs(10);
    let md = consumer
        .fetch_metadata(Some(topic), timeout)
        .context("output topic metadata")?;
    let partitions: Vec<i32> = md
        .topics()
        .iter()
        .filter(|t| t.name() == topic)
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    // Start of the window per partition, by record timestamp.
    let since = chrono::Utc::now().timestamp_millis() - window.as_millis() as i64;
    let mut by_time = TopicPartitionList::new();
    for p in &partitions {
        by_time.add_partition_offset(topic, *p, Offset::Offset(since))?;
    }
    let starts = consumer
        .offsets_for_times(by_time, timeout)
        .context("offsets for the window start")?;
    // End of the rebuild per partition: the end offset at start-up.
    let mut remaining: HashMap<i32, i64> = HashMap::new();
    let mut assign = TopicPartitionList::new();
    for e in starts.elements() {
        let (low, high) = consumer.fetch_watermarks(topic, e.partition(), timeout)?;
        tracing::debug!(partition = e.partition(), low, high, start = ?e.offset(), "changelog partition");
        // A broker that cannot look offsets up by time answers "end" (so does Kafka when
        // every record is older than the window): read from the start then, skipping
        // records older than the window by their timestamp.
        let start = match e.offset() {
            Offset::Offset(o) => o.max(low),
            _ => low,
        };
        if start < high {
            remaining.insert(e.partition(), high);
        }
        assign.add_partition_offset(topic, e.partition(), Offset::Offset(start))?;
    }
    consumer.assign(&assign)?;
    info!(
        topic,
        partitions = partitions.len(),
        to_read = remaining.len(),
        "rebuilding dedup index from the output topic"
    );

    let mut records = 0u64;
    let mut rebuilding = true;
    let mut last_log = Instant::now();
    let finish = |records: u64, complete: bool| {
        let r = RebuildReport {
            records,
            partitions: partitions.len(),
            complete,
            elapsed: started.elapsed(),
        };
        info!(
            records,
            complete,
            elapsed_ms = r.elapsed.as_millis() as u64,
            "dedup index rebuild done"
        );
        let _ = report.send(r);
    };
    if remaining.is_empty() {
        finish(0, true);
        rebuilding = false;
    }
    while !stop.is_cancelled() {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                let in_window = m.timestamp().to_millis().is_none_or(|t| t >= since);
                if let Some(payload) = m.payload().filter(|_| in_window) {
                    if pipeline.remember(payload, chrono::Utc::now()) && rebuilding {
                        metrics.dedup_rebuild_records.inc();
                        records += 1;
                    }
                }
                if rebuilding {
                    if let Some(end) = remaining.get(&m.partition()) {
                        if m.offset() + 1 >= *end {
                            remaining.remove(&m.partition());
                        }
                    }
                }
            }
            Some(Err(e)) => warn!(error = %e, "changelog read failed"),
            None => {}
        }
        if rebuilding {
            if remaining.is_empty() {
                finish(records, true);
                rebuilding = false;
            } else if started.elapsed() > deadline {
                warn!(
                    records,
                    partitions_left = remaining.len(),
                    "dedup rebuild deadline passed; continuing with a partial index"
                );
                finish(records, false);
                rebuilding = false;
            } else if last_log.elapsed() > Duration::from_secs(5) {
                info!(
                    records,
                    partitions_left = remaining.len(),
                    "dedup index rebuild in progress"
                );
                last_log = Instant::now();
            }
        }
    }
    Ok(())
}
