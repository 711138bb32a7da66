//! Authors from bylines, lists and objects: "By" removed, split on `and`, `&`, commas and
//! semicolons, roles and e-mail addresses dropped, de-duplicated case-insensitively.
//! Invariant: no empty name, and the output normalizes to itself.

use std::collections::HashSet;

use super::text::{self, Layout};

/// A name longer than this is a sentence that landed in the author field, not a name.
const MAX_NAME_CHARS: usize = 100;

/// Byline lead-ins, compared case-insensitively, longest first.
const LEAD_INS: &[&str] = &[
    "additional reporting by",
    "written by",
    "reporting by",
    "reported by",
    "posted by",
    "story by",
    "words by",
    "by:",
    "by",
];

/// Credits for people who are not authors; the whole part is dropped.
const OTHER_CREDITS: &[&str] = &[
    "editing by",
    "edited by",
    "photo by",
    "photos by",
    "graphics by",
    "illustration by",
];

/// Parts that are roles or collectives, not people, when they stand alone in a byline
/// ("Jane Doe, Staff Writer"; "John Roe and agencies").
const NOT_NAMES: &[&str] = &[
    "agencies",
    "agency",
    "staff",
    "staff writer",
    "staff writers",
    "staff reporter",
    "reporter",
    "correspondent",
    "editor",
    "contributor",
    "contributing writer",
    "columnist",
    "and",
];

/// Name suffixes that belong to the preceding name ("John Smith, Jr.").
const SUFFIXES: &[&str] = &["jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "phd", "ph.d."];

pub(crate) fn authors(raw: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    for entry in raw {
        let cleaned = text::clean(entry, Layout::Inline);
        let mut parts: Vec<String> = Vec::new();
        for part in split_byline(&cleaned) {
            let mut part = trim_separators(part);
            if starts_with_ci(part, OTHER_CREDITS) {
                continue;
            }
            // "By By Jane" and "By: - Jane" are seen too: strip until nothing changes.
            loop {
                let stripped = trim_separators(strip_lead_in(part));
                if stripped == part {
                    break;
                }
                part = stripped;
            }
            if part.is_empty() || is_lead_in(part) {
                continue;
            }
            let lower = part.to_lowercase();
            if SUFFIXES.contains(&lower.as_str()) {
                if let Some(prev) = parts.last_mut() {
                    prev.push_str(", ");
                    prev.push_str(part);
                }
                continue;
            }
            if NOT_NAMES.contains(&lower.as_str())
                || part.contains('@')
                || part.contains("://")
                || part.chars().count() > MAX_NAME_CHARS
                || !part.chars().any(char::is_alphabetic)
            {
                continue;
            }
            parts.push(part.to_owned());
        }
        for p in parts {
            if seen.insert(text::fold(&p)) {
                out.push(p);
            }
        }
    }
    out
}

/// Splits a byline on `,`, `;`, `|`, `&` and the word `and`.
fn split_byline(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    for piece in s.split([',', ';', '|', '&']) {
        let mut rest = piece;
        while let Some(pos) = find_word_ci(rest, "and") {
            parts.push(&rest[..pos]);
            rest = &rest[pos + 3..];
        }
        parts.push(rest);
    }
    parts
}

/// Byte position of `word` as a whole word (ASCII case-insensitive) in `s`.
fn find_word_ci(s: &str, word: &str) -> Option<usize> {
    let b = s.as_bytes();
    let w = word.len();
    (0..b.len().saturating_sub(w - 1)).find(|&i| {
        b[i..i + w].eq_ignore_ascii_case(word.as_bytes())
            && (i == 0 || b[i - 1] == b' ')
            && b.get(i + w).is_none_or(|&c| c == b' ')
    })
}

fn trim_separators(s: &str) -> &str {
    s.trim_matches(|c: char| {
        c.is_whitespace() || matches!(c, ',' | ';' | '|' | '-' | '–' | '—' | ':')
    })
}

/// A part that is nothing but a lead-in ("By", "Written by").
fn is_lead_in(part: &str) -> bool {
    LEAD_INS
        .iter()
        .any(|l| part.eq_ignore_ascii_case(l.trim_end_matches(':')))
}

fn starts_with_ci(s: &str, prefixes: &[&str]) -> bool {
    prefixes.iter().any(|p| {
        s.get(..p.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(p))
    })
}

fn strip_lead_in(s: &str) -> &str {
    for lead in LEAD_INS {
        if s.len() > lead.len()
            && s.is_char_boundary(lead.len())
            && s[..lead.len()].eq_ignore_ascii_case(lead)
        {
            let rest = &s[lead.len()..];
            if lead.ends_with(':') || rest.starts_with([' ', ':']) {
                return rest.trim_start_matches([' ', ':']);
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(raw: &[&str]) -> Vec<String> {
        authors(&raw.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn bylines_and_lists() {
        assert_eq!(a(&["By Jane Doe and John Roe"]), ["Jane Doe", "John Roe"]);
        assert_eq!(a(&["Jane Doe, John Roe"]), ["Jane Doe", "John Roe"]);
        assert_eq!(a(&["BY: Jane Doe & John Roe"]), ["Jane Doe", "John Roe"]);
        assert_eq!(
            a(&[" Jane Doe ", "jane  doe", "By John Roe"]),
            ["Jane Doe", "John Roe"]
        );
        assert_eq!(
            a(&["Reporting by Ann Lee; Editing by Bo Chan"]),
            ["Ann Lee"]
        );
        assert_eq!(
            a(&["John Smith, Jr. and Mary Major"]),
            ["John Smith, Jr.", "Mary Major"]
        );
        assert_eq!(a(&["Jane Doe, Staff Writer"]), ["Jane Doe"]);
        assert_eq!(a(&["John Roe and agencies"]), ["John Roe"]);
        assert_eq!(
            a(&[
                "",
                "  ",
                "By",
                "By ",
                "jane@example.com",
                "https://x.example/me"
            ]),
            Vec::<String>::new()
        );
        assert_eq!(a(&["<b>Jane</b> Doe"]), ["Jane Doe"]);
        assert_eq!(
            a(&["-By ", "By By Jane Doe", "Written by: — Ann Lee"]),
            ["Jane Doe", "Ann Lee"]
        );
    }

    #[test]
    fn names_containing_by_or_and_are_kept() {
        assert_eq!(a(&["Bynum Andrews"]), ["Bynum Andrews"]);
        assert_eq!(a(&["Alexandra Brandon"]), ["Alexandra Brandon"]);
    }

    #[test]
    fn output_is_stable() {
        for raw in [
            &["By Jane Doe and John Roe"][..],
            &["John Smith, Jr. and Mary Major"],
            &["A, B; C & D"],
        ] {
            let once = a(raw);
            let refs: Vec<&str> = once.iter().map(String::as_str).collect();
            assert_eq!(a(&refs), once);
        }
    }
}
