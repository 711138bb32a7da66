//! Organizations: acronym definitions found in the text plus a gazetteer of well-known
//! organizations (`data/organizations.tsv`, extendable from a file).
//!
//! A definition is "Long Form (ACRO)" or "ACRO (Long Form)". The acronym's letters must be
//! the initials of the long form's words, read right to left from the parenthesis: every
//! content word gives its initial (or, for "Co-operation", the initials of its parts),
//! while the connectors "of", "the", "and", "for" (and their equivalents in the shipped
//! languages) may give their initial or be skipped. In English every content word must be
//! capitalized; in French, Spanish, Italian and Portuguese, where names of organizations
//! are written in sentence case ("Organisation mondiale de la santé"), only the first.
//! The shortest long form that accounts for every letter is taken, so "chief of South
//! Korea's National Security Council (NSC)" yields "National Security Council".

use anyhow::{bail, Context};

use super::countries::data_lines;
use super::gazetteer::{Builder, Hit, Target};
use super::keywords::ELISIONS;
use crate::model::Organization;

const SHIPPED: &str = include_str!("../../data/organizations.tsv");

/// Words that may be skipped inside a long form (lower case).
const CONNECTORS: &[&str] = &[
    "of", "the", "and", "for", "on", "in", "to", "at", "&", "de", "des", "du", "la", "le", "les",
    "l", "d", "et", "pour", "sur", "für", "der", "die", "das", "den", "von", "und", "zur", "zum",
    "del", "los", "las", "y", "e", "el", "para", "di", "della", "delle", "degli", "dei", "dello",
    "per", "do", "da", "dos", "das", "em", "a", "à", "au", "aux",
];

/// Languages whose organization names capitalize only the first word.
const SENTENCE_CASE_LANGS: &[&str] = &["fr", "es", "it", "pt"];

/// Languages that write compounds as one word, whose acronyms take letters from inside a
/// word ("Europäische Zentralbank (EZB)").
const COMPOUND_LANGS: &[&str] = &["de", "nl"];

/// Longest parenthetical considered, in bytes.
const MAX_PARENTHETICAL: usize = 120;

/// Most words a long form may have beyond the acronym's letters (skipped connectors).
const MAX_SKIPPED: usize = 4;

/// An acronym definition found in the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    pub name: String,
    pub acronym: String,
    /// Byte span of the whole definition, long form and parenthesis.
    pub start: usize,
    pub end: usize,
}

#[derive(Debug)]
pub struct OrgTable {
    /// `(display name, acronym)`, indexed by `Target::Org`.
    orgs: Vec<(String, Option<String>)>,
}

impl OrgTable {
    /// Loads the shipped gazetteer and `extra` (same format), adding their forms to the
    /// automaton builder.
    pub fn load(builder: &mut Builder, extra: Option<&str>) -> anyhow::Result<Self> {
        let mut table = OrgTable { orgs: Vec::new() };
        for (file, text) in std::iter::once(("data/organizations.tsv", SHIPPED))
            .chain(extra.map(|t| ("the configured organizations file", t)))
        {
            for (n, line) in data_lines(text) {
                table
                    .add_row(builder, line)
                    .with_context(|| format!("{file} line {n}"))?;
            }
        }
        Ok(table)
    }

    fn add_row(&mut self, builder: &mut Builder, line: &str) -> anyhow::Result<()> {
        let cols: Vec<&str> = line.split('\t').map(str::trim).collect();
        if cols.is_empty() || cols.len() > 3 || cols[0].is_empty() {
            bail!("expected name, acronym and forms separated by tabs");
        }
        let name = cols[0];
        let acronym = cols.get(1).copied().filter(|a| !a.is_empty());
        let id = Target::Org(u16::try_from(self.orgs.len())?);
        builder.add(name, id, None)?;
        if let Some(a) = acronym {
            builder.add(a, id, None)?;
        }
        for form in cols.get(2).into_iter().flat_map(|c| c.split('|')) {
            if !form.trim().is_empty() {
                builder.add(form, id, None)?;
            }
        }
        self.orgs
            .push((name.to_owned(), acronym.map(str::to_owned)));
        Ok(())
    }

