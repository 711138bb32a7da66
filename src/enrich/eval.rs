//! Accuracy of the enrich stage on a labelled set: language accuracy (bodies of 50+
//! words), country precision/recall, acronym-definition precision/recall and overall
//! organization precision/recall, micro-averaged over the cases.
//!
//! The shipped set is `eval/enrich/*.txt`, compiled in. A set file holds cases like:
//!
//! ```text
//! === en-trade-01
//! lang: en
//! countries: KR JP
//! acronyms: National Security Council = NSC; World Trade Organization = WTO
//! orgs: United Nations
//! title: Seoul ends pact with Tokyo
//!
//! First paragraph of the body.
//!
//! Second paragraph.
//! ```
//!
//! `countries` are ISO 3166-1 alpha-2 codes; `acronyms` the definitions written in the
//! text; `orgs` the other organizations expected (gazetteer names or acronyms). Empty
//! lists may be left out. Lines starting with `#` outside a body are comments.

use std::fmt;
use std::path::Path;

use anyhow::{bail, Context};

use super::stats::count_words;
use super::Enricher;
use crate::model::{Article, InputFormat};

/// Shipped set files, one per language.
const SHIPPED: &[(&str, &str)] = &[
    ("en.txt", include_str!("../../eval/enrich/en.txt")),
    ("de.txt", include_str!("../../eval/enrich/de.txt")),
    ("fr.txt", include_str!("../../eval/enrich/fr.txt")),
    ("es.txt", include_str!("../../eval/enrich/es.txt")),
    ("it.txt", include_str!("../../eval/enrich/it.txt")),
    ("pt.txt", include_str!("../../eval/enrich/pt.txt")),
];

/// Targets the shipped set must meet (asserted by a unit test).
pub const TARGET_LANGUAGE_ACCURACY: f64 = 0.98;
pub const TARGET_COUNTRY_PRECISION: f64 = 0.95;
pub const TARGET_COUNTRY_RECALL: f64 = 0.90;
pub const TARGET_ACRONYM_PRECISION: f64 = 0.95;

/// Bodies shorter than this are left out of the language accuracy.
pub const LANGUAGE_MIN_WORDS: u64 = 50;

/// One labelled article.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalCase {
    pub id: String,
    pub lang: String,
    pub countries: Vec<String>,
    /// `(long form, acronym)`.
    pub acronyms: Vec<(String, String)>,
    pub orgs: Vec<String>,
    pub title: String,
    pub body: String,
}

impl EvalCase {
    /// The shipped labelled set.
    pub fn shipped() -> Vec<EvalCase> {
        SHIPPED
            .iter()
            .flat_map(|(name, text)| {
                parse_set(text).unwrap_or_else(|e| panic!("eval/enrich/{name}: {e:#}"))
            })
            .collect()
    }

    /// The case as a normalized article without URL or hints.
    pub fn article(&self) -> Article {
        Article {
            format: InputFormat::Text,
            id: self.id.clone(),
            url: None,
            original_url: None,
            title: self.title.clone(),
            summary: None,
            body: self.body.clone(),
            published_at: None,
            modified_at: None,
            authors: Vec::new(),
            host: None,
            domain: None,
            source_name: None,
            language_hint: None,
            tags: Vec::new(),
            upstream_id: None,
            warnings: Vec::new(),
        }
    }
}

/// Reads every `*.txt` set file in `dir`.
pub fn load_dir(dir: &Path) -> anyhow::Result<Vec<EvalCase>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for f in files {
        let text =
            std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?;
        cases.extend(parse_set(&text).with_context(|| format!("parsing {}", f.display()))?);
    }
    Ok(cases)
}

/// Parses one set file.
pub fn parse_set(text: &str) -> anyhow::Result<Vec<EvalCase>> {
    let mut cases = Vec::new();
    let mut current: Option<(EvalCase, bool, Vec<String>)> = None; // (case, in body, paragraphs)
    let finish = |c: Option<(EvalCase, bool, Vec<String>)>, cases: &mut Vec<EvalCase>| {
        if let Some((mut case, _, paras)) = c {
            case.body = paras
                .iter()
                .map(|p| p.trim())
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join("\n\n");
            if case.title.is_empty() || case.body.is_empty() || case.lang.is_empty() {
                bail!("case {} needs lang, title and a body", case.id);
            }
            cases.push(case);
        }
        Ok(())
    };
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if let Some(id) = line.strip_prefix("===") {
            finish(current.take(), &mut cases)?;
            current = Some((
                EvalCase {
                    id: id.trim().to_owned(),
                    lang: String::new(),
                    countries: Vec::new(),
                    acronyms: Vec::new(),
                    orgs: Vec::new(),
                    title: String::new(),
                    body: String::new(),
                },
                false,
                vec![String::new()],
            ));
            continue;
        }
        let Some((case, in_body, paras)) = current.as_mut() else {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            bail!("line {}: text before the first `=== id` line", n + 1);
        };
        if *in_body {
            if line.is_empty() {
                paras.push(String::new());
            } else {
                let p = paras.last_mut().expect("at least one paragraph");
                if !p.is_empty() {
                    p.push(' ');
                }
                p.push_str(line.trim());
            }
            continue;
        }
        if line.is_empty() {
            *in_body = true;
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            bail!(
                "line {}: expected `key: value` in the header of {}",
                n + 1,
                case.id
            );
        };
        let value = value.trim();
        let list = |sep: char| {
            value
                .split(sep)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        match key.trim() {
            "lang" => case.lang = value.to_owned(),
            "title" => case.title = value.to_owned(),
            "countries" => case.countries = list(' '),
            "orgs" => case.orgs = list(';'),
            "acronyms" => {
                for item in list(';') {
                    let Some((name, acro)) = item.rsplit_once('=') else {
                        bail!("line {}: acronym {item:?} is not `Long Form = ACRO`", n + 1);
                    };
                    case.acronyms
                        .push((name.trim().to_owned(), acro.trim().to_owned()));
                }
            }
            other => bail!("line {}: unknown key {other:?}", n + 1),
        }
    }
    finish(current.take(), &mut cases)?;
    Ok(cases)
}

