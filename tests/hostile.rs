//! Hostile input through the whole pipeline (decode → normalize → dedup → enrich →
//! serialize): no panic, no hang, and every published record is valid JSON that conforms
//! to the schema, whatever came in.
//!
//! `NEWSFLOW_FUZZ_CASES` sets the number of generated cases per property (default 2,000;
//! CI runs 100,000). Inputs that once broke something live in `tests/fixtures/hostile/` and
//! run every time.

mod common;

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use newsflow::metrics::Metrics;
use newsflow::pipeline::{Outcome, Pipeline, PipelineOptions, SourceMeta};
use proptest::prelude::*;

fn pipeline() -> Pipeline {
    let registry = prometheus::Registry::new();
    Pipeline::new(PipelineOptions::default(), Metrics::new(&registry).unwrap()).unwrap()
}

fn meta() -> SourceMeta<'static> {
    SourceMeta {
        topic: "in",
        partition: 0,
        offset: 0,
        received_at: Utc.with_ymd_and_hms(2024, 6, 1, 12, 0, 0).unwrap(),
    }
}

/// Runs one input; checks the invariants; returns the outcome.
fn check(p: &Pipeline, schema: &jsonschema::Validator, input: &[u8]) -> Outcome {
    let now = Utc.with_ymd_and_hms(2024, 6, 1, 12, 0, 1).unwrap();
    let started = Instant::now();
    let out = p.process(input, &meta(), now);
    // A hang guard, not a speed target: even a 1 MiB adversarial message is far below this.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "one message took {:?}",
        started.elapsed()
    );
    if let Outcome::Publish { payload, key, .. } = &out {
        let v: serde_json::Value =
            serde_json::from_slice(payload).expect("published payload is JSON");
        common::assert_valid(schema, &v);
        assert_eq!(v["id"].as_str(), Some(key.as_str()));
        for field in ["title", "body"] {
            let text = v[field].as_str().unwrap();
            assert!(
                !text.chars().any(|c| c.is_control() && c != '\n'),
                "control character in {field}: {text:?}"
            );
        }
    }
    out
}

fn cases() -> u32 {
    std::env::var("NEWSFLOW_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,80}",
        ".{0,40}",
        Just(String::new()),
        Just("<p>a</p><script>x()</script><!-- c -->".to_owned()),
        Just("\u{202e}evil\u{200b}\u{feff}\u{0}".to_owned()),
        "[a-z ]{0,200}",
    ]
}

fn any_json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        any_text().prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

const FIELDS: [&str; 24] = [
    "title",
    "headline",
    "url",
    "link",
    "canonical_url",
    "summary",
    "description",
    "body",
    "content",
    "text",
    "articleBody",
    "published_at",
    "pubDate",
    "date",
    "modified_at",
    "dateModified",
    "author",
    "authors",
    "byline",
    "source",
    "publisher",
    "language",
    "tags",
    "id",
];

/// Objects built from the field names the decoder knows, with arbitrary values.
fn article_like() -> impl Strategy<Value = Vec<u8>> {
    let url = prop_oneof![
        Just("https://news.example.com/a?utm_source=x#f".to_owned()),
        Just("javascript:alert(1)".to_owned()),
        Just("file:///etc/passwd".to_owned()),
        Just("/relative/path".to_owned()),
        Just("http://xn--80ak6aa92e.com/путь".to_owned()),
        Just("https://раураl.com/login".to_owned()),
        "https?://[a-z.]{1,20}/[a-z/%]{0,20}",
    ];
    (
        prop::collection::btree_map(
            prop::sample::select(FIELDS.to_vec()),
            any_json_value(),
            0..10,
        ),
        prop::option::of(url),
        any_text(),
        any_text(),
    )
        .prop_map(|(fields, url, title, body)| {
            let mut obj: serde_json::Map<String, serde_json::Value> =
                fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            obj.entry("title").or_insert(title.into());
            obj.entry("body").or_insert(body.into());
            if let Some(u) = url {
                obj.insert("url".into(), u.into());
            }
            serde_json::to_vec(&obj).unwrap()
        })
}

proptest! {
    // A failing case is saved (and replayed first from then on) in a file the repository
    // keeps; proptest's default location needs a lib.rs or main.rs beside the test.
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct("proptest-regressions/hostile.txt"),
        )),
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes_never_break_the_pipeline(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        thread_local!(static P: (Pipeline, jsonschema::Validator) = (pipeline(), common::schema()));
        P.with(|(p, s)| { check(p, s, &bytes); });
    }

    #[test]
    fn article_like_json_never_breaks_the_pipeline(bytes in article_like()) {
        thread_local!(static P: (Pipeline, jsonschema::Validator) = (pipeline(), common::schema()));
        P.with(|(p, s)| { check(p, s, &bytes); });
    }

    #[test]
    fn text_layout_with_arbitrary_lines_never_breaks_the_pipeline(
        lines in prop::collection::vec(any_text(), 0..12)
    ) {
        thread_local!(static P: (Pipeline, jsonschema::Validator) = (pipeline(), common::schema()));
        let text = format!("A title\nhttps://example.com/x\n{}", lines.join("\n"));
        P.with(|(p, s)| { check(p, s, text.as_bytes()); });
    }
}

