//! Text cleaning shared by every text field: markup to text, invisible and control characters
//! removed, odd spaces made plain, whitespace collapsed, paragraphs kept, Unicode NFC.
//!
//! Invariant: `clean(clean(x)) == clean(x)` for every input, and the result never contains a
//! control character (other than the "\n\n" between paragraphs) or anything an HTML parser
//! would read as a tag or a character reference.

use std::sync::LazyLock;

use memchr::memmem;
use unicode_normalization::char::{canonical_combining_class, is_combining_mark};
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

/// State of one [`collapse`] pass.
struct Collapser {
    out: String,
    layout: Layout,
    pending: Pending,
    line_has_content: bool,
}

impl Collapser {
    /// Emits the pending separator, then `text` (which is visible content).
    fn content(&mut self, text: &str, first: char) {
        if !self.out.is_empty() {
            if !self.line_has_content
                && self.layout == Layout::Paragraphs
                && self.pending >= Pending::Space
                && is_bullet_symbol(first)
            {
                self.pending = Pending::Break;
            }
            match self.pending {
                Pending::Break => self.out.push_str("\n\n"),
                Pending::Space => self.out.push(' '),
                Pending::Nothing => {}
            }
        }
        self.pending = Pending::Nothing;
        self.line_has_content = true;
        self.out.push_str(text);
    }

    fn separator(&mut self, cls: Class) {
        match (cls, self.layout) {
            (Class::Keep | Class::Drop, _) => {}
            (Class::Space, _) | (Class::Newline | Class::ParagraphBreak, Layout::Inline) => {
                self.pending = self.pending.max(Pending::Space);
            }
            (Class::Newline, Layout::Paragraphs) => {
                self.pending = if self.line_has_content {
                    self.pending.max(Pending::Space)
                } else {
                    Pending::Break
                };
                self.line_has_content = false;
            }
            (Class::ParagraphBreak, Layout::Paragraphs) => {
                self.pending = Pending::Break;
                self.line_has_content = false;
            }
        }
    }
}

/// One pass: drops invisible characters, turns odd spaces into plain spaces, collapses
/// runs, joins the lines of a paragraph, then composes to NFC.
///
/// Speed matters here (every byte of every body goes through it): stretches of printable
/// ASCII with single spaces are found a block at a time and copied whole; only control,
/// non-ASCII and doubled-space positions take the per-character path.
fn collapse(s: &str, layout: Layout) -> String {
    let bytes = s.as_bytes();
    let mut c = Collapser {
        out: String::with_capacity(s.len()),
        layout,
        pending: Pending::Nothing,
        line_has_content: false,
    };
    let mut needs_nfc = false;
    let mut i = 0;
    while i < bytes.len() {
        let end = plain_ascii_end(bytes, i);
        if end > i {
            c.ascii_segment(&s[i..end]);
            i = end;
            continue;
        }
        let b = bytes[i];
        let ch = if b < 0x80 {
            b as char
        } else {
            s[i..].chars().next().unwrap_or(char::REPLACEMENT_CHARACTER)
        };
        let len = ch.len_utf8();
        let cls = match ch {
            // CR LF is one line break; a lone CR is one too.
            '\r' if bytes.get(i + 1) == Some(&b'\n') => Class::Drop,
            '\r' => Class::Newline,
            ch => class(ch),
        };
        if cls == Class::Keep {
            // Below U+0300 every character is NFC and a starter; above, ask the tables.
            needs_nfc = needs_nfc
                || (ch >= '\u{300}'
                    && (canonical_combining_class(ch) != 0
                        || is_nfc_quick(std::iter::once(ch)) != IsNormalized::Yes));
            c.content(&s[i..i + len], ch);
        } else {
            c.separator(cls);
        }
        i += len;
    }
    if needs_nfc {
        c.out.nfc().collect()
    } else {
        c.out
    }
}

/// End of the stretch of printable ASCII and spaces starting at `from` (`from` itself when
/// the byte there is something else). Scans 16 bytes at a time; the compiler vectorizes
/// the inner test.
fn plain_ascii_end(bytes: &[u8], from: usize) -> usize {
    let is_plain = |b: u8| (0x20..0x7f).contains(&b);
    let mut i = from;
    while let Some(block) = bytes.get(i..i + 16) {
        if !block.iter().fold(true, |all, &b| all & is_plain(b)) {
            break;
        }
        i += 16;
    }
    while i < bytes.len() && is_plain(bytes[i]) {
        i += 1;
    }
    i
}

impl Collapser {
    /// Printable ASCII and spaces: words are content, space runs are one separator.
    fn ascii_segment(&mut self, seg: &str) {
        let inner = seg.trim_matches(' ');
        if inner.len() < seg.len() && seg.starts_with(' ') {
            self.separator(Class::Space);
        }
        if inner.is_empty() {
            return;
        }
        static DOUBLE_SPACE: LazyLock<memmem::Finder<'static>> =
            LazyLock::new(|| memmem::Finder::new(b"  "));
        if DOUBLE_SPACE.find(inner.as_bytes()).is_none() {
            self.content(inner, ' ');
        } else {
            self.words(inner);
        }
        if seg.ends_with(' ') {
            self.separator(Class::Space);
        }
    }

