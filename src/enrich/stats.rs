//! Text statistics of the body: words (Unicode word segmentation, UAX #29), characters,
//! paragraphs, sentences and reading time.
//!
//! Words are UAX #29 word segments that contain a letter or digit, exactly what
//! `unicode_segmentation::UnicodeSegmentation::unicode_words` yields. Segment boundaries
//! always fall at ASCII whitespace, so the body is cut there. Pieces made only of ASCII and
//! of the Latin letters and punctuation common in European text are counted by a direct
//! implementation of the UAX #29 rules that apply to them (checked against the crate by
//! property tests); other pieces go to the crate.

use unicode_segmentation::UnicodeSegmentation;

use crate::model::Stats;

/// Words per minute for `reading_time_seconds`: the average silent reading rate of adults
/// for non-fiction English text (Brysbaert, 2019, a meta-analysis of 190 studies).
pub const WORDS_PER_MINUTE: u64 = 238;

pub fn compute(body: &str) -> Stats {
    let words = count_words(body);
    let (paragraphs, sentences) = count_paragraphs_and_sentences(body);
    Stats {
        words,
        characters: body.chars().count() as u64,
        paragraphs,
        sentences,
        reading_time_seconds: (words * 60).div_ceil(WORDS_PER_MINUTE),
    }
}

/// Number of UAX #29 words in `text`.
///
/// ASCII whitespace is class `Other`, which never joins its neighbours, so a run of whole
/// ASCII pieces and the whitespace between them is segmented in one pass, exactly as piece
/// by piece; a piece holding non-ASCII bytes is classified on its own.
pub fn count_words(text: &str) -> u64 {
    let bytes = text.as_bytes();
    let mut classes: Vec<Wb> = Vec::new();
    let mut count = 0;
    let mut i = 0;
    while i < bytes.len() {
        let Some(wide) = first_non_ascii(&bytes[i..]).map(|k| i + k) else {
            return count + segment_ascii(&bytes[i..]);
        };
        // The piece holding the non-ASCII byte; everything before it is whole ASCII pieces.
        let start = bytes[i..wide]
            .iter()
            .rposition(u8::is_ascii_whitespace)
            .map_or(i, |k| i + k + 1);
        count += segment_ascii(&bytes[i..start]);
        let end = bytes[wide..]
            .iter()
            .position(u8::is_ascii_whitespace)
            .map_or(bytes.len(), |k| wide + k);
        // Cut at ASCII whitespace, so both ends are character boundaries.
        let piece = &text[start..end];
        classes.clear();
        let known = piece
            .chars()
            .all(|c| latin_class(c).map(|wb| classes.push(wb)).is_some());
        count += if known {
            segment_words(classes.len(), |k| classes[k])
        } else {
            piece.unicode_words().count() as u64
        };
        i = end;
    }
    count
}

/// Index of the first byte ≥ 0x80, eight bytes at a time.
fn first_non_ascii(bytes: &[u8]) -> Option<usize> {
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        let high = word & 0x8080_8080_8080_8080;
        if high != 0 {
            return Some(at + high.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b >= 0x80)
        .map(|k| at + k)
}

/// Word break property of a character, as far as UAX #29 distinguishes them here.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Wb {
    Letter,
    Digit,
    /// MidLetter (`:`) — joins letters only.
    MidLetter,
    /// MidNumLet (`.`, `’`) and Single_Quote (`'`) — join letters or digits.
    MidNumLet,
    /// MidNum (`,` `;`) — joins digits only.
    MidNum,
    /// ExtendNumLet (`_`).
    Extend,
    Other,
}

const fn wb_table() -> [Wb; 128] {
    let mut t = [Wb::Other; 128];
    let mut b = 0;
    while b < 128 {
        t[b] = match b as u8 {
            b'a'..=b'z' | b'A'..=b'Z' => Wb::Letter,
            b'0'..=b'9' => Wb::Digit,
            b':' => Wb::MidLetter,
            b'.' | b'\'' => Wb::MidNumLet,
            b',' | b';' => Wb::MidNum,
            b'_' => Wb::Extend,
            _ => Wb::Other,
        };
        b += 1;
    }
    t
}

static WB: [Wb; 128] = wb_table();

/// The class of the non-ASCII characters common in European text whose UAX #29 property
/// is simple: Latin letters with diacritics (U+00C0–U+024F, all ALetter but × and ÷),
/// typographic apostrophes (MidNumLet) and quotes, dashes, ellipsis and no-break space
/// (Other). `None` for anything else, which is left to `unicode-segmentation`.
fn latin_class(c: char) -> Option<Wb> {
    match c {
        '\0'..='\x7f' => Some(WB[c as usize]),
        '×' | '÷' => Some(Wb::Other),
        '\u{c0}'..='\u{24f}' => Some(Wb::Letter),
        '‘' | '’' => Some(Wb::MidNumLet),
        '\u{a0}' | '«' | '»' | '–' | '—' | '“' | '”' | '„' | '…' => Some(Wb::Other),
        _ => None,
    }
}

