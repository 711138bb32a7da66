//! whatlang's language detection, with its trigram step computed through an inverted
//! index: the same answers and the same confidence, bit for bit, at a quarter of the cost.
//!
//! For the Latin and Cyrillic scripts whatlang's default ("combined") method mixes two
//! scores: an alphabet score (which letters occur) and a trigram score. The trigram score
//! ranks the text's trigrams by count, then, for every allowed language, walks that
//! language's 300-trigram profile and adds how far each profile trigram's rank is from its
//! rank in the text (300 when the text lacks it). With the 18 default Latin languages that
//! is 5,400 hash-map probes per call whatever the text, about four fifths of whatlang's
//! cost on a 300-character sample. Here the profiles are indexed the other way round,
//! trigram → (language, rank): each of the text's few hundred trigrams is looked up once,
//! and a language's distance is the all-missing total minus what its matching trigrams
//! save. The arithmetic is the crate's, in integers, so the distances are equal, and the
//! scores are combined, sorted and turned into a confidence by the same operations in the
//! same order (copied from whatlang 0.18's `trigrams`, `combined` and `core::confidence`).
//!
//! The alphabet score is whatlang's `alphabets` method, ported as it is except that ASCII
//! letters are found through a table instead of a binary search. Texts in any other
//! script, and texts with no script, go to whatlang's [`Detector`] unchanged; the script
//! itself is found by `whatlang::detect_script`.
//!
//! The profiles and alphabets are whatlang's, carried in `data/whatlang/` because the
//! crate keeps them private (`scripts/whatlang-profiles.py` regenerates the files; the
//! dependency is pinned to the version they come from). Tests compare every detection
//! with whatlang's on random and real text, so an upgrade of the crate that changes its
//! data or its method fails them until this module follows. Measured with
//! `cargo bench --bench enrich -- enrich_parts/detector`: 49 µs per sample with whatlang,
//! 12 µs with this port (title and 300 body characters, 29 allowed languages).

use std::cmp::Reverse;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use whatlang::{Detector, Lang, Script};

use super::keywords::FxHasher;

const PROFILES: &str = include_str!("../../data/whatlang/trigram-profiles.txt");
const ALPHABETS: &str = include_str!("../../data/whatlang/alphabets.txt");

/// whatlang's `MAX_TRIGRAM_DISTANCE`: a profile's length and the distance of a trigram the
/// text lacks.
const MAX_TRIGRAM_DISTANCE: u32 = 300;
/// whatlang's `MAX_TOTAL_DISTANCE`.
const MAX_TOTAL_DISTANCE: u32 = MAX_TRIGRAM_DISTANCE * MAX_TRIGRAM_DISTANCE;
/// whatlang's `TEXT_TRIGRAMS_SIZE`: the text's most frequent trigrams that are ranked.
const TEXT_TRIGRAMS_SIZE: usize = 600;

type Fx = BuildHasherDefault<FxHasher>;

/// A detected language and whatlang's confidence in it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    pub lang: Lang,
    pub confidence: f64,
}

/// The allowed languages' profiles of one script, indexed by trigram.
#[derive(Debug)]
struct ScriptProfiles {
    /// Allowed languages in whatlang's profile order (the order it scores them in).
    langs: Vec<Lang>,
    /// Trigram → its range in `entries`. One flat array rather than a `Vec` per trigram:
    /// the lookups are the detector's hot loop, and scattered small allocations cost a
    /// cache miss each.
    index: HashMap<u64, (u32, u32), Fx>,
    /// (index into `langs`, rank in that language's profile), grouped by trigram.
    entries: Vec<(u16, u16)>,
}

