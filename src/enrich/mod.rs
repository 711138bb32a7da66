//! Enrich stage: `Article` → `Enrichment` (language, stats, source name, countries,
//! organizations, keywords). Offline and bounded: no network, no model downloads, every
//! table compiled once in [`Enricher::new`] and shared read-only between threads.
//!
//! # Work per article
//! - language: whatlang's method on the title, summary and the first few hundred
//!   characters of the body, and on the first [`LANGUAGE_SAMPLE_CHARS`] only when that
//!   leaves doubt ([`language`]; Latin and Cyrillic text through the faster, equal port in
//!   [`detector`]);
//! - stats: the whole body, linear scans ([`stats`]);
//! - entities and keywords: the title, summary and the first
//!   [`EnrichOptions::scan_body_bytes`] bytes of the body (default [`SCAN_BODY_BYTES`]).
//!   Countries and gazetteer organizations come from one Aho-Corasick pass over that text
//!   ([`gazetteer`], [`countries`], [`orgs`]); acronym definitions from a scan for
//!   parentheses ([`orgs`]); key phrases from one tokenization ([`keywords`]).
//!
//! Data lives in `data/` and is compiled into the binary; the publisher map and the
//! organization gazetteer can be extended from files named in [`EnrichOptions`].
//! Accuracy on the labelled set in `eval/enrich/` is measured by [`eval::run_eval`].

pub mod countries;
pub mod detector;
pub mod eval;
pub mod gazetteer;
pub mod keywords;
pub mod language;
pub mod orgs;
pub mod source;
pub mod stats;

use std::path::PathBuf;

use anyhow::Context;

use crate::model::{Article, Enrichment, Entities};

pub use language::LANGUAGE_SAMPLE_CHARS;
pub use stats::WORDS_PER_MINUTE;

/// Default body bytes scanned for entities and keywords. Long articles name their subjects
/// early; the cap keeps matching and keyword work bounded whatever the body size.
pub const SCAN_BODY_BYTES: usize = 16 * 1024;

/// Title bytes read: real titles are far shorter; the cap bounds the work for malformed
/// input.
pub const MAX_TITLE_BYTES: usize = 1024;

/// Summary bytes read, for the same reason.
pub const MAX_SUMMARY_BYTES: usize = 4096;

/// Smallest accepted `scan_body_bytes`: a lead paragraph.
pub const MIN_SCAN_BODY_BYTES: usize = 256;

/// Settings the enrich stage needs (from `[enrich]` in the configuration).
#[derive(Debug, Clone)]
pub struct EnrichOptions {
    /// How many keywords to keep.
    pub max_keywords: usize,
    /// Languages the detector may answer, as ISO 639-1 codes; empty means every language
    /// whatlang knows. Fewer languages make detection faster and short texts less
    /// ambiguous.
    pub languages: Vec<String>,
    /// Detections with a lower whatlang confidence (0–1) are reported as `code: null`.
    pub min_language_confidence: f64,
    /// Extra domain → publisher entries (TSV: `domain<TAB>name`), applied over the
    /// shipped map.
    pub publishers_path: Option<PathBuf>,
    /// Extra organizations (TSV: `name<TAB>acronym<TAB>forms`, as
    /// `data/organizations.tsv`), added to the shipped gazetteer.
    pub organizations_path: Option<PathBuf>,
    /// Body bytes scanned for countries, organizations and keywords (the title and
    /// summary always are). Keyword extraction is the stage's largest cost and grows
    /// linearly with this.
    pub scan_body_bytes: usize,
}

/// The default language set: the languages most common in international news feeds.
pub const DEFAULT_LANGUAGES: &[&str] = &[
    "en", "de", "fr", "es", "it", "pt", "nl", "pl", "sv", "da", "nb", "fi", "cs", "ro", "hu", "tr",
    "id", "vi", "ru", "uk", "bg", "el", "ar", "fa", "he", "hi", "zh", "ja", "ko",
];

impl Default for EnrichOptions {
    fn default() -> Self {
        EnrichOptions {
            max_keywords: 8,
            languages: DEFAULT_LANGUAGES.iter().map(|s| s.to_string()).collect(),
            min_language_confidence: language::DEFAULT_MIN_CONFIDENCE,
            publishers_path: None,
            organizations_path: None,
            scan_body_bytes: SCAN_BODY_BYTES,
        }
    }
}

/// Holds the tables the stage matches against; built once at start-up, shared read-only.
#[derive(Debug)]
pub struct Enricher {
    opts: EnrichOptions,
    language: language::LanguageDetector,
    gazetteer: gazetteer::Gazetteer,
    countries: countries::CountryTable,
    orgs: orgs::OrgTable,
    stopwords: keywords::StopWords,
    publishers: source::PublisherMap,
}

