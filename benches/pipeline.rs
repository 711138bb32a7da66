//! Per-core throughput of every stage and of the whole `Pipeline::process`, without Kafka,
//! on the generated corpus (`newsflow::bench_corpus`: realistic articles of 1, 4 and 16 KB,
//! 20% exact duplicates, 5% wire-prefix near duplicates, in arrival order).
//!
//! `cargo bench --bench pipeline` (add a filter, e.g. `-- pipeline/4k`, to run some).
//! One benchmark iteration is one article; the corpus is cycled, and state that must not
//! carry over a cycle (the pipeline's dedup window) is rebuilt outside the timed section.
//! criterion reports articles/s (`elem/s`); a table with articles/s and MB/s (10^6 bytes
//! of input message) per benchmark is printed at the end.
//!
//! The dedup index at 100k, 1M and 10M entries has its own bench: `cargo bench --bench dedup`.
//!
//! Reference (2-vCPU shared machine, BENCHMARKS.md): the whole pipeline on 4 KB articles
//! about 220 µs per article (4,500 articles/s, 18 MB/s per core), of which enrich about
//! 195 µs (on the 75% that are not duplicates) and the dedup fingerprint about 36 µs.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use criterion::{Criterion, Throughput};

use newsflow::bench_corpus::{Corpus, CorpusOptions};
use newsflow::decode::{decode, DecodeLimits};
use newsflow::dedup::eval::random_fingerprint;
use newsflow::dedup::{fingerprint, DedupOptions, Deduper};
use newsflow::enrich::{EnrichOptions, Enricher};
use newsflow::metrics::Metrics;
use newsflow::model::{Article, Ingest, RawArticle, Record};
use newsflow::normalize::{normalize, NormalizeOptions};
use newsflow::pipeline::{Pipeline, PipelineOptions, SourceMeta, PIPELINE_VERSION};

/// (size label, target bytes, articles in the corpus)
const SIZES: [(&str, usize, usize); 3] =
    [("1k", 1024, 4000), ("4k", 4096, 2000), ("16k", 16384, 600)];

/// Totals over every timed call of a benchmark: (time, articles, input bytes).
static TOTALS: Mutex<BTreeMap<String, (Duration, u64, u64)>> = Mutex::new(BTreeMap::new());

fn record(name: &str, elapsed: Duration, articles: u64, bytes: u64) {
    let mut t = TOTALS.lock().unwrap();
    let e = t.entry(name.to_owned()).or_default();
    e.0 += elapsed;
    e.1 += articles;
    e.2 += bytes;
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 4, 12, 0, 0).unwrap()
}

struct Prepared {
    payloads: Vec<Vec<u8>>,
    raws: Vec<RawArticle>,
    articles: Vec<Article>,
}

fn prepare(size: usize, n: usize) -> Prepared {
    let payloads: Vec<Vec<u8>> = Corpus::generate(CorpusOptions::new(size, 42), n)
        .into_iter()
        .map(|m| m.payload)
        .collect();
    let raws: Vec<RawArticle> = payloads
        .iter()
        .map(|p| decode(p, &DecodeLimits::default()).expect("corpus decodes"))
        .collect();
    let articles = raws
        .iter()
        .map(|r| normalize(r.clone(), &NormalizeOptions::default(), now()).expect("normalizes"))
        .collect();
    Prepared {
        payloads,
        raws,
        articles,
    }
}

/// Times `iters` calls of `f` over the corpus items in turn. `reset(cycle)` runs, untimed,
/// before each pass over the corpus (index 0).
fn cycle<S>(
    name: &str,
    iters: u64,
    sizes: &[usize],
    mut reset: impl FnMut() -> S,
    mut f: impl FnMut(&mut S, usize),
) -> Duration {
    let n = sizes.len();
    let mut total = Duration::ZERO;
    let mut bytes = 0u64;
    let mut i = 0u64;
    while i < iters {
        let mut state = reset();
        let pass = ((iters - i) as usize).min(n);
        let start = Instant::now();
        for k in 0..pass {
            f(&mut state, k);
        }
        total += start.elapsed();
        bytes += sizes[..pass].iter().map(|s| *s as u64).sum::<u64>();
        drop(state);
        i += pass as u64;
    }
    record(name, total, iters, bytes);
    total
}

