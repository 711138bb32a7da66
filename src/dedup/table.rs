//! A compact hash index from 64-bit keys to ring slots: two-choice buckets of 16 packed
//! `u32`s (one cache line each), each holding a slot number, the slot's lap (two bits) and a
//! few bits of the key as a tag.
//!
//! Invariant: nothing is ever removed explicitly. A value is live while the ring still holds
//! the entry written at that slot in that lap ([`Liveness`]); dead values are reused by later
//! inserts. A tag match is only a candidate: the caller confirms it against the entry, so a
//! stale value that aliases a newer lap costs a comparison, never a wrong answer.

use std::collections::HashMap;

use super::minhash::mix64;

const WAYS: usize = 16;
/// Average bucket fill the tables are sized for; with two choices a bucket of 16 overflows
/// very rarely at this load.
const LOAD: f64 = 0.8;
/// Most values one key keeps in a lossy table; the oldest gives way to the newest, so a
/// band key shared by many unrelated articles stays cheap to look up.
pub(super) const MAX_PER_KEY: usize = 8;

/// Which ring slots hold live entries, computed once per operation from the ring's head and
/// tail sequence numbers (entry `seq` lives in slot `seq % capacity`, lap `seq / capacity`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Liveness {
    head_lap: u64,
    head_pos: u64,
    tail_lap: u64,
    tail_pos: u64,
    capacity: u64,
}

impl Liveness {
    pub(super) fn new(head: u64, tail: u64, capacity: u64) -> Self {
        Liveness {
            head_lap: head / capacity,
            head_pos: head % capacity,
            tail_lap: tail / capacity,
            tail_pos: tail % capacity,
            capacity,
        }
    }

    /// The sequence number of the entry last written to `slot`, if it is still live and
    /// was written in a lap congruent to `lap` (mod 4).
    #[inline]
    fn live_seq(&self, slot: u64, lap: u32) -> Option<u64> {
        let written_lap = if slot < self.tail_pos {
            self.tail_lap
        } else {
            self.tail_lap.checked_sub(1)?
        };
        let live =
            written_lap > self.head_lap || (written_lap == self.head_lap && slot >= self.head_pos);
        (live && written_lap & 3 == u64::from(lap)).then_some(written_lap * self.capacity + slot)
    }
}

/// How a table behaves when both buckets of a key are full of live values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Overflow {
    /// Keep every value (exact matching must not forget): spill into a side map.
    Keep,
    /// Forget the oldest value (MinHash bands: an article has several, losing one is cheap).
    DropOldest,
}

#[derive(Debug)]
pub(super) struct TagTable {
    values: Vec<u32>,
    buckets: u64,
    slot_bits: u32,
    tag_bits: u32,
    policy: Overflow,
    /// Values that found no room, by key; rare, cleaned lazily.
    spilled: HashMap<u64, Vec<u32>>,
    spilled_values: usize,
}

impl TagTable {
    /// A table for up to `keys` live values pointing into a ring of `2^slot_bits - 1` slots.
    pub(super) fn new(keys: usize, slot_bits: u32, policy: Overflow) -> Self {
        let buckets = ((keys as f64 / (WAYS as f64 * LOAD)).ceil() as u64).max(2);
        TagTable {
            // Zeroed allocation: pages are committed as buckets are first written.
            values: vec![0; buckets as usize * WAYS],
            buckets,
            slot_bits,
            tag_bits: 30 - slot_bits,
            policy,
            spilled: HashMap::new(),
            spilled_values: 0,
        }
    }

    pub(super) fn bytes(&self) -> usize {
        self.values.len() * 4 + self.spilled_values * 8 + self.spilled.len() * 40
    }

