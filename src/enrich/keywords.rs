//! Key phrases of one to three words, ranked by YAKE (Campos et al., "YAKE! Keyword
//! extraction from single documents using multiple local features", Information Sciences
//! 2020): unsupervised, one document at a time, no model.
//!
//! Each word gets a score from five local features: casing (how often it is capitalized
//! mid-sentence or written as an acronym), position (median sentence of its occurrences),
//! frequency (relative to the mean and spread of all word frequencies), relatedness to
//! context (how many different words surround it; function-like words have many) and
//! spread over sentences. A phrase's score is the product of its words' scores divided by
//! its frequency; lower is better. Phrases are n-grams inside a clause that neither start
//! nor end with a stop word of the article's language or a number; phrases of two or
//! three words must occur twice unless they are names (a departure from YAKE, which
//! otherwise ranks one-off headline fragments such as "Seoul weighs response" first);
//! near-duplicates
//! (normalized edit distance below 0.2, e.g. "South Korea" / "South Korean") keep the
//! better-ranked one. Capitalization in the title is ignored: headlines are often title
//! case.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use super::stats::ends_sentence;

const STOP_EN: &str = include_str!("../../data/stopwords/en.txt");
const STOP_OTHER: &[(&str, &str)] = &[
    ("de", include_str!("../../data/stopwords/de.txt")),
    ("fr", include_str!("../../data/stopwords/fr.txt")),
    ("es", include_str!("../../data/stopwords/es.txt")),
    ("it", include_str!("../../data/stopwords/it.txt")),
    ("pt", include_str!("../../data/stopwords/pt.txt")),
    ("nl", include_str!("../../data/stopwords/nl.txt")),
];

/// Coordinating conjunctions, which join two phrases rather than make one.
const CONJUNCTIONS: &[&str] = &[
    "and", "or", "und", "oder", "et", "ou", "y", "o", "e", "ed", "en", "og", "och",
];

/// Longest phrase, in words.
const MAX_WORDS: usize = 3;
/// Phrases at least this similar to a better one are dropped.
const DEDUP_SIMILARITY: f64 = 0.8;

/// FxHash (rustc's hasher): fast for the short keys hashed here; no untrusted key can
/// make a table degrade beyond the bounded input size.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut buf = [0u8; 8];
            buf[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(buf));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type Fx = BuildHasherDefault<FxHasher>;

/// A language's stop words (lower case).
pub type StopSet = HashSet<&'static str, Fx>;

/// Stop words per language; English serves articles of other or unknown languages.
#[derive(Debug)]
pub struct StopWords {
    en: HashSet<&'static str, Fx>,
    other: Vec<(&'static str, HashSet<&'static str, Fx>)>,
}

fn parse_stopwords(text: &'static str) -> HashSet<&'static str, Fx> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .flat_map(str::split_whitespace)
        .collect()
}

impl StopWords {
    pub fn shipped() -> Self {
        StopWords {
            en: parse_stopwords(STOP_EN),
            other: STOP_OTHER
                .iter()
                .map(|(l, t)| (*l, parse_stopwords(t)))
                .collect(),
        }
    }

    pub fn for_language(&self, lang: Option<&str>) -> &StopSet {
        lang.and_then(|l| self.other.iter().find(|(c, _)| *c == l))
            .map_or(&self.en, |(_, s)| s)
    }
}

#[derive(Debug, Clone, Copy)]
struct Token {
    start: usize,
    end: usize,
    term: u32,
    /// First token of a sentence (its capital says nothing).
    initial: bool,
    /// A delimiter (punctuation, sentence end) follows: phrases stop here.
    closes: bool,
}

#[derive(Debug, Default, Clone)]
struct Term {
    tf: u32,
    /// Capitalized occurrences not at a sentence start and not in the title.
    tf_upper: u32,
    /// All-capital occurrences (acronyms).
    tf_acronym: u32,
    /// Occurrences starting with a lower-case letter.
    tf_lower: u32,
    sentences: Vec<u32>,
    stop: bool,
    numeric: bool,
    left_total: u32,
    right_total: u32,
    left_distinct: u32,
    right_distinct: u32,
    score: f64,
}

/// Elided articles and prepositions split off before an apostrophe ("l'armée").
pub(crate) const ELISIONS: &[&str] = &[
    "l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "dell", "nell",
    "all", "sull", "dall", "un", "quell",
];

