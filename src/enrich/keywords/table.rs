//! A small open-addressing map from 64-bit keys to dense ids, for the extractor's hot
//! lookups (term keys, packed term-id pairs and triples).
//!
//! A general `HashMap` hashes its key again, probes SIMD groups and keeps control bytes;
//! here every key is looked up once per token, the map only ever grows within one
//! article, and the ids it hands out are simply the insertion order. One multiply spreads
//! the key (already a hash, or packed ids), linear probing walks a flat array, and
//! clearing for the next article keeps the allocation and writes nothing: each slot
//! carries the generation it was filled in, and clearing starts a new generation.

/// Open-addressing map from `u64` keys to `u32` ids, never removing entries.
#[derive(Debug, Default)]
pub(super) struct IdTable {
    slots: Vec<Slot>,
    /// `64 - log2(slots.len())`: the top bits of the mixed key index the table.
    shift: u32,
    len: usize,
    /// The current generation: a slot of any other is empty. Never 0 once reset, so
    /// zeroed slots are empty.
    generation: u32,
}

/// A key and its id, filled in generation `generation` (the padding of `(u64, u32)` holds
/// it for free).
#[derive(Debug, Default, Clone, Copy)]
struct Slot {
    key: u64,
    id: u32,
    generation: u32,
}

impl IdTable {
    /// Empties the table, sized so that `n` entries fit without growing.
    pub(super) fn reset(&mut self, n: usize) {
        // At most half full: short probe runs.
        let cap = (n.max(8) * 2).next_power_of_two();
        if self.slots.len() < cap {
            self.slots = vec![Slot::default(); cap];
            self.generation = 1;
        } else {
            self.generation = self.generation.wrapping_add(1);
            if self.generation == 0 {
                // Four billion clears later: empty the slots for real once.
                self.slots.fill(Slot::default());
                self.generation = 1;
            }
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
        if self.len * 2 >= self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = self.slot(key);
        loop {
            let slot = self.slots[i];
            if slot.generation != self.generation {
                self.slots[i] = Slot {
                    key,
                    id: next,
                    generation: self.generation,
                };
                self.len += 1;
                return next;
            }
            if slot.key == key {
                return slot.id;
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
            let slot = self.slots[i];
            if slot.generation != self.generation {
                return None;
            }
            if slot.key == key {
                return Some(slot.id);
            }
            i = (i + 1) & mask;
        }
    }

    /// Doubles the slots (or makes the first ones) and re-inserts every entry.
    #[cold]
    fn grow(&mut self) {
        let old = std::mem::take(&mut self.slots);
        let generation = self.generation;
        self.reset(old.len().max(8));
        for slot in old.into_iter().filter(|s| s.generation == generation) {
            self.get_or_insert(slot.key, slot.id);
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
