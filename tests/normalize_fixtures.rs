//! Fixture suite for the normalize stage: every `tests/fixtures/normalize/NAME.input.*` is a
//! raw message (exact bytes), run through `decode` then `normalize` with a fixed `now`, and
//! compared with `NAME.expected.json` (every `Article` field, or `{"error": code}`).
//! Large adversarial inputs are generated here rather than committed.
//!
//! To rewrite the expected files after an intended change, run with
//! `NORMALIZE_FIXTURES_BLESS=1` and review the diff.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde_json::{json, Value};

use newsflow::decode::{decode, DecodeLimits};
use newsflow::model::{Article, InputFormat};
use newsflow::normalize::{normalize, NormalizeOptions};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 1, 12, 0, 0).unwrap()
}

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/normalize")
}

fn time(d: Option<DateTime<Utc>>) -> Value {
    d.map_or(Value::Null, |d| {
        Value::String(d.to_rfc3339_opts(SecondsFormat::Secs, true))
    })
}

fn article_json(a: &Article) -> Value {
    json!({
        "format": match a.format { InputFormat::Json => "json", InputFormat::Text => "text" },
        "id": a.id,
        "url": a.url,
        "original_url": a.original_url,
        "host": a.host,
        "domain": a.domain,
        "source_name": a.source_name,
        "title": a.title,
        "summary": a.summary,
        "body": a.body,
        "published_at": time(a.published_at),
        "modified_at": time(a.modified_at),
        "authors": a.authors,
        "tags": a.tags,
        "language_hint": a.language_hint,
        "upstream_id": a.upstream_id,
        "warnings": a.warnings.iter().map(|w| w.as_str()).collect::<Vec<_>>(),
    })
}

/// decode → normalize, as the pipeline does, rendered as JSON for comparison.
fn run(bytes: &[u8], limits: &DecodeLimits) -> Value {
    let raw = match decode(bytes, limits) {
        Ok(raw) => raw,
        Err(e) => return json!({ "decode_error": e.code() }),
    };
    match normalize(raw, &NormalizeOptions::default(), now()) {
        Ok(a) => article_json(&a),
        Err(e) => json!({ "error": e.code() }),
    }
}

