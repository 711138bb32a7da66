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

use std::hash::Hasher;

use super::stats::ends_sentence;
use table::IdTable;

mod table;

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

/// The [`word_key`]s of [`CONJUNCTIONS`].
fn conjunction_keys() -> &'static [u64] {
    static KEYS: std::sync::OnceLock<Vec<u64>> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| CONJUNCTIONS.iter().map(|c| word_key(c)).collect())
}

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
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
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

/// Key of a lower-cased word: its 64-bit FxHash. Terms and stop words are compared by key
/// (a collision among the few thousand words of one article is vanishingly unlikely and
/// would only merge two terms' counts).
fn word_key(lower: &str) -> u64 {
    let mut h = FxHasher::default();
    h.write(lower.as_bytes());
    h.finish()
}

/// A language's stop words, by [`word_key`] of their lower-case form (in the same flat
/// table as the article's terms: one probe per new term).
#[derive(Debug, Default)]
pub struct StopSet {
    keys: IdTable,
}

impl StopSet {
    fn parse(text: &str) -> Self {
        let mut keys = IdTable::default();
        keys.reset(0);
        for (i, w) in text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .flat_map(str::split_whitespace)
            .enumerate()
        {
            keys.get_or_insert(word_key(&w.to_lowercase()), i as u32);
        }
        StopSet { keys }
    }

    /// Whether `lower` (a lower-case word) is a stop word.
    pub fn contains(&self, lower: &str) -> bool {
        self.contains_key(word_key(lower))
    }

    fn contains_key(&self, key: u64) -> bool {
        self.keys.get(key).is_some()
    }
}

/// Stop words per language; English serves articles of other or unknown languages.
#[derive(Debug)]
pub struct StopWords {
    en: StopSet,
    other: Vec<(&'static str, StopSet)>,
}

impl StopWords {
    pub fn shipped() -> Self {
        StopWords {
            en: StopSet::parse(STOP_EN),
            other: STOP_OTHER
                .iter()
                .map(|(l, t)| (*l, StopSet::parse(t)))
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
    start: u32,
    end: u32,
    term: u32,
    sentence: u32,
    /// First token of a sentence (its capital says nothing).
    initial: bool,
    /// A delimiter (punctuation, sentence end) follows: phrases stop here.
    closes: bool,
    /// Written like a name: an acronym, or capitalized where capitals mark names.
    caps: bool,
    /// Part of the title.
    title: bool,
    /// The id of the pair this token starts with the next one (`u32::MAX` when a
    /// delimiter follows it): the phrase grouping reads a bigram's count from here without
    /// looking it up again.
    pair: u32,
    /// The next token of the same term (`u32::MAX`: none).
    next: u32,
}

#[derive(Debug, Default, Clone)]
struct Term {
    tf: u32,
    /// First and last token of the term: its tokens are chained through [`Token::next`]
    /// in text order, so by sentence (the word scores read the median sentence from the
    /// chain instead of sorting every token by term).
    first: u32,
    last: u32,
    /// Distinct sentences the term occurs in.
    spread: u32,
    /// Capitalized occurrences not at a sentence start and not in the title.
    tf_upper: u32,
    /// All-capital occurrences (acronyms).
    tf_acronym: u32,
    /// Occurrences starting with a lower-case letter.
    tf_lower: u32,
    stop: bool,
    /// A coordinating conjunction ("and"): joins phrases, never inside one.
    conjunction: bool,
    numeric: bool,
    left_total: u32,
    right_total: u32,
    left_distinct: u32,
    right_distinct: u32,
}

/// Elided articles and prepositions split off before an apostrophe ("l'armée").
pub(crate) const ELISIONS: &[&str] = &[
    "l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "dell", "nell",
    "all", "sull", "dall", "un", "quell",
];

/// Splits the text into tokens and gathers per-term counts.
struct Tokenizer<'a> {
    text: &'a str,
    stop: &'a StopSet,
    capitals_mark_names: bool,
    title_end: usize,
    /// Term id by [`word_key`].
    ids: IdTable,
    terms: Vec<Term>,
    tokens: Vec<Token>,
    /// Adjacent pairs, counted as the second token is pushed.
    pairs: Pairs,
    lower: String,
    sentence: u32,
    initial: bool,
}

impl<'a> Tokenizer<'a> {
    /// Pushes the token of the word `text[start..end]`, of any shape.
    #[inline(always)]
    fn push(&mut self, start: usize, end: usize) {
        // One pass for the lower-cased key and the word's shape; the lower-case form itself
        // is only written out for new stop words.
        let (key, letters, has_lower, ascii) = match ascii_key(self.text.as_bytes(), start, end) {
            Some((key, letters, has_lower)) => (key, letters, has_lower, true),
            None => {
                let (mut letters, mut has_lower) = (0u32, false);
                self.lower.clear();
                for c in self.text[start..end].chars() {
                    letters += u32::from(c.is_alphabetic());
                    has_lower |= c.is_lowercase();
                    self.lower.extend(c.to_lowercase());
                }
                (word_key(&self.lower), letters.min(2), has_lower, false)
            }
        };
        let (first_lower, first_upper) = if ascii {
            let b = self.text.as_bytes()[start];
            (b.is_ascii_lowercase(), b.is_ascii_uppercase())
        } else {
            let first = self.text[start..].chars().next().unwrap_or(' ');
            (first.is_lowercase(), first.is_uppercase())
        };
        let shape = Shape {
            key,
            letters,
            has_lower,
            ascii,
            first_lower,
            first_upper,
        };
        self.push_shaped(start, end, shape);
    }

    /// Pushes the token of the word `text[start..end]`, whose key and shape are known.
    #[inline(always)]
    fn push_shaped(&mut self, start: usize, end: usize, shape: Shape) {
        let Shape {
            key,
            letters,
            has_lower,
            ascii,
            first_lower,
            first_upper,
        } = shape;
        let next = self.terms.len() as u32;
        let id = self.ids.get_or_insert(key, next);
        if id == next {
            self.new_term(start, end, key, letters, ascii);
        }
        let acronym = letters >= 2 && !has_lower;
        let title = start < self.title_end;
        let at = self.tokens.len() as u32;
        let t = &mut self.terms[id as usize];
        if t.tf == 0 {
            t.first = at;
            t.spread = 1;
        } else {
            let prev = &mut self.tokens[t.last as usize];
            prev.next = at;
            t.spread += u32::from(prev.sentence != self.sentence);
        }
        t.last = at;
        t.tf += 1;
        if acronym {
            t.tf_acronym += 1;
            // "US", "WHO": all-capital words are names, never stop words.
            t.stop = false;
            t.conjunction = false;
        } else if first_lower {
            t.tf_lower += 1;
        } else if !self.initial && !title && first_upper {
            t.tf_upper += 1;
        }
        // The previous token's `closes` is final once a token follows it.
        if let Some(prev) = self.tokens.last_mut() {
            if !prev.closes {
                prev.pair = self.pairs.add(prev.term, id);
            }
        }
        self.tokens.push(Token {
            start: start as u32,
            end: end as u32,
            term: id,
            sentence: self.sentence,
            initial: self.initial,
            closes: false,
            caps: acronym || (self.capitals_mark_names && first_upper),
            title,
            pair: u32::MAX,
            next: u32::MAX,
        });
        self.initial = false;
    }

