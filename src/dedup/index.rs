//! The window of published articles: a ring of fixed-size entries in insertion order (so
//! eviction is oldest-first and O(1)) and three [`TagTable`]s from id, content hash and
//! MinHash band keys to ring slots.
//!
//! Memory is reserved for `max_entries` up front; at capacity an article costs one 64-byte
//! entry plus about 5 bytes per table key (2 exact keys + `BANDS` band keys).

use std::mem::size_of;

use chrono::{DateTime, Utc};

use super::minhash::{mix64, NearFingerprint, BANDS, SKETCH_WORDS};
use super::table::{Liveness, Overflow, TagTable, MAX_PER_KEY as HOT_KEY};
use super::{
    id_hex, ArticleFingerprint, DedupOptions, DuplicateKind, PublishedFingerprint, RevisionPolicy,
    Verdict, MAX_ENTRIES,
};

const HAS_URL: u16 = 1;
/// The entry's band keys are in the band table and its sketch is meaningful.
const NEAR: u16 = 2;
/// Near candidates confirmed per check at most, of rare and of hot band keys each.
const MAX_NEAR_CANDIDATES: usize = 128;

const _: () = assert!(size_of::<Entry>() == 64, "an entry is one cache line");

/// One published article version: one cache line.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
struct Entry {
    id: [u32; 4],
    /// High half of the content key; the table's bucket choice and tag cover the low half.
    content: u32,
    sketch: [u32; 2 * SKETCH_WORDS],
    /// Event time, seconds since the epoch.
    event: u32,
    /// Seconds since the epoch; 0 when unknown.
    modified: u32,
    revision: u16,
    flags: u16,
}

impl Entry {
    fn id(&self) -> u128 {
        self.id
            .iter()
            .rev()
            .fold(0u128, |acc, w| acc << 32 | u128::from(*w))
    }

    fn sketch(&self) -> [u64; SKETCH_WORDS] {
        std::array::from_fn(|i| {
            u64::from(self.sketch[2 * i + 1]) << 32 | u64::from(self.sketch[2 * i])
        })
    }
}

fn secs(t: DateTime<Utc>) -> u32 {
    t.timestamp().clamp(1, i64::from(u32::MAX)) as u32
}

fn id_key(id: u128) -> u64 {
    (id as u64) ^ (id >> 64) as u64
}

fn content_key(content_hash: u128) -> u64 {
    (content_hash >> 64) as u64
}

/// Key of a band's smallest value paired with the next band's, for bands whose values are
/// all hot keys.
fn pair_key(band: usize, near: &NearFingerprint) -> u64 {
    let next = near.bands[(band + 1) % BANDS][0];
    (band as u64 + BANDS as u64) << 32
        ^ mix64(u64::from(near.bands[band][0]) << 32 | u64::from(next))
}

/// The part of the content key an entry keeps. The table places and tags keys by a mix of
/// all 64 bits, so a false match needs these 32 bits, the tag and the bucket to agree.
fn content_check(content_hash: u128) -> u32 {
    (content_hash >> 96) as u32
}

fn band_key(band: usize, value: u32) -> u64 {
    (band as u64) << 32 | u64::from(value)
}

/// Sequence numbers of near candidates, at most `MAX_NEAR_CANDIDATES`, without allocating.
struct Candidates {
    seqs: [u64; MAX_NEAR_CANDIDATES],
    n: usize,
}

impl Default for Candidates {
    fn default() -> Self {
        Candidates {
            seqs: [0; MAX_NEAR_CANDIDATES],
            n: 0,
        }
    }
}

impl Candidates {
    fn add(&mut self, seq: u64) {
        if self.n < MAX_NEAR_CANDIDATES {
            self.seqs[self.n] = seq;
            self.n += 1;
        }
    }

    /// The distinct candidates.
    fn distinct(&mut self) -> &[u64] {
        let seqs = &mut self.seqs[..self.n];
        seqs.sort_unstable();
        let mut kept = 0;
        for i in 0..seqs.len() {
            if i == 0 || seqs[i] != seqs[kept - 1] {
                seqs[kept] = seqs[i];
                kept += 1;
            }
        }
        &self.seqs[..kept]
    }
}

/// What the window knows of an article id: its highest revision and latest modification.
struct Latest {
    revision: u32,
    modified: u32,
}

/// What `decide` found; `insert` is the revision to index the article under, if any.
struct Decision {
    verdict: Verdict,
    insert: Option<u32>,
}

/// The in-memory window of what was published.
#[derive(Debug)]
pub struct Deduper {
    opts: DedupOptions,
    capacity: u64,
    ring: Vec<Entry>,
    /// Sequence number of the oldest live entry; entry `seq` is at `ring[seq % capacity]`.
    head: u64,
    /// Sequence number the next entry gets.
    tail: u64,
    by_id: TagTable,
    by_content: TagTable,
    by_band: TagTable,
    evictions: u64,
}

