//! Text fingerprints of a folded body: word shingles, a 64-bit SimHash, MinHash band keys
//! (candidate generation) and a 1-bit MinHash sketch (similarity estimate).
//!
//! Invariant: every value here is published in records and read back after a restart or by
//! another replica, so the hashes are spelled out (no `std` hasher, no platform dependence)
//! and a change to any of them must bump [`SCHEME`].

/// Version of the band/sketch computation; records with another scheme are remembered for
/// exact matching only.
pub const SCHEME: u32 = 1;
/// Words per shingle.
pub const SHINGLE_WORDS: usize = 3;
/// MinHash bands of one row each: a band matches when two bodies share the shingle that
/// minimises that band's hash function, which happens with probability = Jaccard similarity.
pub const BANDS: usize = 5;
/// Smallest hash values kept per band. An article is indexed under the first of them that is
/// not a hot key (boilerplate shared by many articles), and looked up under all of them.
pub const BAND_CHOICES: usize = 5;
/// Bits in the 1-bit MinHash sketch (one-permutation hashing with densification).
pub const SKETCH_BITS: usize = 256;
/// `SKETCH_BITS` as 64-bit words.
pub const SKETCH_WORDS: usize = SKETCH_BITS / 64;

const BAND_SEEDS: [u64; BANDS] = [
    0x243f_6a88_85a3_08d3,
    0x1319_8a2e_0370_7344,
    0xa409_3822_299f_31d0,
    0x082e_fa98_ec4e_6c89,
    0x4528_21e6_38d0_1377,
];
const SKETCH_SEED: u64 = 0xbe54_66cf_34e9_0c6c;
const BIN_SHIFT: u32 = 64 - SKETCH_BITS.trailing_zeros();

/// What near-duplicate matching needs from a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NearFingerprint {
    /// The `BAND_CHOICES` smallest hash values of each band (high 32 bits), ascending;
    /// `u32::MAX` fills in for bodies with fewer shingles.
    pub bands: [[u32; BAND_CHOICES]; BANDS],
    /// One bit per sketch bin: the parity of a hash of the bin's minimum.
    pub sketch: [u64; SKETCH_WORDS],
}

impl NearFingerprint {
    /// Estimated Jaccard similarity of the two shingle sets, in [0, 1].
    ///
    /// Bins whose minima agree agree on their bit; the others agree half of the time, so
    /// `P(bit equal) = (1 + J) / 2`.
    pub fn similarity(&self, other: &NearFingerprint) -> f64 {
        let differing: u32 = self
            .sketch
            .iter()
            .zip(&other.sketch)
            .map(|(a, b)| (a ^ b).count_ones())
            .sum();
        let equal = SKETCH_BITS as f64 - f64::from(differing);
        (2.0 * equal / SKETCH_BITS as f64 - 1.0).max(0.0)
    }
}

/// Fingerprints of one folded body.
#[derive(Debug, Clone, PartialEq)]
pub struct TextFingerprint {
    /// Words in the folded body.
    pub words: u32,
    pub simhash: u64,
    /// `None` for a body without a single word.
    pub near: Option<NearFingerprint>,
}

/// Computes all text fingerprints of a folded body (lower case, single spaces).
///
/// One pass over the bytes: each word is hashed as it is read, each shingle goes straight
/// into the SimHash counters and the MinHash state; nothing is collected.
pub fn text_fingerprint(folded: &str) -> TextFingerprint {
    let mut counts = BitCounts::default();
    let mut near = NearState::new();
    let walk = for_each_shingle(folded, |h, kept| {
        counts.add(h);
        if kept {
            near.add(h);
        }
    });
    if walk.shingles > 0 && !walk.any_kept {
        // Only function words: MinHash over every shingle rather than none.
        for_each_shingle(folded, |h, _| near.add(h));
    }
    TextFingerprint {
        words: u32::try_from(walk.words).unwrap_or(u32::MAX),
        simhash: counts.simhash(),
        near: near.finish(),
    }
}

/// The distinct MinHash shingles of a folded body, sorted: for measuring exact Jaccard
/// similarity in the evaluation.
pub fn shingle_set(folded: &str) -> Vec<u64> {
    let (mut all, mut kept) = (Vec::new(), Vec::new());
    for_each_shingle(folded, |h, k| {
        all.push(h);
        if k {
            kept.push(h);
        }
    });
    if kept.is_empty() {
        kept = all;
    }
    kept.sort_unstable();
    kept.dedup();
    kept
}

/// Exact Jaccard similarity of two sorted sets.
pub fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    let (mut i, mut j, mut both) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - both;
    if union == 0 {
        1.0
    } else {
        both as f64 / union as f64
    }
}

/// What one walk over the words saw.
struct Walk {
    words: usize,
    shingles: usize,
    /// A shingle with at least one content word was seen.
    any_kept: bool,
}

