//! Decode stage: message bytes → `RawArticle`, or a `DecodeError` that sends the message to
//! the dead-letter topic. Two layouts are accepted: a JSON object with common field names,
//! and the plain-text layout (title, URL, summary, optional last-modified and date lines,
//! then blank-line separated paragraphs). Never panics, whatever the bytes.

use encoding_rs::WINDOWS_1252;
use serde_json::{Map, Value};
use thiserror::Error;

use crate::model::{InputFormat, RawArticle, RawDate};

/// Limits applied before any parsing.
#[derive(Debug, Clone, Copy)]
pub struct DecodeLimits {
    pub max_bytes: usize,
    pub max_json_depth: usize,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_bytes: 1024 * 1024,
            max_json_depth: 32,
        }
    }
}

/// Why a message is bad data. `code()` is the `newsflow-error` header and metric label.
#[derive(Debug, Error, PartialEq)]
pub enum DecodeError {
    #[error("message is empty")]
    Empty,
    #[error("message is {size} bytes, above the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("payload is neither UTF-8 nor Windows-1252 text: {0}")]
    InvalidEncoding(String),
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    #[error("JSON nested deeper than {0} levels")]
    TooDeep(usize),
    #[error("JSON value is not an object")]
    NotAnObject,
    #[error("not JSON and not the text article layout: {0}")]
    UnrecognizedFormat(String),
    #[error("article has no title")]
    MissingTitle,
    #[error("article has no body")]
    MissingBody,
}

impl DecodeError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::TooLarge { .. } => "too_large",
            Self::InvalidEncoding(_) => "invalid_encoding",
            Self::InvalidJson(_) => "invalid_json",
            Self::TooDeep(_) => "too_deep",
            Self::NotAnObject => "not_an_object",
            Self::UnrecognizedFormat(_) => "unrecognized_format",
            Self::MissingTitle => "missing_title",
            Self::MissingBody => "missing_body",
        }
    }
}

/// Decodes one message payload.
pub fn decode(payload: &[u8], limits: &DecodeLimits) -> Result<RawArticle, DecodeError> {
    if payload.len() > limits.max_bytes {
        return Err(DecodeError::TooLarge {
            size: payload.len(),
            limit: limits.max_bytes,
        });
    }
    let text = to_text(payload)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Err(DecodeError::Empty);
    }
    match trimmed.as_bytes()[0] {
        b'{' | b'[' => decode_json(trimmed, limits),
        _ => decode_text(text),
    }
}

/// UTF-8, else Windows-1252 when every byte is defined there and no C1 control results.
fn to_text(payload: &[u8]) -> Result<std::borrow::Cow<'_, str>, DecodeError> {
    if let Ok(s) = std::str::from_utf8(payload) {
        return Ok(s.into());
    }
    let (decoded, _, _) = WINDOWS_1252.decode(payload);
    // WHATWG maps 0x81, 0x8D, 0x8F, 0x90 and 0x9D to C1 controls: those bytes mean "not text".
    if let Some(pos) = decoded
        .chars()
        .position(|c| ('\u{80}'..='\u{9f}').contains(&c))
    {
        return Err(DecodeError::InvalidEncoding(format!(
            "not UTF-8, and character {pos} is undefined in Windows-1252"
        )));
    }
    Ok(decoded.into_owned().into())
}

