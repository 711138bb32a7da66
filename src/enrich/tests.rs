//! Whole-stage tests: the seed sample, articles written in its style with pinned entities,
//! the accuracy targets on the shipped evaluation set, and thread-safety.

use chrono::{TimeZone, Utc};

use super::eval::{run_eval, EvalCase};
use super::*;
use crate::decode::{decode, DecodeLimits};
use crate::model::Enrichment;
use crate::normalize::{normalize, NormalizeOptions};

fn enricher() -> Enricher {
    Enricher::new(EnrichOptions::default()).expect("shipped tables load")
}

/// Runs a message through decode and normalize as the pipeline does, then enriches it.
fn enrich_message(e: &Enricher, payload: &[u8]) -> Enrichment {
    let now = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    let raw = decode(payload, &DecodeLimits::default()).expect("decodes");
    let article = normalize(raw, &NormalizeOptions::default(), now).expect("normalizes");
    e.enrich(&article)
}

fn codes(e: &Enrichment) -> Vec<&str> {
    e.entities
        .countries
        .iter()
        .map(|c| c.code.as_str())
        .collect()
}

fn has_org(e: &Enrichment, name: &str, acronym: &str) -> bool {
    e.entities
        .organizations
        .iter()
        .any(|o| o.name == name && o.acronym.as_deref() == Some(acronym))
}

#[test]
fn seed_sample() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/samples/seed-article.txt"
    );
    let Ok(payload) = std::fs::read(path) else {
        println!("skipped: {path} not found");
        return;
    };
    let e = enrich_message(&enricher(), &payload);
    let countries = codes(&e);
    for code in ["KR", "JP", "KP", "US"] {
        assert!(
            countries.contains(&code),
            "{code} missing from {countries:?}"
        );
    }
    assert_eq!(countries[0], "KR", "{countries:?}");
    assert!(
        has_org(&e, "National Security Council", "NSC"),
        "{:?}",
        e.entities
    );
    assert!(
        has_org(
            &e,
            "General Security of Military Information Agreement",
            "GSOMIA"
        ),
        "{:?}",
        e.entities
    );
    assert_eq!(e.language.code.as_deref(), Some("en"), "{:?}", e.language);
    assert!(
        e.keywords
            .iter()
            .any(|k| k.contains("intelligence-sharing")),
        "{:?}",
        e.keywords
    );
    assert_eq!(e.source_name.as_deref(), Some("Pars Today"));
    assert!(
        e.stats.words > 300 && e.stats.sentences > 10,
        "{:?}",
        e.stats
    );
}

/// Articles in the plain-text layout, written for these tests.
const OWN_ARTICLES: &[&[u8]] = &[
    b"Germany and France agree joint air-defence procurement\n\
https://example.com/world/eu-air-defence\n\
Germany and France have agreed to buy air-defence systems together, a step that could bind smaller NATO members into a common European programme.\n\
\n\
Germany and France have agreed to buy air-defence systems together, a step that could bind smaller NATO members into a common European programme.\n\
\n\
The agreement was signed in Berlin on Tuesday by the two defence ministers, who said the European Sky Shield Initiative (ESSI) would remain open to every member of the European Union.\n\
\n\
French officials said Paris had dropped its objection to buying systems made outside Europe after Berlin accepted a larger share of French-built launchers. Poland and the Netherlands are expected to join the joint air-defence procurement before the summer.\n\
\n\
The European Defence Agency (EDA) will manage the tenders. Critics in Warsaw warned that the joint procurement could slow deliveries at a time when Russian missile attacks on Ukraine continue.\n",
    b"Brazil and Argentina sign lithium accord as China looks on\n\
https://example.org/americas/lithium\n\
Brazil and Argentina have signed an accord to coordinate lithium exports, days after Chinese buyers raised their offers for South American ore.\n\
\n\
Brazil and Argentina have signed an accord to coordinate lithium exports, days after Chinese buyers raised their offers for South American ore.\n\
\n\
The lithium accord, announced in Buenos Aires, sets up a Joint Mining Commission (JMC) that will share data on output and prices. Brazilian officials said the lithium accord was not aimed at Beijing.\n\
\n\
The Inter-American Development Bank (IDB) has promised loans for processing plants. Analysts in Sao Paulo said the World Trade Organization (WTO) could be asked to review the export quotas.\n",
    b"Kenya and Ethiopia reopen border trade after drought talks\n\
https://example.net/africa/border\n\
Kenya and Ethiopia will reopen border markets closed since the drought, officials said after talks in Nairobi.\n\
\n\
Kenya and Ethiopia will reopen border markets closed since the drought, officials said after talks in Nairobi.\n\
\n\
The East African Community (EAC) brokered the deal, and the World Food Programme said it would fund grain stores on both sides of the border. Ethiopian traders welcomed the border trade deal but asked for lower fees.\n\
\n\
The United Nations warned that the drought was not over. Kenyan officials said Somalia could join the border trade scheme next year.\n",
];