    /// Definitions first found in the text, then gazetteer organizations, in order of
    /// first appearance; one entry per acronym or name.
    pub fn collect(&self, hits: &[Hit], defs: &[Definition], text: &str) -> Vec<Organization> {
        let mut found: Vec<(usize, Organization)> = Vec::new();
        let known = |found: &[(usize, Organization)], name: &str, acronym: Option<&str>| {
            found.iter().any(|(_, o)| {
                o.name.eq_ignore_ascii_case(name)
                    || (acronym.is_some() && o.acronym.as_deref() == acronym)
            })
        };
        for d in defs {
            if !known(&found, &d.name, Some(&d.acronym)) {
                found.push((
                    d.start,
                    Organization {
                        name: d.name.clone(),
                        acronym: Some(d.acronym.clone()),
                    },
                ));
            }
        }
        // A gazetteer organization named inside a definition, or by a defined acronym, is
        // the defined one: "Banque centrale européenne (BCE)" then "la BCE" is one entry,
        // not also the gazetteer's "European Central Bank".
        let covered: Vec<u16> = hits
            .iter()
            .filter_map(|h| match h.target {
                Target::Org(id)
                    if defs.iter().any(|d| {
                        (h.start >= d.start && h.end <= d.end) || text[h.start..h.end] == d.acronym
                    }) =>
                {
                    Some(id)
                }
                _ => None,
            })
            .collect();
        for h in hits {
            let Target::Org(id) = h.target else {
                continue;
            };
            if covered.contains(&id) {
                continue;
            }
            let (name, acronym) = &self.orgs[usize::from(id)];
            if !known(&found, name, acronym.as_deref()) {
                found.push((
                    h.start,
                    Organization {
                        name: name.clone(),
                        acronym: acronym.clone(),
                    },
                ));
            }
        }
        found.sort_by_key(|(pos, _)| *pos);
        found.into_iter().map(|(_, o)| o).collect()
    }
}

/// A word of the text: byte span.
#[derive(Debug, Clone, Copy)]
struct Word {
    start: usize,
    end: usize,
}

/// Acronym definitions in `text`, in order, one per acronym.
pub fn find_definitions(text: &str, lang: Option<&str>) -> Vec<Definition> {
    let rules = Rules {
        sentence_case: lang.is_some_and(|l| SENTENCE_CASE_LANGS.contains(&l)),
        compounds: lang.is_some_and(|l| COMPOUND_LANGS.contains(&l)),
    };
    let mut defs: Vec<Definition> = Vec::new();
    for (open, _) in text.match_indices('(') {
        // Only short parentheticals can be definitions; looking no further keeps the scan
        // linear however many parentheses the text has.
        let window = super::truncate_at_char(&text[open + 1..], MAX_PARENTHETICAL + 1);
        let Some(close_rel) = window.find(')') else {
            continue;
        };
        let close = open + 1 + close_rel;
        let inner = text[open + 1..close].trim();
        if inner.is_empty() || inner.contains(['(', '\n']) {
            continue;
        }
        let def = if is_acronym(inner) {
            // "Long Form (ACRO)"
            let words = words_before(text, open, letters(inner).len() + MAX_SKIPPED);
            long_form(
                text,
                &words,
                &letters(inner),
                &lower_letters(inner),
                rules,
                false,
            )
            .map(|first| {
                let start = words[first].start;
                Definition {
                    name: text[start..words[words.len() - 1].end].to_owned(),
                    acronym: inner.to_owned(),
                    start,
                    end: close + 1,
                }
            })
        } else {
            // "ACRO (Long Form)"
            let Some(acro) = words_before(text, open, 1).pop() else {
                continue;
            };
            let acronym = &text[acro.start..acro.end];
            if !is_acronym(acronym) {
                continue;
            }
            let inner_start =
                open + 1 + (text[open + 1..close].len() - text[open + 1..close].trim_start().len());
            let words = words_in(text, inner_start, inner_start + inner.len());
            long_form(
                text,
                &words,
                &letters(acronym),
                &lower_letters(acronym),
                rules,
                true,
            )
            .map(|_| Definition {
                name: inner.to_owned(),
                acronym: acronym.to_owned(),
                start: acro.start,
                end: close + 1,
            })
        };
        if let Some(d) = def {
            if d.name.split_whitespace().count() >= 2
                && !defs.iter().any(|x| x.acronym == d.acronym)
            {
                defs.push(d);
            }
        }
    }
    defs
}

/// "NSC", "GSOMIA", "BfV", "U.N.": 2–10 letters, starting upper case, mostly upper case.
fn is_acronym(s: &str) -> bool {
    let l = letters(s);
    let upper = s.chars().filter(|c| c.is_uppercase()).count();
    (2..=10).contains(&l.len())
        && s.chars().next().is_some_and(char::is_uppercase)
        && s.chars()
            .all(|c| c.is_alphabetic() || matches!(c, '.' | '&' | '-'))
        && upper >= 2
        && upper * 2 > l.len()
}

/// The acronym's letters, upper-cased; `&` counts as a letter standing for "and".
fn letters(acronym: &str) -> Vec<char> {
    acronym
        .chars()
        .filter(|c| c.is_alphabetic() || *c == '&')
        .flat_map(char::to_uppercase)
        .collect()
}

