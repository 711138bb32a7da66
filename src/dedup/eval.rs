//! Measures the dedup stage on the generated, labelled corpus of `eval_corpus`: precision,
//! recall and F1 per duplicate kind and for distinct write-ups of one event, the similarity
//! margin between near duplicates and distinct write-ups, index memory per article and
//! throughput. `cargo run --release --example eval_dedup` prints the report.

use std::collections::HashMap;
use std::fmt;
use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};

use super::eval_corpus::{generate, Category, Expected, Item};
use super::eval_text::Rng;
use super::minhash::{jaccard, shingle_set, NearFingerprint, BANDS, BAND_CHOICES, SKETCH_WORDS};
use super::{fingerprint, ArticleFingerprint, DedupOptions, Deduper, DuplicateKind, Verdict};
use crate::model::Article;
use crate::normalize::{fold, normalize, NormalizeOptions};

/// Precision, recall and F1 of one class of verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    pub name: &'static str,
    /// Items that should get this verdict.
    pub expected: usize,
    /// Items that got it.
    pub predicted: usize,
    /// Items that got it and should have (for duplicates: matched to the right article).
    pub correct: usize,
    /// Items that should have got it and did, whatever kind of duplicate was reported.
    pub found: usize,
}

impl Score {
    pub fn precision(&self) -> f64 {
        ratio(self.correct, self.predicted)
    }
    pub fn recall(&self) -> f64 {
        ratio(self.found, self.expected)
    }
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}

/// How one category of item fared.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryRow {
    pub name: &'static str,
    pub items: usize,
    /// Got the expected verdict (for copies: a duplicate of the right article).
    pub correct: usize,
    /// Reported as a duplicate of an article of another write-up.
    pub wrong_merges: usize,
}

/// Distribution summary of a similarity: exact Jaccard and the sketch's estimate.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Spread {
    pub pairs: usize,
    pub exact: [f64; 3],
    pub estimated: [f64; 3],
}

#[derive(Debug, Clone)]
pub struct EvalReport {
    pub stories: usize,
    pub seed: u64,
    pub articles: usize,
    pub options: DedupOptions,
    /// url, content, near, revision, distinct write-ups.
    pub scores: Vec<Score>,
    pub categories: Vec<CategoryRow>,
    /// Recall over syndicated copies with at most one changed paragraph.
    pub syndicated_recall: f64,
    /// Distinct write-ups of one event (other outlet, follow-up) reported as duplicates.
    pub false_merges: usize,
    pub distinct_items: usize,
    /// Near duplicates vs. their original: minimum, 5th percentile, median.
    pub near_similarity: Spread,
    /// Distinct write-ups vs. the event's first write-up: median, 99th percentile, maximum.
    pub distinct_similarity: Spread,
    pub memory_entries: usize,
    pub bytes_per_article: f64,
    /// Fingerprint + check, one thread.
    pub articles_per_second: f64,
    /// `check` alone (the part under the lock).
    pub checks_per_second: f64,
}

/// Generates `stories` news events with their copies (seeded) and measures dedup on them;
/// memory is measured on an index filled to one million articles.
pub fn run_eval(stories: usize, seed: u64) -> EvalReport {
    run_eval_with(stories, seed, DedupOptions::default(), 1_000_000)
}