fn stages(c: &mut Criterion) {
    let enricher = Enricher::new(EnrichOptions::default()).expect("enrich tables load");
    let window = Mutex::new(Deduper::new(DedupOptions::default()));
    {
        let mut w = window.lock().unwrap();
        for seed in 0..1_000_000u64 {
            w.check(&random_fingerprint(seed), now(), now());
        }
    }
    for (label, size, n) in SIZES {
        let p = prepare(size, n);
        let lens: Vec<usize> = p.payloads.iter().map(Vec::len).collect();
        let mean = lens.iter().sum::<usize>() / lens.len();
        eprintln!("corpus {label}: {n} messages, {mean} bytes on average");
        let mut g = c.benchmark_group(format!("pipeline/{label}"));
        g.throughput(Throughput::Elements(1));
        g.measurement_time(Duration::from_secs(4));
        g.sample_size(30);

        let name = format!("{label}/decode");
        g.bench_function("decode", |b| {
            b.iter_custom(|iters| {
                cycle(
                    &name,
                    iters,
                    &lens,
                    || (),
                    |_, k| {
                        black_box(decode(&p.payloads[k], &DecodeLimits::default()).ok());
                    },
                )
            })
        });

        let name = format!("{label}/normalize");
        g.bench_function("normalize", |b| {
            b.iter_custom(|iters| {
                cycle(
                    &name,
                    iters,
                    &lens,
                    || p.raws.clone().into_iter().map(Some).collect::<Vec<_>>(),
                    |raws, k| {
                        let raw = raws[k].take().expect("each used once");
                        black_box(normalize(raw, &NormalizeOptions::default(), now()).ok());
                    },
                )
            })
        });

        // Fingerprinting: the text work of dedup, done outside the index lock.
        let name = format!("{label}/fingerprint");
        g.bench_function("fingerprint", |b| {
            b.iter_custom(|iters| {
                cycle(
                    &name,
                    iters,
                    &lens,
                    || (),
                    |_, k| {
                        black_box(fingerprint(&p.articles[k]));
                    },
                )
            })
        });

        // Fingerprint plus the index check against a window already holding 1M articles
        // (the corpus's own copies are found from the first pass on). The index alone at
        // 100k, 1M and 10M entries: `cargo bench --bench dedup`.
        let name = format!("{label}/dedup");
        g.bench_function("dedup (1M indexed)", |b| {
            b.iter_custom(|iters| {
                let index = &mut *window.lock().unwrap();
                cycle(
                    &name,
                    iters,
                    &lens,
                    || (),
                    |_, k| {
                        let a = &p.articles[k];
                        let fp = fingerprint(a);
                        black_box(index.check(&fp, a.published_at.unwrap_or(now()), now()));
                    },
                )
            })
        });

        let name = format!("{label}/enrich");
        g.bench_function("enrich", |b| {
            b.iter_custom(|iters| {
                cycle(
                    &name,
                    iters,
                    &lens,
                    || (),
                    |_, k| {
                        black_box(enricher.enrich(&p.articles[k]));
                    },
                )
            })
        });

        // Record assembly and JSON serialization of the output.
        let enrichments: Vec<_> = p.articles.iter().map(|a| enricher.enrich(a)).collect();
        let fps: Vec<_> = p.articles.iter().map(fingerprint).collect();
        let name = format!("{label}/serialize");
        g.bench_function("serialize", |b| {
            b.iter_custom(|iters| {
                cycle(
                    &name,
                    iters,
                    &lens,
                    || {
                        p.articles
                            .iter()
                            .cloned()
                            .zip(enrichments.iter().cloned())
                            .map(Some)
                            .collect::<Vec<_>>()
                    },
                    |items, k| {
                        let (article, enrichment) = items[k].take().expect("each used once");
                        let ingest = Ingest {
                            topic: "articles.raw".into(),
                            partition: 0,
                            offset: k as i64,
                            received_at: now(),
                            processed_at: now(),
                            pipeline: PIPELINE_VERSION.to_owned(),
                            format: article.format,
                        };
                        let record =
                            Record::assemble(article, enrichment, fps[k].to_record(), 1, ingest);
                        black_box(serde_json::to_vec(&record).expect("serializes"));
                    },
                )
            })
        });

        // The whole synchronous pipeline, as a worker thread runs it (metrics included).
        // A fresh pipeline per pass over the corpus, so duplicates are what the corpus says.
        let name = format!("{label}/pipeline");
        g.bench_function("process", |b| {
            b.iter_custom(|iters| {
                cycle(
                    &name,
                    iters,
                    &lens,
                    || {
                        let metrics = Metrics::new(&prometheus::Registry::new()).expect("metrics");
                        Pipeline::new(PipelineOptions::default(), metrics).expect("pipeline")
                    },
                    |pipeline, k| {
                        let meta = SourceMeta {
                            topic: "articles.raw",
                            partition: 0,
                            offset: k as i64,
                            received_at: now(),
                        };
                        black_box(pipeline.process(&p.payloads[k], &meta, now()));
                    },
                )
            })
        });
        g.finish();
    }
}

fn summary() {
    let t = TOTALS.lock().unwrap();
    if t.is_empty() {
        return;
    }
    println!();
    println!("per core (one thread), over every timed iteration:");
    println!(
        "{:<16} {:>12} {:>14} {:>10}",
        "benchmark", "µs/article", "articles/s", "MB/s"
    );
    for (name, (time, articles, bytes)) in t.iter() {
        let secs = time.as_secs_f64();
        if *articles == 0 || secs == 0.0 {
            continue;
        }
        println!(
            "{:<16} {:>12.1} {:>14.0} {:>10.1}",
            name,
            secs * 1e6 / *articles as f64,
            *articles as f64 / secs,
            *bytes as f64 / secs / 1e6
        );
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    stages(&mut c);
    c.final_summary();
    summary();
}