/// Top `max` key phrases of `text` (title first, paragraphs separated by blank lines).
pub fn extract(text: &str, stop: &StopSet, lang: Option<&str>, max: usize) -> Vec<String> {
    // German capitalizes every noun: capitals say nothing about names there.
    let capitals_mark_names = !matches!(lang, Some("de" | "lb"));
    if max == 0 {
        return Vec::new();
    }
    let title_end = text.find("\n\n").unwrap_or(text.len());
    let mut ids: HashMap<Box<str>, u32, Fx> = HashMap::default();
    let mut terms: Vec<Term> = Vec::new();
    let mut tokens: Vec<Token> = Vec::new();
    let mut lower = String::new();

    let mut sentence = 0u32;
    let mut initial = true;
    let mut push = |start: usize, end: usize, initial: bool, sentence: u32, tokens: &mut Vec<Token>| {
        let word = &text[start..end];
        lower.clear();
        lower.extend(word.chars().flat_map(char::to_lowercase));
        let id = match ids.get(lower.as_str()) {
            Some(id) => *id,
            None => {
                let id = terms.len() as u32;
                ids.insert(lower.as_str().into(), id);
                let numeric = word.chars().all(|c| !c.is_alphabetic());
                terms.push(Term {
                    stop: stop.contains(lower.as_str()) || word.chars().count() < 2,
                    numeric,
                    ..Term::default()
                });
                id
            }
        };
        let t = &mut terms[id as usize];
        t.tf += 1;
        let letters = word.chars().filter(|c| c.is_alphabetic()).count();
        let acronym = letters >= 2 && !word.chars().any(char::is_lowercase);
        if acronym {
            t.tf_acronym += 1;
            // "US", "WHO": all-capital words are names, never stop words.
            t.stop = false;
        } else if word.chars().next().is_some_and(char::is_lowercase) {
            t.tf_lower += 1;
        } else if !initial && start >= title_end && word.chars().next().is_some_and(char::is_uppercase) {
            t.tf_upper += 1;
        }
        if t.sentences.last() != Some(&sentence) {
            t.sentences.push(sentence);
        }
        tokens.push(Token {
            start,
            end,
            term: id,
            initial,
            closes: false,
        });
    };

    // Tokenize: words are letters and digits, joined by inner hyphens, apostrophes and
    // (between digits) dots and commas.
    let bytes = text.as_bytes();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_alphanumeric() {
            let start = i;
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = chars.peek() {
                if d.is_alphanumeric() {
                    end = j + d.len_utf8();
                    chars.next();
                    continue;
                }
                let prev = text[..j].chars().next_back().unwrap_or(' ');
                let next = text[j + d.len_utf8()..].chars().next().unwrap_or(' ');
                let joins = match d {
                    '-' | '\'' | '’' => prev.is_alphanumeric() && next.is_alphanumeric(),
                    '.' | ',' => prev.is_ascii_digit() && next.is_ascii_digit(),
                    _ => false,
                };
                if !joins {
                    break;
                }
                if d != '-' && d != '.' && d != ',' {
                    // Apostrophe: possessive "'s" is dropped, elided articles split off.
                    let head = &text[start..j];
                    let tail_end = text[j + d.len_utf8()..]
                        .find(|x: char| !x.is_alphanumeric())
                        .map_or(text.len(), |k| j + d.len_utf8() + k);
                    let tail = &text[j + d.len_utf8()..tail_end];
                    if tail == "s" {
                        // A possessive ends the phrase: "Korea's decision" is two ideas.
                        chars.next();
                        chars.next();
                        push(start, end, initial, sentence, &mut tokens);
                        initial = false;
                        close(&mut tokens);
                        end = usize::MAX;
                        break;
                    }
                    if ELISIONS.iter().any(|e| e.eq_ignore_ascii_case(head)) {
                        push(start, j, initial, sentence, &mut tokens);
                        initial = false;
                        chars.next();
                        let tstart = j + d.len_utf8();
                        let mut tend = tstart;
                        while let Some(&(k, x)) = chars.peek() {
                            if x.is_alphanumeric() {
                                tend = k + x.len_utf8();
                                chars.next();
                            } else {
                                break;
                            }
                        }
                        push(tstart, tend, false, sentence, &mut tokens);
                        end = usize::MAX;
                        break;
                    }
                }
                chars.next();
                end = j + d.len_utf8();
            }
            if end != usize::MAX {
                push(start, end, initial, sentence, &mut tokens);
                initial = false;
            }
            continue;
        }
        if c.is_whitespace() {
            if c == '\n' && bytes.get(i + 1) == Some(&b'\n') {
                close(&mut tokens);
                if !initial {
                    sentence += 1;
                }
                initial = true;
            }
            continue;
        }
        // Punctuation and symbols delimit phrases; some also end sentences.
        close(&mut tokens);
        if matches!(c, '.' | '!' | '?' | '…' | '。' | '！' | '？') && !initial {
            let after = text[i + c.len_utf8()..].chars().next();
            let at_break = after.is_none_or(|a| a.is_whitespace() || "\"'”’»)".contains(a));
            if at_break && ends_sentence(text, i + c.len_utf8() - 1) {
                sentence += 1;
                initial = true;
            }
        }
    }
    close(&mut tokens);
    if tokens.is_empty() {
        return Vec::new();
    }
    let n_sentences = f64::from(sentence + 1);

    // Context: distinct and total neighbours on each side within a clause.
    let mut pairs: HashMap<(u32, u32), u32, Fx> = HashMap::default();
    for w in tokens.windows(2) {
        if w[0].closes {
            continue;
        }
        let (a, b) = (w[0].term, w[1].term);
        terms[a as usize].right_total += 1;
        terms[b as usize].left_total += 1;
        let n = pairs.entry((a, b)).or_insert(0);
        *n += 1;
        if *n == 1 {
            terms[a as usize].right_distinct += 1;
            terms[b as usize].left_distinct += 1;
        }
    }

    score_terms(&mut terms, n_sentences);

    // Candidate phrases with their frequency and best surface occurrence.
    struct Cand {
        tf: u32,
        first: usize,
        last: usize,
        initial: bool,
        /// Written as a name somewhere: every word capitalized (or an acronym), in the
        /// body, not just because a sentence starts with it.
        name: bool,
    }
    let capitalized = |t: &Token| {
        let w = &text[t.start..t.end];
        let acronym = w.chars().filter(|c| c.is_alphabetic()).count() >= 2
            && !w.chars().any(char::is_lowercase);
        acronym || (capitals_mark_names && w.chars().next().is_some_and(char::is_uppercase))
    };
    let mut cands: HashMap<[u32; MAX_WORDS], Cand, Fx> = HashMap::default();
    for i in 0..tokens.len() {
        let t0 = &terms[tokens[i].term as usize];
        if t0.stop || t0.numeric {
            continue;
        }
        let mut key = [u32::MAX; MAX_WORDS];
        for n in 0..MAX_WORDS {
            let k = i + n;
            if k >= tokens.len() {
                break;
            }
            key[n] = tokens[k].term;
            let tk = &terms[tokens[k].term as usize];
            if n > 0 && tk.stop && CONJUNCTIONS.contains(&&text[tokens[k].start..tokens[k].end]) {
                // "Latvia and Lithuania" is a list, not a phrase.
                break;
            }
            if !(tk.stop || tk.numeric) {
                let words = &tokens[i..=k];
                let t0 = &terms[tokens[i].term as usize];
                let name = tokens[i].start >= title_end
                    && (!tokens[i].initial || t0.tf_upper > 0 || t0.tf_acronym > 0)
                    && words
                        .iter()
                        .all(|t| terms[t.term as usize].stop || capitalized(t));
                let c = cands.entry(key).or_insert(Cand {
                    tf: 0,
                    first: i,
                    last: k,
                    initial: tokens[i].initial || tokens[i].start < title_end,
                    name: false,
                });
                c.tf += 1;
                c.name |= name;
                let here_initial = tokens[i].initial || tokens[i].start < title_end;
                if c.initial && !here_initial {
                    c.first = i;
                    c.last = k;
                    c.initial = false;
                }
            }
            if tokens[k].closes {
                break;
            }
        }
    }

    // A phrase seen once is kept only when it is a name: a one-off "Seoul weighs
    // response" from a headline is not a key phrase, "National Security Council" is.
    let mut ranked: Vec<(f64, &[u32; MAX_WORDS], &Cand)> = cands
        .iter()
        .filter(|(_, c)| c.tf >= 2 || c.name)
        .map(|(key, c)| {
            let mut prod = 1.0;
            let mut sum = 0.0;
            for (pos, &id) in key.iter().enumerate().take_while(|(_, id)| **id != u32::MAX) {
                let t = &terms[id as usize];
                if t.stop {
                    // A stop word inside a phrase ("Bank of England"): the more often
                    // its neighbours go with it, the less it weakens the phrase.
                    let (prev, next) = (key[pos - 1], key[pos + 1]);
                    let edge = |a: u32, b: u32| f64::from(*pairs.get(&(a, b)).unwrap_or(&0));
                    let p = edge(prev, id) / f64::from(terms[prev as usize].tf.max(1))
                        * (edge(id, next) / f64::from(t.tf.max(1)));
                    prod *= 1.0 + (1.0 - p);
                    sum -= 1.0 - p;
                } else {
                    prod *= t.score;
                    sum += t.score;
                }
            }
            (prod / ((sum + 1.0) * f64::from(c.tf)), key, c)
        })
        .collect();
    ranked.sort_by(|a, b| {
        a.0.total_cmp(&b.0)
            .then_with(|| a.2.first.cmp(&b.2.first))
            .then_with(|| a.1.cmp(b.1))
    });

    // Take phrases best first. A phrase that repeats a kept one is dropped, except that a
    // longer phrase containing a kept one ("National Security Council" after "Council")
    // takes its place.
    let mut out: Vec<(String, String)> = Vec::with_capacity(max);
    let mut looked = 0;
    for (_, key, c) in ranked {
        if out.len() == max || looked == max * 8 {
            break;
        }
        looked += 1;
        let surface = &text[tokens[c.first].start..tokens[c.last].end];
        let phrase = clean_surface(surface, c.initial, &terms[key[0] as usize]);
        let folded = phrase.to_lowercase();
        let mut replaced = false;
        let mut duplicate = false;
        for (kept, kept_folded) in out.iter_mut() {
            match overlap(kept_folded, &folded) {
                Overlap::Longer if !replaced => {
                    *kept = phrase.clone();
                    *kept_folded = folded.clone();
                    replaced = true;
                }
                Overlap::None if similarity(kept_folded, &folded) < DEDUP_SIMILARITY => {}
                _ => duplicate = true,
            }
        }
        if replaced {
            // The longer phrase may now repeat another kept one.
            let mut seen: Vec<String> = Vec::new();
            out.retain(|(_, f)| {
                let dup = seen.iter().any(|s| overlap(s, f) != Overlap::None);
                seen.push(f.clone());
                !dup
            });
        } else if !duplicate {
            out.push((phrase, folded));
        }
    }
    out.into_iter().map(|(p, _)| p).collect()
}