    /// Words separated by runs of spaces.
    fn words(&mut self, seg: &str) {
        for (k, word) in seg.split(' ').enumerate() {
            if k > 0 {
                self.separator(Class::Space);
            }
            if !word.is_empty() {
                self.content(word, ' ');
            }
        }
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
    let mut f = Folder {
        out: String::with_capacity(text.len()),
        gap: false,
    };
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // ASCII is already NFKC; only stretches with other characters go through the
        // normalizer. The ASCII character just before such a stretch goes with it, since a
        // combining mark may follow it; the stretch ends before an ASCII character, which
        // never composes with what precedes it.
        let non_ascii = bytes[i..]
            .iter()
            .position(|&b| b >= 0x80)
            .map_or(bytes.len(), |p| i + p);
        let ascii_end = if non_ascii < bytes.len() && non_ascii > i {
            non_ascii - 1
        } else {
            non_ascii
        };
        for &b in &bytes[i..ascii_end] {
            f.ascii(b);
        }
        if ascii_end == bytes.len() {
            break;
        }
        let end = bytes[non_ascii..]
            .iter()
            .position(|&b| b < 0x80)
            .map_or(bytes.len(), |p| non_ascii + p);
        let stretch = &text[ascii_end..end];
        if is_nfkc_quick(stretch.chars()) == IsNormalized::Yes {
            stretch.chars().for_each(|c| f.char(c));
        } else {
            stretch.nfkc().for_each(|c| f.char(c));
        }
        i = end;
    }
    f.out
}

struct Folder {
    out: String,
    /// A separator was seen since the last word character.
    gap: bool,
}

impl Folder {
    fn ascii(&mut self, b: u8) {
        if b.is_ascii_alphanumeric() {
            if self.gap && !self.out.is_empty() {
                self.out.push(' ');
            }
            self.gap = false;
            self.out.push(char::from(b.to_ascii_lowercase()));
        } else {
            self.gap = true;
        }
    }

    fn char(&mut self, c: char) {
        if c.is_ascii() {
            self.ascii(c as u8);
        } else if is_word_char(c) {
            if self.gap && !self.out.is_empty() {
                self.out.push(' ');
            }
            self.gap = false;
            self.out.extend(c.to_lowercase());
        } else {
            self.gap = true;
        }
    }
}

/// A cheap summary of what [`fold`] keeps: ASCII letters and digits plus non-ASCII
/// characters outside the Latin-1 and General Punctuation blocks. Texts with equal folds
/// almost always have equal weights, so only texts of equal weight need folding to compare.
/// Vectorizes; no allocation.
pub(crate) fn fold_weight(text: &str) -> usize {
    // Branch-free per byte, summed in u8 lanes per block so the compiler vectorizes it.
    let weight = |b: u8| {
        let letter = (b | 0x20).wrapping_sub(b'a') < 26;
        let digit = b.wrapping_sub(b'0') < 10;
        let other_script = (b >= 0xc3) & (b != 0xe2);
        u8::from(letter | digit | other_script)
    };
    text.as_bytes()
        .chunks(255)
        .map(|block| usize::from(block.iter().fold(0u8, |n, &b| n + weight(b))))
        .sum()
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
        // Combining marks after ASCII letters compose across the ASCII/non-ASCII split.
        assert_eq!(
            fold("Cafe\u{301}s and re\u{301}sume\u{301}"),
            "cafés and résumé"
        );
        assert_eq!(fold("x ﬁnal “Quote” 東京"), "x final quote 東京");
    }

    /// The definition `fold` implements in stretches: NFKC of the whole text, then words.
    fn reference_fold(text: &str) -> String {
        let mut f = Folder {
            out: String::new(),
            gap: false,
        };
        text.nfkc().for_each(|c| f.char(c));
        f.out
    }

    proptest::proptest! {
        #[test]
        fn fold_matches_whole_text_nfkc(s in "([a-zA-Z ,.]|\\PC|\u{301}|\u{308}|\u{1100}|\u{1161}|\u{fb01}){0,40}") {
            proptest::prop_assert_eq!(fold(&s), reference_fold(&s));
        }
    }

    #[test]
    fn equal_folds_have_equal_weights() {
        for (a, b) in [
            ("Hello, World!", "hello world"),
            ("• Same title", "same TITLE"),
            ("“Quoted” — text…", "\"quoted\" - text..."),
            ("Zürich «Café»", "ZÜRICH café"),
            ("东京 “新闻”", "东京 新闻"),
        ] {
            assert_eq!(fold(a), fold(b), "{a} / {b}");
            assert_eq!(fold_weight(a), fold_weight(b), "{a} / {b}");
        }
        assert_eq!(fold_weight("!! — …"), 0);
    }
}