    /// Adds the term first met as `text[start..end]`, of key `key`.
    #[cold]
    fn new_term(&mut self, start: usize, end: usize, key: u64, letters: u32, ascii: bool) {
        let word = &self.text[start..end];
        let single = if ascii {
            end - start == 1
        } else {
            word.chars().nth(1).is_none()
        };
        let stop = single || self.stop.contains_key(key);
        self.terms.push(Term {
            stop,
            // By key, like every other word comparison here: no lower-case copy needed.
            conjunction: stop && conjunction_keys().contains(&key),
            numeric: letters == 0,
            ..Term::default()
        });
    }

    fn close(&mut self) {
        if let Some(t) = self.tokens.last_mut() {
            t.closes = true;
        }
    }

    fn end_sentence(&mut self) {
        self.close();
        if !self.initial {
            self.sentence += 1;
        }
        self.initial = true;
    }

    /// Words are letters and digits, joined by inner hyphens, apostrophes and (between
    /// digits) dots and commas. A possessive "'s" is dropped and ends the phrase; an
    /// elided article ("l'", "dell'") becomes its own (stop) word.
    fn run(&mut self) {
        let text = self.text;
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            // Most bytes of news text are ASCII letters and spaces: decided from the byte.
            let b = bytes[i];
            if b == b' ' {
                i += 1;
                continue;
            }
            if b.is_ascii_alphanumeric() {
                // Most words are ASCII and end at a space or a mark that never joins: the
                // scan, the key and the shape come from the same loads.
                if let Some((end, shape)) = ascii_word(bytes, i) {
                    self.push_shaped(i, end, shape);
                    i = end;
                } else {
                    i = self.word(i);
                }
                continue;
            }
            let (c, len) = char_at(text, i);
            if c.is_alphanumeric() {
                i = self.word(i);
                continue;
            }
            if c.is_whitespace() {
                if c == '\n' && bytes.get(i + 1) == Some(&b'\n') {
                    self.end_sentence();
                }
                i += len;
                continue;
            }
            // Punctuation and symbols delimit phrases; some also end sentences.
            self.close();
            if matches!(c, '.' | '!' | '?' | '…' | '。' | '！' | '？') && !self.initial {
                let after = text[i + len..].chars().next();
                let at_break = after.is_none_or(|a| a.is_whitespace() || "\"'”’»)".contains(a));
                if at_break && ends_sentence(text, i + len - 1) {
                    self.end_sentence();
                }
            }
            i += len;
        }
        self.close();
    }

    /// Reads the word starting at `start` and pushes its token; returns where the next
    /// scan starts.
    fn word(&mut self, start: usize) -> usize {
        let (end, resume, closes) = self.scan_word(start);
        // One call site, so the per-token work is inlined here.
        self.push(start, end);
        if closes {
            self.close();
        }
        resume
    }