fn reason(o: &Outcome) -> Option<&'static str> {
    match o {
        Outcome::DeadLetter { reason, .. } => Some(reason),
        _ => None,
    }
}

fn published(o: &Outcome) -> serde_json::Value {
    match o {
        Outcome::Publish { payload, .. } => serde_json::from_slice(payload).unwrap(),
        other => panic!("expected a record, got {other:?}"),
    }
}

fn json(v: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn specific_hostile_inputs() {
    let p = pipeline();
    let s = common::schema();
    // A different body per case, so no case is a content duplicate of another.
    let body = |tag: &str| {
        format!("Officials confirmed the plan on Monday after a long debate about {tag} in the chamber.")
    };

    // Deeply nested JSON: refused before parsing, no stack overflow.
    let deep = format!(
        "{{\"title\":\"t\",\"body\":\"b\",\"x\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert_eq!(reason(&check(&p, &s, deep.as_bytes())), Some("too_deep"));

    // A 1 MiB single-line string: over the size limit with the JSON around it.
    let big = json(serde_json::json!({"title": "t", "body": "x".repeat(1024 * 1024)}));
    assert_eq!(reason(&check(&p, &s, &big)), Some("too_large"));
    // Just under the limit: processed, bounded.
    let near = json(
        serde_json::json!({"title": "Long", "url": "https://e.com/long", "body": "word ".repeat(200_000)}),
    );
    check(&p, &s, &near);

    // Invalid UTF-8 in the middle of a field: not text unless it is valid Windows-1252.
    let mut bad = br#"{"title":"ok","body":"abc"#.to_vec();
    bad.extend_from_slice(&[0x81, 0xfe]);
    bad.extend_from_slice(br#""}"#);
    assert_eq!(reason(&check(&p, &s, &bad)), Some("invalid_encoding"));

    // NUL bytes: escaped in JSON, removed from the text.
    let nul = json(
        serde_json::json!({"title": "Nul\u{0}title", "url": "https://e.com/nul", "body": format!("{}\u{0}", body("nul"))}),
    );
    let rec = published(&check(&p, &s, &nul));
    assert!(!rec["title"].as_str().unwrap().contains('\u{0}'));

    // HTML with <script>: never in the output.
    let html = json(
        serde_json::json!({"title": "Script", "url": "https://e.com/s",
        "body": format!("<p>{}</p><script>document.write('<b>pwn</b>')</script>", body("script"))}),
    );
    let rec = published(&check(&p, &s, &html));
    assert!(
        !rec["body"].as_str().unwrap().contains("pwn")
            && !rec["body"].as_str().unwrap().contains('<')
    );

    // javascript: and file: URLs are bad data.
    for url in [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "data:text/html,hi",
    ] {
        let m = json(serde_json::json!({"title": "t", "url": url, "body": body(url)}));
        assert_eq!(reason(&check(&p, &s, &m)), Some("invalid_url"), "{url}");
    }

    // Right-to-left override removed; an IDN/homoglyph host stays in punycode.
    let rtl = json(
        serde_json::json!({"title": "Pay\u{202e}lapyap", "url": "https://раураl.com/login", "body": body("rtl")}),
    );
    let rec = published(&check(&p, &s, &rtl));
    assert!(!rec["title"].as_str().unwrap().contains('\u{202e}'));
    assert!(
        rec["source"]["domain"]
            .as_str()
            .unwrap()
            .starts_with("xn--"),
        "{}",
        rec["source"]
    );

    // Numbers out of range for dates: no date, not a crash.
    for d in [
        serde_json::json!(1e300),
        serde_json::json!(-1e18),
        serde_json::json!(u64::MAX),
        serde_json::json!("99999-99-99"),
    ] {
        let m = json(
            serde_json::json!({"title": "d", "url": format!("https://e.com/d/{d}"), "body": body(&d.to_string()), "published_at": d}),
        );
        assert!(published(&check(&p, &s, &m))["published_at"].is_null());
    }

    // Duplicate JSON keys: the last one wins, consistently.
    let dup = br#"{"title":"first","title":"second","url":"https://e.com/dupkeys","body":"Officials confirmed the plan on Monday."}"#;
    assert_eq!(published(&check(&p, &s, dup))["title"], "second");
}

#[test]
fn regression_corpus() {
    let p = pipeline();
    let s = common::schema();
    let dir = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/hostile"
    ));
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        check(&p, &s, &bytes);
        n += 1;
    }
    assert!(n >= 5, "the regression corpus is there");
}