/// Counts for one field.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    pub true_positives: u32,
    pub false_positives: u32,
    pub false_negatives: u32,
}

impl Counts {
    pub fn precision(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }
    pub fn recall(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }
}

fn ratio(a: u32, b: u32) -> f64 {
    if b == 0 {
        1.0
    } else {
        f64::from(a) / f64::from(b)
    }
}

/// Result of [`run_eval`]; `Display` prints the table, [`EvalReport::misses`] the errors.
#[derive(Debug, Clone, Default)]
pub struct EvalReport {
    pub cases: usize,
    pub languages: Vec<String>,
    /// Cases with a body of [`LANGUAGE_MIN_WORDS`] or more, and how many were right.
    pub language_cases: u32,
    pub language_correct: u32,
    /// Cases with a short body where the detector answered `null` (no guess).
    pub language_short_unsure: u32,
    pub language_short_cases: u32,
    pub countries: Counts,
    pub acronyms: Counts,
    pub organizations: Counts,
    /// One line per error: case id, field, what was wrong.
    pub misses: Vec<String>,
}

impl EvalReport {
    pub fn language_accuracy(&self) -> f64 {
        ratio(self.language_correct, self.language_cases)
    }

    pub fn meets_targets(&self) -> bool {
        self.language_accuracy() >= TARGET_LANGUAGE_ACCURACY
            && self.countries.precision() >= TARGET_COUNTRY_PRECISION
            && self.countries.recall() >= TARGET_COUNTRY_RECALL
            && self.acronyms.precision() >= TARGET_ACRONYM_PRECISION
    }

    pub fn misses(&self) -> &[String] {
        &self.misses
    }
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let yes = |ok: bool| if ok { "yes" } else { "NO" };
        writeln!(
            f,
            "enrich evaluation: {} cases, languages {}",
            self.cases,
            self.languages.join(" ")
        )?;
        writeln!(
            f,
            "{:<28} {:>5} {:>9} {:>9}  {:<22} met",
            "field", "n", "precision", "recall", "target"
        )?;
        writeln!(
            f,
            "{:<28} {:>5} {:>9.3} {:>9}  {:<22} {}",
            format!("language ({LANGUAGE_MIN_WORDS}+ words) accuracy"),
            self.language_cases,
            self.language_accuracy(),
            "",
            format!(">= {TARGET_LANGUAGE_ACCURACY:.2}"),
            yes(self.language_accuracy() >= TARGET_LANGUAGE_ACCURACY)
        )?;
        let rows = [
            (
                "countries",
                self.countries,
                format!("P >= {TARGET_COUNTRY_PRECISION:.2}, R >= {TARGET_COUNTRY_RECALL:.2}"),
                Some(
                    self.countries.precision() >= TARGET_COUNTRY_PRECISION
                        && self.countries.recall() >= TARGET_COUNTRY_RECALL,
                ),
            ),
            (
                "acronym definitions",
                self.acronyms,
                format!("P >= {TARGET_ACRONYM_PRECISION:.2}"),
                Some(self.acronyms.precision() >= TARGET_ACRONYM_PRECISION),
            ),
            (
                "organizations (all)",
                self.organizations,
                String::new(),
                None,
            ),
        ];
        for (name, c, target, met) in rows {
            writeln!(
                f,
                "{:<28} {:>5} {:>9.3} {:>9.3}  {:<22} {}",
                name,
                c.true_positives + c.false_negatives,
                c.precision(),
                c.recall(),
                target,
                met.map_or("-", yes)
            )?;
        }
        write!(
            f,
            "short bodies (< {LANGUAGE_MIN_WORDS} words): {} of {} reported as unsure (null)",
            self.language_short_unsure, self.language_short_cases
        )
    }
}

