//! The output topic is the dedup changelog. Before consuming input, every replica reads the
//! output topic back over the dedup window, up to the end offsets it finds at start-up, into
//! its dedup index (the rebuild; readiness stays false until it is done). It then keeps
//! tailing the output topic, outside the consumer group, so records other replicas publish
//! reach its index too.
//!
//! The dead-letter topic is read the same way for the source positions of dead letters,
//! so a bad message redelivered after a crash is not dead-lettered a second time.
//!
//! Remaining race: a copy processed by replica B before replica A's record of the same
//! story reaches B's tail is published by both. The window is A's publish latency plus B's
//! fetch wait; `newsflow_changelog_lag_seconds` measures it (record timestamp → remembered).
//! Downstream keyed compaction on `id` removes URL duplicates that slip through.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
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

/// How far the changelog reader has read: the next offset per partition of the output and
/// dead-letter topics. A partition hand-over waits on it (see [`TailProgress::wait_for`]).
#[derive(Default)]
pub struct TailProgress {
    next: Mutex<HashMap<String, HashMap<i32, i64>>>,
    changed: Condvar,
    /// A client for end-offset lookups only. Neither the reader nor the input consumer
    /// will do: a request queues behind their long-polling fetches on the same broker
    /// connection (up to `fetch.wait.max.ms`, 0.3-1 s per lookup measured).
    lookups: std::sync::OnceLock<BaseConsumer>,
}

impl TailProgress {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, HashMap<i32, i64>>> {
        self.next.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records that everything before `next` in `topic`/`partition` has been read.
    pub fn advance(&self, topic: &str, partition: i32, next: i64) {
        let mut m = self.lock();
        let parts = match m.get_mut(topic) {
            Some(p) => p,
            None => m.entry(topic.to_owned()).or_default(),
        };
        let e = parts.entry(partition).or_insert(next);
        if *e < next {
            *e = next;
        }
        drop(m);
        self.changed.notify_all();
    }

    /// The current end offset of every followed partition: one "latest" lookup per broker.
    pub fn end_offsets(&self, timeout: Duration) -> anyhow::Result<Vec<(String, i32, i64)>> {
        let reader = self.lookups.get().context("changelog reader not started")?;
        let mut latest = TopicPartitionList::new();
        for (topic, partition) in self.partitions() {
            latest.add_partition_offset(&topic, partition, Offset::End)?;
        }
        let ends = reader.offsets_for_times(latest, timeout)?;
        Ok(ends
            .elements()
            .iter()
            .filter_map(|e| match e.offset() {
                Offset::Offset(end) => Some((e.topic().to_owned(), e.partition(), end)),
                _ => None,
            })
            .collect())
    }

    /// How many of `targets` have not been read up to their offset yet.
    pub fn short_of(&self, targets: &[(String, i32, i64)]) -> usize {
        short_of(&self.lock(), targets)
    }

    /// Every partition the reader follows.
    pub fn partitions(&self) -> Vec<(String, i32)> {
        self.lock()
            .iter()
            .flat_map(|(t, ps)| ps.keys().map(move |p| (t.clone(), *p)))
            .collect()
    }