/// UAX #29 rules WB5–WB13b: whether neighbours `a` and `b` stay in one segment, given the
/// class before `a` and (asked only when needed) the class after `b`.
fn joins(before: Wb, a: Wb, b: Wb, next: impl FnOnce() -> Wb) -> bool {
    use Wb::*;
    match (a, b) {
        (Letter | Digit, Letter | Digit) => true,
        (Letter | Digit | Extend, Extend) | (Extend, Letter | Digit) => true,
        (Letter, MidLetter | MidNumLet) => next() == Letter,
        (MidLetter | MidNumLet, Letter) => before == Letter,
        (Digit, MidNum | MidNumLet) => next() == Digit,
        (MidNum | MidNumLet, Digit) => before == Digit,
        _ => false,
    }
}

/// Words in a piece without whitespace, given its characters' classes: UAX #29 rules
/// WB5–WB13b decide whether each pair of neighbours stays in one segment; segments with a
/// letter or digit count.
fn segment_words(len: usize, class: impl Fn(usize) -> Wb) -> u64 {
    use Wb::*;
    let mut count = 0;
    let mut alnum = false;
    let (mut before, mut a) = (Other, Other);
    for i in 0..len {
        let b = class(i);
        if i > 0 {
            let next = || if i + 1 < len { class(i + 1) } else { Other };
            if !joins(before, a, b, next) {
                count += u64::from(alnum);
                alnum = false;
            }
        }
        alnum |= matches!(b, Letter | Digit);
        before = a;
        a = b;
    }
    count + u64::from(alnum)
}

/// [`segment_words`] over ASCII bytes, in one pass with no lookahead.
///
/// Only a letter, digit or `_` can start a segment that counts, so only at those bytes is
/// [`joins`] asked whether the byte continues the segment before it. When the byte before
/// is a connector (`:` `.` `'` `,` `;`), [`joins`] reads the byte before that, and its
/// answer covers both pairs: the connector joins the byte before it exactly when it joins
/// this one (WB6/7, WB11/12). The byte after is never needed, as it is only read when the
/// right-hand byte is a connector. A segment counts when it holds a letter or digit (a
/// lone `_` does not).
fn segment_ascii(bytes: &[u8]) -> u64 {
    use Wb::*;
    let mut count = 0;
    let mut alnum = false;
    let (mut before, mut prev) = (Other, Other);
    for &byte in bytes {
        let c = WB256[usize::from(byte)];
        if matches!(c, Letter | Digit | Extend) {
            if !joins(before, prev, c, || Other) {
                count += u64::from(alnum);
                alnum = false;
            }
            alnum |= c != Extend;
        }
        before = prev;
        prev = c;
    }
    count + u64::from(alnum)
}

/// [`WB`] over every byte value (non-ASCII bytes never reach [`segment_ascii`]; they are
/// `Other` here so the lookup needs no bounds check).
static WB256: [Wb; 256] = {
    let mut t = [Wb::Other; 256];
    let mut b = 0;
    while b < 128 {
        t[b] = WB[b];
        b += 1;
    }
    t
};

/// Abbreviations after which a full stop does not end a sentence (compared lower case).
/// [`is_abbreviation`] matches the ones of up to five bytes; a test holds the two together.
#[cfg(test)]
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "gen", "col", "lt", "sgt", "capt", "gov",
    "sen", "rep", "rev", "vs", "etc", "no", "nos", "inc", "ltd", "co", "corp", "jan", "feb", "mar",
    "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "e.g", "i.e", "approx", "dept",
    "est", "fig", "hr", "hrs", "min", "mt", "ft", "vol", "pp", "art", "abs", "bzw", "ca", "dr",
    "nr", "z.b", "mme", "mlle", "sr", "sra", "sres", "av", "pres", "sig",
];