impl ScriptProfiles {
    fn build(profiles: Vec<(Lang, Vec<u64>)>) -> Self {
        let mut by_trigram: HashMap<u64, Vec<(u16, u16)>, Fx> = HashMap::default();
        for (lang_index, (_, trigrams)) in profiles.iter().enumerate() {
            for (rank, &t) in trigrams.iter().enumerate() {
                by_trigram
                    .entry(t)
                    .or_default()
                    .push((lang_index as u16, rank as u16));
            }
        }
        let mut index = HashMap::with_capacity_and_hasher(by_trigram.len(), Fx::default());
        let mut entries = Vec::new();
        for (t, list) in by_trigram {
            index.insert(t, (entries.len() as u32, list.len() as u32));
            entries.extend(list);
        }
        ScriptProfiles {
            langs: profiles.into_iter().map(|(lang, _)| lang).collect(),
            index,
            entries,
        }
    }
}

/// One script's letters: whatlang's `build_inverted_map` and
/// `generic_alphabet_calculate_scores`.
#[derive(Debug)]
struct Alphabets {
    /// The script's languages in whatlang's order (`Script::langs`).
    script_langs: Vec<Lang>,
    /// Every letter of any of the script's alphabets, sorted.
    chars: Vec<char>,
    /// For each letter, the languages whose alphabet has it.
    char_langs: Vec<Vec<Lang>>,
    /// ASCII letter → its index in `chars` (most letters of Latin text are ASCII).
    ascii: [Option<u16>; 128],
}

impl Alphabets {
    fn build(script: Script, alphabets: &[(Lang, &str)]) -> Self {
        let mut map: HashMap<char, Vec<Lang>> = HashMap::new();
        for &(lang, letters) in alphabets {
            for c in letters.chars() {
                map.entry(c).or_default().push(lang);
            }
        }
        let mut pairs: Vec<(char, Vec<Lang>)> = map.into_iter().collect();
        pairs.sort_unstable_by_key(|(c, _)| *c);
        let (chars, char_langs): (Vec<char>, Vec<Vec<Lang>>) = pairs.into_iter().unzip();
        let mut ascii = [None; 128];
        for (i, &c) in chars.iter().enumerate() {
            if c.is_ascii() {
                ascii[c as usize] = Some(i as u16);
            }
        }
        Alphabets {
            script_langs: script.langs().to_vec(),
            chars,
            char_langs,
            ascii,
        }
    }

    /// The letters counted and each allowed language's score, best first.
    fn scores(&self, lower: &str, allowed: impl Fn(Lang) -> bool) -> (usize, Vec<(Lang, f64)>) {
        let mut char_scores = vec![0usize; self.chars.len()];
        let mut max_raw_score = 0;
        for ch in lower.chars() {
            if is_stop_char(ch) {
                continue;
            }
            max_raw_score += 1;
            let position = match ch {
                c if c.is_ascii() => self.ascii[c as usize].map(usize::from),
                c => self.chars.binary_search(&c).ok(),
            };
            if let Some(position) = position {
                char_scores[position] += 2;
            }
        }
        let mut lang_scores = vec![0usize; Lang::all().len()];
        let mut common_score = 0;
        for (position, char_score) in char_scores.into_iter().enumerate() {
            if char_score > 0 {
                let languages = &self.char_langs[position];
                // A letter every language of the script has raises them all alike.
                if languages.len() == self.script_langs.len() {
                    common_score += char_score;
                } else {
                    for &lang in languages {
                        lang_scores[lang as usize] += char_score;
                    }
                }
            }
        }
        let mut raw_scores: Vec<(Lang, usize)> = self
            .script_langs
            .iter()
            .filter(|&&l| allowed(l))
            .map(|&l| {
                let score = (lang_scores[l as usize] + common_score).saturating_sub(max_raw_score);
                (l, score)
            })
            .collect();
        raw_scores.sort_unstable_by_key(|(_, score)| Reverse(*score));
        let scores = raw_scores
            .into_iter()
            .map(|(lang, raw)| (lang, raw as f64 / max_raw_score as f64))
            .collect();
        (max_raw_score, scores)
    }
}

/// Everything the combined method needs for one script.
#[derive(Debug)]
struct ScriptModel {
    alphabets: Alphabets,
    profiles: ScriptProfiles,
}

