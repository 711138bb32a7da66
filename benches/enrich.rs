//! Throughput of the enrich stage on 3–5 KB articles, next to the other per-article stages
//! (decode, normalize, dedup fingerprint) on the same messages, so their shares of the
//! per-article CPU time can be compared.
//!
//! `cargo bench --bench enrich`

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use newsflow::decode::{decode, DecodeLimits};
use newsflow::dedup::fingerprint;
use newsflow::enrich::eval::EvalCase;
use newsflow::enrich::{EnrichOptions, Enricher};
use newsflow::model::Article;
use newsflow::normalize::{normalize, NormalizeOptions};

/// Messages in the plain-text layout of about 4 KB, built from the labelled set's
/// paragraphs, one per language.
fn messages() -> Vec<Vec<u8>> {
    let cases = EvalCase::shipped();
    let mut out = Vec::new();
    for lang in ["en", "de", "fr", "es"] {
        let same: Vec<&EvalCase> = cases.iter().filter(|c| c.lang == lang).collect();
        let first = same[0];
        let mut body = String::new();
        for c in same.iter().cycle() {
            if body.len() > 3800 {
                break;
            }
            body.push_str(&c.body);
            body.push_str("\n\n");
        }
        let summary = first.body.split("\n\n").next().unwrap_or("");
        let msg = format!(
            "{}\nhttps://news.example.com/{lang}/article\n{summary}\n\n{body}",
            first.title
        );
        assert!((3000..=5200).contains(&msg.len()), "{} bytes", msg.len());
        out.push(msg.into_bytes());
    }
    out
}

fn articles(messages: &[Vec<u8>]) -> Vec<Article> {
    let now = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    messages
        .iter()
        .map(|m| {
            let raw = decode(m, &DecodeLimits::default()).expect("decodes");
            normalize(raw, &NormalizeOptions::default(), now).expect("normalizes")
        })
        .collect()
}

fn stages(c: &mut Criterion) {
    let messages = messages();
    let articles = articles(&messages);
    let enricher = Enricher::new(EnrichOptions::default()).expect("tables load");
    let now = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();

    let mut g = c.benchmark_group("per_article");
    g.throughput(Throughput::Elements(articles.len() as u64));
    g.bench_function("enrich", |b| {
        b.iter(|| {
            for a in &articles {
                black_box(enricher.enrich(black_box(a)));
            }
        })
    });
    g.bench_function("decode", |b| {
        b.iter(|| {
            for m in &messages {
                black_box(decode(black_box(m), &DecodeLimits::default()).ok());
            }
        })
    });
    g.bench_function("normalize", |b| {
        b.iter(|| {
            for m in &messages {
                let raw = decode(m, &DecodeLimits::default()).expect("decodes");
                black_box(normalize(raw, &NormalizeOptions::default(), now).ok());
            }
        })
    });
    g.bench_function("dedup_fingerprint", |b| {
        b.iter(|| {
            for a in &articles {
                black_box(fingerprint(black_box(a)));
            }
        })
    });
    g.finish();

    // Enrich's parts, to see where its time goes.
    let mut g = c.benchmark_group("enrich_parts");
    g.throughput(Throughput::Elements(articles.len() as u64));
    let detector =
        newsflow::enrich::language::LanguageDetector::new(&EnrichOptions::default().languages, 0.5)
            .expect("languages");
    g.bench_function("language", |b| {
        b.iter(|| {
            for a in &articles {
                black_box(detector.detect(black_box(a)));
            }
        })
    });
    // The detector alone, whatlang's own and newsflow's inverted-index port (same
    // answers), on what the stage gives it first: title and the first 300 body characters.
    let samples: Vec<String> = articles
        .iter()
        .map(|a| {
            let end = a
                .body
                .char_indices()
                .nth(300)
                .map_or(a.body.len(), |(i, _)| i);
            format!("{}. {}", a.title, &a.body[..end])
        })
        .collect();
    let allow: Vec<whatlang::Lang> = EnrichOptions::default()
        .languages
        .iter()
        .map(|code| newsflow::enrich::language::from_iso639_1(code).expect("known language"))
        .collect();
    let fast = newsflow::enrich::detector::FastDetector::new(Some(allow.clone()));
    let whatlang = whatlang::Detector::with_allowlist(allow);
    g.bench_function("detector_whatlang", |b| {
        b.iter(|| {
            for s in &samples {
                black_box(whatlang.detect(black_box(s)));
            }
        })
    });
    g.bench_function("detector_inverted_index", |b| {
        b.iter(|| {
            for s in &samples {
                black_box(fast.detect(black_box(s)));
            }
        })
    });
    g.bench_function("stats", |b| {
        b.iter(|| {
            for a in &articles {
                black_box(newsflow::enrich::stats::compute(black_box(&a.body)));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