/// Calls `f(hash, kept)` for every shingle of a folded body, in order. `kept` marks the
/// shingles MinHash uses: those with at least one content word, since shingles made only
/// of function words ("one of the", "as well as") recur across unrelated articles and would
/// turn band keys into hot spots. A body of fewer than [`SHINGLE_WORDS`] words has its
/// words as shingles, all kept.
fn for_each_shingle(folded: &str, mut f: impl FnMut(u64, bool)) -> Walk {
    let bytes = folded.as_bytes();
    // The last SHINGLE_WORDS words: (hash, stop word), oldest first.
    let mut window = [(0u64, false); SHINGLE_WORDS];
    let mut walk = Walk {
        words: 0,
        shingles: 0,
        any_kept: false,
    };
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b' ' {
            i += 1;
            continue;
        }
        let start = i;
        let mut h = FNV_OFFSET;
        while i < bytes.len() && bytes[i] != b' ' {
            h = (h ^ u64::from(bytes[i])).wrapping_mul(FNV_PRIME);
            i += 1;
        }
        let word = (mix64(h), is_stopword_hashed(&bytes[start..i], mix64(h)));
        window.rotate_left(1);
        window[SHINGLE_WORDS - 1] = word;
        walk.words += 1;
        if walk.words >= SHINGLE_WORDS {
            let h = window.iter().enumerate().fold(0u64, |acc, (k, (wh, _))| {
                acc ^ wh.rotate_left(21 * k as u32)
            });
            let kept = !window.iter().all(|&(_, stop)| stop);
            walk.shingles += 1;
            walk.any_kept |= kept;
            f(mix64(h), kept);
        }
    }
    if walk.words < SHINGLE_WORDS {
        for &(h, _) in &window[SHINGLE_WORDS - walk.words..] {
            walk.shingles += 1;
            walk.any_kept = true;
            f(h, true);
        }
    }
    walk
}

/// Per-bit counts of ones over many 64-bit values, for SimHash. Each value adds eight table
/// entries (one per byte, each bit spread to a byte lane) to eight lane counters, which are
/// drained into wide counts before a lane can overflow.
struct BitCounts {
    lanes: [u64; 8],
    pending: u32,
    ones: [u32; 64],
    total: u32,
}

impl Default for BitCounts {
    fn default() -> Self {
        BitCounts {
            lanes: [0; 8],
            pending: 0,
            ones: [0; 64],
            total: 0,
        }
    }
}

/// Byte `k` of `SPREAD[b]` is bit `k` of `b`.
const SPREAD: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut b = 0;
    while b < 256 {
        let mut k = 0;
        while k < 8 {
            t[b] |= ((b as u64 >> k) & 1) << (8 * k);
            k += 1;
        }
        b += 1;
    }
    t
};

impl BitCounts {
    #[inline]
    fn add(&mut self, h: u64) {
        for (j, lane) in self.lanes.iter_mut().enumerate() {
            *lane += SPREAD[((h >> (8 * j)) & 0xff) as usize];
        }
        self.pending += 1;
        if self.pending == 255 {
            self.drain();
        }
    }

    fn drain(&mut self) {
        for (j, lane) in self.lanes.iter_mut().enumerate() {
            for k in 0..8 {
                self.ones[8 * j + k] += ((*lane >> (8 * k)) & 0xff) as u32;
            }
            *lane = 0;
        }
        self.total += self.pending;
        self.pending = 0;
    }

    /// Each bit set where more than half of the values have it set.
    fn simhash(mut self) -> u64 {
        self.drain();
        let total = u64::from(self.total);
        self.ones.iter().enumerate().fold(0u64, |h, (bit, &n)| {
            if 2 * u64::from(n) > total {
                h | 1 << bit
            } else {
                h
            }
        })
    }
}

/// 64-bit SimHash: each bit is the majority vote of that bit over the shingle hashes.
pub fn simhash(shingles: &[u64]) -> u64 {
    let mut counts = BitCounts::default();
    for &h in shingles {
        counts.add(h);
    }
    counts.simhash()
}

/// MinHash state over a stream of shingles: the smallest values of each band and the
/// minimum of each sketch bin.
struct NearState {
    any: bool,
    band_min: [[u64; BAND_CHOICES]; BANDS],
    bins: [u64; SKETCH_BITS],
}

impl NearState {
    fn new() -> Self {
        NearState {
            any: false,
            band_min: [[u64::MAX; BAND_CHOICES]; BANDS],
            bins: [u64::MAX; SKETCH_BITS],
        }
    }