impl Deduper {
    pub fn new(opts: DedupOptions) -> Self {
        let capacity = opts.max_entries.clamp(1, MAX_ENTRIES);
        let slot_bits = usize::BITS - capacity.leading_zeros();
        Deduper {
            capacity: capacity as u64,
            ring: Vec::with_capacity(capacity),
            head: 0,
            tail: 0,
            by_id: TagTable::new(capacity, slot_bits, Overflow::Keep),
            by_content: TagTable::new(capacity, slot_bits, Overflow::Keep),
            by_band: TagTable::new(capacity * BANDS, slot_bits, Overflow::DropOldest),
            evictions: 0,
            opts,
        }
    }

    pub fn options(&self) -> &DedupOptions {
        &self.opts
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
        let decision = self.decide(fp);
        if let Some(revision) = decision.insert {
            self.insert(fp, event_time.min(now), revision);
        }
        decision.verdict
    }

    /// What `check` would answer, without recording anything or evicting expired entries.
    pub fn lookup(&self, fp: &ArticleFingerprint) -> Verdict {
        self.decide(fp).verdict
    }

    /// Adds an article that was published (by this replica or another), read back from the
    /// output topic. Returns whether the index changed: remembering a version already in the
    /// window (same id and body) does nothing, so replaying records is harmless.
    pub fn remember(&mut self, published: &PublishedFingerprint, now: DateTime<Utc>) -> bool {
        self.evict(now);
        let fp = &published.fingerprint;
        let horizon = now - self.opts.window;
        let event_time = if published.event_time >= horizon {
            published.event_time
        } else {
            published.received_at
        };
        if event_time < horizon {
            return false;
        }
        let live = self.liveness();
        let mut known = false;
        self.by_content
            .candidates(content_key(fp.content_hash), &live, |seq| {
                let e = self.entry(seq);
                known |= e.content == content_check(fp.content_hash) && e.id() == fp.id;
            });
        if known {
            return false;
        }
        self.insert(fp, event_time.min(now), published.revision);
        true
    }

    /// Articles in the window.
    pub fn len(&self) -> usize {
        (self.tail - self.head) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.tail == self.head
    }

    /// Articles forgotten so far, by age or to make room.
    pub fn evictions(&self) -> u64 {
        self.evictions
    }

    /// Memory reserved by the index: the entry ring and the tables, sized for `max_entries`.
    pub fn approx_bytes(&self) -> usize {
        size_of::<Self>()
            + self.ring.capacity() * size_of::<Entry>()
            + self.by_id.bytes()
            + self.by_content.bytes()
            + self.by_band.bytes()
    }

    fn liveness(&self) -> Liveness {
        Liveness::new(self.head, self.tail, self.capacity)
    }

    fn entry(&self, seq: u64) -> &Entry {
        &self.ring[(seq % self.capacity) as usize]
    }

    fn evict(&mut self, now: DateTime<Utc>) {
        let horizon = secs(now - self.opts.window);
        while self.head < self.tail && self.entry(self.head).event < horizon {
            self.head += 1;
            self.evictions += 1;
        }
    }

    fn decide(&self, fp: &ArticleFingerprint) -> Decision {
        let live = self.liveness();
        let duplicate = |kind, of: u128, similarity| Decision {
            verdict: Verdict::Duplicate {
                kind,
                of: id_hex(of),
                similarity,
            },
            insert: None,
        };
        let same_body = self.same_body(fp, &live);
        if fp.has_url {
            if let Some(latest) = self.latest(fp.id, &live) {
                return match same_body {
                    Some(of) if of == fp.id => duplicate(DuplicateKind::Url, of, None),
                    // The page now shows a body published under another URL.
                    Some(of) => duplicate(DuplicateKind::Content, of, None),
                    None if self.opts.revisions == RevisionPolicy::Drop
                        || !is_newer(fp.modified_at, latest.modified) =>
                    {
                        duplicate(DuplicateKind::Url, fp.id, None)
                    }
                    None => {
                        let revision = latest.revision.saturating_add(1);
                        Decision {
                            verdict: Verdict::Revision { revision },
                            insert: Some(revision),
                        }
                    }
                };
            }
        }
        if let Some(of) = same_body {
            return duplicate(DuplicateKind::Content, of, None);
        }
        if let Some((of, similarity)) = self.nearest(fp, &live) {
            return duplicate(DuplicateKind::Near, of, Some(similarity));
        }
        Decision {
            verdict: Verdict::Unique,
            insert: Some(1),
        }
    }

    /// The newest version of `id` in the window.
    fn latest(&self, id: u128, live: &Liveness) -> Option<Latest> {
        let mut latest: Option<Latest> = None;
        self.by_id.candidates(id_key(id), live, |seq| {
            let e = self.entry(seq);
            if e.id() == id && e.flags & HAS_URL != 0 {
                let l = latest.get_or_insert(Latest {
                    revision: 0,
                    modified: 0,
                });
                l.revision = l.revision.max(u32::from(e.revision));
                l.modified = l.modified.max(e.modified);
            }
        });
        latest
    }

