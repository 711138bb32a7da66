//! Text cleaning shared by every text field: markup to text, invisible and control characters
//! removed, odd spaces made plain, whitespace collapsed, paragraphs kept, Unicode NFC.
//!
//! Invariant: `clean(clean(x)) == clean(x)` for every input, and the result never contains a
//! control character (other than the "\n\n" between paragraphs) or anything an HTML parser
//! would read as a tag or a character reference.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::{is_nfc_quick, is_nfkc_quick, IsNormalized, UnicodeNormalization};

use super::html;

/// How a field keeps its line structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// One line: every break becomes a space (titles, summaries, names).
    Inline,
    /// Paragraphs separated by exactly "\n\n"; lines inside a paragraph joined by a space.
    Paragraphs,
}

/// Rounds of markup decoding before giving up on convergence. Text escaped more than this
/// many times over (`&amp;amp;amp;lt;`) is pathological; see [`neutralize`].
const MAX_ROUNDS: usize = 4;

/// Cleans one text field. Markup (tags or character references) goes through the HTML
/// parser; the result is re-checked until it is stable, so double-escaped input such as
/// `&amp;lt;b&amp;gt;` cannot leave markup in the output.
pub(crate) fn clean(input: &str, layout: Layout) -> String {
    let mut cur = clean_once(input, layout);
    for _ in 0..MAX_ROUNDS {
        if !html::has_markup(&cur) {
            return cur;
        }
        let next = clean_once(&cur, layout);
        if next == cur {
            return cur;
        }
        cur = next;
    }
    if html::has_markup(&cur) && clean_once(&cur, layout) != cur {
        neutralize(&cur)
    } else {
        cur
    }
}

fn clean_once(input: &str, layout: Layout) -> String {
    if html::has_markup(input) {
        collapse(&html::to_text(input), layout)
    } else {
        collapse(input, layout)
    }
}

/// Last resort for text that is still markup after [`MAX_ROUNDS`] decodings: the two
/// characters that can start markup are replaced by look-alikes, which makes the text stable.
fn neutralize(s: &str) -> String {
    s.replace('<', "\u{2039}").replace('&', "\u{ff06}")
}

/// What the cleaner does with one character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Keep,
    Drop,
    Space,
    Newline,
    ParagraphBreak,
}

fn class(c: char) -> Class {
    match c {
        '\n' | '\u{85}' | '\u{2028}' => Class::Newline,
        '\u{2029}' => Class::ParagraphBreak,
        // Zero-width and invisible formatting, soft hyphen, BOM, bidi embeddings, overrides
        // and isolates (U+202A–U+202E, U+2066–U+2069), deprecated format characters,
        // interlinear annotation marks and non-characters. ZWJ/ZWNJ are kept: emoji
        // sequences and several scripts need them.
        '\u{ad}'
        | '\u{180e}'
        | '\u{200b}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206f}'
        | '\u{feff}'
        | '\u{fff9}'..='\u{fffb}'
        | '\u{fffe}'
        | '\u{ffff}' => Class::Drop,
        c if c.is_whitespace() => Class::Space,
        c if c.is_control() => Class::Drop,
        _ => Class::Keep,
    }
}

/// Bullet symbols that start a list item when they open a line.
pub(crate) fn is_bullet_symbol(c: char) -> bool {
    matches!(c, '•' | '◦' | '▪' | '‣' | '●' | '■' | '▸' | '►' | '⁃')
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Pending {
    Nothing,
    Space,
    Break,
}

/// One pass over the characters: drops invisible characters, turns odd spaces into plain
/// spaces, collapses runs, joins the lines of a paragraph, then composes to NFC.
fn collapse(s: &str, layout: Layout) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending = Pending::Nothing;
    let mut line_has_content = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let cls = match c {
            // CR LF is one line break; a lone CR is one too.
            '\r' if chars.peek() == Some(&'\n') => continue,
            '\r' => Class::Newline,
            c if c.is_ascii_alphanumeric() || c == ' ' => {
                if c == ' ' {
                    Class::Space
                } else {
                    Class::Keep
                }
            }
            c => class(c),
        };
        match (cls, layout) {
            (Class::Keep, _) => {
                if !out.is_empty() {
                    if !line_has_content
                        && layout == Layout::Paragraphs
                        && is_bullet_symbol(c)
                        && pending >= Pending::Space
                    {
                        pending = Pending::Break;
                    }
                    match pending {
                        Pending::Break => out.push_str("\n\n"),
                        Pending::Space => out.push(' '),
                        Pending::Nothing => {}
                    }
                }
                pending = Pending::Nothing;
                line_has_content = true;
                out.push(c);
            }
            (Class::Drop, _) => {}
            (Class::Space, _) | (Class::Newline | Class::ParagraphBreak, Layout::Inline) => {
                pending = pending.max(Pending::Space);
            }
            (Class::Newline, Layout::Paragraphs) => {
                pending = if line_has_content {
                    pending.max(Pending::Space)
                } else {
                    Pending::Break
                };
                line_has_content = false;
            }
            (Class::ParagraphBreak, Layout::Paragraphs) => {
                pending = Pending::Break;
                line_has_content = false;
            }
        }
    }
    if is_nfc_quick(out.chars()) == IsNormalized::Yes {
        out
    } else {
        out.nfc().collect()
    }
}

