//! Splitting an article into tokens; per-term counts and adjacent pairs are gathered on
//! the way.

use super::*;
use crate::enrich::stats::ends_sentence;

#[derive(Debug, Clone, Copy)]
pub(super) struct Token {
    pub(super) start: u32,
    pub(super) end: u32,
    pub(super) term: u32,
    pub(super) sentence: u32,
    /// First token of a sentence (its capital says nothing).
    pub(super) initial: bool,
    /// A delimiter (punctuation, sentence end) follows: phrases stop here.
    pub(super) closes: bool,
    /// Written like a name: an acronym, or capitalized where capitals mark names.
    pub(super) caps: bool,
    /// Part of the title.
    pub(super) title: bool,
    /// The id of the pair this token starts with the next one (`u32::MAX` when a
    /// delimiter follows it): the phrase grouping reads a bigram's count from here without
    /// looking it up again.
    pub(super) pair: u32,
    /// The next token of the same term (`u32::MAX`: none).
    pub(super) next: u32,
}

#[derive(Debug, Default, Clone)]
pub(super) struct Term {
    pub(super) tf: u32,
    /// First and last token of the term: its tokens are chained through [`Token::next`]
    /// in text order, so by sentence (the word scores read the median sentence from the
    /// chain instead of sorting every token by term).
    pub(super) first: u32,
    pub(super) last: u32,
    /// Distinct sentences the term occurs in.
    pub(super) spread: u32,
    /// Capitalized occurrences not at a sentence start and not in the title.
    pub(super) tf_upper: u32,
    /// All-capital occurrences (acronyms).
    pub(super) tf_acronym: u32,
    /// Occurrences starting with a lower-case letter.
    pub(super) tf_lower: u32,
    pub(super) stop: bool,
    /// A coordinating conjunction ("and"): joins phrases, never inside one.
    pub(super) conjunction: bool,
    pub(super) numeric: bool,
    pub(super) left_total: u32,
    pub(super) right_total: u32,
    pub(super) left_distinct: u32,
    pub(super) right_distinct: u32,
}

/// Elided articles and prepositions split off before an apostrophe ("l'armée").
pub(crate) const ELISIONS: &[&str] = &[
    "l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "dell", "nell",
    "all", "sull", "dall", "un", "quell",
];

/// Splits the text into tokens and gathers per-term counts.
pub(super) struct Tokenizer<'a> {
    pub(super) text: &'a str,
    pub(super) stop: &'a StopSet,
    pub(super) capitals_mark_names: bool,
    pub(super) title_end: usize,
    /// Term id by [`word_key`].
    pub(super) ids: IdTable,
    pub(super) terms: Vec<Term>,
    pub(super) tokens: Vec<Token>,
    /// Adjacent pairs, counted as the second token is pushed.
    pub(super) pairs: Pairs,
    pub(super) lower: String,
    pub(super) sentence: u32,
    pub(super) initial: bool,
}

impl<'a> Tokenizer<'a> {
    /// Pushes the token of the word `text[start..end]`, of any shape.
    #[inline(always)]
    pub(super) fn push(&mut self, start: usize, end: usize) {
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
    pub(super) fn push_shaped(&mut self, start: usize, end: usize, shape: Shape) {
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
    pub(super) fn new_term(
        &mut self,
        start: usize,
        end: usize,
        key: u64,
        letters: u32,
        ascii: bool,
    ) {
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

    pub(super) fn close(&mut self) {
        if let Some(t) = self.tokens.last_mut() {
            t.closes = true;
        }
    }

    pub(super) fn end_sentence(&mut self) {
        self.close();
        if !self.initial {
            self.sentence += 1;
        }
        self.initial = true;
    }

    /// Words are letters and digits, joined by inner hyphens, apostrophes and (between
    /// digits) dots and commas. A possessive "'s" is dropped and ends the phrase; an
    /// elided article ("l'", "dell'") becomes its own (stop) word.
    pub(super) fn run(&mut self) {
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
    pub(super) fn word(&mut self, start: usize) -> usize {
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
    pub(super) fn scan_word(&self, start: usize) -> (usize, usize, bool) {
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
pub(super) struct Shape {
    pub(super) key: u64,
    /// Letters, capped at two.
    pub(super) letters: u32,
    pub(super) has_lower: bool,
    /// All ASCII (a new term's lower-case form is then its bytes lowered).
    pub(super) ascii: bool,
    /// The first character is lower case / upper case.
    pub(super) first_lower: bool,
    pub(super) first_upper: bool,
}

/// The all-ASCII word of letters and digits starting at `start` (an ASCII letter or
/// digit), when it ends at an ASCII byte that does not join it to more (a space, most
/// punctuation, a full stop after a letter): its end and shape, as
/// [`Tokenizer::scan_word`] and [`ascii_key`] would give them.
/// `None` (the general path decides) for any other word, and near the end of the text.
///
/// Each eight-byte load serves the scan, the lower-cased key and the letter counts.
#[inline(always)]
pub(super) fn ascii_word(bytes: &[u8], start: usize) -> Option<(usize, Shape)> {
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
pub(super) fn ascii_in_range(x: u64, lo: u8, hi: u8) -> u64 {
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
pub(super) fn ascii_key(bytes: &[u8], start: usize, end: usize) -> Option<(u64, u32, bool)> {
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
pub(super) fn ascii_alnum_run(bytes: &[u8], at: usize) -> usize {
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
pub(super) fn char_at(text: &str, i: usize) -> (char, usize) {
    let b = text.as_bytes()[i];
    if b < 0x80 {
        (char::from(b), 1)
    } else {
        let c = text[i..].chars().next().unwrap_or(' ');
        (c, c.len_utf8())
    }
}

/// The text's terms, its tokens, their adjacent pairs and its number of sentences.
/// The term table is handed back to `tables`; the pair table travels in [`Pairs`].
pub(super) fn tokenize(
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

impl<'a> Tokenizer<'a> {
    pub(super) fn new(
        text: &'a str,
        stop: &'a StopSet,
        lang: Option<&str>,
        tables: &mut Tables,
    ) -> Self {
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