/// As `run_eval`, with the options under test and the size of the memory measurement.
pub fn run_eval_with(
    stories: usize,
    seed: u64,
    options: DedupOptions,
    memory_entries: usize,
) -> EvalReport {
    let items = generate(stories, seed);
    let articles: Vec<(Article, &Item)> = items
        .iter()
        .filter_map(|item| {
            normalize(item.raw.clone(), &NormalizeOptions::default(), item.arrival)
                .ok()
                .map(|a| (a, item))
        })
        .collect();
    let mut deduper = Deduper::new(DedupOptions {
        max_entries: options.max_entries.max(articles.len()),
        ..options.clone()
    });
    let mut verdicts = Vec::with_capacity(articles.len());
    let mut check_time = std::time::Duration::ZERO;
    let start = Instant::now();
    for (article, item) in &articles {
        let fp = fingerprint(article);
        let event_time = article.published_at.unwrap_or(item.arrival);
        let t = Instant::now();
        verdicts.push(deduper.check(&fp, event_time, item.arrival));
        check_time += t.elapsed();
    }
    let elapsed = start.elapsed().as_secs_f64();
    let (scores, categories, false_merges) = score(&articles, &verdicts);
    let distinct_items = articles
        .iter()
        .filter(|(_, i)| matches!(i.category, Category::OtherWriteUp | Category::FollowUp))
        .count();
    let copies: Vec<_> = categories
        .iter()
        .zip(Category::ALL)
        .filter(|(_, c)| c.is_syndicated_copy())
        .map(|(row, _)| row)
        .collect();
    let (near_similarity, distinct_similarity) = similarity_spreads(&articles);
    EvalReport {
        stories,
        seed,
        articles: articles.len(),
        syndicated_recall: ratio(
            copies.iter().map(|r| r.correct).sum(),
            copies.iter().map(|r| r.items).sum(),
        ),
        scores,
        categories,
        false_merges,
        distinct_items,
        near_similarity,
        distinct_similarity,
        memory_entries,
        bytes_per_article: bytes_per_article(memory_entries),
        articles_per_second: articles.len() as f64 / elapsed,
        checks_per_second: articles.len() as f64 / check_time.as_secs_f64(),
        options,
    }
}

type Scored = (Vec<Score>, Vec<CategoryRow>, usize);

fn score(articles: &[(Article, &Item)], verdicts: &[Verdict]) -> Scored {
    // Which write-up each published id belongs to, to judge what a duplicate matched.
    let mut cluster_of: HashMap<String, usize> = HashMap::new();
    for ((article, item), verdict) in articles.iter().zip(verdicts) {
        if !matches!(verdict, Verdict::Duplicate { .. }) {
            cluster_of.entry(article.id.clone()).or_insert(item.cluster);
        }
    }
    let kinds = [
        ("url", Expected::Url),
        ("content", Expected::Content),
        ("near", Expected::Near),
    ];
    let mut scores: Vec<Score> = kinds
        .iter()
        .map(|&(name, _)| Score {
            name,
            expected: 0,
            predicted: 0,
            correct: 0,
            found: 0,
        })
        .chain(["revision", "distinct write-ups kept"].map(|name| Score {
            name,
            expected: 0,
            predicted: 0,
            correct: 0,
            found: 0,
        }))
        .collect();
    let mut rows: Vec<CategoryRow> = Category::ALL
        .iter()
        .map(|c| CategoryRow {
            name: c.name(),
            items: 0,
            correct: 0,
            wrong_merges: 0,
        })
        .collect();
    let mut false_merges = 0;
    for ((_, item), verdict) in articles.iter().zip(verdicts) {
        let expected = item.category.expected();
        let distinct = matches!(item.category, Category::OtherWriteUp | Category::FollowUp);
        let row = &mut rows[Category::ALL
            .iter()
            .position(|c| *c == item.category)
            .expect("listed")];
        row.items += 1;
        if let Some(k) = kinds.iter().position(|&(_, e)| e == expected) {
            scores[k].expected += 1;
        }
        if expected == Expected::Revision {
            scores[3].expected += 1;
        }
        if distinct {
            scores[4].expected += 1;
        }
        let right_match = match verdict {
            Verdict::Duplicate { kind, of, .. } => {
                let right = cluster_of.get(of) == Some(&item.cluster);
                let k = DuplicateKind::ALL
                    .iter()
                    .position(|x| x == kind)
                    .expect("listed");
                scores[k].predicted += 1;
                let is_copy =
                    matches!(expected, Expected::Url | Expected::Content | Expected::Near);
                if right && is_copy {
                    scores[k].correct += 1;
                }
                if !right {
                    row.wrong_merges += 1;
                    false_merges += usize::from(distinct);
                }
                right
            }
            _ => false,
        };
        let correct = match (expected, verdict) {
            (Expected::Unique, Verdict::Unique) => true,
            (Expected::Revision, Verdict::Revision { revision }) => *revision >= 2,
            (Expected::Unique | Expected::Revision, _) => false,
            _ => right_match,
        };
        if let Verdict::Revision { .. } = verdict {
            scores[3].predicted += 1;
            scores[3].correct += usize::from(correct);
        }
        if distinct && matches!(verdict, Verdict::Unique) {
            scores[4].found += 1;
        }
        if correct {
            row.correct += 1;
            if let Some(k) = kinds.iter().position(|&(_, e)| e == expected) {
                scores[k].found += 1;
            }
            if expected == Expected::Revision {
                scores[3].found += 1;
            }
        }
    }
    // Distinct write-ups: "predicted kept" is every write-up published as new.
    let published_new = articles
        .iter()
        .zip(verdicts)
        .filter(|((_, i), v)| {
            matches!(v, Verdict::Unique)
                && !matches!(i.category, Category::Original)
                && !matches!(i.category.expected(), Expected::Revision)
        })
        .count();
    scores[4].predicted = published_new;
    scores[4].correct = scores[4].found;
    (scores, rows, false_merges)
}