impl ScriptModel {
    /// The script's alphabets, and the trigram profiles of its allowed languages.
    fn build(script: Script, allow: Option<&[Lang]>) -> Self {
        let of_script = move |text| data_lines(text).filter(move |(s, _, _)| *s == script);
        let profiles = of_script(PROFILES)
            .filter(|&(_, lang, _)| allowed(allow, lang))
            .map(|(_, lang, trigrams)| {
                let chars: Vec<char> = trigrams.chars().collect();
                assert_eq!(chars.len(), 3 * MAX_TRIGRAM_DISTANCE as usize, "{lang:?}");
                let keys = chars.chunks_exact(3).map(|t| key(t[0], t[1], t[2]));
                (lang, keys.collect())
            })
            .collect();
        let letters: Vec<(Lang, &str)> = of_script(ALPHABETS)
            .map(|(_, lang, letters)| (lang, letters))
            .collect();
        ScriptModel {
            alphabets: Alphabets::build(script, &letters),
            profiles: ScriptProfiles::build(profiles),
        }
    }
}

/// Whether `lang` may be answered; `None` allows every language.
fn allowed(allow: Option<&[Lang]>, lang: Lang) -> bool {
    allow.is_none_or(|list| list.contains(&lang))
}

/// whatlang's detection with the allow list it was built with.
#[derive(Debug)]
pub struct FastDetector {
    /// `None` allows every language.
    allow: Option<Vec<Lang>>,
    latin: ScriptModel,
    cyrillic: ScriptModel,
    fallback: Detector,
}

impl FastDetector {
    /// `allow`: the languages that may be answered; `None` allows every language.
    pub fn new(allow: Option<Vec<Lang>>) -> Self {
        let fallback = match &allow {
            Some(list) => Detector::with_allowlist(list.clone()),
            None => Detector::new(),
        };
        FastDetector {
            latin: ScriptModel::build(Script::Latin, allow.as_deref()),
            cyrillic: ScriptModel::build(Script::Cyrillic, allow.as_deref()),
            allow,
            fallback,
        }
    }

    /// The language of `text`, as `whatlang::Detector::detect` with the same allow list
    /// answers it.
    pub fn detect(&self, text: &str) -> Option<Detection> {
        let model = match whatlang::detect_script(text) {
            Some(Script::Latin) => &self.latin,
            Some(Script::Cyrillic) => &self.cyrillic,
            _ => {
                return self.fallback.detect(text).map(|info| Detection {
                    lang: info.lang(),
                    confidence: info.confidence(),
                })
            }
        };
        let lower = text.to_lowercase();
        let (letter_count, alphabet_scores) = model
            .alphabets
            .scores(&lower, |l| allowed(self.allow.as_deref(), l));
        let (trigram_count, trigram_scores) = model.profiles.scores(&lower);

        // whatlang's `combined::raw_detect`.
        let mut all_langs: Vec<Lang> = alphabet_scores.iter().map(|x| x.0).collect();
        for (lang, _) in &trigram_scores {
            if !all_langs.contains(lang) {
                all_langs.push(*lang);
            }
        }
        let alphabet_weight =
            (-(letter_count as f64 / 300.0) + 2.0 / 3.0).clamp(1.0 / 3.0, 2.0 / 3.0);
        let trigram_weight = 1.0 - alphabet_weight;
        let mut scores: Vec<(Lang, f64)> = all_langs
            .into_iter()
            .map(|lang| {
                let find = |list: &[(Lang, f64)]| {
                    list.iter().find(|(l, _)| *l == lang).map_or(0.0, |x| x.1)
                };
                let score = find(&alphabet_scores) * alphabet_weight
                    + find(&trigram_scores) * trigram_weight;
                (lang, score)
            })
            .collect();
        scores.sort_unstable_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Less));

        // whatlang's `combined::detect`.
        let mut ranked = scores.into_iter();
        let (lang, score1) = ranked.next()?;
        let confidence = match ranked.next() {
            Some((_, score2)) => confidence(score1, score2, trigram_count),
            None => 1.0,
        };
        Some(Detection { lang, confidence })
    }
}

