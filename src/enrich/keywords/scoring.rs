//! YAKE word and phrase scores.

use super::*;

/// YAKE phrase score: product of word scores over (1 + their sum) and the phrase's
/// frequency; lower is better.
pub(super) fn phrase_score(
    key: &[u32; MAX_WORDS],
    tf: u32,
    terms: &[Term],
    pairs: &Pairs,
    scores: &mut WordScores,
) -> f64 {
    let mut prod = 1.0;
    let mut sum = 0.0;
    for (pos, &id) in key
        .iter()
        .enumerate()
        .take_while(|(_, id)| **id != u32::MAX)
    {
        let t = &terms[id as usize];
        if t.stop {
            // A stop word inside a phrase ("Bank of England"): the more often its
            // neighbours go with it, the less it weakens the phrase.
            let (prev, next) = (key[pos - 1], key[pos + 1]);
            let edge = |a: u32, b: u32| f64::from(pairs.get(a, b));
            let p = edge(prev, id) / f64::from(terms[prev as usize].tf.max(1))
                * (edge(id, next) / f64::from(t.tf.max(1)));
            prod *= 1.0 + (1.0 - p);
            sum -= 1.0 - p;
        } else {
            let score = scores.get(terms, id);
            prod *= score;
            sum += score;
        }
    }
    prod / ((sum + 1.0) * f64::from(tf))
}

/// The YAKE word scores (lower is more important) of non-stop terms, computed when a
/// ranked phrase first asks for one: most terms are in no phrase that can be ranked.
pub(super) struct WordScores<'a> {
    /// Mean and standard deviation of the frequencies of terms that are neither stop
    /// words nor numbers, and the highest frequency; `None` when there are no such terms
    /// (every score is then 0).
    pub(super) stats: Option<(f64, f64, f64)>,
    pub(super) n_sentences: f64,
    /// The tokens, chained by term ([`Term::first`], [`Token::next`]).
    pub(super) tokens: &'a [Token],
    pub(super) known: Vec<Option<f64>>,
}

impl<'a> WordScores<'a> {
    pub(super) fn new(terms: &[Term], tokens: &'a [Token], n_sentences: f64) -> Self {
        let mut scores = WordScores {
            stats: None,
            n_sentences,
            tokens,
            known: vec![None; terms.len()],
        };
        let valid = || {
            terms
                .iter()
                .filter(|t| !t.stop && !t.numeric)
                .map(|t| f64::from(t.tf))
        };
        // Count, sum (in the same order, so the same bits) and maximum in one pass.
        let (mut n, mut sum, mut max_tf) = (0usize, 0.0f64, 1u32);
        for t in terms {
            max_tf = max_tf.max(t.tf);
            if !t.stop && !t.numeric {
                n += 1;
                sum += f64::from(t.tf);
            }
        }
        if n == 0 {
            return scores;
        }
        let mean = sum / n as f64;
        let std = (valid().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
        let max_tf = f64::from(max_tf);
        scores.stats = Some((mean, std, max_tf));
        scores
    }

    /// The score of non-stop term `id`.
    pub(super) fn get(&mut self, terms: &[Term], id: u32) -> f64 {
        let id = id as usize;
        if let Some(score) = self.known[id] {
            return score;
        }
        let score = self.compute(&terms[id]);
        self.known[id] = Some(score);
        score
    }

    /// The sentences of the term's middle occurrences: the `(n - 1) / 2`-th and the
    /// `n / 2`-th of its `n` (the same one when `n` is odd), counted from zero.
    pub(super) fn middle(&self, t: &Term) -> (u32, u32) {
        let mut at = t.first as usize;
        for _ in 0..(t.tf - 1) / 2 {
            at = self.tokens[at].next as usize;
        }
        let lo = self.tokens[at].sentence;
        if t.tf % 2 == 1 {
            return (lo, lo);
        }
        (lo, self.tokens[self.tokens[at].next as usize].sentence)
    }

    pub(super) fn compute(&self, t: &Term) -> f64 {
        let Some((mean, std, max_tf)) = self.stats else {
            return 0.0;
        };
        let logs = Logs::get();
        let distinct = t.spread as usize;
        let tf = f64::from(t.tf);
        let case = f64::from(t.tf_upper.max(t.tf_acronym)) / (1.0 + logs.ln(t.tf));
        let (lo, hi) = self.middle(t);
        let position = logs.position_of(t.tf as usize, lo, hi);
        let freq = tf / (mean + std);
        let pl = if t.left_total == 0 {
            0.0
        } else {
            f64::from(t.left_distinct) / f64::from(t.left_total)
        };
        let pr = if t.right_total == 0 {
            0.0
        } else {
            f64::from(t.right_distinct) / f64::from(t.right_total)
        };
        let rel = (0.5 + pl * (tf / max_tf)) + (0.5 + pr * (tf / max_tf));
        let spread = distinct as f64 / self.n_sentences;
        (position * rel) / (case + freq / rel + spread / rel)
    }
}

/// The logarithms [`WordScores`] takes of small term frequencies and sentence numbers,
/// computed once with the same `f64::ln` calls (so the same bits); larger arguments are
/// computed as they come.
pub(super) struct Logs {
    /// `ln(k)` for term frequency `k`.
    pub(super) tf: [f64; Logs::TF],
    /// `ln(ln(3 + m))` for twice the median sentence `m` (medians are whole or halves).
    pub(super) position: [f64; Logs::POSITION],
}

impl Logs {
    const TF: usize = 256;
    const POSITION: usize = 1024;