    /// The end of the word starting at `start`, where the next scan resumes, and whether
    /// the word closes a phrase (a possessive "'s" follows, which is dropped).
    #[inline]
    fn scan_word(&self, start: usize) -> (usize, usize, bool) {
        let text = self.text;
        let (mut prev, len) = char_at(text, start);
        let mut end = start + len;
        loop {
            let run = ascii_alnum_run(text.as_bytes(), end);
            if run > 0 {
                end += run;
                prev = char::from(text.as_bytes()[end - 1]);
            }
            if end >= text.len() {
                break;
            }
            let (d, dlen) = char_at(text, end);
            if d.is_alphanumeric() {
                end += dlen;
                prev = d;
                continue;
            }
            // Most words end at a space or a punctuation mark that never joins.
            if !matches!(d, '-' | '\'' | '’' | '.' | ',') {
                break;
            }
            let after = end + dlen;
            let next = if after < text.len() {
                char_at(text, after).0
            } else {
                ' '
            };
            let joins = match d {
                '-' | '\'' | '’' => prev.is_alphanumeric() && next.is_alphanumeric(),
                '.' | ',' => prev.is_ascii_digit() && next.is_ascii_digit(),
                _ => false,
            };
            if !joins {
                break;
            }
            if d == '\'' || d == '’' {
                let tail_end = text[after..]
                    .find(|x: char| !x.is_alphanumeric())
                    .map_or(text.len(), |k| after + k);
                if &text[after..tail_end] == "s" {
                    return (end, tail_end, true);
                }
                if ELISIONS
                    .iter()
                    .any(|e| e.eq_ignore_ascii_case(&text[start..end]))
                {
                    // The rest is read as a word of its own.
                    return (end, after, false);
                }
            }
            end = after;
            prev = d;
        }
        (end, end, false)
    }
}

/// A word's [`word_key`] and what the tokenizer asks about its letters.
#[derive(Clone, Copy)]
struct Shape {
    key: u64,
    /// Letters, capped at two.
    letters: u32,
    has_lower: bool,
    /// All ASCII (a new term's lower-case form is then its bytes lowered).
    ascii: bool,
    /// The first character is lower case / upper case.
    first_lower: bool,
    first_upper: bool,
}

/// The all-ASCII word of letters and digits starting at `start` (an ASCII letter or
/// digit), when it ends at an ASCII byte that does not join it to more (a space, most
/// punctuation, a full stop after a letter): its end and shape, as
/// [`Tokenizer::scan_word`] and [`ascii_key`] would give them.
/// `None` (the general path decides) for any other word, and near the end of the text.
///
/// Each eight-byte load serves the scan, the lower-cased key and the letter counts.
#[inline(always)]
fn ascii_word(bytes: &[u8], start: usize) -> Option<(usize, Shape)> {
    const HIGH: u64 = (u64::MAX / 255) << 7;
    const CASE: u64 = (u64::MAX / 255) * 0x20;
    let mut h = FxHasher::default();
    let (mut letters, mut has_lower) = (0u32, false);
    let mut at = start;
    loop {
        let chunk = bytes.get(at..at + 8)?;
        let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        // Classify the low seven bits (no byte carries into the next); a set high bit
        // (non-ASCII) stops the word by itself.
        let low = x & !HIGH;
        let alpha = ascii_in_range(low | CASE, b'a', b'z');
        let small = ascii_in_range(low, b'a', b'z');
        let digit = ascii_in_range(low, b'0', b'9');
        let stop = (!(alpha | digit) & HIGH) | (x & HIGH);
        let n = (stop.trailing_zeros() / 8) as usize;
        // All ones over the bytes before the first stop (all eight when there is none).
        let keep = ((stop & stop.wrapping_neg()) >> 7).wrapping_sub(1);
        let (word, alpha, small) = (x & keep, alpha & keep, small & keep);
        // Capital letters get the 0x20 bit: their high bit, shifted down.
        let lower = word | ((alpha & !small) >> 2);
        has_lower |= small != 0;
        letters += u32::from(alpha != 0) + u32::from(alpha & alpha.wrapping_sub(1) != 0);
        if n > 0 {
            h.add(lower);
        }
        if n == 8 {
            at += 8;
            continue;
        }
        let end = at + n;
        // Whether the mark after the word joins it to what follows (see `scan_word`):
        // a dot or comma only between digits, a hyphen or apostrophe only before a letter
        // or digit (a non-ASCII one is left to the general path).
        // Most words end at a space: one compare.
        let joins = match bytes[end] {
            b' ' => false,
            0x80.. => true,
            b'.' | b',' => bytes[end - 1].is_ascii_digit(),
            b'-' | b'\'' => bytes
                .get(end + 1)
                .is_some_and(|&b| b >= 0x80 || b.is_ascii_alphanumeric()),
            _ => false,
        };
        if joins {
            return None;
        }
        let first = bytes[start];
        return Some((
            end,
            Shape {
                key: h.finish(),
                letters: letters.min(2),
                has_lower,
                ascii: true,
                first_lower: first.is_ascii_lowercase(),
                first_upper: first.is_ascii_uppercase(),
            },
        ));
    }
}

/// High bit set in each byte of `x` (all bytes ASCII) that lies in `lo..=hi`.
#[inline]
fn ascii_in_range(x: u64, lo: u8, hi: u8) -> u64 {
    const ONES: u64 = u64::MAX / 255;
    const HIGH: u64 = ONES << 7;
    // Bytes below 0x80 plus (0x80 - c) carry into their own high bit iff they are >= c,
    // never into the next byte.
    let at_least = |c: u8| x.wrapping_add(ONES * u64::from(0x80 - c)) & HIGH;
    at_least(lo) & !at_least(hi + 1)
}

/// For an all-ASCII word `bytes[start..end]`: its [`word_key`] (of the lower-cased
/// bytes), its number of letters capped at two (all the tokenizer asks is "none" or "at
/// least two") and whether it has a lower-case letter; `None` when the word has a
/// non-ASCII byte.
///
/// The word is read eight bytes at a time straight from the text, the bytes past its end
/// masked off (the last chunk of [`FxHasher::write`] is zero-padded the same way), so a
/// short word costs one load instead of a byte loop.
#[inline]
fn ascii_key(bytes: &[u8], start: usize, end: usize) -> Option<(u64, u32, bool)> {
    const HIGH: u64 = (u64::MAX / 255) << 7;
    let mut h = FxHasher::default();
    let (mut letters, mut has_lower) = (0u32, false);
    let mut at = start;
    while at < end {
        let n = (end - at).min(8);
        let x = match bytes.get(at..at + 8) {
            Some(chunk) => {
                let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
                if n == 8 {
                    x
                } else {
                    x & ((1 << (8 * n)) - 1)
                }
            }
            None => {
                let mut buf = [0u8; 8];
                buf[..n].copy_from_slice(&bytes[at..at + n]);
                u64::from_le_bytes(buf)
            }
        };
        if x & HIGH != 0 {
            return None;
        }
        let lower = x | (ascii_in_range(x, b'A', b'Z') >> 2);
        has_lower |= ascii_in_range(x, b'a', b'z') != 0;
        // Capped count without a popcount (not in baseline x86-64): whether any bit is
        // set, and whether more than one is.
        let m = ascii_in_range(lower, b'a', b'z');
        letters += u32::from(m != 0) + u32::from(m & m.wrapping_sub(1) != 0);
        h.add(lower);
        at += n;
    }
    Some((h.finish(), letters.min(2), has_lower))
}

/// How many ASCII letters and digits `bytes` has in a row from `at`, read eight bytes
/// at a time (a word's letters are skipped in one or two steps instead of byte by byte).
#[inline]
fn ascii_alnum_run(bytes: &[u8], at: usize) -> usize {
    const HIGH: u64 = (u64::MAX / 255) << 7;
    const CASE: u64 = (u64::MAX / 255) * 0x20;
    let mut n = 0;
    while let Some(chunk) = bytes.get(at + n..at + n + 8) {
        let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        // Classify the low seven bits (so no byte carries into the next); a set high bit
        // (non-ASCII) stops the run by itself.
        let low = x & !HIGH;
        let alnum = ascii_in_range(low | CASE, b'a', b'z') | ascii_in_range(low, b'0', b'9');
        let stop = (!alnum & HIGH) | (x & HIGH);
        if stop != 0 {
            return n + (stop.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    n + bytes[at + n..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count()
}

/// The character at byte `i` and its length.
#[inline]
fn char_at(text: &str, i: usize) -> (char, usize) {
    let b = text.as_bytes()[i];
    if b < 0x80 {
        (char::from(b), 1)
    } else {
        let c = text[i..].chars().next().unwrap_or(' ');
        (c, c.len_utf8())
    }
}

/// A candidate phrase: its words and the occurrence shown.
#[derive(Debug, Clone, Copy)]
struct Cand {
    key: [u32; MAX_WORDS],
    first: u32,
    last: u32,
    /// The shown occurrence starts a sentence or lies in the title.
    initial: bool,
}

/// A possible phrase and its occurrences.
#[derive(Debug, Clone, Copy)]
struct Phrase {
    key: [u32; MAX_WORDS],
    words: u8,
    tf: u32,
    /// Some occurrence is written as a name.
    name: bool,
    /// Token of the first occurrence.
    first: u32,
    /// Token of the first occurrence that does not start a sentence or lie in the title
    /// (`u32::MAX`: none).
    first_plain: u32,
}

/// The text's terms, its tokens, their adjacent pairs and its number of sentences.
/// The term table is handed back to `tables`; the pair table travels in [`Pairs`].
fn tokenize(
    text: &str,
    stop: &StopSet,
    lang: Option<&str>,
    tables: &mut Tables,
) -> (Vec<Term>, Vec<Token>, Pairs, u32) {
    let mut tk = Tokenizer::new(text, stop, lang, tables);
    tk.run();
    tables.terms = tk.ids;
    (tk.terms, tk.tokens, tk.pairs, tk.sentence + 1)
}

/// The lookup tables, kept from one article to the next: clearing one is then free (see
/// [`IdTable::reset`]) instead of allocating and filling a few tens of kilobytes.
#[derive(Default)]
struct Tables {
    terms: IdTable,
    pairs: IdTable,
    trigrams: IdTable,
}

thread_local! {
    static TABLES: std::cell::RefCell<Tables> = std::cell::RefCell::default();
}

impl<'a> Tokenizer<'a> {
    fn new(text: &'a str, stop: &'a StopSet, lang: Option<&str>, tables: &mut Tables) -> Self {
        Tokenizer {
            text,
            stop,
            // German capitalizes every noun: capitals say nothing about names there.
            capitals_mark_names: !matches!(lang, Some("de" | "lb")),
            title_end: text.find("\n\n").unwrap_or(text.len()),
            ids: {
                let mut ids = std::mem::take(&mut tables.terms);
                ids.reset(text.len() / 8);
                ids
            },
            terms: Vec::with_capacity(text.len() / 8),
            tokens: Vec::with_capacity(text.len() / 5),
            pairs: Pairs::new(text.len() / 5, std::mem::take(&mut tables.pairs)),
            lower: String::new(),
            sentence: 0,
            initial: true,
        }
    }
}

/// Top `max` key phrases of `text` (title first, paragraphs separated by blank lines).
// Out of line: profiles then report the extractor's cost as one function.
#[inline(never)]
pub fn extract(text: &str, stop: &StopSet, lang: Option<&str>, max: usize) -> Vec<String> {
    // Term ids must fit in ID_BITS; callers pass at most a few tens of kilobytes.
    if max == 0 || text.len() >= 1 << ID_BITS {
        return Vec::new();
    }
    TABLES.with(|cell| {
        // Taken out for the call (a re-entrant call would get fresh tables).
        let mut tables = cell.take();
        let out = extract_with(text, stop, lang, max, &mut tables);
        cell.replace(tables);
        out
    })
}

fn extract_with(
    text: &str,
    stop: &StopSet,
    lang: Option<&str>,
    max: usize,
    tables: &mut Tables,
) -> Vec<String> {
    let (mut terms, tokens, pairs, sentences) = tokenize(text, stop, lang, tables);
    if tokens.is_empty() {
        tables.pairs = pairs.ids;
        return Vec::new();
    }

    // Context: distinct and total neighbours on each side within a clause, from the
    // counts of adjacent pairs.
    for p in &pairs.list {
        let (a, b) = (p.left as usize, p.right as usize);
        terms[a].right_total += p.n;
        terms[b].left_total += p.n;
        terms[a].right_distinct += 1;
        terms[b].left_distinct += 1;
    }

    let mut scores = WordScores::new(&terms, &tokens, f64::from(sentences));

    let Grouped { phrases, in_phrase } =
        group_phrases(&tokens, &terms, &pairs, &mut tables.trigrams);

    // A phrase seen once is kept only when it is a name: a one-off "Seoul weighs
    // response" from a headline is not a key phrase, "National Security Council" is.
    let mut ranked: Vec<(f64, Cand)> = Vec::with_capacity(phrases.len() / 4);
    for p in &phrases {
        if p.tf < 2 && !p.name {
            continue;
        }
        if p.words == 1 && in_phrase[p.key[0] as usize] >= p.tf {
            continue;
        }
        // Shown: the first occurrence that does not start a sentence or lie in the title.
        let first = if p.first_plain == u32::MAX {
            p.first
        } else {
            p.first_plain
        } as usize;
        let words = usize::from(p.words);
        let cand = Cand {
            key: p.key,
            first: first as u32,
            last: (first + words - 1) as u32,
            initial: tokens[first].initial || tokens[first].title,
        };
        ranked.push((
            phrase_score(&p.key, p.tf, &terms, &pairs, &mut scores),
            cand,
        ));
    }
    let order = |a: &(f64, Cand), b: &(f64, Cand)| {
        a.0.total_cmp(&b.0)
            .then_with(|| a.1.first.cmp(&b.1.first))
            .then_with(|| a.1.key.cmp(&b.1.key))
    };
    // Dedup looks at no more than this many of the best phrases.
    let horizon = max * 4;
    if ranked.len() > horizon {
        ranked.select_nth_unstable_by(horizon, order);
        ranked.truncate(horizon);
    }
    ranked.sort_unstable_by(order);

    // Take phrases best first. A phrase that repeats a kept one is dropped, except that a
    // longer phrase containing a kept one ("National Security Council" after "Council")
    // takes its place.
    let mut out: Vec<(String, Folded)> = Vec::with_capacity(max);
    // Token spans of the kept phrases' shown occurrences: a phrase overlapping one of
    // them is a piece of the same longer name ("Islamic Revolutionary" and
    // "Revolutionary Guard Corps").
    let mut spans: Vec<(u32, u32)> = Vec::with_capacity(max);
    for (_, c) in ranked {
        if out.len() == max {
            break;
        }
        if spans.iter().any(|&(a, b)| c.first <= b && a <= c.last) {
            continue;
        }
        let surface =
            &text[tokens[c.first as usize].start as usize..tokens[c.last as usize].end as usize];
        let phrase = clean_surface(surface, c.initial, &terms[c.key[0] as usize]);
        let folded = Folded::new(phrase.to_lowercase());
        let mut replaced = false;
        let mut duplicate = false;
        for (kept, kept_folded) in out.iter_mut() {
            match overlap(kept_folded, &folded) {
                Overlap::Longer if !replaced => {
                    kept.clone_from(&phrase);
                    kept_folded.clone_from(&folded);
                    replaced = true;
                }
                Overlap::None if !near_duplicate(&kept_folded.text, &folded.text) => {}
                _ => duplicate = true,
            }
        }
        if replaced {
            // The longer phrase may now repeat another kept one.
            let mut seen: Vec<&Folded> = Vec::new();
            let keep: Vec<bool> = out
                .iter()
                .map(|(_, f)| {
                    let dup = seen.iter().any(|s| overlap(s, f) != Overlap::None);
                    seen.push(f);
                    !dup
                })
                .collect();
            let mut keep = keep.into_iter();
            out.retain(|_| keep.next().unwrap_or(true));
        } else if !duplicate {
            out.push((phrase, folded));
        }
        if !duplicate {
            spans.push((c.first, c.last));
        }
    }
    tables.pairs = pairs.ids;
    out.into_iter().map(|(p, _)| p).collect()
}

/// Term ids fit in 21 bits: the scanned text is capped far below two million words.
const ID_BITS: u32 = 21;
const ID_MASK: u64 = (1 << ID_BITS) - 1;

fn pair_key(a: u32, b: u32) -> u64 {
    (u64::from(a) << ID_BITS) | u64::from(b)
}

/// The phrase's term ids packed into one integer (absent words as all ones).
fn phrase_key(key: &[u32; MAX_WORDS]) -> u64 {
    key.iter()
        .fold(0, |acc, &id| (acc << ID_BITS) | (u64::from(id) & ID_MASK))
}

/// Adjacent term pairs within a clause, counted.
struct Pairs {
    /// Distinct pairs, by id (first met first).
    list: Vec<Pair>,
    /// Pair id by [`pair_key`].
    ids: IdTable,
}

#[derive(Debug, Clone, Copy)]
struct Pair {
    left: u32,
    right: u32,
    /// Occurrences.
    n: u32,
}

impl Pairs {
    /// No pairs yet, room for about `n`.
    fn new(n: usize, ids: IdTable) -> Pairs {
        let mut pairs = Pairs {
            list: Vec::with_capacity(n),
            ids,
        };
        pairs.ids.reset(n);
        pairs
    }

    /// Counts term `left` followed by term `right`; returns the pair's id.
    #[inline(always)]
    fn add(&mut self, left: u32, right: u32) -> u32 {
        let next = self.list.len() as u32;
        let id = self.ids.get_or_insert(pair_key(left, right), next);
        if id == next {
            self.list.push(Pair { left, right, n: 0 });
        }
        self.list[id as usize].n += 1;
        id
    }

    /// Occurrences of term `a` followed by term `b`.
    fn get(&self, a: u32, b: u32) -> u32 {
        self.ids
            .get(pair_key(a, b))
            .map_or(0, |id| self.list[id as usize].n)
    }
}

/// The possible phrases of an article, and for each term the highest frequency of a
/// longer phrase that starts or ends with it.
struct Grouped {
    phrases: Vec<Phrase>,
    in_phrase: Vec<u32>,
}

/// Every possible phrase: n-grams inside a clause that start and end with a word that
/// is neither a stop word nor a number, and do not go on past a conjunction.
///
/// Only phrases that can be ranked are gathered. A longer phrase seen once can only be
/// ranked as a name, and its frequency is bounded by the counts of the adjacent pairs it
/// is made of, which [`Pairs`] already knows per token: a bigram whose pair occurs once,
/// or a trigram with such a pair, is seen exactly once, so it is judged on the spot and
/// never looked up. A bigram that does repeat is found by its pair id; only trigrams of
/// two repeated pairs go through a table, by their packed term ids.
fn group_phrases(
    tokens: &[Token],
    terms: &[Term],
    pairs: &Pairs,
    trigram: &mut IdTable,
) -> Grouped {
    let mut phrases: Vec<Phrase> = Vec::with_capacity(terms.len());
    let mut in_phrase = vec![0u32; terms.len()];
    // Phrase id of each single word by term id, of each repeated bigram by pair id.
    let mut single = vec![u32::MAX; terms.len()];
    let mut bigram = vec![u32::MAX; pairs.list.len()];
    trigram.reset(pairs.list.len() / 4);

    let gap = |t: &Term| t.stop || t.numeric;
    for (i, tok) in tokens.iter().enumerate() {
        let t0 = &terms[tok.term as usize];
        if gap(t0) {
            continue;
        }
        let seen = Seen {
            at: i as u32,
            starts_name: !tok.title && (!tok.initial || t0.tf_upper > 0 || t0.tf_acronym > 0),
            plain: !(tok.initial || tok.title),
        };
        let mut key = [tok.term, u32::MAX, u32::MAX];
        let mut all_caps = tok.caps;
        let slot = &mut single[tok.term as usize];
        if *slot == u32::MAX {
            *slot = phrases.len() as u32;
        }
        seen.count(&mut phrases, *slot, key, all_caps);

        // Two words.
        let p1 = tok.pair;
        if p1 == u32::MAX {
            continue;
        }
        let tok1 = &tokens[i + 1];
        let t1 = &terms[tok1.term as usize];
        if t1.conjunction {
            // "Latvia and Lithuania" is a list, not a phrase.
            continue;
        }
        key[1] = tok1.term;
        all_caps &= t1.stop || tok1.caps;
        let repeated = pairs.list[p1 as usize].n >= 2;
        if !gap(t1) {
            if repeated {
                let slot = &mut bigram[p1 as usize];
                if *slot == u32::MAX {
                    *slot = phrases.len() as u32;
                }
                seen.count(&mut phrases, *slot, key, all_caps);
            } else {
                seen.once(&mut phrases, &mut in_phrase, key, all_caps);
            }
        }

        // Three words.
        let p2 = tok1.pair;
        if p2 == u32::MAX {
            continue;
        }
        let tok2 = &tokens[i + 2];
        let t2 = &terms[tok2.term as usize];
        if t2.conjunction || gap(t2) {
            continue;
        }
        key[2] = tok2.term;
        all_caps &= t2.stop || tok2.caps;
        if repeated && pairs.list[p2 as usize].n >= 2 {
            let id = trigram.get_or_insert(phrase_key(&key), phrases.len() as u32);
            seen.count(&mut phrases, id, key, all_caps);
        } else {
            seen.once(&mut phrases, &mut in_phrase, key, all_caps);
        }
    }

    // A word that only ever occurs inside one longer phrase ("North" of "North Korea") is
    // that phrase, not a key word of its own.
    for p in phrases.iter().filter(|p| p.words > 1) {
        for term in [p.key[0], p.key[usize::from(p.words) - 1]] {
            let slot = &mut in_phrase[term as usize];
            *slot = (*slot).max(p.tf);
        }
    }
    Grouped { phrases, in_phrase }
}

/// One occurrence of a phrase starting at token `at`.
#[derive(Clone, Copy)]
struct Seen {
    at: u32,
    /// The first word may start a name: not in the title, and not at a sentence start
    /// unless the word is capitalized elsewhere too.
    starts_name: bool,
    /// Neither at a sentence start nor in the title.
    plain: bool,
}

impl Seen {
    /// Counts the occurrence for phrase `id` (`phrases.len()`: a new phrase).
    #[inline]
    fn count(self, phrases: &mut Vec<Phrase>, id: u32, key: [u32; MAX_WORDS], all_caps: bool) {
        if id as usize == phrases.len() {
            phrases.push(Phrase {
                key,
                words: key.iter().take_while(|&&k| k != u32::MAX).count() as u8,
                tf: 0,
                name: false,
                first: self.at,
                first_plain: u32::MAX,
            });
        }
        let p = &mut phrases[id as usize];
        p.tf += 1;
        p.name |= self.starts_name && all_caps;
        if self.plain && p.first_plain == u32::MAX {
            p.first_plain = self.at;
        }
    }

    /// A longer phrase known to occur only here: it counts towards its end words'
    /// `in_phrase`, and is kept only if it is a name.
    #[inline]
    fn once(
        self,
        phrases: &mut Vec<Phrase>,
        in_phrase: &mut [u32],
        key: [u32; MAX_WORDS],
        all_caps: bool,
    ) {
        let last = if key[2] == u32::MAX { key[1] } else { key[2] };
        for term in [key[0], last] {
            let slot = &mut in_phrase[term as usize];
            *slot = (*slot).max(1);
        }
        if self.starts_name && all_caps {
            self.count(phrases, phrases.len() as u32, key, all_caps);
        }
    }
}

/// YAKE phrase score: product of word scores over (1 + their sum) and the phrase's
/// frequency; lower is better.
fn phrase_score(
    key: &[u32; MAX_WORDS],
    tf: u32,
    terms: &[Term],
    pairs: &Pairs,
    scores: &mut WordScores,
) -> f64 {
    let mut prod = 1.0;
    let mut sum = 0.0;
    for (pos, &id) in key
        .iter()
        .enumerate()
        .take_while(|(_, id)| **id != u32::MAX)
    {
        let t = &terms[id as usize];
        if t.stop {
            // A stop word inside a phrase ("Bank of England"): the more often its
            // neighbours go with it, the less it weakens the phrase.
            let (prev, next) = (key[pos - 1], key[pos + 1]);
            let edge = |a: u32, b: u32| f64::from(pairs.get(a, b));
            let p = edge(prev, id) / f64::from(terms[prev as usize].tf.max(1))
                * (edge(id, next) / f64::from(t.tf.max(1)));
            prod *= 1.0 + (1.0 - p);
            sum -= 1.0 - p;
        } else {
            let score = scores.get(terms, id);
            prod *= score;
            sum += score;
        }
    }
    prod / ((sum + 1.0) * f64::from(tf))
}

/// The YAKE word scores (lower is more important) of non-stop terms, computed when a
/// ranked phrase first asks for one: most terms are in no phrase that can be ranked.
struct WordScores<'a> {
    /// Mean and standard deviation of the frequencies of terms that are neither stop
    /// words nor numbers, and the highest frequency; `None` when there are no such terms
    /// (every score is then 0).
    stats: Option<(f64, f64, f64)>,
    n_sentences: f64,
    /// The tokens, chained by term ([`Term::first`], [`Token::next`]).
    tokens: &'a [Token],
    known: Vec<Option<f64>>,
}

impl<'a> WordScores<'a> {
    fn new(terms: &[Term], tokens: &'a [Token], n_sentences: f64) -> Self {
        let mut scores = WordScores {
            stats: None,
            n_sentences,
            tokens,
            known: vec![None; terms.len()],
        };
        let valid = || {
            terms
                .iter()
                .filter(|t| !t.stop && !t.numeric)
                .map(|t| f64::from(t.tf))
        };
        // Count, sum (in the same order, so the same bits) and maximum in one pass.
        let (mut n, mut sum, mut max_tf) = (0usize, 0.0f64, 1u32);
        for t in terms {
            max_tf = max_tf.max(t.tf);
            if !t.stop && !t.numeric {
                n += 1;
                sum += f64::from(t.tf);
            }
        }
        if n == 0 {
            return scores;
        }
        let mean = sum / n as f64;
        let std = (valid().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
        let max_tf = f64::from(max_tf);
        scores.stats = Some((mean, std, max_tf));
        scores
    }

    /// The score of non-stop term `id`.
    fn get(&mut self, terms: &[Term], id: u32) -> f64 {
        let id = id as usize;
        if let Some(score) = self.known[id] {
            return score;
        }
        let score = self.compute(&terms[id]);
        self.known[id] = Some(score);
        score
    }

    /// The sentences of the term's middle occurrences: the `(n - 1) / 2`-th and the
    /// `n / 2`-th of its `n` (the same one when `n` is odd), counted from zero.
    fn middle(&self, t: &Term) -> (u32, u32) {
        let mut at = t.first as usize;
        for _ in 0..(t.tf - 1) / 2 {
            at = self.tokens[at].next as usize;
        }
        let lo = self.tokens[at].sentence;
        if t.tf % 2 == 1 {
            return (lo, lo);
        }
        (lo, self.tokens[self.tokens[at].next as usize].sentence)
    }

    fn compute(&self, t: &Term) -> f64 {
        let Some((mean, std, max_tf)) = self.stats else {
            return 0.0;
        };
        let logs = Logs::get();
        let distinct = t.spread as usize;
        let tf = f64::from(t.tf);
        let case = f64::from(t.tf_upper.max(t.tf_acronym)) / (1.0 + logs.ln(t.tf));
        let (lo, hi) = self.middle(t);
        let position = logs.position_of(t.tf as usize, lo, hi);
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
        let spread = distinct as f64 / self.n_sentences;
        (position * rel) / (case + freq / rel + spread / rel)
    }
}

/// The logarithms [`WordScores`] takes of small term frequencies and sentence numbers,
/// computed once with the same `f64::ln` calls (so the same bits); larger arguments are
/// computed as they come.
struct Logs {
    /// `ln(k)` for term frequency `k`.
    tf: [f64; Logs::TF],
    /// `ln(ln(3 + m))` for twice the median sentence `m` (medians are whole or halves).
    position: [f64; Logs::POSITION],
}

impl Logs {
    const TF: usize = 256;
    const POSITION: usize = 1024;

    fn get() -> &'static Logs {
        static LOGS: std::sync::OnceLock<Box<Logs>> = std::sync::OnceLock::new();
        LOGS.get_or_init(|| {
            let mut logs = Box::new(Logs {
                tf: [0.0; Logs::TF],
                position: [0.0; Logs::POSITION],
            });
            for (k, v) in logs.tf.iter_mut().enumerate() {
                *v = (k as f64).ln();
            }
            for (m, v) in logs.position.iter_mut().enumerate() {
                *v = (3.0 + m as f64 / 2.0).ln().ln();
            }
            logs
        })
    }

    fn ln(&self, tf: u32) -> f64 {
        match self.tf.get(tf as usize) {
            Some(v) => *v,
            None => f64::from(tf).ln(),
        }
    }

    /// `ln(ln(3 + median))` of the sorted sentence numbers.
    #[cfg(test)]
    fn position(&self, sorted: &[u32]) -> f64 {
        match sorted.len() {
            0 => self.position_of(0, 0, 0),
            n => self.position_of(n, sorted[(n - 1) / 2], sorted[n / 2]),
        }
    }

    /// `ln(ln(3 + median))` of `n` sorted sentence numbers whose `(n - 1) / 2`-th and
    /// `n / 2`-th are `lo` and `hi` (all the median needs).
    fn position_of(&self, n: usize, lo: u32, hi: u32) -> f64 {
        let twice = match n {
            0 => Some(0),
            n if n % 2 == 1 => lo.checked_mul(2),
            _ => lo.checked_add(hi),
        };
        match twice.and_then(|t| self.position.get(t as usize)) {
            Some(v) => *v,
            None => {
                let median = match n {
                    0 => 0.0,
                    n if n % 2 == 1 => f64::from(lo),
                    _ => (f64::from(lo) + f64::from(hi)) / 2.0,
                };
                (3.0 + median).ln().ln()
            }
        }
    }
}

#[cfg(test)]
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
    // The surface starts and ends with a word; written with single ASCII spaces (the
    // usual case) it is already what splitting at whitespace and joining gives.
    let single_spaced = !surface
        .as_bytes()
        .windows(2)
        .any(|w| w == b"  " || w[0] >= 0x80 || matches!(w[0], b'\t'..=b'\r'))
        && surface.as_bytes().last().is_none_or(|b| b.is_ascii());
    let s: String = if single_spaced {
        surface.to_owned()
    } else {
        surface.split_whitespace().collect::<Vec<_>>().join(" ")
    };
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

/// A phrase folded to lower case, split once into the words [`overlap`] compares (a
/// phrase is compared with every kept one).
#[derive(Clone)]
struct Folded {
    text: String,
    /// Byte ranges of the words: split at whitespace and hyphens, empty pieces dropped.
    words: Vec<(u32, u32)>,
}

impl Folded {
    fn new(text: String) -> Self {
        let mut words = Vec::with_capacity(4);
        let mut from = None;
        for (i, c) in text.char_indices() {
            if c.is_whitespace() || c == '-' {
                if let Some(f) = from.take() {
                    words.push((f, i as u32));
                }
            } else if from.is_none() {
                from = Some(i as u32);
            }
        }
        if let Some(f) = from {
            words.push((f, text.len() as u32));
        }
        Folded { text, words }
    }
}

/// How a new phrase relates to a kept one, by words (split at spaces and hyphens), counting
/// words that differ by a short ending ("korea", "korean") as equal.
fn overlap(kept: &Folded, new: &Folded) -> Overlap {
    fn word(f: &Folded, (a, b): (u32, u32)) -> &str {
        &f.text[a as usize..b as usize]
    }
    let common = kept
        .words
        .iter()
        .filter(|&&k| {
            let k = word(kept, k);
            new.words.iter().any(|&n| same_word(k, word(new, n)))
        })
        .count();
    overlap_of(kept.words.len(), new.words.len(), common)
}

/// [`overlap`] of words given as slices: the reference its word ranges are tested against.
#[cfg(test)]
fn overlap_words(k: &[&str], n: &[&str]) -> Overlap {
    let common = k
        .iter()
        .filter(|w| n.iter().any(|x| same_word(w, x)))
        .count();
    overlap_of(k.len(), n.len(), common)
}

/// Whether two words are equal up to a short ending ("korea", "korean").
fn same_word(x: &str, y: &str) -> bool {
    let (s, l) = if x.len() <= y.len() { (x, y) } else { (y, x) };
    s == l || (s.chars().nth(3).is_some() && l.len() - s.len() <= 2 && l.starts_with(s))
}

/// The overlap of a kept phrase of `kn` words and a new one of `nn` words that have
/// `common` words (of the kept one) in common.
fn overlap_of(kn: usize, nn: usize, common: usize) -> Overlap {
    if common == kn && nn > kn {
        Overlap::Longer
    } else if common == nn || common == kn || common >= 2 {
        Overlap::Same
    } else {
        Overlap::None
    }
}

/// Whether two phrases are within the edit distance that [`DEDUP_SIMILARITY`] allows
/// (normalized by the longer one, by characters): "south korea" / "south korean".
fn near_duplicate(a: &str, b: &str) -> bool {
    let (la, lb) = (a.chars().count(), b.chars().count());
    let allowed = ((1.0 - DEDUP_SIMILARITY) * la.max(lb) as f64).floor() as usize;
    match allowed {
        _ if la.abs_diff(lb) > allowed => false,
        0 => a == b,
        1 => within_one_edit(a, b),
        _ => within_edits(a, b, allowed),
    }
}

/// Whether at most `allowed` edits turn `a` into `b`: the Levenshtein rows of
/// [`edit_distance`], given up as soon as a whole row exceeds `allowed` (a row's minimum
/// never decreases further down, and unrelated phrases get there within a few rows).
fn within_edits(a: &str, b: &str, allowed: usize) -> bool {
    if a.is_ascii() && b.is_ascii() {
        within_edits_of(a.as_bytes(), b.as_bytes(), allowed)
    } else {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        within_edits_of(&a, &b, allowed)
    }
}

fn within_edits_of<T: PartialEq>(a: &[T], b: &[T], allowed: usize) -> bool {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        let mut least = row[0];
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == cb {
                prev
            } else {
                1 + prev.min(row[j]).min(row[j + 1])
            };
            least = least.min(row[j + 1]);
            prev = cur;
        }
        if least > allowed {
            return false;
        }
    }
    row[b.len()] <= allowed
}

/// Whether one insertion, deletion or substitution (or none) turns `a` into `b`.
fn within_one_edit(a: &str, b: &str) -> bool {
    let (mut x, mut y) = (a.chars(), b.chars());
    loop {
        match (x.next(), y.next()) {
            (Some(p), Some(q)) if p == q => continue,
            (None, None) => return true,
            (p, q) => {
                // First difference: substitute, or skip one character on either side.
                let (xs, ys) = (x.as_str(), y.as_str());
                let rest_is = |c: Option<char>, rest: &str, other: &str| {
                    c.is_some_and(|c| other.strip_prefix(c) == Some(rest))
                };
                return xs == ys || rest_is(p, xs, ys) || rest_is(q, ys, xs);
            }
        }
    }
}

/// Levenshtein distance by characters: the reference [`within_edits`] is tested against.
#[cfg(test)]
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(row[j + 1])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

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
            assert!(
                !en.contains(words[0].as_str()) && !en.contains(words[words.len() - 1].as_str()),
                "{p}"
            );
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
        assert!(
            k.iter()
                .all(|p| !p.starts_with("l'") && !p.starts_with("L'")),
            "{k:?}"
        );
    }