    fn place(&self, key: u64) -> (usize, usize, u32) {
        let h = mix64(key);
        let range = |x: u64| ((x & 0xffff_ffff) * self.buckets >> 32) as usize;
        let first = range(h);
        let mut second = range(h >> 32);
        if second == first {
            second = (first + 1) % self.buckets as usize;
        }
        let tag = (h.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - self.tag_bits)) as u32;
        (first * WAYS, second * WAYS, tag)
    }

    fn pack(&self, slot: u64, lap: u64, tag: u32) -> u32 {
        (slot as u32 + 1) | ((lap & 3) as u32) << self.slot_bits | tag << (self.slot_bits + 2)
    }

    /// The live sequence number a stored value refers to, and its tag.
    #[inline]
    fn unpack(&self, value: u32, live: &Liveness) -> Option<(u64, u32)> {
        let slot = value & ((1 << self.slot_bits) - 1);
        if slot == 0 {
            return None;
        }
        let lap = value >> self.slot_bits & 3;
        let seq = live.live_seq(u64::from(slot - 1), lap)?;
        Some((seq, value >> (self.slot_bits + 2)))
    }

    /// Calls `f` with the sequence number of every live value whose tag matches `key`.
    pub(super) fn candidates(&self, key: u64, live: &Liveness, mut f: impl FnMut(u64)) {
        let (first, second, tag) = self.place(key);
        for start in [first, second] {
            for &v in &self.values[start..start + WAYS] {
                if v >> (self.slot_bits + 2) == tag {
                    if let Some((seq, _)) = self.unpack(v, live) {
                        f(seq);
                    }
                }
            }
        }
        if let Some(spilled) = self.spilled.get(&key) {
            for &v in spilled {
                if let Some((seq, _)) = self.unpack(v, live) {
                    f(seq);
                }
            }
        }
    }

    /// Adds the entry `seq` (already written to the ring) under `key`.
    pub(super) fn insert(&mut self, key: u64, seq: u64, live: &Liveness) {
        self.insert_if(key, seq, live, true);
    }

    /// As `insert`, but a lossy table refuses a hot key (one holding `MAX_PER_KEY` values)
    /// unless `hot_ok`. Returns whether the value was stored.
    pub(super) fn insert_if(&mut self, key: u64, seq: u64, live: &Liveness, hot_ok: bool) -> bool {
        let (first, second, tag) = self.place(key);
        let value = self.pack(seq % live.capacity, seq / live.capacity, tag);
        let mut free = [None, None];
        let mut used = [0usize; 2];
        let mut oldest: Option<(u64, usize)> = None;
        let mut same_key = 0;
        let mut oldest_same_key: Option<(u64, usize)> = None;
        for (b, start) in [first, second].into_iter().enumerate() {
            for i in start..start + WAYS {
                match self.unpack(self.values[i], live) {
                    None => {
                        free[b].get_or_insert(i);
                    }
                    Some((s, t)) => {
                        used[b] += 1;
                        if oldest.is_none_or(|(o, _)| s < o) {
                            oldest = Some((s, i));
                        }
                        if t == tag {
                            same_key += 1;
                            if oldest_same_key.is_none_or(|(o, _)| s < o) {
                                oldest_same_key = Some((s, i));
                            }
                        }
                    }
                }
            }
        }
        let lossy = self.policy == Overflow::DropOldest;
        if lossy && same_key >= MAX_PER_KEY && !hot_ok {
            return false;
        }
        let target = match (free, oldest_same_key) {
            (_, Some((_, i))) if lossy && same_key >= MAX_PER_KEY => Some(i),
            ([Some(a), Some(b)], _) => Some(if used[0] <= used[1] { a } else { b }),
            ([Some(i), None] | [None, Some(i)], _) => Some(i),
            ([None, None], _) if lossy => oldest.map(|(_, i)| i),
            ([None, None], _) => None,
        };
        match target {
            Some(i) => self.values[i] = value,
            None => self.spill(key, value, live),
        }
        true
    }

    fn spill(&mut self, key: u64, value: u32, live: &Liveness) {
        self.spilled.entry(key).or_default().push(value);
        self.spilled_values += 1;
        if self.spilled_values > 64 && self.spilled_values > 2 * self.spilled.len() + 64 {
            self.sweep_spilled(live);
        }
    }

    /// Drops spilled values whose entries left the ring.
    fn sweep_spilled(&mut self, live: &Liveness) {
        let slot_bits = self.slot_bits;
        let alive = |v: &u32| {
            let slot = v & ((1 << slot_bits) - 1);
            slot != 0
                && live
                    .live_seq(u64::from(slot - 1), v >> slot_bits & 3)
                    .is_some()
        };
        self.spilled.retain(|_, vs| {
            vs.retain(alive);
            !vs.is_empty()
        });
        self.spilled_values = self.spilled.values().map(Vec::len).sum();
    }

    #[cfg(test)]
    pub(super) fn spilled(&self) -> usize {
        self.spilled_values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(t: &TagTable, key: u64, live: &Liveness) -> Vec<u64> {
        let mut out = Vec::new();
        t.candidates(key, live, |s| out.push(s));
        out.sort_unstable();
        out
    }

    #[test]
    fn finds_what_was_inserted_until_it_leaves_the_ring() {
        let cap = 1000u64;
        let mut t = TagTable::new(cap as usize, 10, Overflow::Keep);
        for seq in 0..cap {
            t.insert(seq * 7919, seq, &Liveness::new(0, seq + 1, cap));
        }
        let live = Liveness::new(0, cap, cap);
        for seq in 0..cap {
            assert!(collect(&t, seq * 7919, &live).contains(&seq));
        }
        // Slots 0..10 rewritten in the next lap: their old values are gone, the rest stay.
        let live = Liveness::new(10, cap + 10, cap);
        for seq in 0..cap {
            let found = collect(&t, seq * 7919, &live);
            assert_eq!(found.contains(&seq), seq >= 10, "seq {seq}");
        }
    }

    #[test]
    fn exact_tables_spill_instead_of_forgetting() {
        let cap = 200u64;
        let mut t = TagTable::new(4, 8, Overflow::Keep);
        for seq in 0..cap {
            t.insert(42, seq, &Liveness::new(0, seq + 1, cap));
        }
        let live = Liveness::new(0, cap, cap);
        assert_eq!(collect(&t, 42, &live).len(), cap as usize);
        assert!(t.spilled() > 0);
    }

    #[test]
    fn lossy_tables_keep_the_newest_values_of_a_hot_key() {
        let cap = 200u64;
        let mut t = TagTable::new(cap as usize, 8, Overflow::DropOldest);
        for seq in 0..cap {
            t.insert(42, seq, &Liveness::new(0, seq + 1, cap));
        }
        let found = collect(&t, 42, &Liveness::new(0, cap, cap));
        assert_eq!(found, (cap - MAX_PER_KEY as u64..cap).collect::<Vec<_>>());
        let live = Liveness::new(0, cap + 1, cap + 1);
        assert!(!t.insert_if(42, cap, &live, false), "hot key refused");
        assert!(t.insert_if(43, cap, &live, false));
    }
}