/// Deepest nesting of arrays/objects, counted outside strings; stops early past `limit`.
fn json_depth_exceeds(text: &str, limit: usize) -> bool {
    let (mut depth, mut in_str, mut escaped) = (0usize, false, false);
    for b in text.bytes() {
        if in_str {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

fn decode_json(text: &str, limits: &DecodeLimits) -> Result<RawArticle, DecodeError> {
    if json_depth_exceeds(text, limits.max_json_depth) {
        return Err(DecodeError::TooDeep(limits.max_json_depth));
    }
    let value: Value =
        serde_json::from_str(text).map_err(|e| DecodeError::InvalidJson(e.to_string()))?;
    let Value::Object(obj) = value else {
        return Err(DecodeError::NotAnObject);
    };
    let title = first_text(&obj, &["title", "headline"]).ok_or(DecodeError::MissingTitle)?;
    let body = first_text(
        &obj,
        &["body", "content", "text", "article_body", "articleBody"],
    )
    .ok_or(DecodeError::MissingBody)?;
    let (source_name, source_url) = source_of(&obj);
    Ok(RawArticle {
        format: InputFormat::Json,
        title,
        url: first_text(&obj, &["url", "link", "canonical_url"]),
        summary: first_text(&obj, &["summary", "description", "abstract"]),
        body,
        published: first_date(
            &obj,
            &[
                "published_at",
                "published",
                "pubDate",
                "datePublished",
                "date",
            ],
        ),
        modified: first_date(
            &obj,
            &["modified_at", "updated_at", "dateModified", "last_modified"],
        ),
        authors: first_value(&obj, &["author", "authors", "byline"])
            .map(names)
            .unwrap_or_default(),
        source_name,
        source_url,
        language: first_text(&obj, &["language", "lang", "inLanguage"]),
        tags: first_value(&obj, &["tags", "keywords"])
            .map(tags)
            .unwrap_or_default(),
        upstream_id: first_value(&obj, &["id", "guid"]).and_then(scalar_text),
    })
}

fn first_value<'a>(obj: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    keys.iter()
        .filter_map(|k| obj.get(*k))
        .find(|v| !v.is_null())
}

/// The first key holding usable text: a string, a list of strings (joined as paragraphs),
/// or an object with `href`/`url`/`name`/`@value` (common in schema.org and RSS-to-JSON).
fn first_text(obj: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().filter_map(|k| obj.get(*k)).find_map(text_of)
}

fn text_of(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .filter_map(text_of)
            .collect::<Vec<_>>()
            .join("\n\n"),
        Value::Object(o) => ["href", "url", "name", "@value", "#text"]
            .iter()
            .filter_map(|k| o.get(*k))
            .find_map(text_of)?,
        _ => return None,
    };
    (!s.trim().is_empty()).then_some(s)
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        other => text_of(other),
    }
}

fn first_date(obj: &Map<String, Value>, keys: &[&str]) -> Option<RawDate> {
    keys.iter()
        .filter_map(|k| obj.get(*k))
        .find_map(|v| match v {
            Value::Number(n) => n.as_f64().map(RawDate::Epoch),
            other => text_of(other).map(RawDate::Text),
        })
}

/// Authors: a string, a list of strings, objects with `name`, or a mix of those.
fn names(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items.iter().flat_map(names).collect(),
        Value::Object(o) => o.get("name").and_then(text_of).into_iter().collect(),
        Value::String(s) if !s.trim().is_empty() => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn tags(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => s
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect(),
        Value::Array(items) => items.iter().filter_map(scalar_text).collect(),
        _ => Vec::new(),
    }
}

/// `source`, `site_name` or `publisher`: a name, or an object with a name and/or URL.
fn source_of(obj: &Map<String, Value>) -> (Option<String>, Option<String>) {
    match first_value(obj, &["source", "site_name", "publisher"]) {
        Some(Value::Object(o)) => (
            ["name", "title"]
                .iter()
                .filter_map(|k| o.get(*k))
                .find_map(text_of),
            ["url", "domain", "href", "homepage"]
                .iter()
                .filter_map(|k| o.get(*k))
                .find_map(text_of),
        ),
        Some(v) => (text_of(v), None),
        None => (None, None),
    }
}

/// A line that can only be the URL line of the text layout.
fn looks_like_url(line: &str) -> bool {
    let l = line.trim();
    !l.is_empty()
        && !l.contains(char::is_whitespace)
        && (l.contains("://") || l.starts_with("www."))
}

fn is_bullet(line: &str) -> Option<&str> {
    let t = line.trim_start();
    ['•', '*', '·', '‣', '▪']
        .iter()
        .find_map(|b| t.strip_prefix(*b))
        .map(str::trim)
}