    #[inline]
    fn add(&mut self, s: u64) {
        self.any = true;
        for (m, seed) in self.band_min.iter_mut().zip(BAND_SEEDS) {
            keep_smallest(m, mix64(s ^ seed));
        }
        // One permutation hashing: the top bits choose the bin, the rest compete for its
        // minimum. All shingles are hashed once, whatever the number of bins.
        let h = mix64(s ^ SKETCH_SEED);
        let bin = (h >> BIN_SHIFT) as usize;
        self.bins[bin] = self.bins[bin].min(h & (u64::MAX >> (64 - BIN_SHIFT)));
    }

    /// `None` when no shingle was added.
    fn finish(mut self) -> Option<NearFingerprint> {
        if !self.any {
            return None;
        }
        densify(&mut self.bins);
        let mut sketch = [0u64; SKETCH_WORDS];
        for (i, &m) in self.bins.iter().enumerate() {
            sketch[i / 64] |= (mix64(m) & 1) << (i % 64);
        }
        Some(NearFingerprint {
            bands: self.band_min.map(|m| m.map(|v| (v >> 32) as u32)),
            sketch,
        })
    }
}

/// Inserts `v` into the ascending, distinct `smallest` if it belongs there.
#[inline]
fn keep_smallest(smallest: &mut [u64; BAND_CHOICES], v: u64) {
    if v >= smallest[BAND_CHOICES - 1] || smallest.contains(&v) {
        return;
    }
    let at = smallest
        .iter()
        .position(|&x| v < x)
        .expect("v is below the last");
    smallest.copy_within(at..BAND_CHOICES - 1, at + 1);
    smallest[at] = v;
}