/// Whether `word` (at most 5 bytes) is an abbreviation after which a full stop does not
/// end a sentence, ignoring ASCII case.
fn is_abbreviation(word: &str) -> bool {
    let mut lower = [0u8; 5];
    let lower = &mut lower[..word.len()];
    lower.copy_from_slice(word.as_bytes());
    lower.make_ascii_lowercase();
    matches!(
        &*lower,
        b"mr"
            | b"mrs"
            | b"ms"
            | b"dr"
            | b"prof"
            | b"st"
            | b"jr"
            | b"sr"
            | b"gen"
            | b"col"
            | b"lt"
            | b"sgt"
            | b"capt"
            | b"gov"
            | b"sen"
            | b"rep"
            | b"rev"
            | b"vs"
            | b"etc"
            | b"no"
            | b"nos"
            | b"inc"
            | b"ltd"
            | b"co"
            | b"corp"
            | b"jan"
            | b"feb"
            | b"mar"
            | b"apr"
            | b"jun"
            | b"jul"
            | b"aug"
            | b"sep"
            | b"sept"
            | b"oct"
            | b"nov"
            | b"dec"
            | b"e.g"
            | b"i.e"
            | b"approx"
            | b"dept"
            | b"est"
            | b"fig"
            | b"hr"
            | b"hrs"
            | b"min"
            | b"mt"
            | b"ft"
            | b"vol"
            | b"pp"
            | b"art"
            | b"abs"
            | b"bzw"
            | b"ca"
            | b"nr"
            | b"z.b"
            | b"mme"
            | b"mlle"
            | b"sra"
            | b"sres"
            | b"av"
            | b"pres"
            | b"sig"
    )
}

/// Whether the terminator at `bytes[i]` ends a sentence. `i` indexes `.`, `!`, `?` or `…`'s
/// last byte; the caller has checked that whitespace (or the end) follows.
pub(crate) fn ends_sentence(text: &str, i: usize) -> bool {
    let bytes = text.as_bytes();
    if bytes[i] != b'.' {
        return true;
    }
    // The word before the full stop: ASCII letters, digits and dots are read byte by
    // byte; a word reaching back into non-ASCII text takes the general path.
    let mut start = i;
    while start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'.') {
        start -= 1;
    }
    if start > 0 && bytes[start - 1] >= 0x80 {
        start = text[..i]
            .rfind(|c: char| !(c.is_alphanumeric() || c == '.'))
            .map_or(0, |p| {
                p + text[p..].chars().next().map_or(1, char::len_utf8)
            });
    }
    let word = &text[start..i];
    if word.is_empty() {
        return true;
    }
    // Initials and dotted acronyms ("J.", "U.S.") rarely end a sentence in news copy.
    if word.chars().count() == 1 && word.chars().all(char::is_uppercase) {
        return false;
    }
    if word.contains('.') && word.split('.').all(|p| p.chars().count() <= 1) {
        return false;
    }
    if word.len() <= 5 && is_abbreviation(word) {
        return false;
    }
    // A number followed by a lower-case word ("3. juni", ordinals in German): not an end.
    let next = text[i + 1..].trim_start().chars().next();
    if word.bytes().all(|b| b.is_ascii_digit()) && next.is_some_and(char::is_lowercase) {
        return false;
    }
    true
}

/// First bytes of what may end a sentence or paragraph: `.`, `!`, `?`, a newline and the
/// lead bytes of `…`, `。`, `！` and `？`.
static MAY_END: [bool; 256] = {
    let mut t = [false; 256];
    t[b'.' as usize] = true;
    t[b'!' as usize] = true;
    t[b'?' as usize] = true;
    t[b'\n' as usize] = true;
    t[0xE2] = true;
    t[0xE3] = true;
    t[0xEF] = true;
    t
};

/// Paragraphs (blank-line separated, not empty) and sentences in the body: ends found by
/// [`ends_sentence`] plus every paragraph whose last sentence has no terminator
/// (headings, captions). One pass over the bytes.
pub fn count_paragraphs_and_sentences(body: &str) -> (u64, u64) {
    let bytes = body.as_bytes();
    let (mut paragraphs, mut sentences) = (0, 0);
    // Start of the text not yet part of a counted sentence, and of the paragraph.
    let mut open_from = 0;
    let mut para_from = 0;
    let has_text = |from: usize, to: usize| {
        bytes[from..to]
            .iter()
            .any(|b| b.is_ascii_alphanumeric() || *b >= 0x80)
    };
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !MAY_END[usize::from(b)] {
            i += 1;
            continue;
        }
        let term_len = match b {
            b'.' | b'!' | b'?' => 1,
            b'\n' if bytes.get(i + 1) == Some(&b'\n') => {
                if has_text(open_from, i) {
                    sentences += 1;
                }
                if has_text(para_from, i) {
                    paragraphs += 1;
                }
                i += 2;
                open_from = i;
                para_from = i;
                continue;
            }
            // …, 。, ！, ？ (full-width forms end sentences without a following space)
            0xE2 if body[i..].starts_with('…') => 3,
            0xE3 if body[i..].starts_with('。') => 3,
            0xEF if body[i..].starts_with('！') || body[i..].starts_with('？') => 3,
            _ => {
                i += 1;
                continue;
            }
        };
        let last = i + term_len - 1;
        // Closing quotes and brackets belong to the sentence they end.
        let mut j = last + 1;
        while j < bytes.len() {
            let c = body[j..].chars().next().unwrap_or(' ');
            if matches!(
                c,
                '"' | '\'' | ')' | ']' | '”' | '’' | '»' | '.' | '!' | '?'
            ) {
                j += c.len_utf8();
            } else {
                break;
            }
        }
        let wide = term_len == 3 && b != 0xE2;
        let at_break = j >= bytes.len() || bytes[j].is_ascii_whitespace() || wide;
        if at_break && has_text(open_from, last) && ends_sentence(body, last) {
            sentences += 1;
            open_from = j;
        }
        i = j.max(i + 1);
    }
    if has_text(open_from, bytes.len()) {
        sentences += 1;
    }
    if has_text(para_from, bytes.len()) {
        paragraphs += 1;
    }
    (paragraphs, sentences)
}

