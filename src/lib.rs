//! newsflow: consumes raw news articles from Kafka, turns each into one structured,
//! deduplicated, enriched JSON record, and publishes it, at least once.
//!
//! # Layout
//! Stages, in order (plain synchronous functions, no Kafka types, `now` passed in):
//! 1. [`decode`]: bytes → [`model::RawArticle`] (JSON or the plain-text layout), or bad data.
//! 2. [`normalize`]: → [`model::Article`]: clean text, canonical URL, UTC dates.
//! 3. [`dedup`]: exact URL, exact content and near-duplicate checks against the window.
//! 4. [`enrich`]: language, stats, source, countries, organizations, keywords.
//!
//! [`pipeline`] composes them into one `process` call returning an [`pipeline::Outcome`]:
//! publish, duplicate, or dead-letter.
//!
//! [`bench_corpus`] generates the deterministic article corpus the benchmarks run on
//! (`benches/`, `examples/e2e.rs`, `BENCHMARKS.md`).
pub mod app;
pub mod bench_corpus;
pub mod changelog;
pub mod config;
pub mod decode;
pub mod dedup;
pub mod demo;
pub mod enrich;
pub mod http;
pub mod kafka;
pub mod metrics;
pub mod model;
pub mod normalize;
pub mod offsets;
pub mod pipeline;
pub mod produce;
pub mod telemetry;

/// mimalloc instead of glibc's allocator: the stages allocate a few hundred small blocks
/// per article, and glibc's malloc and free were about a tenth of the pipeline's time
/// (`perf record` on `examples/e2e pipeline`); mimalloc makes the whole pipeline ≈ 8%
/// faster (BENCHMARKS.md). Declared in the library so the binary, the tests, the
/// benchmarks and the examples all run on the allocator that ships.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