/// Fills empty bins from other bins chosen by a fixed per-bin probe sequence ("optimal
/// densification", Shrivastava 2017), so that two bodies fill an empty bin alike and the
/// collision probability stays the Jaccard similarity.
fn densify(bins: &mut [u64; SKETCH_BITS]) {
    let filled = *bins;
    for (i, bin) in bins.iter_mut().enumerate() {
        if *bin != u64::MAX {
            continue;
        }
        for attempt in 1u64.. {
            let j = (mix64((i as u64) << 32 | attempt) >> BIN_SHIFT) as usize;
            if filled[j] != u64::MAX {
                *bin = filled[j];
                break;
            }
        }
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

/// FNV-1a over bytes, then a full 64-bit finalizer.
pub const fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h = FNV_OFFSET;
    let mut i = 0;
    while i < bytes.len() {
        h = (h ^ bytes[i] as u64).wrapping_mul(FNV_PRIME);
        i += 1;
    }
    mix64(h)
}

/// SplitMix64's finalizer: a bijection with full avalanche.
pub const fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Function words of English; shingles made only of these are not used for MinHash.
const STOPWORDS: [&str; 96] = [
    "a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be", "been",
    "before", "being", "between", "both", "but", "by", "can", "could", "did", "do", "does",
    "during", "each", "for", "from", "had", "has", "have", "he", "her", "here", "his", "how", "i",
    "if", "in", "into", "is", "it", "its", "more", "most", "much", "no", "not", "of", "on", "one",
    "only", "or", "other", "our", "out", "over", "said", "says", "she", "should", "so", "some",
    "such", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this",
    "those", "through", "to", "two", "under", "up", "very", "was", "we", "well", "were", "what",
    "when", "where", "which", "while", "who", "will", "with", "would", "year", "you",
];

/// [`STOPWORDS`] by [`hash_bytes`], open addressing on the low bits: slot holds the word's
/// index + 1, 0 when empty.
const STOP_SLOTS: usize = 256;
const STOP_TABLE: [u8; STOP_SLOTS] = {
    let mut t = [0u8; STOP_SLOTS];
    let mut w = 0;
    while w < STOPWORDS.len() {
        let mut slot = hash_bytes(STOPWORDS[w].as_bytes()) as usize % STOP_SLOTS;
        while t[slot] != 0 {
            slot = (slot + 1) % STOP_SLOTS;
        }
        t[slot] = w as u8 + 1;
        w += 1;
    }
    t
};

/// Whether `word`, whose [`hash_bytes`] is `hash`, is one of [`STOPWORDS`]. The hash
/// finds the candidate; the bytes confirm it.
#[inline]
fn is_stopword_hashed(word: &[u8], hash: u64) -> bool {
    if word.len() > 7 {
        return false;
    }
    let mut slot = hash as usize % STOP_SLOTS;
    loop {
        match STOP_TABLE[slot] {
            0 => return false,
            w if STOPWORDS[usize::from(w) - 1].as_bytes() == word => return true,
            _ => slot = (slot + 1) % STOP_SLOTS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopword_table_finds_every_stopword_and_nothing_else() {
        assert!(STOPWORDS.iter().all(|w| w.len() <= 7));
        for w in STOPWORDS {
            assert!(
                is_stopword_hashed(w.as_bytes(), hash_bytes(w.as_bytes())),
                "{w}"
            );
        }
        for w in ["", "seoul", "th", "thee", "wills", "betweenx", "year2"] {
            assert!(
                !is_stopword_hashed(w.as_bytes(), hash_bytes(w.as_bytes())),
                "{w}"
            );
        }
    }

    /// The straightforward computation the streaming one replaced: collect the words, then
    /// all shingles and the kept ones.
    fn reference(folded: &str) -> TextFingerprint {
        let words: Vec<(u64, bool)> = folded
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(|w| (hash_bytes(w.as_bytes()), STOPWORDS.contains(&w)))
            .collect();
        let (mut all, mut kept) = (Vec::new(), Vec::new());
        if words.len() < SHINGLE_WORDS {
            all.extend(words.iter().map(|w| w.0));
            kept.clone_from(&all);
        } else {
            for w in words.windows(SHINGLE_WORDS) {
                let h = w.iter().enumerate().fold(0u64, |acc, (i, (wh, _))| {
                    acc ^ wh.rotate_left(21 * i as u32)
                });
                all.push(mix64(h));
                if !w.iter().all(|&(_, stop)| stop) {
                    kept.push(mix64(h));
                }
            }
            if kept.is_empty() {
                kept.clone_from(&all);
            }
        }
        let mut near = NearState::new();
        kept.iter().for_each(|&h| near.add(h));
        let mut acc = [0i32; 64];
        for h in &all {
            for (bit, a) in acc.iter_mut().enumerate() {
                *a += ((h >> bit & 1) as i32) * 2 - 1;
            }
        }
        TextFingerprint {
            words: words.len() as u32,
            simhash: acc
                .iter()
                .enumerate()
                .fold(0u64, |h, (bit, a)| if *a > 0 { h | 1 << bit } else { h }),
            near: near.finish(),
        }
    }

    proptest::proptest! {
        #[test]
        fn streaming_matches_the_reference(
            words in proptest::collection::vec(
                "(the|of|a|and|said|year|seoul|bank|rate|x|é|[a-z]{1,9})", 0..400),
            spaces in "[ ]{0,3}",
        ) {
            let folded = format!("{spaces}{}{spaces}", words.join(" "));
            proptest::prop_assert_eq!(text_fingerprint(&folded), reference(&folded));
        }
    }

    #[test]
    fn simhash_counts_match_a_plain_majority_vote() {
        let values: Vec<u64> = (0..1000u64).map(|i| mix64(i) & mix64(i + 7)).collect();
        for n in [0, 1, 2, 254, 255, 256, 511, 1000] {
            let mut acc = [0i32; 64];
            for h in &values[..n] {
                for (bit, a) in acc.iter_mut().enumerate() {
                    *a += ((h >> bit & 1) as i32) * 2 - 1;
                }
            }
            let plain = acc
                .iter()
                .enumerate()
                .fold(0u64, |h, (bit, a)| if *a > 0 { h | 1 << bit } else { h });
            assert_eq!(simhash(&values[..n]), plain, "{n}");
        }
    }

    #[test]
    fn identical_bodies_have_identical_fingerprints() {
        let text = "the minister said the bridge would reopen on monday after repairs";
        assert_eq!(text_fingerprint(text), text_fingerprint(text));
        let near = text_fingerprint(text).near.expect("words");
        assert_eq!(near.similarity(&near), 1.0);
    }

    #[test]
    fn empty_body_has_no_near_fingerprint() {
        let fp = text_fingerprint("");
        assert_eq!(fp.words, 0);
        assert!(fp.near.is_none());
    }

    #[test]
    fn unrelated_bodies_are_dissimilar() {
        let a: String = (0..300).map(|i| format!("alpha{i} ")).collect();
        let b: String = (0..300).map(|i| format!("beta{i} ")).collect();
        let (a, b) = (text_fingerprint(a.trim()), text_fingerprint(b.trim()));
        assert!(a.near.unwrap().similarity(&b.near.unwrap()) < 0.3);
    }

    #[test]
    fn the_values_are_stable() {
        // Published in records and compared across versions: a change here needs a new SCHEME.
        let fp = text_fingerprint("seoul ap the bank of korea held its policy rate steady");
        assert_eq!(hash_bytes(b"seoul"), 0x35ae_0936_7802_9008);
        assert_eq!((fp.words, fp.simhash), (11, 0x1621_2b25_d037_f804));
        let near = fp.near.expect("words");
        assert_eq!(
            near.bands[0],
            [584234887, 1722976023, 3343785504, 3739491322, 3932282263]
        );
        assert_eq!(near.bands[4][0], 413137075);
        assert_eq!(
            near.sketch,
            [
                13844087657381960209,
                1009937166387645819,
                1165603381782821665,
                2337368766096510147
            ]
        );
    }
}