/// Marks the last token as followed by a delimiter.
fn close(tokens: &mut [Token]) {
    if let Some(t) = tokens.last_mut() {
        t.closes = true;
    }
}

/// The YAKE word score (lower is more important) for every non-stop term.
fn score_terms(terms: &mut [Term], n_sentences: f64) {
    let valid: Vec<f64> = terms
        .iter()
        .filter(|t| !t.stop && !t.numeric)
        .map(|t| f64::from(t.tf))
        .collect();
    if valid.is_empty() {
        return;
    }
    let mean = valid.iter().sum::<f64>() / valid.len() as f64;
    let std = (valid.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / valid.len() as f64).sqrt();
    let max_tf = terms.iter().map(|t| t.tf).max().unwrap_or(1).max(1) as f64;
    for t in terms.iter_mut().filter(|t| !t.stop) {
        let tf = f64::from(t.tf);
        let case = f64::from(t.tf_upper.max(t.tf_acronym)) / (1.0 + tf.ln());
        let median = median(&t.sentences);
        let position = (3.0 + median).ln().ln();
        let freq = tf / (mean + std);
        let pl = if t.left_total == 0 {
            0.0
        } else {
            f64::from(t.left_distinct) / f64::from(t.left_total)
        };
        let pr = if t.right_total == 0 {
            0.0
        } else {
            f64::from(t.right_distinct) / f64::from(t.right_total)
        };
        let rel = (0.5 + pl * (tf / max_tf)) + (0.5 + pr * (tf / max_tf));
        let spread = t.sentences.len() as f64 / n_sentences;
        t.score = (position * rel) / (case + freq / rel + spread / rel);
    }
}

