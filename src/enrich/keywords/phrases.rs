//! Adjacent pairs and the possible phrases of an article.

use super::*;

/// A possible phrase and its occurrences.
#[derive(Debug, Clone, Copy)]
pub(super) struct Phrase {
    pub(super) key: [u32; MAX_WORDS],
    pub(super) words: u8,
    pub(super) tf: u32,
    /// Some occurrence is written as a name.
    pub(super) name: bool,
    /// Token of the first occurrence.
    pub(super) first: u32,
    /// Token of the first occurrence that does not start a sentence or lie in the title
    /// (`u32::MAX`: none).
    pub(super) first_plain: u32,
}

/// Term ids fit in 21 bits: the scanned text is capped far below two million words.
pub(super) const ID_BITS: u32 = 21;

pub(super) const ID_MASK: u64 = (1 << ID_BITS) - 1;

pub(super) fn pair_key(a: u32, b: u32) -> u64 {
    (u64::from(a) << ID_BITS) | u64::from(b)
}

/// The phrase's term ids packed into one integer (absent words as all ones).
pub(super) fn phrase_key(key: &[u32; MAX_WORDS]) -> u64 {
    key.iter()
        .fold(0, |acc, &id| (acc << ID_BITS) | (u64::from(id) & ID_MASK))
}

/// Adjacent term pairs within a clause, counted.
pub(super) struct Pairs {
    /// Distinct pairs, by id (first met first).
    pub(super) list: Vec<Pair>,
    /// Pair id by [`pair_key`].
    pub(super) ids: IdTable,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Pair {
    pub(super) left: u32,
    pub(super) right: u32,
    /// Occurrences.
    pub(super) n: u32,
}

impl Pairs {
    /// No pairs yet, room for about `n`.
    pub(super) fn new(n: usize, ids: IdTable) -> Pairs {
        let mut pairs = Pairs {
            list: Vec::with_capacity(n),
            ids,
        };
        pairs.ids.reset(n);
        pairs
    }

    /// Counts term `left` followed by term `right`; returns the pair's id.
    #[inline(always)]
    pub(super) fn add(&mut self, left: u32, right: u32) -> u32 {
        let next = self.list.len() as u32;
        let id = self.ids.get_or_insert(pair_key(left, right), next);
        if id == next {
            self.list.push(Pair { left, right, n: 0 });
        }
        self.list[id as usize].n += 1;
        id
    }

