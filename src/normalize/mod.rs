//! Normalize stage: `RawArticle` → `Article`. Clean Unicode text without markup, a canonical
//! URL with host and registrable domain, UTC dates, tidy authors, tags and language hint.
//! Pure and synchronous; `now` is passed in.
//!
//! Invariants: normalizing an already-normalized article changes nothing (idempotent); no
//! output text holds markup, control characters (other than the "\n\n" between body
//! paragraphs) or bidi controls; every input, however hostile, is handled in linear time
//! without deep recursion.
//!
//! Layout: [`text`] (Unicode cleaning, folding), [`html`] (markup to text), [`boilerplate`]
//! (title suffixes, captions, repeats, trailers), [`url`] (canonical URLs, domains),
//! [`dates`], [`authors`], [`language`].

mod authors;
mod boilerplate;
mod dates;
mod html;
mod language;
mod text;
mod url;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::model::{Article, RawArticle};

use self::boilerplate::Site;
use self::dates::DateOutcome;
use self::text::Layout;

pub use self::text::fold;
pub use self::url::{canonical_url, TRACKING_PARAMS, TRACKING_PREFIXES};

/// Settings the normalize stage needs (from `[normalize]` in the configuration).
#[derive(Debug, Clone, Default)]
pub struct NormalizeOptions {
    /// Offset applied to dates written without a zone, in minutes east of UTC (0 = UTC).
    /// Values beyond ±18 hours are ignored (UTC is used).
    pub default_utc_offset_minutes: i32,
}

/// Bad data found while normalizing: the message goes to the dead-letter topic.
#[derive(Debug, Error, PartialEq)]
pub enum NormalizeError {
    #[error("invalid url {url:?}: {why}")]
    InvalidUrl { url: String, why: String },
    #[error("title is empty after cleaning")]
    EmptyTitle,
    #[error("body is empty after cleaning")]
    EmptyBody,
}

impl NormalizeError {
    /// Short machine reason, used in the `newsflow-error` header and metric labels.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidUrl { .. } => "invalid_url",
            Self::EmptyTitle => "missing_title",
            Self::EmptyBody => "missing_body",
        }
    }
}

/// Normalizes one article. `now` bounds plausible dates.
///
/// The URL, when present, must be an absolute http(s) URL (userinfo is dropped, see
/// [`canonical_url`]); a message without any URL gets its id from the content.
pub fn normalize(
    raw: RawArticle,
    opts: &NormalizeOptions,
    now: DateTime<Utc>,
) -> Result<Article, NormalizeError> {
    // As given, minus invisible characters and line breaks.
    let original_url = raw.url.as_deref().map(text::plain).and_then(non_empty);
    let (url, host, domain) = match (original_url.as_deref(), raw.source_url.as_deref()) {
        (Some(u), _) => {
            let (url, host, domain) = url::canonical_with_host(u)?;
            (Some(url), host, domain)
        }
        (None, Some(s)) => {
            let (host, domain) = url::source_host_and_domain(&text::plain(s));
            (None, host, domain)
        }
        (None, None) => (None, None, None),
    };
    let source_name = non_empty(text::clean(
        raw.source_name.as_deref().unwrap_or(""),
        Layout::Inline,
    ));

    let full_title = text::clean(&raw.title, Layout::Inline);
    if full_title.is_empty() {
        return Err(NormalizeError::EmptyTitle);
    }
    let site = Site {
        name: source_name.as_deref(),
        host: host.as_deref(),
        domain: domain.as_deref(),
    };
    let title = boilerplate::strip_site_suffix(&full_title, &site);

    let cleaned_body = text::clean(&raw.body, Layout::Paragraphs);
    let titles = [title.as_str(), full_title.as_str()];
    // The cleaner leaves no single newline inside a paragraph, so '\n' splits paragraphs.
    let paragraphs: Vec<&str> = cleaned_body.split('\n').filter(|p| !p.is_empty()).collect();
    let count = paragraphs.len();
    let kept = boilerplate::clean_body(paragraphs, &titles);
    let body = if kept.len() == count {
        cleaned_body
    } else {
        kept.join("\n\n")
    };
    if body.is_empty() {
        return Err(NormalizeError::EmptyBody);
    }

    let mut warnings = Vec::new();
    let mut date = |raw_date| match dates::read_date(raw_date, opts.default_utc_offset_minutes, now)
    {
        DateOutcome::Valid(d) => Some(d),
        DateOutcome::Absent => None,
        DateOutcome::Problem(w) => {
            warnings.push(w);
            None
        }
    };
    let published_at = date(raw.published.as_ref());
    let modified_at = date(raw.modified.as_ref());

    Ok(Article {
        format: raw.format,
        id: article_id(url.as_deref(), &body),
        url,
        original_url,
        title,
        summary: raw
            .summary
            .as_deref()
            .map(|s| text::clean(s, Layout::Inline))
            .and_then(non_empty),
        body,
        published_at,
        modified_at,
        authors: authors::authors(&raw.authors),
        host,
        domain,
        source_name,
        language_hint: raw.language.as_deref().and_then(language::language_hint),
        tags: tags(&raw.tags),
        upstream_id: raw
            .upstream_id
            .as_deref()
            .map(text::plain)
            .and_then(non_empty),
        warnings,
    })
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// Trimmed, cleaned, non-empty tags, de-duplicated case-insensitively (first spelling wins).
fn tags(raw: &[String]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    raw.iter()
        .map(|t| text::clean(t, Layout::Inline))
        .filter(|t| !t.is_empty() && seen.insert(t.to_lowercase()))
        .collect()
}

/// Stable id: from the canonical URL, else from the folded body. 32 hex digits.
pub fn article_id(canonical_url: Option<&str>, body: &str) -> String {
    let mut h = Sha256::new();
    match canonical_url {
        Some(u) => h.update(u.as_bytes()),
        None => {
            h.update(b"content:");
            h.update(fold(body).as_bytes());
        }
    }
    hex::encode(&h.finalize()[..16])
}

#[cfg(test)]
mod tests;
