//! Composes the stages into one synchronous call per message:
//! decode → normalize → fingerprint → dedup check (the only shared state, held briefly)
//! → enrich → serialize. Returns what to do with the message; Kafka lives elsewhere.

use std::sync::Mutex;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::decode::{decode, DecodeLimits};
use crate::dedup::{
    fingerprint, DedupOptions, Deduper, DuplicateKind, PublishedFingerprint, Verdict,
};
use crate::enrich::{EnrichOptions, Enricher};
use crate::metrics::{Metrics, Stage};
use crate::model::{Ingest, Record};
use crate::normalize::{normalize, NormalizeOptions};

/// Version string written into every record's `ingest.pipeline`.
pub const PIPELINE_VERSION: &str = concat!("newsflow/", env!("CARGO_PKG_VERSION"));

/// Room for a record's fields other than its texts (ids, URLs, dates, entities, keywords,
/// fingerprints, ingest), so serialization seldom grows its buffer.
const RECORD_OVERHEAD_BYTES: usize = 4096;

/// Where a message came from.
#[derive(Debug, Clone)]
pub struct SourceMeta<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    pub received_at: DateTime<Utc>,
}

/// What to do with one input message.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Publish `payload` (a JSON record) to the output topic under `key` (the article id).
    Publish {
        key: String,
        payload: Vec<u8>,
        revision: u32,
    },
    /// Do not publish; `notice` is the JSON for the duplicates topic when one is configured.
    Duplicate {
        kind: DuplicateKind,
        of: String,
        notice: Option<Vec<u8>>,
    },
    /// Send the original bytes to the dead-letter topic with this reason.
    DeadLetter {
        reason: &'static str,
        detail: String,
    },
}

#[derive(Debug, Clone, Default)]
pub struct PipelineOptions {
    pub decode: DecodeLimits,
    pub normalize: NormalizeOptions,
    pub dedup: DedupOptions,
    pub enrich: EnrichOptions,
    /// Build the duplicate notice (only when a duplicates topic is configured).
    pub duplicate_notices: bool,
}

pub struct Pipeline {
    opts: PipelineOptions,
    dead_letters: Mutex<DeadLetterPositions>,
    /// `Deduper::evictions()` already counted into the metric.
    evictions_seen: std::sync::atomic::AtomicU64,
    deduper: Mutex<Deduper>,
    enricher: Enricher,
    metrics: Metrics,
}

/// Source positions of dead letters, oldest evicted first beyond a fixed budget.
#[derive(Debug, Default)]
struct DeadLetterPositions {
    set: std::collections::HashSet<(String, i32, i64)>,
    order: std::collections::VecDeque<(String, i32, i64)>,
}

impl DeadLetterPositions {
    const MAX: usize = 1_000_000;

    fn insert(&mut self, topic: &str, partition: i32, offset: i64) -> bool {
        let key = (topic.to_owned(), partition, offset);
        if !self.set.insert(key.clone()) {
            return false;
        }
        self.order.push_back(key);
        if self.order.len() > Self::MAX {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }
}

/// The JSON written to the duplicates topic.
#[derive(Serialize)]
struct DuplicateNotice<'a> {
    schema_version: u32,
    id: &'a str,
    duplicate_of: &'a str,
    kind: &'static str,
    similarity: Option<f64>,
    url: Option<&'a str>,
    title: &'a str,
    ingest: &'a Ingest,
}

impl Pipeline {
    pub fn new(opts: PipelineOptions, metrics: Metrics) -> anyhow::Result<Pipeline> {
        let enricher = Enricher::new(opts.enrich.clone())?;
        let deduper = Deduper::new(opts.dedup.clone());
        metrics.dedup_capacity.set(opts.dedup.max_entries as i64);
        Ok(Pipeline {
            opts,
            dead_letters: Mutex::default(),
            evictions_seen: Default::default(),
            deduper: Mutex::new(deduper),
            enricher,
            metrics,
        })
    }

    fn timed<T>(&self, stage: Stage, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let out = f();
        self.metrics
            .observe_stage(stage, start.elapsed().as_secs_f64());
        out
    }

