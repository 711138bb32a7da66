//! Markup to text with the WHATWG HTML tokenizer (html5ever): tags stripped, character
//! references decoded, block elements turned into paragraph breaks, and the content of
//! scripts, styles, figures, captions, forms and other non-prose elements dropped.
//!
//! The tokenizer is a flat state machine and this sink keeps only a heap stack of the
//! dropped elements currently open, so deeply nested input cannot overflow the call stack;
//! time and memory are linear in the input.

use std::cell::{Cell, RefCell};

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use html5ever::LocalName;

/// Names that the HTML tokenizer decodes even without a terminating `;` (the legacy named
/// character references of the HTML standard). `&` followed by one of these is markup.
const LEGACY_REFS: &[&str] = &[
    "AElig", "AMP", "Aacute", "Acirc", "Agrave", "Aring", "Atilde", "Auml", "COPY", "Ccedil",
    "ETH", "Eacute", "Ecirc", "Egrave", "Euml", "GT", "Iacute", "Icirc", "Igrave", "Iuml", "LT",
    "Ntilde", "Oacute", "Ocirc", "Ograve", "Oslash", "Otilde", "Ouml", "QUOT", "REG", "THORN",
    "Uacute", "Ucirc", "Ugrave", "Uuml", "Yacute", "aacute", "acirc", "acute", "aelig", "agrave",
    "amp", "aring", "atilde", "auml", "brvbar", "ccedil", "cedil", "cent", "copy", "curren", "deg",
    "divide", "eacute", "ecirc", "egrave", "eth", "euml", "frac12", "frac14", "frac34", "gt",
    "iacute", "icirc", "iexcl", "igrave", "iquest", "iuml", "laquo", "lt", "macr", "micro",
    "middot", "nbsp", "not", "ntilde", "oacute", "ocirc", "ograve", "ordf", "ordm", "oslash",
    "otilde", "ouml", "para", "plusmn", "pound", "quot", "raquo", "reg", "sect", "shy", "sup1",
    "sup2", "sup3", "szlig", "thorn", "times", "uacute", "ucirc", "ugrave", "uml", "uuml",
    "yacute", "yen", "yuml",
];

/// True when the HTML tokenizer could read anything in `s` as markup: a tag, end tag,
/// comment or declaration (`<` then a letter, `/`, `!` or `?`), or a character reference.
/// False means the parser would return the text unchanged, so it can be skipped.
pub(crate) fn has_markup(s: &str) -> bool {
    let bytes = s.as_bytes();
    memchr::memchr2_iter(b'<', b'&', bytes).any(|i| {
        let next = bytes.get(i + 1).copied().unwrap_or(0);
        match bytes[i] {
            // "</" at the very end stays text; "<!" and "<?" open (bogus) comments even there.
            b'<' => {
                next.is_ascii_alphabetic()
                    || matches!(next, b'!' | b'?')
                    || (next == b'/' && i + 2 < bytes.len())
            }
            b'&' => match next {
                b'#' => match bytes.get(i + 2).copied().unwrap_or(0) {
                    b'x' | b'X' => bytes.get(i + 3).is_some_and(u8::is_ascii_hexdigit),
                    d => d.is_ascii_digit(),
                },
                n => n.is_ascii_alphabetic() && is_named_ref(&bytes[i + 1..]),
            },
            _ => false,
        }
    })
}

/// `rest` follows an `&`: is it `name;` or a legacy name the tokenizer decodes without `;`?
fn is_named_ref(rest: &[u8]) -> bool {
    let name_len = rest
        .iter()
        .take(40)
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    rest.get(name_len) == Some(&b';')
        || LEGACY_REFS
            .iter()
            .any(|name| rest.starts_with(name.as_bytes()))
}

/// Elements whose content is not article prose; dropped with everything inside them.
fn is_dropped(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "iframe"
            | "object"
            | "embed"
            | "svg"
            | "math"
            | "canvas"
            | "audio"
            | "video"
            | "picture"
            | "figure"
            | "figcaption"
            | "head"
            | "title"
            | "textarea"
            | "select"
            | "button"
            | "form"
            | "nav"
            | "noembed"
            | "noframes"
            | "xmp"
    )
}

/// Elements whose content the tokenizer must read as raw text (no tags inside).
fn raw_kind(name: &str) -> Option<RawKind> {
    match name {
        "script" => Some(RawKind::ScriptData),
        "style" | "noscript" | "iframe" | "noembed" | "noframes" | "xmp" => Some(RawKind::Rawtext),
        "title" | "textarea" => Some(RawKind::Rcdata),
        _ => None,
    }
}

