//! Tests of the dedup stage as the pipeline and the rebuild use it: verdicts, revisions,
//! the window, remembering published records, and the evaluation targets.

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;

use super::eval::{random_fingerprint, run_eval_with};
use super::*;
use crate::model::{InputFormat, RawArticle, RawDate};
use crate::normalize::{normalize, NormalizeOptions};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 3, 12, 0, 0)
        .single()
        .expect("valid")
}

fn article(url: Option<&str>, body: &str, modified: Option<DateTime<Utc>>) -> Article {
    let mut raw = RawArticle::new(InputFormat::Text, "A headline", body);
    raw.url = url.map(str::to_owned);
    raw.published = Some(RawDate::Text(t0().to_rfc3339()));
    raw.modified = modified.map(|m| RawDate::Text(m.to_rfc3339()));
    normalize(raw, &NormalizeOptions::default(), t0()).expect("valid article")
}

/// `paragraphs` paragraphs of 20 words, unique to `topic` and the paragraph.
fn paragraphs(topic: &str, count: usize) -> Vec<String> {
    (0..count)
        .map(|p| {
            (0..20)
                .map(|w| format!("{topic}{}x{w}", p * 7 + w % 3))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

fn body(paras: &[String]) -> String {
    paras.join("\n\n")
}

fn small() -> DedupOptions {
    DedupOptions {
        max_entries: 1000,
        ..DedupOptions::default()
    }
}

fn check(d: &mut Deduper, a: &Article) -> Verdict {
    d.check(&fingerprint(a), t0(), t0())
}

fn of(a: &Article) -> String {
    a.id.clone()
}

#[test]
fn the_same_url_again_is_a_url_duplicate_also_with_tracking_parameters() {
    let mut d = Deduper::new(small());
    let text = body(&paragraphs("quake", 8));
    let a = article(Some("https://news.example/a"), &text, None);
    assert_eq!(check(&mut d, &a), Verdict::Unique);
    let resend = article(Some("https://news.example/a?utm_source=x#top"), &text, None);
    assert_eq!(
        check(&mut d, &resend),
        Verdict::Duplicate {
            kind: DuplicateKind::Url,
            of: of(&a),
            similarity: None
        }
    );
    assert_eq!(d.len(), 1);
}

#[test]
fn the_same_body_under_another_url_is_a_content_duplicate() {
    let mut d = Deduper::new(small());
    let text = body(&paragraphs("storm", 8));
    let a = article(Some("https://one.example/a"), &text, None);
    check(&mut d, &a);
    // Punctuation and case do not matter: the body is folded before hashing.
    let b = article(Some("https://two.example/b"), &text.to_uppercase(), None);
    let verdict = check(&mut d, &b);
    assert_eq!(
        verdict,
        Verdict::Duplicate {
            kind: DuplicateKind::Content,
            of: of(&a),
            similarity: None
        }
    );
    // Articles without URL have a content-derived id: a resend is a content duplicate.
    let c = article(None, &body(&paragraphs("flood", 3)), None);
    assert_eq!(check(&mut d, &c), Verdict::Unique);
    assert!(matches!(
        check(&mut d, &c),
        Verdict::Duplicate {
            kind: DuplicateKind::Content,
            ..
        }
    ));
}

#[test]
fn a_copy_with_a_changed_paragraph_and_a_dateline_is_a_near_duplicate() {
    let mut d = Deduper::new(small());
    let mut paras = paragraphs("election", 8);
    let a = article(Some("https://one.example/a"), &body(&paras), None);
    check(&mut d, &a);
    paras[3] = paragraphs("rewrite", 1).remove(0);
    paras[0] = format!("SEOUL (AP) — {}", paras[0]);
    let b = article(Some("https://two.example/b"), &body(&paras), None);
    match check(&mut d, &b) {
        Verdict::Duplicate {
            kind: DuplicateKind::Near,
            of: matched,
            similarity: Some(s),
        } => {
            assert_eq!(matched, of(&a));
            assert!((0.6..1.0).contains(&s), "similarity {s}");
        }
        other => panic!("expected a near duplicate, got {other:?}"),
    }
}

#[test]
fn distinct_articles_sharing_boilerplate_stay_apart() {
    let mut d = Deduper::new(small());
    let boilerplate = paragraphs("footer", 2);
    for topic in ["court", "match", "rates"] {
        let mut paras = paragraphs(topic, 6);
        paras.extend(boilerplate.iter().cloned());
        let url = format!("https://one.example/{topic}");
        let a = article(Some(&url), &body(&paras), None);
        assert_eq!(check(&mut d, &a), Verdict::Unique, "{topic}");
    }
}

#[test]
fn short_bodies_skip_near_matching_but_not_exact_matching() {
    let mut d = Deduper::new(small());
    let short = paragraphs("brief", 2); // 40 words, under the default 50
    let a = article(Some("https://one.example/a"), &body(&short), None);
    check(&mut d, &a);
    let mut edited = short.clone();
    edited[1] = edited[1].replacen("brief", "other", 1);
    let b = article(Some("https://two.example/b"), &body(&edited), None);
    assert_eq!(check(&mut d, &b), Verdict::Unique);
    let c = article(Some("https://three.example/c"), &body(&short), None);
    assert!(matches!(
        check(&mut d, &c),
        Verdict::Duplicate {
            kind: DuplicateKind::Content,
            ..
        }
    ));
    // With a lower minimum the edited copy is found.
    let mut d = Deduper::new(DedupOptions {
        min_words_for_near: 10,
        ..small()
    });
    check(&mut d, &a);
    assert!(matches!(
        check(&mut d, &b),
        Verdict::Duplicate {
            kind: DuplicateKind::Near,
            ..
        }
    ));
}

#[test]
fn revisions_are_numbered_and_stale_versions_dropped() {
    let mut d = Deduper::new(small());
    let url = Some("https://one.example/a");
    let mut paras = paragraphs("ferry", 6);
    let v1 = article(url, &body(&paras), Some(t0()));
    assert_eq!(check(&mut d, &v1), Verdict::Unique);
    paras[0] = paragraphs("update", 1).remove(0);
    let v2 = article(url, &body(&paras), Some(t0() + Duration::hours(1)));
    assert_eq!(check(&mut d, &v2), Verdict::Revision { revision: 2 });
    paras[1] = paragraphs("again", 1).remove(0);
    // Without a modification time, changed content is a revision.
    let v3 = article(url, &body(&paras), None);
    assert_eq!(check(&mut d, &v3), Verdict::Revision { revision: 3 });
    let url_dup = Verdict::Duplicate {
        kind: DuplicateKind::Url,
        of: of(&v1),
        similarity: None,
    };
    // A version already published, even an old one, is a duplicate of the URL.
    assert_eq!(check(&mut d, &v1), url_dup);
    assert_eq!(check(&mut d, &v2), url_dup);
    // Changed content that is not newer than the last known modification is stale.
    paras[2] = paragraphs("stale", 1).remove(0);
    let stale = article(url, &body(&paras), Some(t0() - Duration::hours(1)));
    assert_eq!(check(&mut d, &stale), url_dup);
}

#[test]
fn revisions_can_be_dropped() {
    let mut d = Deduper::new(DedupOptions {
        revisions: RevisionPolicy::Drop,
        ..small()
    });
    let url = Some("https://one.example/a");
    let mut paras = paragraphs("strike", 6);
    let v1 = article(url, &body(&paras), None);
    check(&mut d, &v1);
    paras[0] = paragraphs("update", 1).remove(0);
    let v2 = article(url, &body(&paras), None);
    assert_eq!(
        check(&mut d, &v2),
        Verdict::Duplicate {
            kind: DuplicateKind::Url,
            of: of(&v1),
            similarity: None
        }
    );
}

#[test]
fn the_window_forgets_by_age_oldest_first_and_counts_it() {
    let mut d = Deduper::new(small());
    let fps: Vec<_> = (0..4).map(random_fingerprint).collect();
    for (i, fp) in fps.iter().enumerate() {
        let at = t0() + Duration::days(i as i64);
        assert_eq!(d.check(fp, at, at), Verdict::Unique);
    }
    // Eight days after the first: only the first is older than the 7-day window.
    let now = t0() + Duration::days(8) - Duration::minutes(1);
    d.check(&random_fingerprint(50), now, now);
    assert_eq!(d.evictions(), 1);
    assert_eq!(d.len(), 4);
    assert_eq!(d.lookup(&fps[0]), Verdict::Unique);
    assert!(matches!(d.lookup(&fps[1]), Verdict::Duplicate { .. }));
    // The event time, not the clock, ages an entry: a future date is clamped to now.
    let far = random_fingerprint(99);
    d.check(&far, now + Duration::days(365), now);
    let later = now + Duration::days(8);
    d.check(&random_fingerprint(100), later, later);
    assert_eq!(d.lookup(&far), Verdict::Unique);
}

#[test]
fn the_window_forgets_the_oldest_when_full() {
    let mut d = Deduper::new(DedupOptions {
        max_entries: 3,
        ..DedupOptions::default()
    });
    let fps: Vec<_> = (0..5).map(random_fingerprint).collect();
    for fp in &fps {
        d.check(fp, t0(), t0());
    }
    assert_eq!((d.len(), d.evictions()), (3, 2));
    let remembered: Vec<bool> = fps
        .iter()
        .map(|fp| matches!(d.lookup(fp), Verdict::Duplicate { .. }))
        .collect();
    assert_eq!(remembered, [false, false, true, true, true]);
}

fn record_json(fp: &ArticleFingerprint, revision: u32, url: bool) -> serde_json::Value {
    serde_json::json!({
        "schema_version": 1,
        "id": id_hex(fp.id),
        "revision": revision,
        "url": url.then_some("https://one.example/a"),
        "title": "A headline",
        "body": "…",
        "published_at": t0().to_rfc3339(),
        "modified_at": fp.modified_at.map(|m| m.to_rfc3339()),
        "fingerprints": fp.to_record(),
        "ingest": {"received_at": "2025-03-03T12:00:01.000Z", "partition": 0},
    })
}

#[test]
fn a_published_record_gives_back_its_fingerprint() {
    let a = article(
        Some("https://one.example/a"),
        &body(&paragraphs("court", 6)),
        Some(t0()),
    );
    let fp = fingerprint(&a);
    let json = record_json(&fp, 2, true);
    let published = PublishedFingerprint::from_record_json(&json).expect("parses");
    assert_eq!(published.fingerprint, fp);
    assert_eq!((published.revision, published.event_time), (2, t0()));
    let bytes = serde_json::to_vec(&json).expect("serializes");
    assert_eq!(
        PublishedFingerprint::from_record_slice(&bytes),
        Some(published)
    );
    // Without a publication time the ingest time is the event time.
    let mut json = json;
    json["published_at"] = serde_json::Value::Null;
    let published = PublishedFingerprint::from_record_json(&json).expect("parses");
    assert_eq!(published.event_time.timestamp(), t0().timestamp() + 1);
    // Not records: nothing.
    assert_eq!(PublishedFingerprint::from_record_slice(b"{}"), None);
    assert_eq!(PublishedFingerprint::from_record_slice(b"\xff"), None);
}

#[test]
fn records_of_another_scheme_are_remembered_for_exact_matching_only() {
    let fp = random_fingerprint(1);
    let mut json = record_json(&fp, 1, true);
    json["fingerprints"]["minhash"]["scheme"] = serde_json::json!(SCHEME_FOR_TESTS + 1);
    let published = PublishedFingerprint::from_record_json(&json).expect("parses");
    assert_eq!(published.fingerprint.near, None);
    let mut d = Deduper::new(small());
    assert!(d.remember(&published, t0()));
    assert!(matches!(d.lookup(&fp), Verdict::Duplicate { .. }));
}

const SCHEME_FOR_TESTS: u32 = minhash::SCHEME;

#[test]
fn remembering_is_idempotent_and_keeps_the_highest_revision() {
    let mut d = Deduper::new(small());
    let a = article(
        Some("https://one.example/a"),
        &body(&paragraphs("fire", 6)),
        None,
    );
    let fp = fingerprint(&a);
    // What this replica published itself changes nothing when read back.
    assert_eq!(d.check(&fp, t0(), t0()), Verdict::Unique);
    let own = PublishedFingerprint::from_record_json(&record_json(&fp, 1, true)).expect("ok");
    assert!(!d.remember(&own, t0()));
    assert_eq!(d.len(), 1);
    // Another replica published revision 3 of the same article.
    let mut paras = paragraphs("fire", 6);
    paras[0] = paragraphs("update", 1).remove(0);
    let v3 = fingerprint(&article(Some("https://one.example/a"), &body(&paras), None));
    let rec3 = PublishedFingerprint::from_record_json(&record_json(&v3, 3, true)).expect("ok");
    assert!(d.remember(&rec3, t0()));
    assert!(!d.remember(&rec3, t0()), "twice is a no-op");
    assert_eq!(d.len(), 2);
    paras[1] = paragraphs("again", 1).remove(0);
    let v4 = fingerprint(&article(Some("https://one.example/a"), &body(&paras), None));
    assert_eq!(d.check(&v4, t0(), t0()), Verdict::Revision { revision: 4 });
    // Records older than the window are not remembered.
    let mut old = rec3.clone();
    old.fingerprint = random_fingerprint(5);
    old.event_time = t0() - Duration::days(8);
    old.received_at = t0() - Duration::days(8);
    assert!(!d.remember(&old, t0()));
}

#[test]
fn memory_per_article_is_under_100_bytes_at_capacity() {
    let entries = 20_000;
    let bytes = eval::bytes_per_article(entries);
    assert!(bytes < 100.0, "{bytes} bytes per article");
}

#[test]
fn the_evaluation_meets_the_targets() {
    let report = run_eval_with(300, 11, DedupOptions::default(), 1000);
    let score = |name: &str| {
        report
            .scores
            .iter()
            .find(|s| s.name == name)
            .expect("scored")
            .clone()
    };
    assert!(report.articles > 1000, "{report}");
    assert!(report.syndicated_recall >= 0.95, "{report}");
    for kind in ["url", "content", "near", "revision"] {
        assert!(score(kind).precision() >= 0.99, "{kind}: {report}");
    }
    assert!(
        report.false_merges as f64 <= 0.01 * report.distinct_items as f64,
        "{report}"
    );
    assert!(
        score("distinct write-ups kept").recall() >= 0.99,
        "{report}"
    );
    assert!(format!("{report}").contains("bytes per article"));
}

fn any_fingerprint() -> impl Strategy<Value = ArticleFingerprint> {
    (
        any::<u128>(),
        any::<bool>(),
        0u128..4,
        any::<u32>(),
        proptest::option::of(any::<[[u32; minhash::BAND_CHOICES]; minhash::BANDS]>()),
        any::<[u64; minhash::SKETCH_WORDS]>(),
        proptest::option::of(any::<i32>()),
    )
        .prop_map(|(id, has_url, content, words, bands, sketch, modified)| {
            ArticleFingerprint {
                id: id % 8,
                has_url,
                content_hash: content << 100,
                simhash: 0,
                words,
                near: bands.map(|bands| NearFingerprint { bands, sketch }),
                modified_at: modified.and_then(|m| DateTime::from_timestamp(i64::from(m), 0)),
            }
        })
}

proptest! {
    #[test]
    fn check_never_panics(
        ops in proptest::collection::vec((any_fingerprint(), any::<i32>(), 0i64..30, any::<bool>()), 1..60),
        max_entries in 1usize..8,
    ) {
        let mut d = Deduper::new(DedupOptions { max_entries, ..DedupOptions::default() });
        let mut now = t0();
        for (fp, event, advance_days, remember) in ops {
            now += Duration::days(advance_days / 10);
            let event_time = DateTime::from_timestamp(i64::from(event), 0).expect("in range");
            if remember {
                d.remember(&PublishedFingerprint { fingerprint: fp, revision: 1, event_time, received_at: event_time }, now);
            } else {
                d.check(&fp, event_time, now);
            }
            prop_assert!(d.len() <= max_entries);
        }
    }

    #[test]
    fn fingerprinting_never_panics(text in "\\PC{0,400}") {
        let fp = minhash::text_fingerprint(&crate::normalize::fold(&text));
        if let Some(near) = fp.near {
            prop_assert_eq!(near.similarity(&near), 1.0);
        }
    }

    #[test]
    fn remembering_a_record_twice_changes_nothing(seeds in proptest::collection::vec(0u64..50, 1..30)) {
        let mut d = Deduper::new(small());
        for seed in seeds {
            let fp = random_fingerprint(seed);
            let rec = PublishedFingerprint::from_record_json(&record_json(&fp, 1 + (seed % 3) as u32, true))
                .expect("parses");
            d.remember(&rec, t0());
            let (len, verdict) = (d.len(), d.lookup(&fp));
            prop_assert!(!d.remember(&rec, t0()));
            prop_assert_eq!((d.len(), d.lookup(&fp)), (len, verdict));
        }
    }
}

#[test]
fn a_backfilled_record_is_remembered_at_its_ingest_time() {
    // Published long before the window but ingested now: kept, as `check` keeps it.
    let mut d = Deduper::new(DedupOptions::default());
    let p = PublishedFingerprint {
        fingerprint: random_fingerprint(77),
        revision: 1,
        event_time: t0() - Duration::days(400),
        received_at: t0(),
    };
    assert!(d.remember(&p, t0()));
    assert_eq!(d.len(), 1);
}
