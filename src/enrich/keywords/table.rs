//! A small open-addressing map from 64-bit keys to dense ids, for the extractor's hot
//! lookups (term keys, packed term-id pairs and triples).
//!
//! A general `HashMap` hashes its key again, probes SIMD groups and keeps control bytes;
//! here every key is looked up once per token, the map only ever grows within one
//! article, and the ids it hands out are simply the insertion order. One multiply spreads
//! the key (already a hash, or packed ids), linear probing walks a flat array, and
//! clearing for the next article keeps the allocation.

/// Open-addressing map from `u64` keys to `u32` ids, never removing entries.
#[derive(Debug, Default)]
pub(super) struct IdTable {
    /// `(key, id)`; an empty slot has id [`EMPTY`].
    slots: Vec<(u64, u32)>,
    /// `64 - log2(slots.len())`: the top bits of the mixed key index the table.
    shift: u32,
    len: usize,
}

const EMPTY: u32 = u32::MAX;

impl IdTable {
    /// Empties the table, sized so that `n` entries fit without growing.
    pub(super) fn reset(&mut self, n: usize) {
        // At most half full: short probe runs.
        let cap = (n.max(8) * 2).next_power_of_two();
        if self.slots.len() < cap {
            self.slots = vec![(0, EMPTY); cap];
        } else {
            self.slots.fill((0, EMPTY));
        }
        self.shift = 64 - self.slots.len().trailing_zeros();
        self.len = 0;
    }

    #[inline]
    fn slot(&self, key: u64) -> usize {
        // Fibonacci hashing: the multiply carries every key bit into the top bits.
        (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> self.shift) as usize
    }

    /// The id of `key`, inserting it with id `next` when absent.
    #[inline]
    pub(super) fn get_or_insert(&mut self, key: u64, next: u32) -> u32 {
        debug_assert_ne!(next, EMPTY);
        if self.len * 2 >= self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = self.slot(key);
        loop {
            let (k, id) = self.slots[i];
            if id == EMPTY {
                self.slots[i] = (key, next);
                self.len += 1;
                return next;
            }
            if k == key {
                return id;
            }
            i = (i + 1) & mask;
        }
    }

    /// The id of `key`, if present.
    #[inline]
    pub(super) fn get(&self, key: u64) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = self.slot(key);
        loop {
            let (k, id) = self.slots[i];
            if id == EMPTY {
                return None;
            }
            if k == key {
                return Some(id);
            }
            i = (i + 1) & mask;
        }
    }

    /// Doubles the slots (or makes the first ones) and re-inserts every entry.
    #[cold]
    fn grow(&mut self) {
        let old = std::mem::take(&mut self.slots);
        self.reset(old.len().max(8));
        for (key, id) in old.into_iter().filter(|&(_, id)| id != EMPTY) {
            self.get_or_insert(key, id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    proptest::proptest! {
        /// Same ids as a `HashMap` handing out insertion order, through growth and reuse.
        #[test]
        fn agrees_with_hash_map(
            batches in proptest::collection::vec(
                (0usize..40, proptest::collection::vec(0u64..64, 0..200)), 1..4),
        ) {
            let mut table = IdTable::default();
            for (size_hint, keys) in batches {
                table.reset(size_hint);
                let mut reference: HashMap<u64, u32> = HashMap::new();
                for key in keys {
                    // Spread small keys over the whole range, zero included.
                    let key = key.wrapping_mul(0x0123_4567_89ab_cdef) ^ (key << 60);
                    let next = reference.len() as u32;
                    let want = *reference.entry(key).or_insert(next);
                    proptest::prop_assert_eq!(table.get_or_insert(key, next), want);
                }
                for (&key, &id) in &reference {
                    proptest::prop_assert_eq!(table.get(key), Some(id));
                }
                let absent = u64::MAX - 3;
                proptest::prop_assert_eq!(table.get(absent), reference.get(&absent).copied());
            }
        }
    }
}
