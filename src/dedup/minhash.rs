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
pub fn text_fingerprint(folded: &str) -> TextFingerprint {
    let shingles = shingle_hashes(folded);
    let words = folded.split(' ').filter(|w| !w.is_empty()).count();
    TextFingerprint {
        words: u32::try_from(words).unwrap_or(u32::MAX),
        simhash: simhash(&shingles.all),
        near: near_fingerprint(&shingles.kept),
    }
}

/// The distinct MinHash shingles of a folded body, sorted: for measuring exact Jaccard
/// similarity in the evaluation.
pub fn shingle_set(folded: &str) -> Vec<u64> {
    let mut kept = shingle_hashes(folded).kept;
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

struct Shingles {
    /// Every shingle, for SimHash.
    all: Vec<u64>,
    /// Shingles with at least one content word, for MinHash: shingles made only of function
    /// words ("one of the", "as well as") recur across unrelated articles and would turn
    /// band keys into hot spots.
    kept: Vec<u64>,
}

fn shingle_hashes(folded: &str) -> Shingles {
    let words: Vec<(u64, bool)> = folded
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| (hash_bytes(w.as_bytes()), is_stopword(w)))
        .collect();
    let mut all = Vec::with_capacity(words.len());
    let mut kept = Vec::with_capacity(words.len());
    if words.len() < SHINGLE_WORDS {
        for &(h, _) in &words {
            all.push(h);
            kept.push(h);
        }
        return Shingles { all, kept };
    }
    for w in words.windows(SHINGLE_WORDS) {
        let h = w.iter().enumerate().fold(0u64, |acc, (i, (wh, _))| {
            acc ^ wh.rotate_left(21 * i as u32)
        });
        let h = mix64(h);
        all.push(h);
        if !w.iter().all(|&(_, stop)| stop) {
            kept.push(h);
        }
    }
    if kept.is_empty() {
        kept.clone_from(&all);
    }
    Shingles { all, kept }
}

/// 64-bit SimHash: each bit is the majority vote of that bit over the shingle hashes.
pub fn simhash(shingles: &[u64]) -> u64 {
    let mut acc = [0i32; 64];
    for h in shingles {
        for (bit, a) in acc.iter_mut().enumerate() {
            *a += ((h >> bit & 1) as i32) * 2 - 1;
        }
    }
    acc.iter()
        .enumerate()
        .fold(0u64, |h, (bit, a)| if *a > 0 { h | 1 << bit } else { h })
}

fn near_fingerprint(shingles: &[u64]) -> Option<NearFingerprint> {
    if shingles.is_empty() {
        return None;
    }
    let mut band_min = [[u64::MAX; BAND_CHOICES]; BANDS];
    let mut bins = [u64::MAX; SKETCH_BITS];
    for &s in shingles {
        for (m, seed) in band_min.iter_mut().zip(BAND_SEEDS) {
            keep_smallest(m, mix64(s ^ seed));
        }
        // One permutation hashing: the top bits choose the bin, the rest compete for its
        // minimum. All shingles are hashed once, whatever the number of bins.
        let h = mix64(s ^ SKETCH_SEED);
        let bin = (h >> BIN_SHIFT) as usize;
        bins[bin] = bins[bin].min(h & (u64::MAX >> (64 - BIN_SHIFT)));
    }
    densify(&mut bins);
    let mut sketch = [0u64; SKETCH_WORDS];
    for (i, &m) in bins.iter().enumerate() {
        sketch[i / 64] |= (mix64(m) & 1) << (i % 64);
    }
    Some(NearFingerprint {
        bands: band_min.map(|m| m.map(|v| (v >> 32) as u32)),
        sketch,
    })
}

/// Inserts `v` into the ascending, distinct `smallest` if it belongs there.
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

/// FNV-1a over bytes, then a full 64-bit finalizer.
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    mix64(h)
}

/// SplitMix64's finalizer: a bijection with full avalanche.
pub fn mix64(mut z: u64) -> u64 {
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

fn is_stopword(word: &str) -> bool {
    STOPWORDS.binary_search(&word).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopwords_are_sorted_for_binary_search() {
        assert!(STOPWORDS.windows(2).all(|w| w[0] < w[1]));
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