/// Sentences in the body (see [`count_paragraphs_and_sentences`]).
pub fn count_sentences(body: &str) -> u64 {
    count_paragraphs_and_sentences(body).1
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn abbreviation_match_is_the_list() {
        for a in ABBREVIATIONS.iter().filter(|a| a.len() <= 5) {
            assert!(
                is_abbreviation(a) && is_abbreviation(&a.to_uppercase()),
                "{a}"
            );
        }
        let words = ["m", "mrx", "prof.", "jun.", "dr.x", "é", "Straße"];
        for w in words.iter().filter(|w| w.len() <= 5) {
            assert_eq!(
                is_abbreviation(w),
                ABBREVIATIONS.iter().any(|a| a.eq_ignore_ascii_case(w)),
                "{w}"
            );
        }
    }

    proptest! {
        #[test]
        fn finds_the_first_non_ascii_byte(s in "[a-c ]{0,20}[é’]?[a-cé ]{0,20}") {
            let bytes = s.as_bytes();
            prop_assert_eq!(first_non_ascii(bytes), bytes.iter().position(|&b| b >= 0x80));
        }
    }

    #[test]
    fn latin_range_is_all_letters() {
        for c in '\u{c0}'..='\u{24f}' {
            assert_eq!(c.is_alphabetic(), !matches!(c, '×' | '÷'), "{c:?}");
        }
    }

    #[test]
    fn counts_words_like_uax29() {
        let text = "Kim You-geun said the 2.5% rise (in U.S. terms) wasn't “grave”. \
                    Tokyo-Seoul ties: strained; 1,000,000 people_here.";
        assert_eq!(
            count_words(text),
            text.unicode_words().count() as u64,
            "{:?}",
            text.unicode_words().collect::<Vec<_>>()
        );
        assert_eq!(count_words("Korea’s NSC"), 2);
        assert_eq!(count_words(""), 0);
    }

    proptest! {
        #[test]
        fn ascii_fast_path_matches_unicode_segmentation(
            s in "[a-c0-2:.,;'_ \\-!\n]{0,40}"
        ) {
            prop_assert_eq!(count_words(&s), s.unicode_words().count() as u64);
        }

        #[test]
        fn mixed_text_matches_unicode_segmentation(s in "[a-bé0-1.'’ \u{300}\u{a0}_-]{0,30}") {
            prop_assert_eq!(count_words(&s), s.unicode_words().count() as u64);
        }

        #[test]
        fn pieces_and_runs_match_unicode_segmentation(
            s in "[a-bÀé0-1.,:'’ \t\n\x0b_-]{0,80}( 東京[a.]{0,3})?[a-b0-1.' \n]{0,20}"
        ) {
            prop_assert_eq!(count_words(&s), s.unicode_words().count() as u64);
        }

        #[test]
        fn latin_fast_path_matches_unicode_segmentation(
            s in "[a-cÀ-ɏ×÷0-1.,;:'’‘“”„«»–—…\u{a0}\u{ad}\u{2024}\u{b7} _-]{0,40}"
        ) {
            prop_assert_eq!(count_words(&s), s.unicode_words().count() as u64);
        }
    }

    #[test]
    fn counts_sentences_with_abbreviations_and_headings() {
        let body = "Mr. Kim met U.S. officials in Seoul. They talked for an hour! Why?\n\n\
                    A heading without a stop\n\n\
                    He said: “It is regrettable.” Then he left.";
        assert_eq!(count_sentences(body), 6);
        assert_eq!(count_sentences("東京で会談した。合意した。"), 2);
        assert_eq!(count_sentences(""), 0);
    }

    #[test]
    fn stats_of_a_small_body() {
        let s = compute("One two three.\n\nFour five.");
        assert_eq!((s.words, s.paragraphs, s.sentences), (5, 2, 2));
        assert_eq!(s.characters, 26);
        assert_eq!(s.reading_time_seconds, 2);
    }
}