/// For each of the acronym's letters, whether it is written in lower case ("Af" in
/// "AfCFTA", "f" in "BfV").
fn lower_letters(acronym: &str) -> Vec<bool> {
    acronym
        .chars()
        .filter(|c| c.is_alphabetic() || *c == '&')
        .map(char::is_lowercase)
        .collect()
}

/// Up to `max` words before `at`, in text order, stopping at a sentence or clause end.
fn words_before(text: &str, at: usize, max: usize) -> Vec<Word> {
    let mut words = Vec::new();
    let mut end = at;
    let head = &text[..at];
    let mut chars = head.char_indices().rev().peekable();
    while words.len() < max {
        // Skip spaces; stop at punctuation that ends a clause.
        while let Some(&(i, c)) = chars.peek() {
            if c == ' ' || c == ',' {
                chars.next();
                end = i;
            } else {
                break;
            }
        }
        let mut start = end;
        while let Some(&(i, c)) = chars.peek() {
            if c.is_alphanumeric() || matches!(c, '-' | '\'' | '’' | '&') {
                start = i;
                chars.next();
            } else {
                break;
            }
        }
        if start == end {
            break;
        }
        words.push(Word {
            start: after_elision(text, start, end),
            end,
        });
        end = start;
    }
    words.reverse();
    words
}

/// Start of a word without an elided article ("l'Organisation" → "Organisation").
fn after_elision(text: &str, start: usize, end: usize) -> usize {
    let word = &text[start..end];
    for apostrophe in ['\'', '’'] {
        if let Some(p) = word.find(apostrophe) {
            if ELISIONS.iter().any(|e| e.eq_ignore_ascii_case(&word[..p])) {
                return start + p + apostrophe.len_utf8();
            }
        }
    }
    start
}

/// The words between byte offsets `start` and `end`.
fn words_in(text: &str, start: usize, end: usize) -> Vec<Word> {
    let mut words = Vec::new();
    let mut cur: Option<usize> = None;
    for (i, c) in text[start..end].char_indices() {
        let i = start + i;
        let inside = c.is_alphanumeric() || matches!(c, '-' | '\'' | '’' | '&');
        match (inside, cur) {
            (true, None) => cur = Some(i),
            (false, Some(s)) => {
                words.push(Word { start: s, end: i });
                cur = None;
            }
            _ => {}
        }
    }
    if let Some(s) = cur {
        words.push(Word { start: s, end });
    }
    words
}

/// Language rules for long forms.
#[derive(Debug, Clone, Copy)]
struct Rules {
    /// Content words after the first may be lower case.
    sentence_case: bool,
    /// A word may give further letters from inside it (compounds).
    compounds: bool,
}

/// Index of the first word of the shortest long form ending at the last word that spells
/// `acro`; with `whole`, the long form must use every word.
fn long_form(
    text: &str,
    words: &[Word],
    acro: &[char],
    lower: &[bool],
    rules: Rules,
    whole: bool,
) -> Option<usize> {
    let words: Vec<&str> = words.iter().map(|w| &text[w.start..w.end]).collect();
    let words: Vec<&str> = words
        .iter()
        .map(|w| w.strip_suffix("'s").or(w.strip_suffix("’s")).unwrap_or(w))
        .collect();
    let acro = Acronym {
        letters: acro,
        lower,
    };
    search(&words, &acro, acro.letters.len(), words.len(), rules, whole)
}

/// An acronym's letters (upper-cased) and which were written in lower case.
struct Acronym<'a> {
    letters: &'a [char],
    lower: &'a [bool],
}