/// One line without invisible or control characters, whitespace collapsed, but no markup
/// decoding: for values that are not prose, such as URLs and identifiers.
pub(crate) fn plain(s: &str) -> String {
    collapse(s, Layout::Inline)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

/// Folded form for fingerprints and dedup keys: NFKC, lower case, punctuation-insensitive,
/// words separated by single spaces. Never shown to users.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut gap = false;
    if text.is_ascii() {
        for b in text.bytes() {
            if b.is_ascii_alphanumeric() {
                if gap && !out.is_empty() {
                    out.push(' ');
                }
                gap = false;
                out.push(b.to_ascii_lowercase() as char);
            } else {
                gap = true;
            }
        }
        return out;
    }
    let mut push = |c: char| {
        if is_word_char(c) {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.extend(c.to_lowercase());
        } else {
            gap = true;
        }
    };
    if is_nfkc_quick(text.chars()) == IsNormalized::Yes {
        text.chars().for_each(&mut push);
    } else {
        text.nfkc().for_each(&mut push);
    }
    out
}

/// A 64-bit hash of `fold(text)` computed without building the folded string; equal folds
/// give equal hashes. Used to compare paragraphs and titles cheaply. NFKC is skipped: the
/// inputs are already NFC-clean text.
pub(crate) fn fold_hash(text: &str) -> FoldKey {
    // FNV-1a: tiny, no allocation, stable across runs (no random seed needed here).
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    let mut len = 0usize;
    let mut gap = false;
    let eat = |b: u8, h: &mut u64| {
        *h ^= u64::from(b);
        *h = h.wrapping_mul(PRIME);
    };
    for c in text.chars() {
        if is_word_char(c) {
            if gap && len > 0 {
                eat(b' ', &mut h);
                len += 1;
            }
            gap = false;
            for l in c.to_lowercase() {
                let mut buf = [0u8; 4];
                for &b in l.encode_utf8(&mut buf).as_bytes() {
                    eat(b, &mut h);
                }
                len += l.len_utf8();
            }
        } else {
            gap = true;
        }
    }
    FoldKey { hash: h, len }
}

/// Hash and length of a folded text (see [`fold_hash`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct FoldKey {
    pub hash: u64,
    /// Length in bytes of the folded text; 0 when it has no letters or digits.
    pub len: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn para(s: &str) -> String {
        clean(s, Layout::Paragraphs)
    }

    #[test]
    fn whitespace_collapsed_and_paragraphs_kept() {
        assert_eq!(
            para("  One\ttwo \u{a0}three\r\nfour\n\n\n  \nFive\u{3000}six  "),
            "One two three four\n\nFive six"
        );
        assert_eq!(clean("a\n\nb\u{2029}c", Layout::Inline), "a b c");
        assert_eq!(para("a\u{2029}b\u{2028}c"), "a\n\nb c");
        assert_eq!(para("a\rb\r\rc"), "a b\n\nc");
    }

    #[test]
    fn invisible_and_control_characters_removed() {
        let s = "\u{feff}Zero\u{200b}width soft\u{ad}hyphen \u{202e}rtl\u{202c} \u{2067}iso\u{2069} nul\0 bell\u{7} c1\u{9c}";
        assert_eq!(para(s), "Zerowidth softhyphen rtl iso nul bell c1");
        // ZWJ inside an emoji sequence is kept.
        assert_eq!(para("👩\u{200d}💻"), "👩\u{200d}💻");
    }

    #[test]
    fn nfc_and_typography_kept() {
        assert_eq!(para("Cafe\u{301} “quoted” — dash"), "Café “quoted” — dash");
    }

    #[test]
    fn bullet_lines_start_paragraphs() {
        assert_eq!(
            para("Points:\n• one\n• two\nstill two"),
            "Points:\n\n• one\n\n• two still two"
        );
        // A bullet inside a line is just a character.
        assert_eq!(para("a • b"), "a • b");
    }

    #[test]
    fn markup_is_decoded_until_stable() {
        assert_eq!(para("AT&amp;T &lt; 5"), "AT&T < 5");
        assert_eq!(para("&amp;lt;b&amp;gt;bold&amp;lt;/b&amp;gt;"), "bold");
        assert_eq!(para("Q&A with S&P"), "Q&A with S&P");
        // A zero-width space cannot hide a tag from the parser.
        assert_eq!(para("<\u{200b}script>x"), "");
        let deep = format!("{}lt;b>x", "&amp;".repeat(10));
        let out = para(&deep);
        assert!(!html::has_markup(&out), "{out}");
        assert_eq!(para(&out), out);
    }

    #[test]
    fn fold_is_punctuation_and_case_insensitive() {
        assert_eq!(fold("Don’t  STOP—now!"), "don t stop now");
        assert_eq!(fold("Don't stop - now"), "don t stop now");
        assert_eq!(fold("ﬁnance Ⅻ café"), "finance xii café");
        assert_eq!(fold("e\u{301}te\u{301}"), fold("été"));
        assert_eq!(fold("  ...  "), "");
    }

    #[test]
    fn fold_hash_agrees_with_fold() {
        for (a, b) in [
            ("Hello, World!", "hello world"),
            ("• Same title", "same TITLE"),
            ("Straße", "strasse"),
            ("STRASSE", "strasse"),
        ] {
            assert_eq!(
                fold_hash(a) == fold_hash(b),
                fold(a) == fold(b),
                "{a} / {b}"
            );
        }
        assert_eq!(fold_hash("!!").len, 0);
    }
}
