//! Dedup stage: decides whether a normalized article was already published within the
//! window. `fingerprint` is pure and runs outside any lock; `Deduper::check` is the short
//! critical section (hash lookups and inserts only).
//!
//! Window: bounded by age (on publication time, ingest time as fallback) and by entry count;
//! eviction is oldest-first and counted.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use crate::model::{Article, Fingerprints};
use crate::normalize::fold;

#[derive(Debug, Clone)]
pub struct DedupOptions {
    pub window: Duration,
    pub max_entries: usize,
}

impl Default for DedupOptions {
    fn default() -> Self {
        DedupOptions {
            window: Duration::days(7),
            max_entries: 1_000_000,
        }
    }
}

/// Everything dedup needs from an article, computed without holding the index.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleFingerprint {
    /// The article id (derived from the canonical URL when there is one).
    pub id: u128,
    pub has_url: bool,
    pub content_hash: u128,
    pub simhash: u64,
}

impl ArticleFingerprint {
    pub fn to_record(&self) -> Fingerprints {
        Fingerprints {
            content_hash: format!("{:032x}", self.content_hash),
            simhash: format!("{:016x}", self.simhash),
        }
    }
}

pub fn fingerprint(article: &Article) -> ArticleFingerprint {
    let folded = fold(&article.body);
    let digest = Sha256::digest(folded.as_bytes());
    let content_hash = u128::from_be_bytes(digest[..16].try_into().expect("16 bytes"));
    let id = u128::from_str_radix(&article.id, 16).unwrap_or(content_hash);
    ArticleFingerprint {
        id,
        has_url: article.url.is_some(),
        content_hash,
        simhash: simhash(&folded),
    }
}

/// 64-bit SimHash over 3-word shingles of folded text.
pub fn simhash(folded: &str) -> u64 {
    let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
    let mut acc = [0i32; 64];
    let mut add = |h: u64| {
        for (bit, a) in acc.iter_mut().enumerate() {
            *a += if h >> bit & 1 == 1 { 1 } else { -1 };
        }
    };
    if words.len() < 3 {
        words.iter().for_each(|w| add(hash64(w.as_bytes())));
    } else {
        for w in words.windows(3) {
            add(hash64(w.join(" ").as_bytes()));
        }
    }
    acc.iter()
        .enumerate()
        .fold(0u64, |h, (bit, a)| if *a > 0 { h | 1 << bit } else { h })
}

fn hash64(bytes: &[u8]) -> u64 {
    // FNV-1a then a finalizer: cheap, stable across versions and platforms.
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51afd7ed558ccd);
    h ^ (h >> 33)
}

/// What the index keeps of a published record, read back from the output topic.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedFingerprint {
    pub fp: ArticleFingerprint,
    pub event_time: Option<DateTime<Utc>>,
}

impl PublishedFingerprint {
    /// Parses the fields the index needs from a published record; `None` when absent.
    pub fn from_record_json(v: &serde_json::Value) -> Option<PublishedFingerprint> {
        let id = u128::from_str_radix(v.get("id")?.as_str()?, 16).ok()?;
        let fps = v.get("fingerprints")?;
        let content_hash = u128::from_str_radix(fps.get("content_hash")?.as_str()?, 16).ok()?;
        let simhash = u64::from_str_radix(fps.get("simhash")?.as_str()?, 16).ok()?;
        let event_time = v
            .get("published_at")
            .and_then(|t| t.as_str())
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc));
        let has_url = v.get("url").is_some_and(|u| u.is_string());
        Some(PublishedFingerprint {
            fp: ArticleFingerprint {
                id,
                has_url,
                content_hash,
                simhash,
            },
            event_time,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DuplicateKind {
    Url,
    Content,
    Near,
}

impl DuplicateKind {
    pub const ALL: [DuplicateKind; 3] = [Self::Url, Self::Content, Self::Near];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Url => "url",
            Self::Content => "content",
            Self::Near => "near",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Publish as revision 1.
    Unique,
    /// Publish again under the same id with this revision number.
    Revision { revision: u32 },
    /// Do not publish; `of` is the id of the article it matched.
    Duplicate {
        kind: DuplicateKind,
        of: String,
        similarity: Option<f64>,
    },
}

#[derive(Debug)]
struct Entry {
    content_hash: u128,
    at: DateTime<Utc>,
}

/// The in-memory window of what was published.
#[derive(Debug)]
pub struct Deduper {
    opts: DedupOptions,
    by_id: HashMap<u128, Entry>,
    by_content: HashMap<u128, u128>,
    /// Insertion order for oldest-first eviction: (event time, id).
    order: VecDeque<(DateTime<Utc>, u128)>,
    evictions: u64,
}

impl Deduper {
    pub fn new(opts: DedupOptions) -> Self {
        Deduper {
            opts,
            by_id: HashMap::new(),
            by_content: HashMap::new(),
            order: VecDeque::new(),
            evictions: 0,
        }
    }

    /// Decides and, unless a duplicate, records the article. `event_time` is the
    /// publication time (or ingest time when unknown); `now` is the clock.
    pub fn check(
        &mut self,
        fp: &ArticleFingerprint,
        event_time: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Verdict {
        self.evict(now);
        if fp.has_url && self.by_id.contains_key(&fp.id) {
            return Verdict::Duplicate {
                kind: DuplicateKind::Url,
                of: format!("{:032x}", fp.id),
                similarity: None,
            };
        }
        if let Some(of) = self.by_content.get(&fp.content_hash) {
            return Verdict::Duplicate {
                kind: DuplicateKind::Content,
                of: format!("{of:032x}"),
                similarity: None,
            };
        }
        self.by_id.insert(
            fp.id,
            Entry {
                content_hash: fp.content_hash,
                at: event_time,
            },
        );
        self.by_content.insert(fp.content_hash, fp.id);
        self.order.push_back((event_time, fp.id));
        Verdict::Unique
    }

    /// Adds a record published earlier (by this or another replica). Idempotent.
    pub fn remember(&mut self, p: &PublishedFingerprint, now: DateTime<Utc>) {
        let at = p
            .event_time
            .filter(|t| *t > now - self.opts.window)
            .unwrap_or(now);
        if self.by_id.contains_key(&p.fp.id) {
            return;
        }
        self.by_id.insert(
            p.fp.id,
            Entry {
                content_hash: p.fp.content_hash,
                at,
            },
        );
        self.by_content.entry(p.fp.content_hash).or_insert(p.fp.id);
        self.order.push_back((at, p.fp.id));
        self.evict(now);
    }

    fn evict(&mut self, now: DateTime<Utc>) {
        let horizon = now - self.opts.window;
        while let Some(&(at, id)) = self.order.front() {
            if at >= horizon && self.order.len() <= self.opts.max_entries {
                break;
            }
            self.order.pop_front();
            if let Some(e) = self.by_id.get(&id) {
                if e.at == at {
                    let e = self.by_id.remove(&id).expect("present");
                    self.by_content.remove(&e.content_hash);
                }
            }
            self.evictions += 1;
        }
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub fn evictions(&self) -> u64 {
        self.evictions
    }
}