    pub(super) fn get() -> &'static Logs {
        static LOGS: std::sync::OnceLock<Box<Logs>> = std::sync::OnceLock::new();
        LOGS.get_or_init(|| {
            let mut logs = Box::new(Logs {
                tf: [0.0; Logs::TF],
                position: [0.0; Logs::POSITION],
            });
            for (k, v) in logs.tf.iter_mut().enumerate() {
                *v = (k as f64).ln();
            }
            for (m, v) in logs.position.iter_mut().enumerate() {
                *v = (3.0 + m as f64 / 2.0).ln().ln();
            }
            logs
        })
    }

    pub(super) fn ln(&self, tf: u32) -> f64 {
        match self.tf.get(tf as usize) {
            Some(v) => *v,
            None => f64::from(tf).ln(),
        }
    }

    /// `ln(ln(3 + median))` of the sorted sentence numbers.
    #[cfg(test)]
    pub(super) fn position(&self, sorted: &[u32]) -> f64 {
        match sorted.len() {
            0 => self.position_of(0, 0, 0),
            n => self.position_of(n, sorted[(n - 1) / 2], sorted[n / 2]),
        }
    }

    /// `ln(ln(3 + median))` of `n` sorted sentence numbers whose `(n - 1) / 2`-th and
    /// `n / 2`-th are `lo` and `hi` (all the median needs).
    pub(super) fn position_of(&self, n: usize, lo: u32, hi: u32) -> f64 {
        let twice = match n {
            0 => Some(0),
            n if n % 2 == 1 => lo.checked_mul(2),
            _ => lo.checked_add(hi),
        };
        match twice.and_then(|t| self.position.get(t as usize)) {
            Some(v) => *v,
            None => {
                let median = match n {
                    0 => 0.0,
                    n if n % 2 == 1 => f64::from(lo),
                    _ => (f64::from(lo) + f64::from(hi)) / 2.0,
                };
                (3.0 + median).ln().ln()
            }
        }
    }
}

#[cfg(test)]
pub(super) fn median(sorted: &[u32]) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => f64::from(sorted[n / 2]),
        n => (f64::from(sorted[n / 2 - 1]) + f64::from(sorted[n / 2])) / 2.0,
    }
}