impl ScriptProfiles {
    /// whatlang's `trigrams::calculate_scores_in_profiles`: the number of distinct trigrams
    /// ranked, and each allowed language's score, best first.
    fn scores(&self, lower: &str) -> (usize, Vec<(Lang, f64)>) {
        let ranked = ranked_trigrams(lower);
        let count = ranked.len() as u32;

        // A language's distance is the sum over its profile of |rank in text - rank in
        // profile|, MAX_TRIGRAM_DISTANCE for a trigram the text lacks: the all-missing
        // total minus, for each trigram both share, MAX_TRIGRAM_DISTANCE - |difference|.
        let mut saved = vec![0i64; self.langs.len()];
        for (text_rank, key) in ranked.iter().enumerate() {
            if let Some(&(start, len)) = self.index.get(key) {
                let (start, len) = (start as usize, len as usize);
                for &(lang, profile_rank) in &self.entries[start..start + len] {
                    let diff = (text_rank as i64 - i64::from(profile_rank)).abs();
                    saved[usize::from(lang)] += i64::from(MAX_TRIGRAM_DISTANCE) - diff;
                }
            }
        }
        let mut distances: Vec<(Lang, u32)> = self
            .langs
            .iter()
            .zip(&saved)
            .map(|(&lang, &saved)| {
                let mut total = (i64::from(MAX_TOTAL_DISTANCE) - saved) as u32;
                // whatlang's `calculate_distance`, from here on word for word.
                if MAX_TRIGRAM_DISTANCE > count {
                    let delta = MAX_TRIGRAM_DISTANCE - count;
                    total -= delta * MAX_TRIGRAM_DISTANCE;
                }
                (lang, total.clamp(0, MAX_TOTAL_DISTANCE))
            })
            .collect();
        distances.sort_unstable_by_key(|(_, dist)| *dist);
        let max_dist = count * MAX_TRIGRAM_DISTANCE;
        let scores = distances
            .into_iter()
            .map(|(lang, distance)| (lang, (max_dist - distance) as f64 / max_dist as f64))
            .collect();
        (ranked.len(), scores)
    }
}

/// A trigram as one number; ordering the numbers orders the trigrams as whatlang's
/// `Trigram(char, char, char)` derives it (character by character).
fn key(a: char, b: char, c: char) -> u64 {
    (u64::from(a) << 42) | (u64::from(b) << 21) | u64::from(c)
}

/// whatlang's `get_trigrams_with_positions`: the text's distinct trigrams, most frequent
/// first (ties: the greater trigram first), at most [`TEXT_TRIGRAMS_SIZE`]. Punctuation,
/// digits and ASCII symbols count as spaces; a trigram is skipped when its middle is a
/// space next to another space.
///
/// whatlang counts in a hash map and sorts the (count, trigram) pairs. Here every
/// occurrence is listed and sorted (read greatest first), which leaves equal trigrams together
/// (their run length is the count) and distinct ones in descending order; a stable
/// bucket pass by count then gives the same order without a hash map or a second sort.
fn ranked_trigrams(lower: &str) -> Vec<u64> {
    let mut all = Vec::with_capacity(lower.len() + 1);
    let mut chars = lower.chars().map(to_trigram_char).chain(Some(' '));
    let mut c1 = ' ';
    let mut c2 = chars.next().expect("a space is chained on");
    for c3 in chars {
        if !(c2 == ' ' && (c1 == ' ' || c3 == ' ')) {
            all.push(key(c1, c2, c3));
        }
        c1 = c2;
        c2 = c3;
    }
    all.sort_unstable();

    // Distinct trigrams in descending order with their counts.
    let mut runs: Vec<(u64, usize)> = Vec::with_capacity(all.len());
    for k in all.into_iter().rev() {
        match runs.last_mut() {
            Some((last, n)) if *last == k => *n += 1,
            _ => runs.push((k, 1)),
        }
    }
    // Stable counting sort by descending count: `first[n]` is where the trigrams seen `n`
    // times start.
    let max = runs.iter().map(|r| r.1).max().unwrap_or(0);
    let mut first = vec![0usize; max + 2];
    for &(_, n) in &runs {
        first[n] += 1;
    }
    let mut at = 0;
    for n in (1..=max).rev() {
        let here = first[n];
        first[n] = at;
        at += here;
    }
    let mut ranked = vec![0u64; runs.len()];
    for (k, n) in runs {
        ranked[first[n]] = k;
        first[n] += 1;
    }
    ranked.truncate(TEXT_TRIGRAMS_SIZE);
    ranked
}