    /// Occurrences of term `a` followed by term `b`.
    pub(super) fn get(&self, a: u32, b: u32) -> u32 {
        self.ids
            .get(pair_key(a, b))
            .map_or(0, |id| self.list[id as usize].n)
    }
}

/// The possible phrases of an article, and for each term the highest frequency of a
/// longer phrase that starts or ends with it.
pub(super) struct Grouped {
    pub(super) phrases: Vec<Phrase>,
    pub(super) in_phrase: Vec<u32>,
}

/// Every possible phrase: n-grams inside a clause that start and end with a word that
/// is neither a stop word nor a number, and do not go on past a conjunction.
///
/// Only phrases that can be ranked are gathered. A longer phrase seen once can only be
/// ranked as a name, and its frequency is bounded by the counts of the adjacent pairs it
/// is made of, which [`Pairs`] already knows per token: a bigram whose pair occurs once,
/// or a trigram with such a pair, is seen exactly once, so it is judged on the spot and
/// never looked up. A bigram that does repeat is found by its pair id; only trigrams of
/// two repeated pairs go through a table, by their packed term ids.
pub(super) fn group_phrases(
    tokens: &[Token],
    terms: &[Term],
    pairs: &Pairs,
    trigram: &mut IdTable,
) -> Grouped {
    let mut phrases: Vec<Phrase> = Vec::with_capacity(terms.len());
    let mut in_phrase = vec![0u32; terms.len()];
    // Phrase id of each single word by term id, of each repeated bigram by pair id.
    let mut single = vec![u32::MAX; terms.len()];
    let mut bigram = vec![u32::MAX; pairs.list.len()];
    trigram.reset(pairs.list.len() / 4);

    let gap = |t: &Term| t.stop || t.numeric;
    for (i, tok) in tokens.iter().enumerate() {
        let t0 = &terms[tok.term as usize];
        if gap(t0) {
            continue;
        }
        let seen = Seen {
            at: i as u32,
            starts_name: !tok.title && (!tok.initial || t0.tf_upper > 0 || t0.tf_acronym > 0),
            plain: !(tok.initial || tok.title),
        };
        let mut key = [tok.term, u32::MAX, u32::MAX];
        let mut all_caps = tok.caps;
        let slot = &mut single[tok.term as usize];
        if *slot == u32::MAX {
            *slot = phrases.len() as u32;
        }
        seen.count(&mut phrases, *slot, key, all_caps);

        // Two words.
        let p1 = tok.pair;
        if p1 == u32::MAX {
            continue;
        }
        let tok1 = &tokens[i + 1];
        let t1 = &terms[tok1.term as usize];
        if t1.conjunction {
            // "Latvia and Lithuania" is a list, not a phrase.
            continue;
        }
        key[1] = tok1.term;
        all_caps &= t1.stop || tok1.caps;
        let repeated = pairs.list[p1 as usize].n >= 2;
        if !gap(t1) {
            if repeated {
                let slot = &mut bigram[p1 as usize];
                if *slot == u32::MAX {
                    *slot = phrases.len() as u32;
                }
                seen.count(&mut phrases, *slot, key, all_caps);
            } else {
                seen.once(&mut phrases, &mut in_phrase, key, all_caps);
            }
        }

        // Three words.
        let p2 = tok1.pair;
        if p2 == u32::MAX {
            continue;
        }
        let tok2 = &tokens[i + 2];
        let t2 = &terms[tok2.term as usize];
        if t2.conjunction || gap(t2) {
            continue;
        }
        key[2] = tok2.term;
        all_caps &= t2.stop || tok2.caps;
        if repeated && pairs.list[p2 as usize].n >= 2 {
            let id = trigram.get_or_insert(phrase_key(&key), phrases.len() as u32);
            seen.count(&mut phrases, id, key, all_caps);
        } else {
            seen.once(&mut phrases, &mut in_phrase, key, all_caps);
        }
    }

    // A word that only ever occurs inside one longer phrase ("North" of "North Korea") is
    // that phrase, not a key word of its own.
    for p in phrases.iter().filter(|p| p.words > 1) {
        for term in [p.key[0], p.key[usize::from(p.words) - 1]] {
            let slot = &mut in_phrase[term as usize];
            *slot = (*slot).max(p.tf);
        }
    }
    Grouped { phrases, in_phrase }
}

/// One occurrence of a phrase starting at token `at`.
#[derive(Clone, Copy)]
pub(super) struct Seen {
    pub(super) at: u32,
    /// The first word may start a name: not in the title, and not at a sentence start
    /// unless the word is capitalized elsewhere too.
    pub(super) starts_name: bool,
    /// Neither at a sentence start nor in the title.
    pub(super) plain: bool,
}

impl Seen {
    /// Counts the occurrence for phrase `id` (`phrases.len()`: a new phrase).
    #[inline]
    pub(super) fn count(
        self,
        phrases: &mut Vec<Phrase>,
        id: u32,
        key: [u32; MAX_WORDS],
        all_caps: bool,
    ) {
        if id as usize == phrases.len() {
            phrases.push(Phrase {
                key,
                words: key.iter().take_while(|&&k| k != u32::MAX).count() as u8,
                tf: 0,
                name: false,
                first: self.at,
                first_plain: u32::MAX,
            });
        }
        let p = &mut phrases[id as usize];
        p.tf += 1;
        p.name |= self.starts_name && all_caps;
        if self.plain && p.first_plain == u32::MAX {
            p.first_plain = self.at;
        }
    }

    /// A longer phrase known to occur only here: it counts towards its end words'
    /// `in_phrase`, and is kept only if it is a name.
    #[inline]
    pub(super) fn once(
        self,
        phrases: &mut Vec<Phrase>,
        in_phrase: &mut [u32],
        key: [u32; MAX_WORDS],
        all_caps: bool,
    ) {
        let last = if key[2] == u32::MAX { key[1] } else { key[2] };
        for term in [key[0], last] {
            let slot = &mut in_phrase[term as usize];
            *slot = (*slot).max(1);
        }
        if self.starts_name && all_caps {
            self.count(phrases, phrases.len() as u32, key, all_caps);
        }
    }
}