#[test]
fn fixtures_match_expected_output() {
    let bless = std::env::var_os("NORMALIZE_FIXTURES_BLESS").is_some();
    let mut inputs: Vec<PathBuf> = fs::read_dir(fixture_dir())
        .expect("fixture directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.contains(".input."))
        })
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 40, "only {} fixtures", inputs.len());

    let mut failures = Vec::new();
    for input in &inputs {
        let name = input.file_name().unwrap().to_str().unwrap();
        let stem = &name[..name.find(".input.").unwrap()];
        let expected_path = fixture_dir().join(format!("{stem}.expected.json"));
        let got = run(&fs::read(input).unwrap(), &DecodeLimits::default());
        if bless {
            let text = serde_json::to_string_pretty(&got).unwrap() + "\n";
            fs::write(&expected_path, text).unwrap();
            continue;
        }
        let expected: Value = match fs::read_to_string(&expected_path) {
            Ok(t) => serde_json::from_str(&t).unwrap_or_else(|e| panic!("{stem}: {e}")),
            Err(_) => {
                failures.push(format!("{stem}: no {stem}.expected.json"));
                continue;
            }
        };
        if got != expected {
            failures.push(format!(
                "{stem}:\n  expected {}\n  got      {}",
                serde_json::to_string(&expected).unwrap(),
                serde_json::to_string(&got).unwrap()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures differ:\n{}",
        failures.len(),
        inputs.len(),
        failures.join("\n")
    );
}

/// Generous bound: the point is "linear, not quadratic", on a debug build of a shared machine.
const HOSTILE_BUDGET: Duration = Duration::from_secs(20);

fn run_big(payload: &[u8]) -> (Value, Duration) {
    let limits = DecodeLimits {
        max_bytes: 8 * 1024 * 1024,
        ..DecodeLimits::default()
    };
    let start = Instant::now();
    let out = run(payload, &limits);
    let took = start.elapsed();
    assert!(took < HOSTILE_BUDGET, "took {took:?}");
    (out, took)
}

fn json_message(title: &str, body: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({ "title": title, "body": body, "url": "https://example.com/x" }))
        .unwrap()
}

#[test]
fn ten_thousand_nested_tags() {
    let body = format!(
        "{}Survived the nesting.{}",
        "<div><section><b>".repeat(10_000),
        "</b></section></div>".repeat(10_000)
    );
    let (out, _) = run_big(&json_message("Nested", &body));
    assert_eq!(out["body"], "Survived the nesting.");
    let unclosed = format!("<p>Kept.</p>{}", "<figure><blockquote>".repeat(10_000));
    let (out, _) = run_big(&json_message("Unclosed", &unclosed));
    assert_eq!(out["body"], "Kept.");
}

#[test]
fn one_mebibyte_of_whitespace() {
    // Decode already refuses plain whitespace; zero-width spaces and empty markup get past it.
    let ws = " \t\n\u{a0}\u{3000}\r\n".repeat(1024 * 1024 / 10);
    let (out, _) = run_big(&json_message("Blank", &format!("{ws}\u{200b}{ws}<p> </p>")));
    assert_eq!(out, json!({ "error": "missing_body" }));
    let (out, _) = run_big(&json_message(&format!("{ws}&nbsp;{ws}"), "Body"));
    assert_eq!(out, json!({ "error": "missing_title" }));
}

#[test]
fn one_mebibyte_single_line() {
    let line = "abcdefghij".repeat(1024 * 1024 / 10);
    let (out, _) = run_big(&json_message("Long line", &line));
    assert_eq!(out["body"].as_str().unwrap().len(), line.len());
    let markup_line = "<i>x</i>&amp;".repeat(1024 * 1024 / 13);
    let (out, _) = run_big(&json_message("Long markup line", &markup_line));
    assert_eq!(out["body"].as_str().unwrap(), "x&".repeat(1024 * 1024 / 13));
}

#[test]
fn nul_bytes_and_bidi_overrides() {
    let body = "Pay\u{0}ment to \u{202e}txt.exe\u{202c} and \u{2067}isolate\u{2069}\u{0}.";
    let (out, _) = run_big(&json_message("Bidi \u{202e}title", body));
    assert_eq!(out["body"], "Payment to txt.exe and isolate.");
    assert_eq!(out["title"], "Bidi title");
}

#[test]
fn only_boilerplate_and_only_markup() {
    let (out, _) = run_big(&json_message(
        "T",
        "<script>var a = 1;</script><style>p {}</style><!-- nothing --><figure>x</figure>",
    ));
    assert_eq!(out, json!({ "error": "missing_body" }));
    let (out, _) = run_big(&json_message(
        "T",
        "Share this article\n\nFollow us on Twitter\n\n© 2024 Example Media. All rights reserved.",
    ));
    assert_eq!(out, json!({ "error": "missing_body" }));
}

/// The seed sample lives outside the repository; it is checked when present.
#[test]
fn seed_sample() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/samples/seed-article.txt");
    let Ok(bytes) = fs::read(&path) else {
        println!("skipped: seed sample not present ({})", path.display());
        return;
    };
    let out = run(&bytes, &DecodeLimits::default());
    assert!(
        out.get("error").is_none() && out.get("decode_error").is_none(),
        "{out}"
    );
    let text = String::from_utf8_lossy(&bytes);
    let mut lines = text.lines();
    let title = lines.next().unwrap().trim();
    let url = lines.next().unwrap().trim();
    assert_eq!(out["title"], title);
    assert_eq!(out["url"], newsflow::normalize::canonical_url(url).unwrap());
    assert!(out["summary"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(out["published_at"], "2019-08-22T15:52:00Z");
    assert_eq!(out["modified_at"], "2021-04-13T02:52:40Z");
    let body = out["body"].as_str().unwrap();
    assert!(body.starts_with("South Korea has announced"), "{body}");
    assert!(!body.contains('•'));
    assert_ne!(body.split("\n\n").next(), Some(title));
    // Every paragraph of the article, exactly once, in order.
    let expected: Vec<String> = text
        .split("\n\n")
        .skip(1) // the header block (title, URL, summary, dates, caption)
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect();
    let got: Vec<&str> = body.split("\n\n").collect();
    assert_eq!(got, expected);
}
