//! Choosing among ranked phrases: their surface form, overlap and near-duplicates.

use super::*;

/// The phrase as written, with a sentence-initial capital lowered when the word is also
/// written in lower case elsewhere (not a name).
pub(super) fn clean_surface(surface: &str, initial: bool, first: &Term) -> String {
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
pub(super) enum Overlap {
    None,
    /// The new phrase contains every word of the kept one, and more.
    Longer,
    /// Otherwise the same words, or two words in common.
    Same,
}

/// A phrase folded to lower case, split once into the words [`overlap`] compares (a
/// phrase is compared with every kept one).
#[derive(Clone)]
pub(super) struct Folded {
    pub(super) text: String,
    /// Byte ranges of the words: split at whitespace and hyphens, empty pieces dropped.
    pub(super) words: Vec<(u32, u32)>,
}

impl Folded {
    pub(super) fn new(text: String) -> Self {
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
pub(super) fn overlap(kept: &Folded, new: &Folded) -> Overlap {
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
pub(super) fn overlap_words(k: &[&str], n: &[&str]) -> Overlap {
    let common = k
        .iter()
        .filter(|w| n.iter().any(|x| same_word(w, x)))
        .count();
    overlap_of(k.len(), n.len(), common)
}

/// Whether two words are equal up to a short ending ("korea", "korean").
pub(super) fn same_word(x: &str, y: &str) -> bool {
    let (s, l) = if x.len() <= y.len() { (x, y) } else { (y, x) };
    s == l || (s.chars().nth(3).is_some() && l.len() - s.len() <= 2 && l.starts_with(s))
}

/// The overlap of a kept phrase of `kn` words and a new one of `nn` words that have
/// `common` words (of the kept one) in common.
pub(super) fn overlap_of(kn: usize, nn: usize, common: usize) -> Overlap {
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
pub(super) fn near_duplicate(a: &str, b: &str) -> bool {
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
pub(super) fn within_edits(a: &str, b: &str, allowed: usize) -> bool {
    if a.is_ascii() && b.is_ascii() {
        within_edits_of(a.as_bytes(), b.as_bytes(), allowed)
    } else {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        within_edits_of(&a, &b, allowed)
    }
}

pub(super) fn within_edits_of<T: PartialEq>(a: &[T], b: &[T], allowed: usize) -> bool {
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
pub(super) fn within_one_edit(a: &str, b: &str) -> bool {
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
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
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
