//! The values that flow between the stages: `RawArticle` (decode) → `Article` (normalize)
//! → `Record` (enrich + dedup fingerprints + ingest metadata, the published contract).
//!
//! The output contract is `schemas/article-record.v1.json`; every field of `Record` is
//! described there and every record the tests produce is validated against it.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize, Serializer};

/// Version of the record contract in `schemas/`. Bumped only on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// Which input layout a message was decoded from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputFormat {
    Json,
    Text,
}

/// A date as the producer wrote it: text in one of many formats, or epoch seconds/millis.
#[derive(Debug, Clone, PartialEq)]
pub enum RawDate {
    Text(String),
    /// A JSON number; seconds or milliseconds since the epoch (told apart by magnitude).
    Epoch(f64),
}

/// An article as found in the message, fields still as the producer wrote them.
#[derive(Debug, Clone, PartialEq)]
pub struct RawArticle {
    pub format: InputFormat,
    pub title: String,
    pub url: Option<String>,
    pub summary: Option<String>,
    /// May hold HTML (JSON input) or blank-line separated paragraphs (text input).
    pub body: String,
    pub published: Option<RawDate>,
    pub modified: Option<RawDate>,
    /// Author strings as given: a byline ("By Jane Doe and John Roe") or one name each.
    pub authors: Vec<String>,
    pub source_name: Option<String>,
    /// A URL or domain given for the source (e.g. `{"source": {"url": …}}`).
    pub source_url: Option<String>,
    pub language: Option<String>,
    pub tags: Vec<String>,
    pub upstream_id: Option<String>,
}

impl RawArticle {
    /// An article with only the required fields set; the rest empty.
    pub fn new(format: InputFormat, title: impl Into<String>, body: impl Into<String>) -> Self {
        RawArticle {
            format,
            title: title.into(),
            url: None,
            summary: None,
            body: body.into(),
            published: None,
            modified: None,
            authors: Vec::new(),
            source_name: None,
            source_url: None,
            language: None,
            tags: Vec::new(),
            upstream_id: None,
        }
    }
}

/// Something normalization noticed and corrected or refused; counted in metrics, not fatal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NormalizeWarning {
    /// A date that parsed but lies before 1990 or more than a day in the future.
    ImplausibleDate,
    /// A date in no format we know.
    UnparseableDate,
}

impl NormalizeWarning {
    pub const ALL: [NormalizeWarning; 2] = [Self::ImplausibleDate, Self::UnparseableDate];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ImplausibleDate => "implausible_date",
            Self::UnparseableDate => "unparseable_date",
        }
    }
}

/// A normalized article: clean text, canonical URL, UTC dates. Input to dedup and enrich.
#[derive(Debug, Clone, PartialEq)]
pub struct Article {
    pub format: InputFormat,
    /// Stable hex id: from the canonical URL, or from the content when there is no URL.
    pub id: String,
    pub url: Option<String>,
    pub original_url: Option<String>,
    pub title: String,
    pub summary: Option<String>,
    /// Paragraphs joined by a blank line ("\n\n"); no markup, no control characters.
    pub body: String,
    pub published_at: Option<DateTime<Utc>>,
    pub modified_at: Option<DateTime<Utc>>,
    pub authors: Vec<String>,
    /// Full host of the canonical URL (or of the source URL), lower case, punycode.
    pub host: Option<String>,
    /// Registrable domain of `host` (public suffix list).
    pub domain: Option<String>,
    pub source_name: Option<String>,
    /// The producer's language hint, normalized to ISO 639-1 when recognisable.
    pub language_hint: Option<String>,
    pub tags: Vec<String>,
    pub upstream_id: Option<String>,
    pub warnings: Vec<NormalizeWarning>,
}

/// Serializes an optional timestamp as RFC 3339 UTC with a `Z` suffix, seconds precision.
fn ser_opt_time<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Secs, true)),
        None => s.serialize_none(),
    }
}