/// Elements that end a paragraph where they start and where they end.
fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "br"
            | "li"
            | "ul"
            | "ol"
            | "dl"
            | "dt"
            | "dd"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "blockquote"
            | "pre"
            | "table"
            | "thead"
            | "tbody"
            | "tfoot"
            | "tr"
            | "caption"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "aside"
            | "main"
            | "hr"
            | "address"
            | "details"
            | "summary"
            | "fieldset"
            | "center"
            | "body"
            | "html"
    )
}

struct TextSink {
    out: RefCell<String>,
    /// Dropped elements currently open, innermost last.
    dropped: RefCell<Vec<LocalName>>,
    /// Inside a raw-text element that is being dropped (script, style …).
    in_raw: Cell<bool>,
}

impl TextSink {
    fn tag(&self, kind: TagKind, name: &LocalName, self_closing: bool) -> TokenSinkResult<()> {
        let n: &str = name;
        let mut dropped = self.dropped.borrow_mut();
        match kind {
            TagKind::StartTag if is_dropped(n) => {
                if let Some(raw) = raw_kind(n) {
                    self.in_raw.set(true);
                    dropped.push(name.clone());
                    return TokenSinkResult::RawData(raw);
                }
                if !self_closing {
                    dropped.push(name.clone());
                }
            }
            TagKind::EndTag if is_dropped(n) => {
                if let Some(pos) = dropped.iter().rposition(|d| d == name) {
                    dropped.truncate(pos);
                }
                self.in_raw.set(false);
            }
            _ if dropped.is_empty() => {
                if is_block(n) {
                    self.out.borrow_mut().push_str("\n\n");
                } else if matches!(n, "td" | "th") {
                    self.out.borrow_mut().push(' ');
                }
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

impl TokenSink for TextSink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        match token {
            Token::TagToken(tag) => return self.tag(tag.kind, &tag.name, tag.self_closing),
            Token::CharacterTokens(text)
                if !self.in_raw.get() && self.dropped.borrow().is_empty() =>
            {
                self.out.borrow_mut().push_str(&text);
            }
            // Comments, doctypes, NUL characters and parse errors carry no prose.
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

/// Text of an HTML fragment: paragraph breaks ("\n\n") at block boundaries, text nodes as
/// written (whitespace is collapsed later by the text cleaner).
pub(crate) fn to_text(html: &str) -> String {
    let sink = TextSink {
        out: RefCell::new(String::with_capacity(html.len())),
        dropped: RefCell::new(Vec::new()),
        in_raw: Cell::new(false),
    };
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    // The sink never asks to pause for a script, so one feed consumes everything.
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    tokenizer.sink.out.take()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_markup() {
        for s in [
            "<p>",
            "a</b>",
            "<!-- c -->",
            "<?xml",
            "&amp;",
            "&#39;",
            "&copy 2019",
            "x&nbsp;y",
        ] {
            assert!(has_markup(s), "{s}");
        }
        for s in [
            "a < b",
            "a </",
            "&#",
            "&#x;",
            "&#z",
            "AT&T",
            "S&P 500",
            "Q&A",
            "x <3",
            "& more",
            "1<2",
            "Tom & Jerry",
        ] {
            assert!(!has_markup(s), "{s}");
        }
    }

    #[test]
    fn blocks_become_paragraph_breaks_and_inline_tags_vanish() {
        let t = to_text(
            "<h2>Head</h2><p>One <b>bold</b> <a href='x'>link</a>.</p><ul><li>a<li>b</ul>x<br>y",
        );
        assert_eq!(
            t.split("\n\n")
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>(),
            ["Head", "One bold link.", "a", "b", "x", "y"]
        );
    }

    #[test]
    fn non_prose_elements_and_comments_dropped() {
        let t = to_text(
            "<p>Keep</p><script>var x = '<p>no</p>';</script><style>p{}</style>\
             <figure><img src=a><figcaption>Caption</figcaption></figure><!-- note -->\
             <p>Also &amp; kept&nbsp;&#8212;&#x41;</p><svg><text>no</text></svg>",
        );
        let paras: Vec<&str> = t.split("\n\n").filter(|p| !p.is_empty()).collect();
        assert_eq!(paras, ["Keep", "Also & kept\u{a0}\u{2014}A"]);
    }

    #[test]
    fn deep_nesting_is_linear_and_stack_safe() {
        let n = 100_000;
        let html = format!(
            "{}deep{}",
            "<div><span>".repeat(n),
            "</span></div>".repeat(n)
        );
        assert_eq!(to_text(&html).trim(), "deep");
        let figs = format!("{}gone{}after", "<figure>".repeat(n), "</figure>".repeat(n));
        assert_eq!(to_text(&figs).trim(), "after");
    }

    #[test]
    fn unterminated_constructs_do_not_leak_markup() {
        assert_eq!(to_text("text <b class='x"), "text ");
        assert_eq!(to_text("a <!-- never closed"), "a ");
        assert_eq!(to_text("<script>alert(1)"), "");
    }
}