    /// The id of an article in the window with the same folded body, preferring `fp.id`.
    fn same_body(&self, fp: &ArticleFingerprint, live: &Liveness) -> Option<u128> {
        let key = content_key(fp.content_hash);
        let mut found = None;
        self.by_content.candidates(key, live, |seq| {
            let e = self.entry(seq);
            if e.content == content_check(fp.content_hash) && found != Some(fp.id) {
                found = Some(e.id());
            }
        });
        found
    }

    /// The most similar near-duplicate candidate at or above the threshold. Candidates of
    /// hot keys (boilerplate shared by many articles) are only confirmed when no other
    /// candidate matches: they are many and rarely the copy's source.
    fn nearest(&self, fp: &ArticleFingerprint, live: &Liveness) -> Option<(u128, f64)> {
        let near = fp.near.as_ref()?;
        if (fp.words as usize) < self.opts.min_words_for_near {
            return None;
        }
        let mut touched = 0;
        for (band, values) in near.bands.iter().enumerate() {
            for &value in values {
                touched ^= self.by_band.touch(band_key(band, value));
            }
            touched ^= self.by_band.touch(pair_key(band, near));
        }
        std::hint::black_box(touched);
        let mut rare = Candidates::default();
        let mut hot = Candidates::default();
        let mut key_seqs = [0u64; 2 * HOT_KEY];
        for (band, values) in near.bands.iter().enumerate() {
            for &value in values.iter().filter(|&&v| v != u32::MAX) {
                let mut n = 0;
                self.by_band.candidates(band_key(band, value), live, |seq| {
                    if n < key_seqs.len() {
                        key_seqs[n] = seq;
                        n += 1;
                    }
                });
                let into = if n >= HOT_KEY { &mut hot } else { &mut rare };
                key_seqs[..n].iter().for_each(|&seq| into.add(seq));
            }
            self.by_band
                .candidates(pair_key(band, near), live, |seq| rare.add(seq));
        }
        self.best(near, rare.distinct())
            .or_else(|| self.best(near, hot.distinct()))
    }

    fn best(&self, near: &NearFingerprint, seqs: &[u64]) -> Option<(u128, f64)> {
        seqs.iter()
            .map(|&seq| self.entry(seq))
            .filter(|e| e.flags & NEAR != 0)
            .map(|e| {
                let other = NearFingerprint {
                    bands: near.bands,
                    sketch: e.sketch(),
                };
                (e.id(), near.similarity(&other))
            })
            .filter(|&(_, s)| s >= self.opts.near_threshold)
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }

    fn insert(&mut self, fp: &ArticleFingerprint, event_time: DateTime<Utc>, revision: u32) {
        if self.tail - self.head == self.capacity {
            self.head += 1;
            self.evictions += 1;
        }
        let near = fp
            .near
            .filter(|_| fp.words as usize >= self.opts.min_words_for_near);
        let sketch = near.map_or([0; SKETCH_WORDS], |n| n.sketch);
        let entry = Entry {
            id: std::array::from_fn(|i| (fp.id >> (32 * i)) as u32),
            content: content_check(fp.content_hash),
            sketch: std::array::from_fn(|i| (sketch[i / 2] >> (32 * (i % 2))) as u32),
            event: secs(event_time),
            modified: fp.modified_at.map_or(0, secs),
            revision: u16::try_from(revision).unwrap_or(u16::MAX),
            flags: if fp.has_url { HAS_URL } else { 0 } | if near.is_some() { NEAR } else { 0 },
        };
        let seq = self.tail;
        let slot = (seq % self.capacity) as usize;
        if slot == self.ring.len() {
            self.ring.push(entry);
        } else {
            self.ring[slot] = entry;
        }
        self.tail += 1;
        let live = self.liveness();
        self.by_id.insert(id_key(fp.id), seq, &live);
        self.by_content
            .insert(content_key(fp.content_hash), seq, &live);
        if let Some(near) = near {
            for (band, values) in near.bands.iter().enumerate() {
                // Boilerplate makes some band values common: index under the first value whose
                // key is not hot yet, and none if all are (displacing a hot key's members
                // would unlink articles that chose it while it was still rare).
                let stored = values
                    .iter()
                    .filter(|&&v| v != u32::MAX)
                    .any(|&v| self.by_band.insert(band_key(band, v), seq, &live));
                if !stored {
                    // All common: pair the band's value with the next band's, which two
                    // copies share with probability J² and unrelated articles rarely.
                    let key = pair_key(band, &near);
                    self.by_band.insert(key, seq, &live);
                }
            }
        }
    }
}

/// Whether a changed body with this modification time supersedes the last published version.
fn is_newer(modified_at: Option<DateTime<Utc>>, last_modified: u32) -> bool {
    match modified_at {
        Some(m) if last_modified != 0 => secs(m) > last_modified,
        _ => true,
    }
}
