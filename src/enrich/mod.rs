//! Enrich stage: `Article` → `Enrichment` (language, stats, source, entities, keywords).
//! Offline and bounded: no network, no model downloads, work per article capped.

use crate::model::{Article, Enrichment, Entities, Language, Stats};

/// Words per minute used for `reading_time_seconds`.
pub const WORDS_PER_MINUTE: u64 = 230;

/// Settings the enrich stage needs (from `[enrich]` in the configuration).
#[derive(Debug, Clone)]
pub struct EnrichOptions {
    /// How many keywords to keep.
    pub max_keywords: usize,
}

impl Default for EnrichOptions {
    fn default() -> Self {
        EnrichOptions { max_keywords: 8 }
    }
}

/// Holds the tables the stage matches against; built once at start-up, shared read-only.
#[derive(Debug)]
pub struct Enricher {
    opts: EnrichOptions,
}

impl Enricher {
    pub fn new(opts: EnrichOptions) -> anyhow::Result<Self> {
        Ok(Enricher { opts })
    }

    pub fn enrich(&self, article: &Article) -> Enrichment {
        let _ = self.opts.max_keywords;
        let words = article.body.split_whitespace().count() as u64;
        Enrichment {
            language: Language {
                code: None,
                confidence: 0.0,
                hint: article.language_hint.clone(),
            },
            stats: Stats {
                words,
                characters: article.body.chars().count() as u64,
                paragraphs: article.body.split("\n\n").count() as u64,
                sentences: 0,
                reading_time_seconds: (words * 60).div_ceil(WORDS_PER_MINUTE),
            },
            entities: Entities::default(),
            keywords: Vec::new(),
            source_name: article.source_name.clone(),
        }
    }
}