fn decode_text(text: &str) -> Result<RawArticle, DecodeError> {
    if let Some(c) = text
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}'))
    {
        return Err(DecodeError::InvalidEncoding(format!(
            "control character U+{:04X} in text",
            c as u32
        )));
    }
    let mut lines = text.lines().skip_while(|l| l.trim().is_empty());
    let title = lines.next().map(str::trim).unwrap_or_default().to_owned();
    let url_line = lines.next().unwrap_or_default();
    if !looks_like_url(url_line) {
        return Err(DecodeError::UnrecognizedFormat(
            "second line is not a URL (text layout: title, URL, summary, dates, blank line, body)"
                .into(),
        ));
    }
    if title.is_empty() {
        return Err(DecodeError::MissingTitle);
    }
    let mut article = RawArticle::new(InputFormat::Text, title, String::new());
    article.url = Some(url_line.trim().to_owned());

    // Header: the lines up to the first blank line.
    let mut body_start: Vec<String> = Vec::new();
    let mut header_lines = 0;
    for line in lines.by_ref() {
        let t = line.trim();
        if t.is_empty() {
            break;
        }
        header_lines += 1;
        if let Some(inner) = t
            .strip_prefix("(last modified")
            .and_then(|r| r.strip_suffix(')'))
        {
            article.modified = Some(RawDate::Text(inner.trim().to_owned()));
        } else if let Some(caption) = is_bullet(t) {
            // A caption repeating the title is boilerplate; any other bullet is content.
            if caption != article.title {
                body_start.push(t.to_owned());
            }
        } else if header_lines == 1 {
            article.summary = Some(t.to_owned());
        } else if article.published.is_none()
            && t.chars().count() <= 64
            && t.chars().any(|c| c.is_ascii_digit())
        {
            article.published = Some(RawDate::Text(t.to_owned()));
        } else {
            body_start.push(t.to_owned());
        }
    }
    let rest: Vec<&str> = lines.collect();
    let mut body = body_start.join("\n\n");
    let rest = rest.join("\n");
    if !rest.trim().is_empty() {
        if !body.is_empty() {
            body.push_str("\n\n");
        }
        body.push_str(rest.trim_matches(['\n', '\r']));
    }
    if body.trim().is_empty() {
        return Err(DecodeError::MissingBody);
    }
    article.body = body;
    Ok(article)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lim() -> DecodeLimits {
        DecodeLimits::default()
    }

    const TEXT: &str = "Harbour city opens new ferry line to the islands\n\
https://example.com/news/ferry-line?utm_source=x\n\
The harbour authority opened a ferry line on Monday, cutting travel time by an hour.\n\
(last modified 2021-04-13T02:52:40+00:00 )\n\
Aug 22, 2019 15:52 UTC\n\
  • Harbour city opens new ferry line to the islands\n\
\n\
The harbour authority opened a ferry line on Monday, cutting travel time by an hour.\n\
\n\
Officials said the line\nwould run twice a day.\n";

    #[test]
    fn text_layout_fields() {
        let a = decode(TEXT.as_bytes(), &lim()).unwrap();
        assert_eq!(a.format, InputFormat::Text);
        assert_eq!(a.title, "Harbour city opens new ferry line to the islands");
        assert_eq!(
            a.url.as_deref(),
            Some("https://example.com/news/ferry-line?utm_source=x")
        );
        assert!(a.summary.unwrap().starts_with("The harbour authority"));
        assert_eq!(
            a.modified,
            Some(RawDate::Text("2021-04-13T02:52:40+00:00".into()))
        );
        assert_eq!(
            a.published,
            Some(RawDate::Text("Aug 22, 2019 15:52 UTC".into()))
        );
        // The caption is gone; the lede (repeating the summary) stays first.
        assert!(
            a.body.starts_with("The harbour authority opened"),
            "{}",
            a.body
        );
        assert!(!a.body.contains('•'));
        assert!(a
            .body
            .contains("Officials said the line\nwould run twice a day."));
    }

    #[test]
    fn text_bullet_that_is_not_the_title_is_kept() {
        let t = "A title\nhttps://example.com/a\nSummary here.\n• Another caption\n\nBody.";
        let a = decode(t.as_bytes(), &lim()).unwrap();
        assert!(a.body.starts_with("• Another caption"));
    }

    #[test]
    fn text_without_url_line_is_unrecognized() {
        let e = decode(
            b"Just some words\nmore words here\n\nand a paragraph",
            &lim(),
        )
        .unwrap_err();
        assert_eq!(e.code(), "unrecognized_format");
    }

    #[test]
    fn text_without_body_is_missing_body() {
        let e = decode(b"Title\nhttps://example.com/x\nSummary only\n", &lim()).unwrap_err();
        assert_eq!(e, DecodeError::MissingBody);
    }

    #[test]
    fn json_aliases() {
        let j = r#"{"headline":"H","link":{"href":"https://e.com/a"},"description":"S",
            "articleBody":["p1","p2"],"datePublished":1566489120,"dateModified":"2021-04-13T02:52:40Z",
            "byline":[{"name":"Jane Doe"},"John Roe"],"publisher":{"name":"Example","url":"https://e.com"},
            "inLanguage":"en-GB","keywords":"a, b ,","guid":42}"#;
        let a = decode(j.as_bytes(), &lim()).unwrap();
        assert_eq!(a.title, "H");
        assert_eq!(a.url.as_deref(), Some("https://e.com/a"));
        assert_eq!(a.summary.as_deref(), Some("S"));
        assert_eq!(a.body, "p1\n\np2");
        assert_eq!(a.published, Some(RawDate::Epoch(1566489120.0)));
        assert_eq!(
            a.modified,
            Some(RawDate::Text("2021-04-13T02:52:40Z".into()))
        );
        assert_eq!(a.authors, vec!["Jane Doe", "John Roe"]);
        assert_eq!(a.source_name.as_deref(), Some("Example"));
        assert_eq!(a.source_url.as_deref(), Some("https://e.com"));
        assert_eq!(a.language.as_deref(), Some("en-GB"));
        assert_eq!(a.tags, vec!["a", "b"]);
        assert_eq!(a.upstream_id.as_deref(), Some("42"));
    }

    #[test]
    fn json_first_non_empty_alias_wins() {
        let a = decode(
            br#"{"title":"","headline":"H","body":"","content":"C"}"#,
            &lim(),
        )
        .unwrap();
        assert_eq!((a.title.as_str(), a.body.as_str()), ("H", "C"));
    }

    #[test]
    fn bad_data_reasons() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"".to_vec(), "empty"),
            (b"   \n ".to_vec(), "empty"),
            (b"{\"title\": ".to_vec(), "invalid_json"),
            (b"[1,2]".to_vec(), "not_an_object"),
            (br#"{"body":"b"}"#.to_vec(), "missing_title"),
            (br#"{"title":"t"}"#.to_vec(), "missing_body"),
            (br#"{"title":"t","body":"   "}"#.to_vec(), "missing_body"),
            (vec![b'a', 0x81, b'b'], "invalid_encoding"),
            (
                b"Title\nhttps://e.com\n\nbo\0dy".to_vec(),
                "invalid_encoding",
            ),
            ([b"[".repeat(100), b"]".repeat(100)].concat(), "too_deep"),
            (vec![b' '; 2 * 1024 * 1024], "too_large"),
        ];
        for (bytes, code) in cases {
            let got = decode(&bytes, &lim()).map(|_| ()).unwrap_err();
            assert_eq!(
                got.code(),
                code,
                "{:?}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(40)])
            );
        }
    }

    #[test]
    fn windows_1252_is_decoded() {
        // "Caf\xe9 \x93quoted\x94" in Windows-1252.
        let mut t = b"Caf\xe9 opens\nhttps://e.com/cafe\n\n\x93Good\x94 coffee.".to_vec();
        t.push(b'\n');
        let a = decode(&t, &lim()).unwrap();
        assert_eq!(a.title, "Café opens");
        assert_eq!(a.body, "“Good” coffee.");
    }

    #[test]
    fn depth_counter_ignores_brackets_in_strings() {
        let j = format!(r#"{{"title":"{}","body":"b"}}"#, "[".repeat(100));
        assert!(decode(j.as_bytes(), &lim()).is_ok());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode(&bytes, &lim());
        }

        #[test]
        fn never_panics_on_text(s in "\\PC{0,300}") {
            let _ = decode(s.as_bytes(), &lim());
        }
    }
}