fn median(sorted: &[u32]) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => f64::from(sorted[n / 2]),
        n => (f64::from(sorted[n / 2 - 1]) + f64::from(sorted[n / 2])) / 2.0,
    }
}

/// The phrase as written, with a sentence-initial capital lowered when the word is also
/// written in lower case elsewhere (not a name).
fn clean_surface(surface: &str, initial: bool, first: &Term) -> String {
    let s: String = surface.split_whitespace().collect::<Vec<_>>().join(" ");
    if initial && first.tf_lower > 0 && first.tf_upper == 0 && first.tf_acronym == 0 {
        let mut chars = s.chars();
        if let Some(c) = chars.next() {
            return c.to_lowercase().chain(chars).collect();
        }
    }
    s
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Overlap {
    None,
    /// The new phrase contains every word of the kept one, and more.
    Longer,
    /// Otherwise the same words, or two words in common.
    Same,
}

/// How a new phrase relates to a kept one, by words (split at spaces and hyphens), counting
/// words that differ by a short ending ("korea", "korean") as equal.
fn overlap(kept: &str, new: &str) -> Overlap {
    let split = |s: &str| -> Vec<String> {
        s.split(|c: char| c.is_whitespace() || c == '-')
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let same = |x: &str, y: &str| {
        let (s, l) = if x.len() <= y.len() { (x, y) } else { (y, x) };
        s == l || (s.chars().count() >= 4 && l.len() - s.len() <= 2 && l.starts_with(s))
    };
    let (k, n) = (split(kept), split(new));
    let common = k.iter().filter(|w| n.iter().any(|x| same(w, x))).count();
    if common == k.len() && n.len() > k.len() {
        Overlap::Longer
    } else if common == n.len() || common == k.len() || common >= 2 {
        Overlap::Same
    } else {
        Overlap::None
    }
}

/// 1 − normalized Levenshtein distance between two strings (by characters).
fn similarity(a: &str, b: &str) -> f64 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 1.0;
    }
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == cb {
                prev
            } else {
                1 + prev.min(row[j]).min(row[j + 1])
            };
            prev = cur;
        }
    }
    1.0 - row[b.len()] as f64 / longest as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keywords(text: &str, lang: Option<&str>) -> Vec<String> {
        let stop = StopWords::shipped();
        extract(text, stop.for_language(lang), lang, 8)
    }

    #[test]
    fn phrases_not_stop_words_or_numbers() {
        let text = "Central bank raises interest rates\n\n\
            The central bank raised interest rates by 0.5 points on Thursday, the third \
            rise this year. The central bank said inflation remained too high. Interest \
            rates now stand at 4.25 per cent, and the bank expects inflation to fall in 2025.";
        let k = keywords(text, Some("en"));
        assert!(k.iter().any(|p| p == "central bank"), "{k:?}");
        assert!(k.iter().any(|p| p.contains("interest rates")), "{k:?}");
        let stop = StopWords::shipped();
        let en = stop.for_language(Some("en"));
        for p in &k {
            let words: Vec<String> = p.split_whitespace().map(str::to_lowercase).collect();
            assert!(!en.contains(words[0].as_str()) && !en.contains(words[words.len() - 1].as_str()), "{p}");
            assert!(p.chars().any(char::is_alphabetic), "{p}");
            assert!(words.len() <= MAX_WORDS, "{p}");
        }
    }

    #[test]
    fn hyphenated_compounds_and_possessives() {
        let text = "Seoul ends intelligence-sharing pact\n\n\
            Seoul said it would end the intelligence-sharing pact with Tokyo. The \
            intelligence-sharing pact's end worries Washington. Officials said the \
            intelligence-sharing pact had value.";
        let k = keywords(text, Some("en"));
        assert!(k.iter().any(|p| p == "intelligence-sharing pact"), "{k:?}");
    }

    #[test]
    fn elisions_are_split_in_french() {
        let text = "L'armée française\n\nL'armée française a quitté l'aéroport. \
            L'armée de l'air reste. L'aéroport de la capitale est fermé.";
        let k = keywords(text, Some("fr"));
        assert!(k.iter().any(|p| p == "armée française"), "{k:?}");
        assert!(k.iter().all(|p| !p.starts_with("l'") && !p.starts_with("L'")), "{k:?}");
    }

    #[test]
    fn similarity_is_normalized_edit_distance() {
        assert!((similarity("south korea", "south korean") - 11.0 / 12.0).abs() < 1e-9);
        assert_eq!(similarity("", ""), 1.0);
    }

    #[test]
    fn empty_input_and_zero_max() {
        assert!(keywords("", None).is_empty());
        let stop = StopWords::shipped();
        assert!(extract("Some text here", stop.for_language(None), None, 0).is_empty());
    }
}
