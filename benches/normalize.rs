//! Throughput of the normalize stage on realistic 3–5 KB articles, generated
//! deterministically: plain-text bodies (the common case) and HTML bodies.
//! Run with `cargo bench --bench normalize`.
//!
//! Reference (2-core shared development machine, CPU time per article, 4.7–5 KB each):
//! text bodies about 16 µs (about 60,000 articles/s, 290 MB/s per core), HTML bodies about
//! 29 µs (about 34,000 articles/s, 170 MB/s), most of it in the HTML tokenizer.

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

use newsflow::model::{InputFormat, RawArticle, RawDate};
use newsflow::normalize::{normalize, NormalizeOptions};

const WORDS: &[&str] = &[
    "the",
    "council",
    "said",
    "on",
    "Monday",
    "that",
    "a",
    "new",
    "ferry",
    "line",
    "would",
    "open",
    "next",
    "month",
    "after",
    "years",
    "of",
    "delays",
    "residents",
    "welcomed",
    "plan",
    "but",
    "critics",
    "warned",
    "costs",
    "could",
    "rise",
    "minister",
    "confirmed",
    "funding",
    "for",
    "project",
    "which",
    "includes",
    "two",
    "boats",
    "and",
    "terminal",
    "harbour",
    "islands",
    "journey",
    "time",
    "will",
    "fall",
    "from",
    "three",
    "hours",
    "to",
    "one",
    "café",
    "“temporary”",
    "measures",
    "—",
    "officials",
    "added",
    "in",
    "statement",
    "report",
    "published",
    "by",
    "agency",
    "shows",
    "growth",
    "2.4%",
    "since",
    "2019",
    "Naïve",
    "Zürich",
];

/// A small deterministic generator (64-bit LCG); no external randomness in benchmarks.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as usize
    }

    fn word(&mut self) -> &'static str {
        WORDS[self.next() % WORDS.len()]
    }

    fn sentence(&mut self) -> String {
        let n = 8 + self.next() % 14;
        let mut s = String::new();
        for i in 0..n {
            let w = self.word();
            if i == 0 {
                let mut c = w.chars();
                s.extend(c.next().into_iter().flat_map(char::to_uppercase));
                s.push_str(c.as_str());
            } else {
                s.push(' ');
                s.push_str(w);
            }
        }
        s.push('.');
        s
    }

    fn paragraphs(&mut self, min_bytes: usize) -> Vec<String> {
        let mut out = Vec::new();
        let mut len = 0;
        while len < min_bytes {
            let p = (0..2 + self.next() % 3)
                .map(|_| self.sentence())
                .collect::<Vec<_>>()
                .join(" ");
            len += p.len() + 2;
            out.push(p);
        }
        out
    }
}

fn article(rng: &mut Lcg, i: usize, html: bool) -> RawArticle {
    let target = 3 * 1024 + rng.next() % (2 * 1024 - 200);
    let paras = rng.paragraphs(target);
    let title = rng.sentence().trim_end_matches('.').to_owned();
    let body = if html {
        let mut b = String::from("<div class=\"article-body\">");
        for (k, p) in paras.iter().enumerate() {
            if k == 1 {
                b.push_str(
                    "<figure><img src=\"/img/1.jpg\"><figcaption>Photo</figcaption></figure>",
                );
            }
            b.push_str("<p>");
            b.push_str(
                &p.replacen(" the ", " <a href=\"/x\">the</a> ", 1)
                    .replacen(" and ", " &amp; ", 1),
            );
            b.push_str("</p>\n");
        }
        b.push_str("<script>window.track && track('view');</script></div>");
        b
    } else {
        format!("• {title}\n\n{}", paras.join("\n\n"))
    };
    let mut raw = RawArticle::new(
        if html {
            InputFormat::Json
        } else {
            InputFormat::Text
        },
        format!("{title} - Example News"),
        body,
    );
    raw.url = Some(format!(
        "https://www.example.com/news/2023/{i}/story-{i}?utm_source=rss&utm_medium=feed&id={i}&fbclid=abc"
    ));
    raw.summary = Some(paras[0].clone());
    raw.published = Some(RawDate::Text(if i % 2 == 0 {
        "Aug 22, 2019 15:52 UTC".into()
    } else {
        "2019-08-22T17:52:00+02:00".into()
    }));
    raw.modified = Some(RawDate::Text("2021-04-13T02:52:40+00:00".into()));
    raw.authors = vec!["By Jane Doe and John Roe".into()];
    raw.source_name = Some("Example News".into());
    raw.language = Some("en-GB".into());
    raw.tags = vec!["Transport".into(), " Islands ".into()];
    raw
}

fn bench(c: &mut Criterion) {
    let opts = NormalizeOptions::default();
    let now = Utc.with_ymd_and_hms(2024, 6, 1, 12, 0, 0).unwrap();
    for (name, html) in [("text_4k", false), ("html_4k", true)] {
        let mut rng = Lcg(42);
        let articles: Vec<RawArticle> = (0..64).map(|i| article(&mut rng, i, html)).collect();
        let bytes: usize = articles
            .iter()
            .map(|a| a.body.len() + a.title.len() + a.summary.as_ref().map_or(0, String::len))
            .sum();
        eprintln!(
            "{name}: {} articles, {bytes} bytes, {} bytes per article on average",
            articles.len(),
            bytes / articles.len()
        );
        let mut group = c.benchmark_group("normalize");
        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_function(name, |b| {
            b.iter_batched(
                || articles.clone(),
                |batch| {
                    for raw in batch {
                        black_box(normalize(raw, &opts, now).expect("valid article"));
                    }
                },
                BatchSize::LargeInput,
            )
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