    /// Waits until every partition in `targets` has been read up to (not including) its
    /// offset. Returns the partitions still short of their target when `deadline` passed.
    pub fn wait_for(&self, targets: &[(String, i32, i64)], deadline: Instant) -> usize {
        let mut m = self.lock();
        loop {
            let short = short_of(&m, targets);
            let now = Instant::now();
            if short == 0 || now >= deadline {
                return short;
            }
            m = self
                .changed
                .wait_timeout(m, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

/// How many of `targets` (topic, partition, offset) have not been read up to their offset.
fn short_of(next: &HashMap<String, HashMap<i32, i64>>, targets: &[(String, i32, i64)]) -> usize {
    targets
        .iter()
        .filter(|(t, p, end)| {
            next.get(t.as_str())
                .and_then(|ps| ps.get(p))
                .is_none_or(|next| next < end)
        })
        .count()
}

/// Starts the changelog reader on its own thread. The receiver yields one report when the
/// rebuild is over; the thread then tails the topic until `stop` is cancelled.
pub fn spawn(
    settings: &Settings,
    brokers: &str,
    pipeline: Arc<Pipeline>,
    metrics: Metrics,
    progress: Arc<TailProgress>,
    stop: CancellationToken,
) -> anyhow::Result<(
    std::thread::JoinHandle<()>,
    std::sync::mpsc::Receiver<RebuildReport>,
)> {
    let mut cfg = crate::kafka::consumer_config(settings, brokers)?;
    cfg.set("group.id", format!("{}.changelog", settings.kafka.group_id))
        .set("enable.auto.commit", "false")
        // Its statistics would only repeat the main consumer's.
        .set("statistics.interval.ms", "0");
    let consumer: BaseConsumer = cfg.create().context("creating changelog reader")?;
    let lookups: BaseConsumer = cfg.create().context("creating end-offset client")?;
    let _ = progress.lookups.set(lookups);
    let topics = Topics {
        output: settings.kafka.output_topic.clone(),
        dlq: settings.kafka.dlq_topic.clone(),
    };
    let window = Duration::from_secs(settings.dedup.window_hours * 3600);
    let deadline = Duration::from_secs(settings.dedup.rebuild_timeout_secs);
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = std::thread::Builder::new()
        .name("newsflow-changelog".into())
        .spawn(move || {
            if let Err(e) = read(
                &consumer, &topics, window, deadline, &pipeline, &metrics, &progress, &stop, &tx,
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

/// The end offsets (topic, partition, offset) the rebuild must read up to.
type EndOffsets = Vec<(String, i32, i64)>;

struct Topics {
    output: String,
    /// Read too: the source positions of dead letters, so a bad message redelivered after a
    /// crash is not dead-lettered twice.
    dlq: String,
}

/// Assigns every partition of both topics from the window start; returns the end offsets
/// found now, which the rebuild must reach.
fn assign_window(
    consumer: &BaseConsumer,
    topics: &Topics,
    since: i64,
    progress: &TailProgress,
) -> anyhow::Result<(usize, EndOffsets)> {
    let timeout = Duration::from_secs(10);
    let mut by_time = TopicPartitionList::new();
    for topic in [&topics.output, &topics.dlq] {
        let md = consumer
            .fetch_metadata(Some(topic), timeout)
            .with_context(|| format!("metadata of {topic}"))?;
        for p in md
            .topics()
            .iter()
            .filter(|t| t.name() == topic.as_str())
            .flat_map(|t| t.partitions())
        {
            by_time.add_partition_offset(topic, p.id(), Offset::Offset(since))?;
        }
    }
    let starts = consumer
        .offsets_for_times(by_time, timeout)
        .context("offsets for the window start")?;
    let mut ends = Vec::new();
    let mut assign = TopicPartitionList::new();
    for e in starts.elements() {
        let (low, high) = consumer.fetch_watermarks(e.topic(), e.partition(), timeout)?;
        // A broker that cannot look offsets up by time answers "end" (so does Kafka when
        // every record is older than the window): read from the start then, skipping
        // records older than the window by their timestamp.
        let start = match e.offset() {
            Offset::Offset(o) => o.max(low),
            _ => low,
        };
        if start < high {
            ends.push((e.topic().to_owned(), e.partition(), high));
        }
        assign.add_partition_offset(e.topic(), e.partition(), Offset::Offset(start))?;
        progress.advance(e.topic(), e.partition(), start);
    }
    consumer.assign(&assign)?;
    Ok((assign.count(), ends))
}

fn dead_letter_source(m: &rdkafka::message::BorrowedMessage<'_>) -> Option<(String, i32, i64)> {
    let headers = m.headers()?;
    let get = |name: &str| {
        headers
            .iter()
            .find(|h| h.key == name)
            .and_then(|h| std::str::from_utf8(h.value?).ok().map(str::to_owned))
    };
    Some((
        get(crate::app::HEADER_SOURCE_TOPIC)?,
        get(crate::app::HEADER_SOURCE_PARTITION)?.parse().ok()?,
        get(crate::app::HEADER_SOURCE_OFFSET)?.parse().ok()?,
    ))
}

#[allow(clippy::too_many_arguments)]
fn read(
    consumer: &BaseConsumer,
    topics: &Topics,
    window: Duration,
    deadline: Duration,
    pipeline: &Pipeline,
    metrics: &Metrics,
    progress: &TailProgress,
    stop: &CancellationToken,
    report: &std::sync::mpsc::Sender<RebuildReport>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let since = chrono::Utc::now().timestamp_millis() - window.as_millis() as i64;
    let (partitions, ends) = assign_window(consumer, topics, since, progress)?;
    info!(output = %topics.output, dlq = %topics.dlq, partitions, to_read = ends.len(),
          "rebuilding dedup index from the output topic");

    let mut records = 0u64;
    let mut rebuilding = true;
    let mut last_log = Instant::now();
    let finish = |records: u64, complete: bool| {
        let r = RebuildReport {
            records,
            partitions,
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
    if ends.is_empty() {
        finish(0, true);
        rebuilding = false;
    }
    while !stop.is_cancelled() {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                let in_window = m.timestamp().to_millis().is_none_or(|t| t >= since);
                if m.topic() == topics.dlq {
                    if let Some((topic, partition, offset)) = dead_letter_source(&m) {
                        pipeline.remember_dead_letter(&topic, partition, offset);
                    }
                } else if let Some(payload) = m.payload().filter(|_| in_window) {
                    let now = chrono::Utc::now();
                    if pipeline.remember(payload, now) {
                        if rebuilding {
                            metrics.dedup_rebuild_records.inc();
                            records += 1;
                        } else if let Some(t) = m.timestamp().to_millis() {
                            metrics.observe_changelog_lag(
                                (now.timestamp_millis() - t).max(0) as f64 / 1000.0,
                            );
                        }
                    }
                }
                progress.advance(m.topic(), m.partition(), m.offset() + 1);
            }
            Some(Err(e)) => warn!(error = %e, "changelog read failed"),
            None => {}
        }
        if rebuilding {
            // The rebuild is over when the reader's progress reaches the end offsets.
            let left = progress.short_of(&ends);
            if left == 0 {
                finish(records, true);
                rebuilding = false;
            } else if started.elapsed() > deadline {
                warn!(
                    records,
                    partitions_left = left,
                    "dedup rebuild deadline passed; continuing with a partial index"
                );
                finish(records, false);
                rebuilding = false;
            } else if last_log.elapsed() > Duration::from_secs(5) {
                info!(
                    records,
                    partitions_left = left,
                    "dedup index rebuild in progress"
                );
                last_log = Instant::now();
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod progress_tests {
    use super::*;

    #[test]
    fn hand_over_waits_until_the_tail_reaches_the_targets() {
        let p = Arc::new(TailProgress::default());
        p.advance("out", 0, 5);
        p.advance("out", 1, 0);
        p.advance("dlq", 0, 2);
        p.advance("out", 0, 3); // never backwards
        let mut parts = p.partitions();
        parts.sort();
        assert_eq!(
            parts,
            [("dlq".into(), 0), ("out".into(), 0), ("out".into(), 1)]
        );
        let soon = || Instant::now() + Duration::from_millis(30);
        assert_eq!(
            p.wait_for(&[("out".into(), 0, 5), ("dlq".into(), 0, 2)], soon()),
            0
        );
        // Short of the target, and a partition never read: both reported at the deadline.
        let targets = [
            ("out".into(), 1, 4),
            ("out".into(), 7, 1),
            ("out".into(), 0, 5),
        ];
        assert_eq!(p.wait_for(&targets, soon()), 2);
        // A reader advancing on another thread wakes the waiter.
        let reader = p.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            reader.advance("out", 1, 4);
        });
        let started = Instant::now();
        let left = p.wait_for(&[("out".into(), 1, 4)], started + Duration::from_secs(10));
        assert_eq!(left, 0);
        assert!(started.elapsed() < Duration::from_secs(5));
        t.join().unwrap();
    }
}