    #[test]
    fn near_duplicates_by_edit_distance() {
        assert_eq!(edit_distance("south korea", "south korean"), 1);
        assert!(near_duplicate("south korea", "south korean"));
        assert!(!near_duplicate("korea", "japan"));
        assert!(near_duplicate("", ""));
        for (a, b, one) in [
            ("pact", "pacts", true),
            ("pacts", "pact", true),
            ("korea", "korean", true),
            ("seoul", "seoel", true),
            ("seoul", "soul", true),
            ("seoul", "seoul", true),
            ("seoul", "sel", false),
            ("ab", "ba", false),
        ] {
            assert_eq!(within_one_edit(a, b), one, "{a} {b}");
            assert_eq!(within_one_edit(a, b), edit_distance(a, b) <= 1, "{a} {b}");
        }
    }

    #[test]
    fn tabled_logarithms_are_the_computed_ones() {
        let logs = Logs::get();
        for tf in (0..600).chain([u32::MAX]) {
            assert_eq!(logs.ln(tf).to_bits(), f64::from(tf).ln().to_bits(), "{tf}");
        }
        let cases: [&[u32]; 7] = [
            &[],
            &[0],
            &[3],
            &[2, 5],
            &[0, 1, 2, 9],
            &[600, 700],
            &[u32::MAX - 1, u32::MAX],
        ];
        for occ in cases {
            let want = (3.0 + median(occ)).ln().ln();
            assert_eq!(logs.position(occ).to_bits(), want.to_bits(), "{occ:?}");
        }
        for a in 0..520u32 {
            for b in [a, a + 1] {
                let want = (3.0 + median(&[a, b])).ln().ln();
                assert_eq!(logs.position(&[a, b]).to_bits(), want.to_bits());
                let want = (3.0 + median(&[a])).ln().ln();
                assert_eq!(logs.position(&[a]).to_bits(), want.to_bits());
            }
        }
    }