/// Exact and estimated similarity of near duplicates to their original, and of distinct
/// write-ups to the first write-up of their event.
fn similarity_spreads(articles: &[(Article, &Item)]) -> (Spread, Spread) {
    let mut first_of_cluster: HashMap<usize, usize> = HashMap::new();
    let mut first_of_story: HashMap<usize, usize> = HashMap::new();
    for (i, (_, item)) in articles.iter().enumerate() {
        first_of_cluster.entry(item.cluster).or_insert(i);
        if item.category == Category::Original {
            first_of_story.entry(item.story).or_insert(i);
        }
    }
    let sets: Vec<Vec<u64>> = articles
        .iter()
        .map(|(a, _)| shingle_set(&fold(&a.body)))
        .collect();
    let fps: Vec<ArticleFingerprint> = articles.iter().map(|(a, _)| fingerprint(a)).collect();
    let mut near = (Vec::new(), Vec::new());
    let mut distinct = (Vec::new(), Vec::new());
    for (i, (_, item)) in articles.iter().enumerate() {
        let (target, other) = match item.category {
            c if c.expected() == Expected::Near => (&mut near, first_of_cluster[&item.cluster]),
            Category::OtherWriteUp | Category::FollowUp => match first_of_story.get(&item.story) {
                Some(&o) => (&mut distinct, o),
                None => continue,
            },
            _ => continue,
        };
        target.0.push(jaccard(&sets[i], &sets[other]));
        if let (Some(a), Some(b)) = (&fps[i].near, &fps[other].near) {
            target.1.push(a.similarity(b));
        }
    }
    let spread = |(mut exact, mut est): (Vec<f64>, Vec<f64>), qs: [f64; 3]| {
        exact.sort_by(f64::total_cmp);
        est.sort_by(f64::total_cmp);
        let q = |v: &[f64], q: f64| {
            if v.is_empty() {
                f64::NAN
            } else {
                v[((v.len() - 1) as f64 * q).round() as usize]
            }
        };
        Spread {
            pairs: exact.len(),
            exact: qs.map(|x| q(&exact, x)),
            estimated: qs.map(|x| q(&est, x)),
        }
    };
    (
        spread(near, [0.0, 0.05, 0.5]),
        spread(distinct, [0.5, 0.99, 1.0]),
    )
}

/// Fills an index of `entries` articles with random fingerprints and reports
/// `approx_bytes() / len()`.
pub fn bytes_per_article(entries: usize) -> f64 {
    let entries = entries.max(1);
    let mut deduper = Deduper::new(DedupOptions {
        max_entries: entries,
        ..DedupOptions::default()
    });
    let now = Utc
        .with_ymd_and_hms(2025, 3, 3, 0, 0, 0)
        .single()
        .expect("valid");
    for i in 0..entries {
        let fp = random_fingerprint(i as u64);
        deduper.check(&fp, now + Duration::seconds(i as i64 / 100), now);
    }
    deduper.approx_bytes() as f64 / deduper.len() as f64
}

