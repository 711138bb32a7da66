//! A compact hash index from 64-bit keys to ring slots: two-choice buckets of 16 packed
//! `u32`s (one cache line each), each holding a slot number, the slot's lap (two bits) and a
//! few bits of the key as a tag.
//!
//! Invariant: nothing is ever removed explicitly. A value is live while the ring still holds
//! the entry written at that slot in that lap ([`Liveness`]); dead values are reused by later
//! inserts. A tag match is only a candidate: the caller confirms it against the entry, so a
//! stale value that aliases a newer lap costs a comparison, never a wrong answer.

use std::collections::HashMap;
use std::mem::size_of;

use super::minhash::mix64;

const WAYS: usize = 16;
/// Average bucket fill the tables are sized for; with two choices a bucket of 16 overflows
/// very rarely at this load.
const LOAD: f64 = 0.8;
/// Most values one key holds in a lossy table: a band key shared by many articles (it comes
/// from boilerplate) stays cheap to look up, and the articles that chose it while it was
/// still rare stay findable under it.
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

/// One cache line of packed values.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
struct Bucket([u32; WAYS]);

#[derive(Debug)]
pub(super) struct TagTable {
    buckets: Vec<Bucket>,
    n_buckets: u64,
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
        let n_buckets = ((keys as f64 / (WAYS as f64 * LOAD)).ceil() as u64).max(2);
        TagTable {
            buckets: vec![Bucket([0; WAYS]); n_buckets as usize],
            n_buckets,
            slot_bits,
            tag_bits: 30 - slot_bits,
            policy,
            spilled: HashMap::new(),
            spilled_values: 0,
        }
    }

    pub(super) fn bytes(&self) -> usize {
        self.buckets.len() * size_of::<Bucket>() + self.spilled_values * 8 + self.spilled.len() * 40
    }

    fn place(&self, key: u64) -> (usize, usize, u32) {
        let h = mix64(key);
        let range = |x: u64| (((x & 0xffff_ffff) * self.n_buckets) >> 32) as usize;
        let first = range(h);
        let mut second = range(h >> 32);
        if second == first {
            second = (first + 1) % self.n_buckets as usize;
        }
        let tag = (h.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - self.tag_bits)) as u32;
        (first, second, tag)
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

    /// Reads the key's two buckets so that their cache misses overlap with those of other
    /// keys touched before scanning any of them.
    pub(super) fn touch(&self, key: u64) -> u32 {
        let (first, second, _) = self.place(key);
        self.buckets[first].0[0] ^ self.buckets[second].0[0]
    }

    /// Calls `f` with the sequence number of every live value whose tag matches `key`.
    pub(super) fn candidates(&self, key: u64, live: &Liveness, mut f: impl FnMut(u64)) {
        let (first, second, tag) = self.place(key);
        for b in [first, second] {
            for &v in &self.buckets[b].0 {
                if v >> (self.slot_bits + 2) == tag {
                    if let Some((seq, _)) = self.unpack(v, live) {
                        f(seq);
                    }
                }
            }
        }
        if let Some(spilled) = (!self.spilled.is_empty())
            .then(|| self.spilled.get(&key))
            .flatten()
        {
            for &v in spilled {
                if let Some((seq, _)) = self.unpack(v, live) {
                    f(seq);
                }
            }
        }
    }

    /// Adds the entry `seq` (already written to the ring) under `key`. A lossy table refuses
    /// a hot key (one holding `MAX_PER_KEY` live values) and, when both buckets are full,
    /// forgets their oldest value; an exact table keeps everything. Returns whether the value
    /// was stored.
    pub(super) fn insert(&mut self, key: u64, seq: u64, live: &Liveness) -> bool {
        let (first, second, tag) = self.place(key);
        let value = self.pack(seq % live.capacity, seq / live.capacity, tag);
        let lossy = self.policy == Overflow::DropOldest;
        let mut free = [None, None];
        let mut used = [0usize; 2];
        let mut oldest: Option<(u64, usize, usize)> = None;
        let mut same_key = 0;
        for (i, b) in [first, second].into_iter().enumerate() {
            for (way, &v) in self.buckets[b].0.iter().enumerate() {
                match self.unpack(v, live) {
                    None => {
                        free[i].get_or_insert(way);
                    }
                    Some((s, t)) => {
                        used[i] += 1;
                        same_key += usize::from(t == tag);
                        if oldest.is_none_or(|(o, _, _)| s < o) {
                            oldest = Some((s, b, way));
                        }
                    }
                }
            }
        }
        if lossy && same_key >= MAX_PER_KEY {
            return false;
        }
        let target = match free {
            [Some(a), Some(b)] => Some(if used[0] <= used[1] {
                (first, a)
            } else {
                (second, b)
            }),
            [Some(a), None] => Some((first, a)),
            [None, Some(b)] => Some((second, b)),
            [None, None] if lossy => oldest.map(|(_, b, way)| (b, way)),
            [None, None] => None,
        };
        match target {
            Some((b, way)) => self.buckets[b].0[way] = value,
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
    fn lossy_tables_refuse_hot_keys_and_keep_their_first_values() {
        let cap = 200u64;
        let mut t = TagTable::new(cap as usize, 8, Overflow::DropOldest);
        let stored: Vec<bool> = (0..cap)
            .map(|seq| t.insert(42, seq, &Liveness::new(0, seq + 1, cap)))
            .collect();
        assert_eq!(stored.iter().filter(|s| **s).count(), MAX_PER_KEY);
        let found = collect(&t, 42, &Liveness::new(0, cap, cap));
        assert_eq!(found, (0..MAX_PER_KEY as u64).collect::<Vec<_>>());
        assert!(t.insert(43, cap - 1, &Liveness::new(0, cap, cap)));
        // Once its values leave the ring, the key takes new ones.
        let live = Liveness::new(MAX_PER_KEY as u64, cap, cap);
        assert!(t.insert(42, cap - 1, &live));
    }
}