fn ser_time<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Source {
    pub domain: Option<String>,
    pub host: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Language {
    /// ISO 639-1, or null when detection is unreliable.
    pub code: Option<String>,
    pub confidence: f64,
    /// What the producer said, normalized to ISO 639-1 where recognisable.
    pub hint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub words: u64,
    pub characters: u64,
    pub paragraphs: u64,
    pub sentences: u64,
    pub reading_time_seconds: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Country {
    /// ISO 3166-1 alpha-2.
    pub code: String,
    pub name: String,
    pub mentions: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Organization {
    pub name: String,
    pub acronym: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Entities {
    pub countries: Vec<Country>,
    pub organizations: Vec<Organization>,
}

/// What the enrich stage computes from an `Article`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Enrichment {
    pub language: Language,
    pub stats: Stats,
    pub entities: Entities,
    pub keywords: Vec<String>,
    /// Publisher name from the input or the domain→publisher map.
    pub source_name: Option<String>,
}

/// What dedup needs to recognise the article again; read back from the output topic to
/// rebuild the dedup window after a restart and to share it between replicas.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fingerprints {
    /// Hex digest of the folded body (lower case, NFKC, punctuation-insensitive).
    pub content_hash: String,
    /// 64-bit SimHash over word shingles of the folded body, 16 hex digits.
    pub simhash: String,
    /// Near-duplicate fingerprint; null only for a body without words.
    pub minhash: Option<MinHashFingerprint>,
}

/// MinHash of the folded body's 3-word shingles (see `dedup::minhash`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MinHashFingerprint {
    /// Version of the computation; other schemes are ignored for near matching.
    pub scheme: u32,
    /// Words in the folded body (near matching skips short bodies).
    pub words: u32,
    /// Band keys, 8 hex digits each: for each band in turn, its smallest hash values.
    pub bands: Vec<String>,
    /// 1-bit MinHash sketch, hex (4 bits per digit).
    pub sketch: String,
}

/// Where and when the record was read and made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ingest {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    #[serde(serialize_with = "ser_time")]
    pub received_at: DateTime<Utc>,
    #[serde(serialize_with = "ser_time")]
    pub processed_at: DateTime<Utc>,
    pub pipeline: String,
    pub format: InputFormat,
}

/// One published record: the output contract (`schemas/article-record.v1.json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    pub schema_version: u32,
    pub id: String,
    /// 1 for the first version of an article; incremented for each published revision.
    pub revision: u32,
    pub url: Option<String>,
    pub original_url: Option<String>,
    pub title: String,
    pub summary: Option<String>,
    pub body: String,
    #[serde(serialize_with = "ser_opt_time")]
    pub published_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "ser_opt_time")]
    pub modified_at: Option<DateTime<Utc>>,
    pub authors: Vec<String>,
    pub tags: Vec<String>,
    pub upstream_id: Option<String>,
    pub source: Source,
    pub language: Language,
    pub stats: Stats,
    pub entities: Entities,
    pub keywords: Vec<String>,
    pub fingerprints: Fingerprints,
    pub ingest: Ingest,
}

impl Record {
    /// Puts the pieces together; the only place that knows the record's shape.
    pub fn assemble(
        article: Article,
        enrichment: Enrichment,
        fingerprints: Fingerprints,
        revision: u32,
        ingest: Ingest,
    ) -> Record {
        Record {
            schema_version: SCHEMA_VERSION,
            id: article.id,
            revision,
            url: article.url,
            original_url: article.original_url,
            title: article.title,
            summary: article.summary,
            body: article.body,
            published_at: article.published_at,
            modified_at: article.modified_at,
            authors: article.authors,
            tags: article.tags,
            upstream_id: article.upstream_id,
            source: Source {
                domain: article.domain,
                host: article.host,
                name: enrichment.source_name,
            },
            language: enrichment.language,
            stats: enrichment.stats,
            entities: enrichment.entities,
            keywords: enrichment.keywords,
            fingerprints,
            ingest,
        }
    }
}
