//! What the fault scenarios feed: unique articles, copies of them under other tracking
//! parameters, bad data of several kinds, and the [`Expected`] outcome of feeding them.
//! A seeded generator places the faults and shuffles the messages.

use std::collections::{BTreeMap, BTreeSet};

use crate::common::{article, words};

/// SplitMix64: small and seedable, enough to place faults reproducibly.
pub struct Rng(u64);

impl Rng {
    pub fn new(test: &str) -> Rng {
        let seed = std::env::var("NEWSFLOW_FAULTS_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        println!("{test}: seed {seed} (replay with NEWSFLOW_FAULTS_SEED={seed})");
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        newsflow::dedup::minhash::mix64(self.0)
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.between(0, i as u64) as usize;
            v.swap(i, j);
        }
    }
}

/// A small unique article (about 250 bytes), for the backlog.
pub fn small_article(i: usize) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "title": format!("Harbour notice {i}"),
        "url": format!("https://news.example.com/notices/{i}?utm_source=feed"),
        "body": format!("Notice {i}: {}.", words(i as u64, 16)),
    }))
    .unwrap()
}

/// The same story as `original` under its URL with other tracking parameters, or the very
/// same bytes again (every fourth): a duplicate by canonical URL.
pub fn copy_of(original: &[u8], variant: usize) -> Vec<u8> {
    const TRACKING: [&str; 3] = [
        "utm_source=x&fbclid=y",
        "utm_medium=social&utm_campaign=spring&gclid=z",
        "fbclid=abc#comments",
    ];
    if variant % 4 == 3 {
        return original.to_vec();
    }
    let mut v: serde_json::Value = serde_json::from_slice(original).unwrap();
    let url = v["url"].as_str().unwrap();
    let base = url.split('?').next().unwrap();
    v["url"] = format!("{base}?{}", TRACKING[variant % 4]).into();
    serde_json::to_vec(&v).unwrap()
}

/// Bad data of four kinds, different bytes for every `i`, with the reason it must be
/// dead-lettered with. None contains a newline: they are fed as NDJSON lines.
pub fn bad_message(i: usize) -> (Vec<u8>, &'static str) {
    match i % 4 {
        0 => {
            let a = article(i);
            (a[..a.len() / 2].to_vec(), "invalid_json")
        }
        1 => {
            // 0x81, 0x8d and 0x9d are undefined in Windows-1252 and not UTF-8: binary.
            let mut b = vec![0x81, 0x8d, 0x00, 0xfe];
            b.extend(format!("binary {i}").bytes());
            b.push(0x9d);
            (b, "invalid_encoding")
        }
        2 => (
            serde_json::to_vec(&serde_json::json!({
                "title": format!("Notice {i} without a body"),
                "url": format!("https://news.example.com/empty/{i}"),
            }))
            .unwrap(),
            "missing_body",
        ),
        _ => (
            serde_json::to_vec(&serde_json::json!({
                "title": format!("Script link {i}"),
                "url": format!("javascript:alert({i})"),
                "body": format!("A story {i} whose link is a script."),
            }))
            .unwrap(),
            "invalid_url",
        ),
    }
}

pub fn canonical_url_of(message: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(message).unwrap();
    newsflow::normalize::canonical_url(v["url"].as_str().unwrap()).unwrap()
}

/// What was fed, hence what must come out.
#[derive(Default)]
pub struct Expected {
    /// Canonical URL of every unique article: each must be in the output exactly once.
    pub urls: BTreeSet<String>,
    /// Every bad message and the reason it must be dead-lettered with.
    pub bad: BTreeMap<Vec<u8>, &'static str>,
    /// Copies of articles fed (dropped as duplicates, whichever copy comes first).
    pub copies: usize,
    pub fed: usize,
}

impl Expected {
    /// Unique articles made by `make` for each id.
    pub fn originals(
        &mut self,
        ids: std::ops::Range<usize>,
        make: fn(usize) -> Vec<u8>,
    ) -> Vec<Vec<u8>> {
        ids.map(|i| {
            let m = make(i);
            assert!(
                self.urls.insert(canonical_url_of(&m)),
                "article {i} is not unique"
            );
            m
        })
        .collect()
    }

    /// A copy of each article made by `make` for each id (articles fed as originals).
    pub fn copies(
        &mut self,
        ids: impl IntoIterator<Item = usize>,
        make: fn(usize) -> Vec<u8>,
    ) -> Vec<Vec<u8>> {
        ids.into_iter()
            .enumerate()
            .map(|(n, i)| {
                let m = copy_of(&make(i), n);
                assert!(self.urls.contains(&canonical_url_of(&m)));
                self.copies += 1;
                m
            })
            .collect()
    }

    /// A shuffled feed: `unique` originals made by `make`, `copies` copies of originals
    /// drawn at random, and `bad` bad messages.
    pub fn mixed(
        &mut self,
        rng: &mut Rng,
        (unique, copies, bad): (usize, usize, usize),
        make: fn(usize) -> Vec<u8>,
    ) -> Vec<Vec<u8>> {
        let mut messages = self.originals(0..unique, make);
        let ids: Vec<usize> = (0..copies)
            .map(|_| rng.between(0, unique as u64 - 1) as usize)
            .collect();
        messages.extend(self.copies(ids, make));
        messages.extend(self.bad(0..bad));
        rng.shuffle(&mut messages);
        messages
    }

    pub fn bad(&mut self, ids: std::ops::Range<usize>) -> Vec<Vec<u8>> {
        ids.map(|i| {
            let (m, reason) = bad_message(i);
            assert!(self.bad.insert(m.clone(), reason).is_none());
            m
        })
        .collect()
    }
}