/// Letters `acro[..i]` remain to be spelled by `words[..j]`; returns the first word used.
fn search(
    words: &[&str],
    acronym: &Acronym<'_>,
    i: usize,
    j: usize,
    rules: Rules,
    whole: bool,
) -> Option<usize> {
    let acro = acronym.letters;
    if i == 0 {
        return (!whole || j == 0).then_some(j);
    }
    if j == 0 {
        return None;
    }
    let word = words[j - 1];
    let lower = word.to_lowercase();
    let connector = CONNECTORS.contains(&lower.as_str());
    let capitalized = word.chars().next().is_some_and(char::is_uppercase);
    let last_word = i == acro.len();
    // The word right before the parenthesis must give a letter; connectors may be skipped
    // inside the long form.
    if connector && !last_word {
        if let Some(k) = search(words, acronym, i, j - 1, rules, whole) {
            return Some(k);
        }
    }
    if !connector && !capitalized && !rules.sentence_case {
        return None;
    }
    let mut options: Vec<usize> = Vec::new();
    let initials = initials(word);
    for c in (1..=initials.len().min(i)).rev() {
        if acro[i - c..i] == initials[..c] {
            options.push(c);
        }
    }
    if !connector {
        // Letters written in lower case in the acronym may come from inside the word
        // that gives the capital before them ("African" gives "Af" in "AfCFTA").
        let upper: Vec<char> = word.chars().flat_map(char::to_uppercase).collect();
        for c in (2..=3.min(i)).rev() {
            let want = &acro[i - c..i];
            if !acronym.lower[i - c]
                && acronym.lower[i - c + 1..i].iter().all(|l| *l)
                && upper.first() == Some(&want[0])
                && in_order(&upper[1..], &want[1..])
            {
                options.push(c);
            }
        }
    }
    if rules.compounds && !connector {
        // Initial, then up to two letters found in order later in the word.
        let upper: Vec<char> = word.chars().flat_map(char::to_uppercase).collect();
        for c in (2..=3.min(i)).rev() {
            let want = &acro[i - c..i];
            if upper.first() == Some(&want[0]) && in_order(&upper[1..], &want[1..]) {
                options.push(c);
            }
        }
    }
    for c in options {
        if let Some(k) = search(words, acronym, i - c, j - 1, rules, whole) {
            // The long form starts with a capitalized content word.
            if k == j - 1 && (connector || !capitalized) {
                continue;
            }
            return Some(k);
        }
    }
    None
}

/// Whether `letters` occur in `word` in this order.
fn in_order(word: &[char], letters: &[char]) -> bool {
    let mut it = word.iter();
    letters.iter().all(|l| it.any(|c| c == l))
}

/// A word's initials, upper-cased: its first letter, and the first letter after each
/// hyphen ("Co-operation" → C, O). `&` stands for itself.
fn initials(word: &str) -> Vec<char> {
    if word == "&" {
        return vec!['&'];
    }
    let mut out = Vec::new();
    for part in word.split('-') {
        if let Some(c) = part.chars().find(|c| c.is_alphanumeric()) {
            out.extend(c.to_uppercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defs(text: &str, lang: Option<&str>) -> Vec<(String, String)> {
        find_definitions(text, lang)
            .into_iter()
            .map(|d| (d.name, d.acronym))
            .collect()
    }

    fn pair(name: &str, acro: &str) -> (String, String) {
        (name.to_owned(), acro.to_owned())
    }

    #[test]
    fn finds_definitions_with_skipped_and_spelled_connectors() {
        assert_eq!(
            defs(
                "the first deputy chief of South Korea’s National Security Council (NSC), said",
                None
            ),
            [pair("National Security Council", "NSC")]
        );
        assert_eq!(
            defs(
                "The General Security of Military Information Agreement (GSOMIA), inked",
                None
            ),
            [pair(
                "General Security of Military Information Agreement",
                "GSOMIA"
            )]
        );
        assert_eq!(
            defs(
                "the Organisation for Economic Co-operation and Development (OECD) said",
                None
            ),
            [pair(
                "Organisation for Economic Co-operation and Development",
                "OECD"
            )]
        );
        assert_eq!(
            defs("agents of the Federal Bureau of Investigation (FBI) and the NSC (National Security Council)", None),
            [pair("Federal Bureau of Investigation", "FBI"), pair("National Security Council", "NSC")]
        );
    }

    #[test]
    fn sentence_case_languages() {
        assert_eq!(
            defs(
                "selon l'Organisation mondiale de la santé (OMS), le virus",
                Some("fr")
            ),
            [pair("Organisation mondiale de la santé", "OMS")]
        );
        assert!(defs(
            "selon l'Organisation mondiale de la santé (OMS)",
            Some("en")
        )
        .is_empty());
        assert_eq!(
            defs(
                "Die Europäische Zentralbank (EZB) und das Bundesamt für Verfassungsschutz (BfV)",
                Some("de")
            ),
            [
                pair("Europäische Zentralbank", "EZB"),
                pair("Bundesamt für Verfassungsschutz", "BfV")
            ]
        );
        assert!(defs("Die Europäische Zentralbank (EZB)", Some("en")).is_empty());
    }

    #[test]
    fn rejects_non_definitions() {
        assert!(defs("the chief executive officer (CEO) said", None).is_empty());
        assert!(defs("prices rose 3% (CPI) in May", None).is_empty());
        assert!(defs("Senator Jane Doe (R-Texas) said", None).is_empty());
        assert!(defs("at 15:52 (UTC) on Thursday", None).is_empty());
        assert!(defs("The Security Council (NSC) met", None).is_empty());
        assert!(defs("talks (and more) followed", None).is_empty());
    }
}