/// Enriches every case and compares with its labels.
pub fn run_eval(enricher: &Enricher, cases: &[EvalCase]) -> EvalReport {
    let mut r = EvalReport {
        cases: cases.len(),
        ..EvalReport::default()
    };
    for case in cases {
        if !r.languages.contains(&case.lang) {
            r.languages.push(case.lang.clone());
        }
        let d = enricher.enrich_detailed(&case.article());
        let e = &d.enrichment;

        let got_lang = e.language.code.as_deref();
        if count_words(&case.body) >= LANGUAGE_MIN_WORDS {
            r.language_cases += 1;
            if got_lang == Some(case.lang.as_str()) {
                r.language_correct += 1;
            } else {
                r.misses.push(format!(
                    "{}: language {:?} (confidence {}), expected {}",
                    case.id, got_lang, e.language.confidence, case.lang
                ));
            }
        } else {
            r.language_short_cases += 1;
            r.language_short_unsure += u32::from(got_lang.is_none());
        }

        let got: Vec<&str> = e
            .entities
            .countries
            .iter()
            .map(|c| c.code.as_str())
            .collect();
        for code in &got {
            if case.countries.iter().any(|c| c == code) {
                r.countries.true_positives += 1;
            } else {
                r.countries.false_positives += 1;
                r.misses
                    .push(format!("{}: country {code} not expected", case.id));
            }
        }
        for code in &case.countries {
            if !got.contains(&code.as_str()) {
                r.countries.false_negatives += 1;
                r.misses.push(format!("{}: country {code} missed", case.id));
            }
        }

        let same_def = |(n1, a1): &(String, String), (n2, a2): &(String, String)| {
            a1 == a2 && n1.to_lowercase() == n2.to_lowercase()
        };
        for def in &d.acronym_definitions {
            if case.acronyms.iter().any(|x| same_def(x, def)) {
                r.acronyms.true_positives += 1;
            } else {
                r.acronyms.false_positives += 1;
                r.misses.push(format!(
                    "{}: acronym definition {} = {} not expected",
                    case.id, def.0, def.1
                ));
            }
        }
        for def in &case.acronyms {
            if !d.acronym_definitions.iter().any(|x| same_def(x, def)) {
                r.acronyms.false_negatives += 1;
                r.misses.push(format!(
                    "{}: acronym definition {} = {} missed",
                    case.id, def.0, def.1
                ));
            }
        }

        // Organizations: expected are the definitions and the listed names; an organization
        // matches an expected item by name or acronym.
        let expected: Vec<(String, Option<String>)> = case
            .acronyms
            .iter()
            .map(|(n, a)| (n.to_lowercase(), Some(a.clone())))
            .chain(case.orgs.iter().map(|o| (o.to_lowercase(), None)))
            .collect();
        let matches = |o: &crate::model::Organization, (name, acro): &(String, Option<String>)| {
            o.name.to_lowercase() == *name
                || o.acronym
                    .as_deref()
                    .is_some_and(|a| a.to_lowercase() == *name || acro.as_deref() == Some(a))
        };
        for o in &e.entities.organizations {
            if expected.iter().any(|x| matches(o, x)) {
                r.organizations.true_positives += 1;
            } else {
                r.organizations.false_positives += 1;
                r.misses.push(format!(
                    "{}: organization {:?} not expected",
                    case.id, o.name
                ));
            }
        }
        for x in &expected {
            if !e.entities.organizations.iter().any(|o| matches(o, x)) {
                r.organizations.false_negatives += 1;
                r.misses
                    .push(format!("{}: organization {:?} missed", case.id, x.0));
            }
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cases() {
        let set = "# a comment\n=== a\nlang: en\ncountries: KR JP\n\
                   acronyms: National Security Council = NSC\norgs: UN; NATO\n\
                   title: T\n\nFirst line\ncontinued.\n\nSecond.\n=== b\nlang: de\ntitle: U\n\nText.\n";
        let cases = parse_set(set).unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].countries, ["KR", "JP"]);
        assert_eq!(
            cases[0].acronyms,
            [("National Security Council".into(), "NSC".into())]
        );
        assert_eq!(cases[0].orgs, ["UN", "NATO"]);
        assert_eq!(cases[0].body, "First line continued.\n\nSecond.");
        assert_eq!(cases[1].body, "Text.");
        assert!(parse_set("=== x\nlang: en\nbogus: 1\n").is_err());
        assert!(parse_set("=== x\nlang: en\n\nno title\n").is_err());
    }

    #[test]
    fn shipped_set_is_large_enough() {
        let cases = EvalCase::shipped();
        assert!(cases.len() >= 60, "{} cases", cases.len());
        let mut langs: Vec<&str> = cases.iter().map(|c| c.lang.as_str()).collect();
        langs.sort();
        langs.dedup();
        assert!(langs.len() >= 5, "{langs:?}");
        let mut ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate case ids");
    }
}
