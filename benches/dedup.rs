//! Dedup index speed and memory at 100k, 1M and 10M indexed articles: lookups that hit and
//! miss, and `check` of new articles at capacity (evict the oldest, insert). Lookups should
//! not slow down with the window size beyond cache effects.
//!
//! `cargo bench --bench dedup`; `NEWSFLOW_BENCH_SIZES=100000,1000000` picks the sizes.

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use newsflow::dedup::eval::random_fingerprint;
use newsflow::dedup::minhash::mix64;
use newsflow::dedup::{ArticleFingerprint, DedupOptions, Deduper};

const QUERIES: u64 = 1 << 14;

fn sizes() -> Vec<usize> {
    std::env::var("NEWSFLOW_BENCH_SIZES")
        .unwrap_or_else(|_| "100000,1000000,10000000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("sizes are numbers"))
        .collect()
}

/// A new article each call: a stored fingerprint with every key changed.
fn fresh(base: &ArticleFingerprint, n: u64) -> ArticleFingerprint {
    let salt = mix64(n ^ 0x5bd1_e995);
    let mut fp = base.clone();
    fp.id ^= u128::from(salt) << 1 | 1;
    fp.content_hash ^= u128::from(salt) << 64 | 1;
    if let Some(near) = fp.near.as_mut() {
        for (i, v) in near.bands.iter_mut().flatten().enumerate() {
            *v ^= (salt >> (i % 32)) as u32 | 1;
        }
    }
    fp
}

fn bench(c: &mut Criterion) {
    let now = Utc
        .with_ymd_and_hms(2025, 3, 3, 0, 0, 0)
        .single()
        .expect("valid");
    for size in sizes() {
        let mut deduper = Deduper::new(DedupOptions {
            max_entries: size,
            ..DedupOptions::default()
        });
        for seed in 0..size as u64 {
            deduper.check(&random_fingerprint(seed), now, now);
        }
        println!(
            "dedup index with {} articles: {:.1} bytes per article, {} MiB",
            deduper.len(),
            deduper.approx_bytes() as f64 / deduper.len() as f64,
            deduper.approx_bytes() >> 20
        );
        let stored: Vec<_> = (0..QUERIES)
            .map(|i| random_fingerprint(i * (size as u64 / QUERIES).max(1) % size as u64))
            .collect();
        let unseen: Vec<_> = (0..QUERIES)
            .map(|i| random_fingerprint(size as u64 + i))
            .collect();
        let mut group = c.benchmark_group(format!("dedup/{size}"));
        group.throughput(Throughput::Elements(1));
        group.sample_size(20);
        let mut i = 0usize;
        group.bench_function("lookup hit", |b| {
            b.iter(|| {
                i = (i + 1) % stored.len();
                black_box(deduper.lookup(&stored[i]))
            })
        });
        group.bench_function("lookup miss", |b| {
            b.iter(|| {
                i = (i + 1) % unseen.len();
                black_box(deduper.lookup(&unseen[i]))
            })
        });
        let mut n = 0u64;
        group.bench_function("check new (evict + insert)", |b| {
            b.iter_batched(
                || {
                    n += 1;
                    fresh(&unseen[n as usize % unseen.len()], n)
                },
                |fp| black_box(deduper.check(&fp, now, now)),
                BatchSize::SmallInput,
            )
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
