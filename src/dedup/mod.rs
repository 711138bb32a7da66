//! Dedup stage: decides whether a normalized article was already published within the
//! window: same canonical URL (or a revision of it), same folded body under another URL, or
//! a near duplicate found through MinHash band keys and confirmed by a 1-bit MinHash sketch.
//! `fingerprint` is pure and runs outside any lock; `Deduper::check` is the short critical
//! section (a few cache lines of index per article, no text processing).
//!
//! The window is bounded by age (publication time, ingest time as fallback) and by entry
//! count; eviction is oldest-first and counted. Every published record carries the
//! fingerprints the index needs, so a replica rebuilds its window from the output topic
//! ([`PublishedFingerprint`], [`Deduper::remember`]).
//!
//! Layout: [`minhash`] computes text fingerprints, `index` holds the window (a ring of
//! fixed-size entries and `table`s of packed slot numbers), [`record`] converts to and from
//! the published record, [`eval`] measures it all on a generated, labelled corpus.

pub mod eval;
mod eval_corpus;
mod eval_text;
mod index;
pub mod minhash;
pub mod record;
mod table;

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::model::Article;
use crate::normalize::fold;

pub use index::Deduper;
pub use minhash::NearFingerprint;
pub use record::PublishedFingerprint;

/// What to do with a changed article under a URL already published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RevisionPolicy {
    /// Publish it again under the same id with the revision number incremented.
    #[default]
    Publish,
    /// Treat it as a duplicate of kind `url`.
    Drop,
}

#[derive(Debug, Clone)]
pub struct DedupOptions {
    /// Articles whose event time is older than this are forgotten.
    pub window: Duration,
    /// Most articles held; the oldest is forgotten to make room. At most [`MAX_ENTRIES`].
    pub max_entries: usize,
    pub revisions: RevisionPolicy,
    /// Bodies with fewer folded words are matched exactly only: their MinHash is unreliable.
    pub min_words_for_near: usize,
    /// Estimated Jaccard similarity of 3-word shingles from which a body is a near duplicate.
    pub near_threshold: f64,
}

/// Largest `max_entries`: slot numbers are packed into 26 bits of the index tables.
pub const MAX_ENTRIES: usize = (1 << 26) - 1;

impl Default for DedupOptions {
    fn default() -> Self {
        DedupOptions {
            window: Duration::days(7),
            max_entries: 1_000_000,
            revisions: RevisionPolicy::Publish,
            min_words_for_near: 50,
            near_threshold: 0.6,
        }
    }
}

impl DedupOptions {
    /// Explains every setting that is out of range.
    pub fn validate(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        if self.window <= Duration::zero() {
            problems.push("dedup window must be positive".to_owned());
        }
        if self.max_entries == 0 || self.max_entries > MAX_ENTRIES {
            problems.push(format!("dedup max_entries must be in 1..={MAX_ENTRIES}"));
        }
        if !(self.near_threshold > 0.0 && self.near_threshold <= 1.0) {
            problems.push("dedup near_threshold must be in (0, 1]".to_owned());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }
}

/// Everything dedup needs from an article, computed without holding the index.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleFingerprint {
    /// The article id (derived from the canonical URL when there is one).
    pub id: u128,
    pub has_url: bool,
    /// First 128 bits of the SHA-256 of the folded body.
    pub content_hash: u128,
    pub simhash: u64,
    /// Words in the folded body; near matching needs `DedupOptions::min_words_for_near`.
    pub words: u32,
    /// `None` when the body has no word, or for a record of another MinHash scheme.
    pub near: Option<NearFingerprint>,
    /// Revisions are published only when this is newer than the last one's (or unknown).
    pub modified_at: Option<DateTime<Utc>>,
}

/// Computes the fingerprints of an article. Pure; the expensive part of dedup.
pub fn fingerprint(article: &Article) -> ArticleFingerprint {
    let folded = fold(&article.body);
    let digest = Sha256::digest(folded.as_bytes());
    let content_hash = u128::from_be_bytes(digest[..16].try_into().expect("16 bytes"));
    let id = u128::from_str_radix(&article.id, 16).unwrap_or(content_hash);
    let text = minhash::text_fingerprint(&folded);
    ArticleFingerprint {
        id,
        has_url: article.url.is_some(),
        content_hash,
        simhash: text.simhash,
        words: text.words,
        near: text.near,
        modified_at: article.modified_at,
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

/// An article id as written in records: 32 lower-case hex digits.
pub fn id_hex(id: u128) -> String {
    format!("{id:032x}")
}

#[cfg(test)]
mod tests;
