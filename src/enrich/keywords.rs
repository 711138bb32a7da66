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

//!
//! Layout: `tokenizer` reads the words and counts terms and adjacent pairs, `phrases`
//! gathers the possible phrases, `scoring` scores words and phrases, `dedup` picks
//! among ranked phrases; this module ties them together.

use std::hash::Hasher;

use dedup::*;
use phrases::*;
use scoring::*;
use table::IdTable;
use tokenizer::*;

pub(crate) use tokenizer::ELISIONS;

mod dedup;
mod phrases;
mod scoring;
mod table;
mod tokenizer;

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

/// A candidate phrase: its words and the occurrence shown.
#[derive(Debug, Clone, Copy)]
struct Cand {
    key: [u32; MAX_WORDS],
    first: u32,
    last: u32,
    /// The shown occurrence starts a sentence or lies in the title.
    initial: bool,
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