#[test]
fn own_articles_have_pinned_entities() {
    let e = enricher();

    let a = enrich_message(&e, OWN_ARTICLES[0]);
    let mut c = codes(&a);
    c.sort();
    assert_eq!(
        c,
        ["DE", "FR", "NL", "PL", "RU", "UA"],
        "{:?}",
        a.entities.countries
    );
    assert!(
        has_org(&a, "European Sky Shield Initiative", "ESSI"),
        "{:?}",
        a.entities
    );
    assert!(
        has_org(&a, "European Defence Agency", "EDA"),
        "{:?}",
        a.entities
    );
    assert!(has_org(&a, "North Atlantic Treaty Organization", "NATO"));
    assert!(has_org(&a, "European Union", "EU"));
    assert_eq!(a.language.code.as_deref(), Some("en"));
    assert!(
        a.keywords.iter().any(|k| k.contains("air-defence")),
        "{:?}",
        a.keywords
    );

    let b = enrich_message(&e, OWN_ARTICLES[1]);
    let mut c = codes(&b);
    c.sort();
    assert_eq!(c, ["AR", "BR", "CN"], "{:?}", b.entities.countries);
    assert!(has_org(&b, "Joint Mining Commission", "JMC"));
    assert!(
        has_org(&b, "Inter-American Development Bank", "IDB"),
        "{:?}",
        b.entities
    );
    assert!(has_org(&b, "World Trade Organization", "WTO"));
    assert!(
        b.keywords.iter().any(|k| k.contains("lithium accord")),
        "{:?}",
        b.keywords
    );

    let k = enrich_message(&e, OWN_ARTICLES[2]);
    let mut c = codes(&k);
    c.sort();
    assert_eq!(c, ["ET", "KE", "SO"], "{:?}", k.entities.countries);
    assert!(
        has_org(&k, "East African Community", "EAC"),
        "{:?}",
        k.entities
    );
    assert!(k
        .entities
        .organizations
        .iter()
        .any(|o| o.name == "World Food Programme"));
    assert!(k
        .entities
        .organizations
        .iter()
        .any(|o| o.name == "United Nations"));
    assert!(
        k.keywords.iter().any(|p| p.contains("border")),
        "{:?}",
        k.keywords
    );
}

#[test]
fn shipped_eval_set_meets_targets() {
    let report = run_eval(&enricher(), &EvalCase::shipped());
    println!("{report}");
    for m in report.misses() {
        println!("  {m}");
    }
    assert!(report.meets_targets(), "{report}\n{:#?}", report.misses());
}

#[test]
fn unreliable_language_is_null_and_hint_is_kept() {
    let e = enricher();
    let case = super::eval::parse_set("=== t\nlang: de\ntitle: OK\n\nJa.\n").unwrap();
    let report = run_eval(&e, &case);
    assert_eq!(report.language_short_cases, 1);
    assert_eq!(report.language_short_unsure, 1, "{report}");
}

#[test]
fn enricher_is_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Enricher>();
}

#[test]
fn options_extend_publishers_and_organizations() {
    let dir = tempfile::tempdir().unwrap();
    let publishers = dir.path().join("publishers.tsv");
    let orgs = dir.path().join("orgs.tsv");
    std::fs::write(&publishers, "example.com\tExample Daily\n").unwrap();
    std::fs::write(&orgs, "Example Standards Board\tESB\t\n").unwrap();
    let e = Enricher::new(EnrichOptions {
        publishers_path: Some(publishers),
        organizations_path: Some(orgs),
        ..EnrichOptions::default()
    })
    .unwrap();
    let out = enrich_message(
        &e,
        b"ESB sets rules\nhttps://www.example.com/a\nThe ESB set new rules.\n\nThe ESB set new rules on Monday.\n",
    );
    assert_eq!(out.source_name.as_deref(), Some("Example Daily"));
    assert!(
        has_org(&out, "Example Standards Board", "ESB"),
        "{:?}",
        out.entities
    );

    let bad = Enricher::new(EnrichOptions {
        organizations_path: Some(dir.path().join("missing.tsv")),
        ..EnrichOptions::default()
    });
    assert!(bad.is_err());
    let bad = Enricher::new(EnrichOptions {
        scan_body_bytes: 10,
        ..EnrichOptions::default()
    });
    assert!(bad.is_err());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// No text makes the stage panic, and what it reports stays within bounds.
    #[test]
    fn any_text_enriches(
        title in "\\PC{0,40}",
        body in "([A-Za-zé’'.,;:!?()\\-]{1,12}[ \n]{1,2}){0,120}|\\PC{0,300}",
    ) {
        let e = shared_enricher();
        let mut case = EvalCase::shipped()[0].clone();
        case.title = title;
        case.body = body;
        let out = e.enrich(&case.article());
        proptest::prop_assert!(out.keywords.len() <= 8);
        for k in &out.keywords {
            proptest::prop_assert!(k.chars().any(char::is_alphabetic), "{:?}", k);
            proptest::prop_assert!(k.split_whitespace().count() <= 3, "{:?}", k);
        }
        proptest::prop_assert!(out.language.confidence >= 0.0 && out.language.confidence <= 1.0);
    }
}

fn shared_enricher() -> &'static Enricher {
    static E: std::sync::OnceLock<Enricher> = std::sync::OnceLock::new();
    E.get_or_init(enricher)
}

/// Every enrichment of the labelled set fits the record contract's fields.
#[test]
fn enrichment_matches_the_record_schema() {
    let text = include_str!("../../schemas/article-record.v1.json");
    let schema: serde_json::Value = serde_json::from_str(text).expect("schema is JSON");
    let field = |name: &str| {
        jsonschema::validator_for(&schema["properties"][name])
            .unwrap_or_else(|e| panic!("schema of {name}: {e}"))
    };
    let (language, stats, entities, keywords) = (
        field("language"),
        field("stats"),
        field("entities"),
        field("keywords"),
    );
    let e = shared_enricher();
    for case in EvalCase::shipped() {
        let out = serde_json::to_value(e.enrich(&case.article())).expect("serializes");
        for (name, validator) in [
            ("language", &language),
            ("stats", &stats),
            ("entities", &entities),
            ("keywords", &keywords),
        ] {
            let errors: Vec<String> = validator
                .iter_errors(&out[name])
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{}: {name}: {errors:?}", case.id);
        }
    }
}
