//! One Aho-Corasick automaton over every country form, blocker phrase and organization
//! form; the article text is scanned once, leftmost-longest, and each match is kept only
//! if it passes the rules of the data files:
//!
//! - word boundaries: no letter or digit right before or after the match (hyphens and
//!   apostrophes are boundaries: "Tokyo-Seoul", "Japan's");
//! - case: an upper-case letter in the form must be upper case in the text, lower-case
//!   letters match either case ("US" is not "us", "Turkey" is not "turkey", "TURKEY" is);
//! - short all-capital forms ("US", "WHO") are ignored in all-capital runs of text
//!   ("LET US GO");
//! - language: forms from a language's table only count in articles of that language
//!   (its capitalized forms also when the language is unknown);
//! - inflection: a form written `Form*` may be followed by up to three letters.
//!
//! Leftmost-longest matching makes the longer phrase win: "New Mexico" (a blocker) over
//! "Mexico", "South Korean" over "Korean".

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use anyhow::{bail, Context};

/// What a form stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// Index into the country table.
    Country(u16),
    /// Index into the organization table.
    Org(u16),
    /// A phrase that hides the forms inside it and stands for nothing.
    Block,
}

#[derive(Debug, Clone)]
struct Entry {
    target: Target,
    /// The form as written in the data (its case is checked against the text).
    form: Box<str>,
    /// `Some(code)`: counts only in articles of that ISO 639-1 language.
    lang: Option<Box<str>>,
    weak: bool,
    inflects: bool,
    /// Short all-capital form, ignored inside all-capital text.
    acronym: bool,
}

impl Entry {
    /// Forms of another language count only in articles of that language; when the
    /// language is unknown, its capitalized forms (names) count but not its lower-case
    /// adjectives, which can be ordinary words elsewhere.
    fn applies(&self, lang: Option<&str>) -> bool {
        match (self.lang.as_deref(), lang) {
            (None, _) => true,
            (Some(l), Some(article)) => l == article,
            (Some(_), None) => self.form.chars().next().is_some_and(char::is_uppercase),
        }
    }
}

/// Collects forms from the data tables.
#[derive(Debug, Default)]
pub struct Builder {
    index: HashMap<String, usize>,
    patterns: Vec<String>,
    entries: Vec<Vec<Entry>>,
}

impl Builder {
    /// Adds one form written in the data-file syntax: an optional `~` prefix (weak) and an
    /// optional `*` suffix (inflected endings).
    pub fn add(&mut self, raw: &str, target: Target, lang: Option<&str>) -> anyhow::Result<()> {
        let raw = raw.trim();
        let (weak, rest) = match raw.strip_prefix('~') {
            Some(r) => (true, r),
            None => (false, raw),
        };
        let (inflects, form) = match rest.strip_suffix('*') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        if form.chars().filter(|c| c.is_alphanumeric()).count() < 2 {
            bail!("form {raw:?} is too short");
        }
        if form.contains(['~', '*', '\t', '|']) {
            bail!("form {raw:?} has a stray marker");
        }
        let letters = form.chars().filter(|c| c.is_alphabetic()).count();
        let entry = Entry {
            target,
            form: form.into(),
            lang: lang.map(Into::into),
            weak,
            inflects,
            acronym: letters <= 5 && !form.chars().any(char::is_lowercase),
        };
        let key = form.to_ascii_lowercase();
        let id = *self.index.entry(key).or_insert_with(|| {
            self.patterns.push(form.to_owned());
            self.entries.push(Vec::new());
            self.patterns.len() - 1
        });
        let list = &mut self.entries[id];
        let duplicate = list
            .iter()
            .any(|e| e.target == target && e.lang == entry.lang && *e.form == *form);
        if !duplicate {
            list.push(entry);
        }
        Ok(())
    }

    pub fn build(mut self) -> anyhow::Result<Gazetteer> {
        for list in &mut self.entries {
            // Language-specific readings first, then the universal ones; stable otherwise.
            list.sort_by_key(|e| e.lang.is_none());
        }
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&self.patterns)
            .context("building the entity automaton")?;
        Ok(Gazetteer {
            ac,
            entries: self.entries,
        })
    }
}

/// The compiled automaton with the rules for each pattern.
#[derive(Debug)]
pub struct Gazetteer {
    ac: AhoCorasick,
    entries: Vec<Vec<Entry>>,
}

/// One accepted match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub target: Target,
    pub start: usize,
    pub end: usize,
    pub weak: bool,
}

impl Gazetteer {
    /// Matches in `text`, in order, for an article in language `lang` (ISO 639-1).
    pub fn find(&self, text: &str, lang: Option<&str>) -> Vec<Hit> {
        let bytes = text.as_bytes();
        let mut hits = Vec::new();
        for m in self.ac.find_iter(text) {
            if !boundary_before(text, m.start()) {
                continue;
            }
            let found = &bytes[m.start()..m.end()];
            for e in &self.entries[m.pattern().as_usize()] {
                if !e.applies(lang) {
                    continue;
                }
                if !case_ok(e.form.as_bytes(), found) {
                    continue;
                }
                let Some(end) = word_end(text, m.end(), e.inflects) else {
                    continue;
                };
                if e.acronym && shouting(text, m.start(), end) {
                    continue;
                }
                hits.push(Hit {
                    target: e.target,
                    start: m.start(),
                    end,
                    weak: e.weak,
                });
                break;
            }
        }
        hits
    }
}