    /// The phrase grouping as it was before [`group_phrases`] skipped one-off phrases:
    /// every phrase counted in one table by its packed key.
    fn group_phrases_reference(tokens: &[Token], terms: &[Term]) -> Grouped {
        let mut phrases: Vec<Phrase> = Vec::new();
        let mut ids: HashMap<u64, u32> = HashMap::new();
        for i in 0..tokens.len() {
            let t0 = &terms[tokens[i].term as usize];
            if t0.stop || t0.numeric {
                continue;
            }
            let seen = Seen {
                at: i as u32,
                starts_name: !tokens[i].title
                    && (!tokens[i].initial || t0.tf_upper > 0 || t0.tf_acronym > 0),
                plain: !(tokens[i].initial || tokens[i].title),
            };
            let mut all_caps = true;
            let mut key = [u32::MAX; MAX_WORDS];
            for n in 0..MAX_WORDS.min(tokens.len() - i) {
                let tok = &tokens[i + n];
                let tk = &terms[tok.term as usize];
                if n > 0 && tk.conjunction {
                    break;
                }
                key[n] = tok.term;
                all_caps &= tk.stop || tok.caps;
                if !(tk.stop || tk.numeric) {
                    let id = *ids.entry(phrase_key(&key)).or_insert(phrases.len() as u32);
                    seen.count(&mut phrases, id, key, all_caps);
                }
                if tok.closes {
                    break;
                }
            }
        }
        let mut in_phrase = vec![0u32; terms.len()];
        for p in phrases.iter().filter(|p| p.words > 1) {
            for term in [p.key[0], p.key[usize::from(p.words) - 1]] {
                in_phrase[term as usize] = in_phrase[term as usize].max(p.tf);
            }
        }
        Grouped { phrases, in_phrase }
    }