/// whatlang's `is_stop_char`: ASCII punctuation, digits, spaces and controls.
fn is_stop_char(ch: char) -> bool {
    matches!(ch, '\u{0000}'..='\u{0040}' | '\u{005B}'..='\u{0060}' | '\u{007B}'..='\u{007E}')
}

/// whatlang's trigram alphabet: stop characters count as spaces.
fn to_trigram_char(ch: char) -> char {
    if is_stop_char(ch) {
        ' '
    } else {
        ch
    }
}

/// The data lines of a file in `data/whatlang/`: script, language, the rest.
fn data_lines(text: &'static str) -> impl Iterator<Item = (Script, Lang, &'static str)> {
    text.lines().filter(|l| !l.starts_with('#')).map(|line| {
        let mut parts = line.splitn(3, ' ');
        let (Some(script), Some(code), Some(rest)) = (parts.next(), parts.next(), parts.next())
        else {
            panic!("malformed line in data/whatlang: {line:?}");
        };
        let script = match script {
            "latin" => Script::Latin,
            "cyrillic" => Script::Cyrillic,
            other => panic!("unexpected script {other:?} in data/whatlang"),
        };
        let lang = Lang::from_code(code).expect("language known to whatlang");
        (script, lang, rest)
    })
}

/// whatlang's `calculate_confidence`.
fn confidence(highest_score: f64, second_score: f64, count: usize) -> f64 {
    if highest_score == 0.0 {
        return 0.0;
    }
    if second_score == 0.0 {
        return highest_score;
    }
    let confident_rate = (3.0 / count as f64) + 0.015;
    let rate = (highest_score - second_score) / second_score;
    if rate > confident_rate {
        1.0
    } else {
        rate / confident_rate
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::enrich::eval::EvalCase;
    use crate::enrich::language::from_iso639_1;
    use crate::enrich::DEFAULT_LANGUAGES;

    /// One detector per allow list the tests compare: newsflow's default languages, every
    /// language, and a short list.
    fn pairs() -> &'static [(FastDetector, Detector)] {
        static PAIRS: std::sync::OnceLock<Vec<(FastDetector, Detector)>> =
            std::sync::OnceLock::new();
        PAIRS.get_or_init(|| {
            let list = |codes: &[&str]| -> Vec<Lang> {
                codes.iter().map(|c| from_iso639_1(c).expect(c)).collect()
            };
            let default = list(DEFAULT_LANGUAGES);
            let short = list(&["en", "de", "nl", "ru", "uk"]);
            vec![
                (FastDetector::new(None), Detector::new()),
                (
                    FastDetector::new(Some(default.clone())),
                    Detector::with_allowlist(default),
                ),
                (
                    FastDetector::new(Some(short.clone())),
                    Detector::with_allowlist(short),
                ),
            ]
        })
    }

    /// The language and the exact bits of the confidence, from both detectors.
    fn both(fast: &FastDetector, slow: &Detector, text: &str) -> (String, String) {
        let f = fast
            .detect(text)
            .map(|d| format!("{:?} {:#x}", d.lang, d.confidence.to_bits()));
        let s = slow
            .detect(text)
            .map(|i| format!("{:?} {:#x}", i.lang(), i.confidence().to_bits()));
        (format!("{f:?}"), format!("{s:?}"))
    }

    fn assert_agrees(text: &str) {
        for (fast, slow) in pairs() {
            let (f, s) = both(fast, slow, text);
            assert_eq!(f, s, "on {text:?}");
        }
    }

    /// Sentences in languages and scripts the labelled set lacks (Cyrillic among them),
    /// and texts on the edges: no letters, one letter, other scripts, mixed scripts.
    const SNIPPETS: &[&str] = &[
        "Правительство России объявило в понедельник о новых мерах поддержки экономики.",
        "Президент України заявив, що переговори триватимуть наступного тижня у Києві.",
        "Българското правителство одобри бюджета за следващата година в сряда.",
        "Влада Србије је у четвртак усвојила нови закон о енергетици.",
        "Chính phủ Việt Nam công bố kế hoạch phát triển kinh tế mới vào thứ Hai.",
        "Hükümet, yeni ekonomik paketin önümüzdeki hafta açıklanacağını duyurdu.",
        "Rząd ogłosił w poniedziałek nowy program wsparcia dla rolników.",
        "Regeringen presenterade på tisdagen en ny plan för energiförsörjningen.",
        "Hallitus esitteli tiistaina uuden suunnitelman energiahuollon turvaamiseksi.",
        "De regering kondigde maandag nieuwe maatregelen aan tegen de woningnood.",
        "Η κυβέρνηση ανακοίνωσε νέα μέτρα για την οικονομία.",
        "政府は月曜日に新しい経済対策を発表した。",
        "정부는 월요일 새로운 경제 대책을 발표했다.",
        "الحكومة أعلنت يوم الاثنين عن إجراءات اقتصادية جديدة",
        "Moscow said Москва сказала что-то new today.",
        "",
        "1234 5678 !!! ???",
        "a",
        "A. B. C.",
        "NATO NATO NATO NATO",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    ];

    #[test]
    fn agrees_with_whatlang_on_snippets() {
        for text in SNIPPETS {
            assert_agrees(text);
        }
    }

    /// Every labelled article, whole and cut at the lengths the enrich stage samples, and
    /// at a few more.
    #[test]
    fn agrees_with_whatlang_on_the_labelled_articles() {
        for case in EvalCase::shipped() {
            let text = format!("{}. {}", case.title, case.body);
            for cut in [12, 40, 90, 200, 300, 700, 2000, usize::MAX] {
                let end = text.char_indices().nth(cut).map_or(text.len(), |(i, _)| i);
                assert_agrees(&text[..end]);
            }
        }
    }

    /// Longer than the 600 trigrams whatlang ranks, and with many ties in count.
    #[test]
    fn agrees_with_whatlang_past_the_ranked_trigrams() {
        let all: String = EvalCase::shipped()
            .iter()
            .map(|c| c.body.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let end = all.char_indices().nth(20_000).map_or(all.len(), |(i, _)| i);
        assert_agrees(&all[..end]);
    }

    #[test]
    fn ranks_trigrams_by_count_then_greatest_first() {
        // "a a" and " a " twice (one space between two letters makes a trigram); "ba ",
        // "ab ", " ba", " ab" once. The comma counts as a space, and two spaces make none.
        let ranked = ranked_trigrams("a ab, ba a");
        let expect = [
            key('a', ' ', 'a'),
            key(' ', 'a', ' '),
            key('b', 'a', ' '),
            key('a', 'b', ' '),
            key(' ', 'b', 'a'),
            key(' ', 'a', 'b'),
        ];
        assert_eq!(ranked, expect);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Random text over letters of many Latin and Cyrillic languages, capitals, digits,
        /// punctuation and a few other scripts: both detectors answer the same.
        #[test]
        fn agrees_with_whatlang_on_random_text(
            text in "([a-zA-Zäöüßéèêàçñõãıİşğłńśźżčšžřůőűåæøœăâîţđơưạếệяжщыэюёїієґ.,;:!?'’—()0-9\\-]{1,10}[ \n]{1,2}){0,80}|\\PC{0,200}",
        ) {
            for (fast, slow) in pairs() {
                let (f, s) = both(fast, slow, &text);
                prop_assert_eq!(f, s);
            }
        }
    }
}