/// The fingerprint of a made-up 400-word article, a function of `seed`: distinct seeds give
/// distinct ids, bodies and unrelated band keys (for memory and speed measurements).
pub fn random_fingerprint(seed: u64) -> ArticleFingerprint {
    let rng = &mut Rng::new(seed.wrapping_mul(0x2545_f491_4f6c_dd1d));
    let id = u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64());
    ArticleFingerprint {
        id,
        has_url: true,
        content_hash: u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64()),
        simhash: rng.next_u64(),
        words: 400,
        near: Some(NearFingerprint {
            bands: std::array::from_fn(|_| std::array::from_fn(|_| rng.next_u64() as u32)),
            sketch: std::array::from_fn(|_| rng.next_u64()),
        }),
        modified_at: None,
    }
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.options;
        writeln!(
            f,
            "dedup evaluation: {} events, seed {}, {} articles",
            self.stories, self.seed, self.articles
        )?;
        writeln!(
            f,
            "method: MinHash-LSH over 3-word shingles, {BANDS} one-row bands (each indexed under \
             the first of its {BAND_CHOICES} smallest values that is not a hot key), confirmed by a \
             {}-bit one-permutation MinHash sketch; near threshold {:.2} (estimated Jaccard), \
             min {} words",
            64 * SKETCH_WORDS,
            o.near_threshold,
            o.min_words_for_near
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "{:<24} {:>8} {:>9} {:>9} {:>7} {:>7}",
            "verdict", "expected", "predicted", "precision", "recall", "f1"
        )?;
        for s in &self.scores {
            writeln!(
                f,
                "{:<24} {:>8} {:>9} {:>9.4} {:>7.4} {:>7.4}",
                s.name,
                s.expected,
                s.predicted,
                s.precision(),
                s.recall(),
                s.f1()
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "{:<32} {:>6} {:>8} {:>7} {:>12}",
            "category", "items", "correct", "rate", "wrong merges"
        )?;
        for r in self.categories.iter().filter(|r| r.items > 0) {
            writeln!(
                f,
                "{:<32} {:>6} {:>8} {:>7.4} {:>12}",
                r.name,
                r.items,
                r.correct,
                ratio(r.correct, r.items),
                r.wrong_merges
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "syndicated copies (<= 1 changed paragraph) recall: {:.4}",
            self.syndicated_recall
        )?;
        writeln!(
            f,
            "distinct write-ups of one event merged: {} of {}",
            self.false_merges, self.distinct_items
        )?;
        let (n, d) = (&self.near_similarity, &self.distinct_similarity);
        writeln!(
            f,
            "jaccard, near duplicates ({} pairs): min {:.3}  p5 {:.3}  median {:.3} \
             (sketch: {:.3} {:.3} {:.3})",
            n.pairs,
            n.exact[0],
            n.exact[1],
            n.exact[2],
            n.estimated[0],
            n.estimated[1],
            n.estimated[2]
        )?;
        writeln!(
            f,
            "jaccard, distinct write-ups ({} pairs): median {:.3}  p99 {:.3}  max {:.3} \
             (sketch: {:.3} {:.3} {:.3})",
            d.pairs,
            d.exact[0],
            d.exact[1],
            d.exact[2],
            d.estimated[0],
            d.estimated[1],
            d.estimated[2]
        )?;
        writeln!(
            f,
            "index memory: {:.1} bytes per article at {} articles",
            self.bytes_per_article, self.memory_entries
        )?;
        write!(
            f,
            "throughput: {:.0} articles/s (fingerprint + check), {:.0} checks/s (index only)",
            self.articles_per_second, self.checks_per_second
        )
    }
}