    /// Phrases as comparable tuples, sorted by key.
    fn phrase_rows(phrases: &[Phrase]) -> Vec<([u32; MAX_WORDS], u8, u32, bool, u32, u32)> {
        let mut rows: Vec<_> = phrases
            .iter()
            .map(|p| (p.key, p.words, p.tf, p.name, p.first, p.first_plain))
            .collect();
        rows.sort_unstable();
        rows
    }

    proptest::proptest! {
        /// The grouping yields the rankable phrases the full count would, with the same
        /// counts and occurrences, and the same `in_phrase`.
        #[test]
        fn grouping_agrees_with_counting_every_phrase(
            words in proptest::collection::vec(
                proptest::sample::select(vec![
                    "bank", "Bank", "central", "Central", "rates", "the", "The", "of", "and",
                    "or", "NATO", "US", "2024", "4.5", "a", "Korea", "korean", "l'armée",
                    "pact's", "intelligence-sharing", "Straße", "élan", "É", ".", ",", ";",
                    "!", "\n\n", "-", "’", "(", ")",
                ]),
                0..120,
            ),
            lang in proptest::sample::select(vec![None, Some("en"), Some("de"), Some("fr")]),
        ) {
            let text = words.join(" ");
            let stop = StopWords::shipped();
            let mut tables = Tables::default();
            let (mut terms, tokens, pairs, _) =
                tokenize(&text, stop.for_language(lang), lang, &mut tables);
            // The pairs counted while tokenizing are the adjacent ones within a clause.
            let mut want: HashMap<(u32, u32), u32> = HashMap::new();
            for w in tokens.windows(2).filter(|w| !w[0].closes) {
                *want.entry((w[0].term, w[1].term)).or_default() += 1;
            }
            let got: HashMap<(u32, u32), u32> =
                pairs.list.iter().map(|p| ((p.left, p.right), p.n)).collect();
            proptest::prop_assert_eq!(got, want);
            for (i, w) in tokens.windows(2).enumerate() {
                let pair = (w[0].pair != u32::MAX).then(|| {
                    let p = pairs.list[w[0].pair as usize];
                    (p.left, p.right)
                });
                proptest::prop_assert_eq!(pair, (!w[0].closes).then_some((w[0].term, w[1].term)), "{}", i);
            }
            for p in &pairs.list {
                terms[p.left as usize].right_total += p.n;
                terms[p.right as usize].left_total += p.n;
            }
            let fast = group_phrases(&tokens, &terms, &pairs, &mut tables.trigrams);
            let reference = group_phrases_reference(&tokens, &terms);
            // Longer phrases seen once that are not names may or may not be gathered:
            // ranking skips them either way.
            let ranked = |phrases: &[Phrase]| -> Vec<Phrase> {
                phrases
                    .iter()
                    .filter(|p| p.words == 1 || p.tf >= 2 || p.name)
                    .copied()
                    .collect()
            };
            proptest::prop_assert_eq!(
                phrase_rows(&ranked(&fast.phrases)),
                phrase_rows(&ranked(&reference.phrases))
            );
            proptest::prop_assert_eq!(fast.in_phrase, reference.in_phrase);
        }

        /// The ASCII shortcuts of `clean_surface` and `overlap` give what the general
        /// splitting gives.
        #[test]
        fn ascii_shortcuts_agree_with_splitting(
            a in "[a-cé \t\n\u{b}\u{a0}-]{0,14}",
            b in "[a-cé \t\n\u{b}\u{a0}-]{0,14}",
        ) {
            let term = Term::default();
            let surface = format!("x{a}y");
            let want: String = surface.split_whitespace().collect::<Vec<_>>().join(" ");
            proptest::prop_assert_eq!(clean_surface(&surface, false, &term), want);
            let words = |s: &str| -> Vec<String> {
                s.split(|c: char| c.is_whitespace() || c == '-')
                    .filter(|w| !w.is_empty())
                    .map(str::to_owned)
                    .collect()
            };
            let (ka, kb) = (words(&a), words(&b));
            let ka: Vec<&str> = ka.iter().map(String::as_str).collect();
            let kb: Vec<&str> = kb.iter().map(String::as_str).collect();
            let (fa, fb) = (Folded::new(a.clone()), Folded::new(b.clone()));
            proptest::prop_assert_eq!(overlap(&fa, &fb), overlap_words(&ka, &kb));
        }

        #[test]
        fn ascii_alnum_run_counts_ascii_letters_and_digits(
            text in "[a-zA-Z0-9 @`\\[{/:\\-éß\\x7f]{0,40}",
            at in 0usize..40,
        ) {
            let bytes = text.as_bytes();
            let at = at.min(bytes.len());
            let want = bytes[at..].iter().take_while(|b| b.is_ascii_alphanumeric()).count();
            proptest::prop_assert_eq!(ascii_alnum_run(bytes, at), want);
        }

        /// The chunked ASCII key equals the key of the lower-cased word, wherever the word
        /// sits (near the end of the text the last chunk cannot be loaded whole), and
        /// non-ASCII words are left to the general path.
        #[test]
        fn ascii_key_is_the_key_of_the_lower_case_word(
            before in "[ -~]{0,9}",
            word in "[ -~é]{1,20}",
            after in "[ -~é]{0,9}",
        ) {
            let text = format!("{before}{word}{after}");
            let (start, end) = (before.len(), before.len() + word.len());
            match ascii_key(text.as_bytes(), start, end) {
                Some((key, letters, has_lower)) => {
                    proptest::prop_assert!(word.is_ascii());
                    proptest::prop_assert_eq!(key, word_key(&word.to_lowercase()));
                    let alphabetic = word.chars().filter(|c| c.is_alphabetic()).count();
                    proptest::prop_assert_eq!(letters as usize, alphabetic.min(2));
                    proptest::prop_assert_eq!(has_lower, word.chars().any(char::is_lowercase));
                }
                None => proptest::prop_assert!(!word.is_ascii()),
            }
        }

        /// The one-load word scan finds the word, key and shape the general scan does.
        #[test]
        fn ascii_word_agrees_with_the_general_scan(
            before in "[ -~]{0,3}",
            text in "[a-zA-Z0-9][a-zA-Z0-9 '’.,;\\-é]{0,30}[a-zA-Z0-9 '’.,;\\-é]{0,2}",
        ) {
            let text = format!("{before}{text}");
            let stop = StopSet::default();
            let tk = Tokenizer::new(&text, &stop, None, &mut Tables::default());
            let start = before.len();
            if let Some((end, shape)) = ascii_word(text.as_bytes(), start) {
                proptest::prop_assert_eq!(tk.scan_word(start), (end, end, false));
                let (key, letters, has_lower) =
                    ascii_key(text.as_bytes(), start, end).expect("ASCII word");
                proptest::prop_assert_eq!(shape.key, key);
                proptest::prop_assert_eq!(shape.letters, letters);
                proptest::prop_assert_eq!(shape.has_lower, has_lower);
                proptest::prop_assert!(shape.ascii);
                let first = char::from(text.as_bytes()[start]);
                proptest::prop_assert_eq!(shape.first_lower, first.is_lowercase());
                proptest::prop_assert_eq!(shape.first_upper, first.is_uppercase());
            }
        }

        #[test]
        fn one_edit_check_agrees_with_edit_distance(a in "[abé]{0,6}", b in "[abé]{0,6}") {
            proptest::prop_assert_eq!(within_one_edit(&a, &b), edit_distance(&a, &b) <= 1);
        }

        #[test]
        fn bounded_edits_agree_with_edit_distance(
            a in "[abé ]{0,12}",
            b in "[abé ]{0,12}",
            allowed in 0usize..6,
        ) {
            proptest::prop_assert_eq!(within_edits(&a, &b, allowed), edit_distance(&a, &b) <= allowed);
        }
    }

    #[test]
    fn empty_input_and_zero_max() {
        assert!(keywords("", None).is_empty());
        let stop = StopWords::shipped();
        assert!(extract("Some text here", stop.for_language(None), None, 0).is_empty());
    }
}