/// Upper-case letters of the form must be upper case in the text; the automaton already
/// matched the bytes up to ASCII case.
fn case_ok(form: &[u8], found: &[u8]) -> bool {
    form.iter()
        .zip(found)
        .all(|(f, t)| !f.is_ascii_uppercase() || t.is_ascii_uppercase())
}

fn boundary_before(text: &str, start: usize) -> bool {
    !text[..start]
        .chars()
        .next_back()
        .is_some_and(char::is_alphanumeric)
}

/// End of the word that starts with the match: after up to three more letters when the
/// form inflects; `None` when the match ends inside a word.
fn word_end(text: &str, end: usize, inflects: bool) -> Option<usize> {
    let mut end = end;
    let mut rest = text[end..].chars();
    let mut extra = 0;
    loop {
        match rest.next() {
            Some(c) if c.is_alphabetic() && inflects && extra < 3 => {
                end += c.len_utf8();
                extra += 1;
            }
            Some(c) if c.is_alphanumeric() => return None,
            _ => return Some(end),
        }
    }
}

/// Whether the match sits in a run of all-capital words ("LET US GO"), where a short
/// all-capital form is an ordinary word.
fn shouting(text: &str, start: usize, end: usize) -> bool {
    let caps = |w: &str, min: usize| {
        w.chars().count() >= min
            && w.chars().any(char::is_uppercase)
            && !w.chars().any(char::is_lowercase)
    };
    match (word_before(text, start), word_after(text, end)) {
        (Some(p), Some(n)) => caps(p, 2) && caps(n, 2),
        (Some(w), None) | (None, Some(w)) => caps(w, 4),
        (None, None) => false,
    }
}

/// The word before `at` on the same line, skipping spaces and punctuation.
fn word_before(text: &str, at: usize) -> Option<&str> {
    let head = &text[..at];
    let end = head.trim_end_matches(|c: char| !c.is_alphanumeric() && c != '\n');
    if end.ends_with('\n') || end.is_empty() {
        return None;
    }
    let start = end
        .char_indices()
        .rev()
        .find(|(_, c)| !c.is_alphanumeric())
        .map_or(0, |(i, c)| i + c.len_utf8());
    Some(&end[start..])
}

/// The word after `at` on the same line, skipping spaces and punctuation.
fn word_after(text: &str, at: usize) -> Option<&str> {
    let tail = &text[at..];
    let start = tail.trim_start_matches(|c: char| !c.is_alphanumeric() && c != '\n');
    if start.starts_with('\n') || start.is_empty() {
        return None;
    }
    let end = start
        .char_indices()
        .find(|(_, c)| !c.is_alphanumeric())
        .map_or(start.len(), |(i, _)| i);
    Some(&start[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gazetteer() -> Gazetteer {
        let mut b = Builder::default();
        for (form, target, lang) in [
            ("US", Target::Country(0), None),
            ("American*", Target::Country(0), None),
            ("Turkey", Target::Country(1), None),
            ("~Georgia", Target::Country(2), None),
            ("New Mexico", Target::Block, None),
            ("Mexico", Target::Country(3), None),
            ("deutsch*", Target::Country(4), Some("de")),
            ("WHO", Target::Org(0), None),
        ] {
            b.add(form, target, lang).unwrap();
        }
        b.build().unwrap()
    }

    fn targets(text: &str, lang: Option<&str>) -> Vec<(Target, &'static str)> {
        let g = gazetteer();
        let leaked: &'static str = Box::leak(text.to_owned().into_boxed_str());
        g.find(leaked, lang)
            .into_iter()
            .map(|h| (h.target, &leaked[h.start..h.end]))
            .collect()
    }

    #[test]
    fn case_and_boundaries() {
        use Target::*;
        assert_eq!(
            targets(
                "The US told us. Americans ate turkey in Turkey; USB isn't.",
                None
            ),
            vec![
                (Country(0), "US"),
                (Country(0), "Americans"),
                (Country(1), "Turkey")
            ]
        );
        assert_eq!(
            targets("TURKEY AND THE US", None)[0],
            (Country(1), "TURKEY")
        );
        assert_eq!(targets("LET US GO NOW", None), vec![]);
        assert_eq!(targets("US-Turkey talks", None).len(), 2);
    }

    #[test]
    fn blockers_weak_forms_and_languages() {
        use Target::*;
        assert_eq!(
            targets("In New Mexico and Mexico", None),
            vec![(Block, "New Mexico"), (Country(3), "Mexico")]
        );
        let hits = gazetteer().find("Georgia", None);
        assert!(hits[0].weak);
        assert_eq!(
            targets("die deutschen Behörden", Some("de")),
            vec![(Country(4), "deutschen")]
        );
        assert_eq!(targets("die deutschen Behörden", Some("en")), vec![]);
        assert_eq!(targets("WHO said; who knows", None), vec![(Org(0), "WHO")]);
    }
}