    /// Feeds a record read back from the output topic (start-up rebuild, or another
    /// replica's output) into the dedup index. Returns false for a payload that is not a
    /// record.
    pub fn remember(&self, payload: &[u8], now: DateTime<Utc>) -> bool {
        let Some(p) = PublishedFingerprint::from_record_slice(payload) else {
            return false;
        };
        let mut index = self.deduper.lock().unwrap_or_else(|p| p.into_inner());
        index.remember(&p, now);
        self.index_metrics(&index);
        true
    }

    /// Index size, memory and evictions into metrics; called with the index locked.
    fn index_metrics(&self, index: &Deduper) {
        self.metrics.dedup_entries.set(index.len() as i64);
        self.metrics.dedup_bytes.set(index.approx_bytes() as i64);
        let evictions = index.evictions();
        let before = self
            .evictions_seen
            .swap(evictions, std::sync::atomic::Ordering::Relaxed);
        self.metrics
            .dedup_evictions
            .inc_by(evictions.saturating_sub(before));
    }

    /// Notes that the message at this source position is in the dead-letter topic.
    /// Returns false when it was already known.
    pub fn remember_dead_letter(&self, topic: &str, partition: i32, offset: i64) -> bool {
        self.dead_letters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(topic, partition, offset)
    }

    /// Runs every stage on one message. Never panics on any input.
    pub fn process(&self, payload: &[u8], meta: &SourceMeta<'_>, now: DateTime<Utc>) -> Outcome {
        let raw = match self.timed(Stage::Decode, || decode(payload, &self.opts.decode)) {
            Ok(raw) => raw,
            Err(e) => {
                return Outcome::DeadLetter {
                    reason: e.code(),
                    detail: e.to_string(),
                }
            }
        };
        let article = match self.timed(Stage::Normalize, || {
            normalize(raw, &self.opts.normalize, now)
        }) {
            Ok(a) => a,
            Err(e) => {
                return Outcome::DeadLetter {
                    reason: e.code(),
                    detail: e.to_string(),
                }
            }
        };
        for w in &article.warnings {
            self.metrics.record_normalize_warning(*w);
        }
        let ingest = Ingest {
            topic: meta.topic.to_owned(),
            partition: meta.partition,
            offset: meta.offset,
            received_at: meta.received_at,
            processed_at: now,
            pipeline: PIPELINE_VERSION.to_owned(),
            format: article.format,
        };
        let (fp, verdict) = self.timed(Stage::Dedup, || {
            let fp = fingerprint(&article);
            // The window runs on publication time; an article published before the window
            // (a backfill) or with no date is placed at its ingest time instead, so it is
            // still deduplicated against copies arriving now.
            let event_time = article
                .published_at
                .filter(|p| *p > now - self.opts.dedup.window)
                .unwrap_or(meta.received_at);
            let mut index = self.deduper.lock().unwrap_or_else(|p| p.into_inner());
            let verdict = index.check(&fp, event_time, now);
            self.index_metrics(&index);
            (fp, verdict)
        });
        let revision = match verdict {
            Verdict::Unique => 1,
            Verdict::Revision { revision } => revision,
            Verdict::Duplicate {
                kind,
                of,
                similarity,
            } => {
                let notice = self.opts.duplicate_notices.then(|| {
                    serde_json::to_vec(&DuplicateNotice {
                        schema_version: crate::model::SCHEMA_VERSION,
                        id: &article.id,
                        duplicate_of: &of,
                        kind: kind.as_str(),
                        similarity,
                        url: article.url.as_deref(),
                        title: &article.title,
                        ingest: &ingest,
                    })
                    .expect("notice serializes")
                });
                return Outcome::Duplicate { kind, of, notice };
            }
        };
        let enrichment = self.timed(Stage::Enrich, || self.enricher.enrich(&article));
        let record = Record::assemble(article, enrichment, fp.to_record(), revision, ingest);
        self.timed(Stage::Serialize, || {
            // Sized once for the whole record: growing from empty reallocated and copied
            // the buffer five or six times per record.
            let text = record.body.len()
                + record.title.len()
                + record.summary.as_ref().map_or(0, String::len);
            let mut payload = Vec::with_capacity(text + text / 16 + RECORD_OVERHEAD_BYTES);
            serde_json::to_writer(&mut payload, &record).expect("records always serialize");
            Outcome::Publish {
                key: record.id,
                payload,
                revision,
            }
        })
    }
}
