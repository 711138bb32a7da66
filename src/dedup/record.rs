//! The dedup fields of a published record, both ways: `ArticleFingerprint::to_record` writes
//! the record's `fingerprints` object, and [`PublishedFingerprint`] reads back everything the
//! index needs from a record taken off the output topic (rebuild at start-up, tailing other
//! replicas' output).
//!
//! Invariant: `PublishedFingerprint::from_record_*` of a record built from a fingerprint
//! gives back that fingerprint, so remembering one's own output changes nothing.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::minhash::{NearFingerprint, BANDS, BAND_CHOICES, SCHEME, SKETCH_BITS, SKETCH_WORDS};
use super::ArticleFingerprint;
use crate::model::{Fingerprints, MinHashFingerprint};

impl ArticleFingerprint {
    pub fn to_record(&self) -> Fingerprints {
        Fingerprints {
            content_hash: format!("{:032x}", self.content_hash),
            simhash: format!("{:016x}", self.simhash),
            minhash: self.near.map(|near| MinHashFingerprint {
                scheme: SCHEME,
                words: self.words,
                bands: near
                    .bands
                    .iter()
                    .flatten()
                    .map(|b| format!("{b:08x}"))
                    .collect(),
                sketch: near.sketch.iter().map(|w| format!("{w:016x}")).collect(),
            }),
        }
    }
}

/// A published article as the dedup index needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedFingerprint {
    pub fingerprint: ArticleFingerprint,
    /// The record's `revision` (1 for a first version).
    pub revision: u32,
    /// `published_at`, or `ingest.received_at` when the article had no publication time.
    pub event_time: DateTime<Utc>,
    /// `ingest.received_at`: where the window places an article published before it (a
    /// backfill), as the pipeline does when it checks one.
    pub received_at: DateTime<Utc>,
}

/// The fields of a record that dedup reads; everything else is skipped unparsed.
#[derive(Deserialize)]
struct RecordView<'a> {
    #[serde(borrow)]
    id: &'a str,
    revision: u32,
    url: Option<&'a str>,
    published_at: Option<&'a str>,
    modified_at: Option<&'a str>,
    ingest: IngestView<'a>,
    fingerprints: FingerprintsView<'a>,
}

#[derive(Deserialize)]
struct IngestView<'a> {
    #[serde(borrow)]
    received_at: &'a str,
}

#[derive(Deserialize)]
struct FingerprintsView<'a> {
    #[serde(borrow)]
    content_hash: &'a str,
    simhash: &'a str,
    minhash: Option<MinHashView<'a>>,
}

#[derive(Deserialize)]
struct MinHashView<'a> {
    scheme: u32,
    words: u32,
    #[serde(borrow)]
    bands: Vec<&'a str>,
    sketch: &'a str,
}

impl PublishedFingerprint {
    /// Reads a record's JSON value; `None` when a field dedup needs is missing or malformed.
    pub fn from_record_json(record: &serde_json::Value) -> Option<Self> {
        fn text(v: &serde_json::Value) -> Option<&str> {
            v.as_str()
        }
        let fp = &record["fingerprints"];
        let minhash = match &fp["minhash"] {
            serde_json::Value::Null => None,
            m => Some(MinHashView {
                scheme: u32::try_from(m["scheme"].as_u64()?).ok()?,
                words: u32::try_from(m["words"].as_u64()?).ok()?,
                bands: m["bands"]
                    .as_array()?
                    .iter()
                    .map(text)
                    .collect::<Option<_>>()?,
                sketch: text(&m["sketch"])?,
            }),
        };
        Self::from_view(RecordView {
            id: text(&record["id"])?,
            revision: u32::try_from(record["revision"].as_u64()?).ok()?,
            url: text(&record["url"]),
            published_at: text(&record["published_at"]),
            modified_at: text(&record["modified_at"]),
            ingest: IngestView {
                received_at: text(&record["ingest"]["received_at"])?,
            },
            fingerprints: FingerprintsView {
                content_hash: text(&fp["content_hash"])?,
                simhash: text(&fp["simhash"])?,
                minhash,
            },
        })
    }

    /// Reads a record's JSON bytes (a message from the output topic) without building a
    /// JSON tree; `None` when it is not a record or a field dedup needs is malformed.
    pub fn from_record_slice(bytes: &[u8]) -> Option<Self> {
        Self::from_view(serde_json::from_slice(bytes).ok()?)
    }

    fn from_view(r: RecordView<'_>) -> Option<Self> {
        let time = |t: &str| {
            DateTime::parse_from_rfc3339(t)
                .ok()
                .map(|t| t.with_timezone(&Utc))
        };
        let published_at = r.published_at.map(time);
        let received_at = time(r.ingest.received_at)?;
        let event_time = match published_at {
            Some(t) => t?,
            None => received_at,
        };
        let modified_at = match r.modified_at {
            Some(t) => Some(time(t)?),
            None => None,
        };
        let (words, near) = match r.fingerprints.minhash {
            Some(m) if m.scheme == SCHEME => (m.words, parse_near(&m)),
            Some(m) => (m.words, None),
            None => (0, None),
        };
        Some(PublishedFingerprint {
            fingerprint: ArticleFingerprint {
                id: parse_hex_u128(r.id, 32)?,
                has_url: r.url.is_some(),
                content_hash: parse_hex_u128(r.fingerprints.content_hash, 32)?,
                simhash: u64::try_from(parse_hex_u128(r.fingerprints.simhash, 16)?).ok()?,
                words,
                near,
                modified_at,
            },
            revision: r.revision.max(1),
            event_time,
            received_at,
        })
    }
}

fn parse_near(m: &MinHashView<'_>) -> Option<NearFingerprint> {
    if m.bands.len() != BANDS * BAND_CHOICES || m.sketch.len() != SKETCH_BITS / 4 {
        return None;
    }
    let mut bands = [[0u32; BAND_CHOICES]; BANDS];
    for (b, text) in bands.iter_mut().flatten().zip(&m.bands) {
        *b = u32::try_from(parse_hex_u128(text, 8)?).ok()?;
    }
    let mut sketch = [0u64; SKETCH_WORDS];
    for (i, w) in sketch.iter_mut().enumerate() {
        let digits = m.sketch.get(16 * i..16 * (i + 1))?;
        *w = u64::try_from(parse_hex_u128(digits, 16)?).ok()?;
    }
    Some(NearFingerprint { bands, sketch })
}

/// Exactly `digits` hex digits.
fn parse_hex_u128(text: &str, digits: usize) -> Option<u128> {
    if text.len() != digits || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u128::from_str_radix(text, 16).ok()
}