/// What one article yields beyond the record fields: where organizations came from.
/// Used by the evaluation to score acronym definitions on their own.
#[derive(Debug, Clone)]
pub struct Detailed {
    pub enrichment: Enrichment,
    /// `(name, acronym)` pairs found as definitions in the text.
    pub acronym_definitions: Vec<(String, String)>,
}

impl Enricher {
    pub fn new(opts: EnrichOptions) -> anyhow::Result<Self> {
        if opts.scan_body_bytes < MIN_SCAN_BODY_BYTES {
            anyhow::bail!(
                "scan_body_bytes must be at least {MIN_SCAN_BODY_BYTES}, got {}",
                opts.scan_body_bytes
            );
        }
        let language =
            language::LanguageDetector::new(&opts.languages, opts.min_language_confidence)?;
        let mut builder = gazetteer::Builder::default();
        let countries = countries::CountryTable::load(&mut builder)?;
        let extra_orgs = match &opts.organizations_path {
            Some(p) => Some(
                std::fs::read_to_string(p)
                    .with_context(|| format!("reading organizations from {}", p.display()))?,
            ),
            None => None,
        };
        let orgs = orgs::OrgTable::load(&mut builder, extra_orgs.as_deref())?;
        let gazetteer = builder.build()?;
        let mut publishers = source::PublisherMap::shipped()?;
        if let Some(p) = &opts.publishers_path {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading publishers from {}", p.display()))?;
            publishers
                .extend_from_tsv(&text)
                .with_context(|| format!("parsing publishers in {}", p.display()))?;
        }
        Ok(Enricher {
            opts,
            language,
            gazetteer,
            countries,
            orgs,
            stopwords: keywords::StopWords::shipped(),
            publishers,
        })
    }

    pub fn enrich(&self, article: &Article) -> Enrichment {
        self.enrich_detailed(article).enrichment
    }

    /// Like [`Enricher::enrich`], also telling which organizations were defined in the text.
    pub fn enrich_detailed(&self, article: &Article) -> Detailed {
        let language = self.language.detect(article);
        let lang = language
            .code
            .as_deref()
            .or(article.language_hint.as_deref());
        let stats = stats::compute(&article.body);
        let text = scan_text(article, self.opts.scan_body_bytes);

        let hits = self.gazetteer.find(&text, lang);
        let countries = self.countries.collect(&hits);
        let definitions = orgs::find_definitions(&text, lang);
        let organizations = self.orgs.collect(&hits, &definitions, &text);
        let keywords = keywords::extract(
            &text,
            self.stopwords.for_language(lang),
            lang,
            self.opts.max_keywords,
        );

        let source_name = article
            .source_name
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .or_else(|| {
                self.publishers
                    .lookup(article.host.as_deref(), article.domain.as_deref())
                    .map(str::to_owned)
            });

        Detailed {
            acronym_definitions: definitions
                .iter()
                .map(|d| (d.name.clone(), d.acronym.clone()))
                .collect(),
            enrichment: Enrichment {
                language,
                stats,
                entities: Entities {
                    countries,
                    organizations,
                },
                keywords,
                source_name,
            },
        }
    }
}

/// Title, summary and the first `body_bytes` of the body, separated like paragraphs so
/// that no phrase or sentence runs from one into the next.
fn scan_text(article: &Article, body_bytes: usize) -> String {
    let body = truncate_at_char(&article.body, body_bytes);
    let title = title(article);
    let summary = distinct_summary(article).unwrap_or("");
    let mut text = String::with_capacity(title.len() + summary.len() + body.len() + 4);
    text.push_str(title);
    text.push_str("\n\n");
    if !summary.is_empty() {
        text.push_str(summary);
        text.push_str("\n\n");
    }
    text.push_str(body);
    text
}

/// The summary, unless the body repeats it near its start (many feeds use the first
/// paragraph as the summary); counting it twice would double its words' weight.
pub(crate) fn distinct_summary(article: &Article) -> Option<&str> {
    let summary = truncate_at_char(article.summary.as_deref()?.trim(), MAX_SUMMARY_BYTES);
    let head = truncate_at_char(&article.body, summary.len() + 512);
    (!summary.is_empty() && !head.contains(summary)).then_some(summary)
}

/// The title, cut to [`MAX_TITLE_BYTES`].
pub(crate) fn title(article: &Article) -> &str {
    truncate_at_char(&article.title, MAX_TITLE_BYTES)
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
pub(crate) fn truncate_at_char(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests;
