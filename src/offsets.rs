//! Per-partition contiguous watermarks: the offset that may be committed for a partition is
//! the one after the longest run of *finished* messages (published, dead-lettered or dropped
//! as duplicates) starting at the oldest message still tracked. A finished message behind an
//! unfinished one never moves the watermark (the bug in vectordotdev/vector#24215).
//!
//! Each assignment of a partition gets a new epoch; a completion carrying an older epoch
//! (a late acknowledgement after the partition was revoked) is ignored.

use std::collections::{HashMap, VecDeque};

pub type TopicPartition = (String, i32);

/// Identifies one tracked message; handed back to `complete`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub epoch: u64,
}

#[derive(Debug, Default)]
struct PartitionState {
    epoch: u64,
    /// Messages begun and not yet passed by the watermark, in offset order.
    pending: VecDeque<(i64, bool)>,
    /// Next offset to commit (one past the last contiguous finished message).
    watermark: Option<i64>,
}

#[derive(Debug, Default)]
pub struct OffsetTracker {
    parts: HashMap<TopicPartition, PartitionState>,
    next_epoch: u64,
}

impl OffsetTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts tracking partitions (newly assigned); each gets a fresh epoch.
    pub fn assign(&mut self, partitions: &[TopicPartition]) {
        for tp in partitions {
            self.next_epoch += 1;
            self.parts.insert(
                tp.clone(),
                PartitionState {
                    epoch: self.next_epoch,
                    ..Default::default()
                },
            );
        }
    }

    /// Stops tracking partitions; later completions for them are fenced off.
    pub fn revoke(&mut self, partitions: &[TopicPartition]) {
        for tp in partitions {
            self.parts.remove(tp);
        }
    }

    /// Records that a message was received. Messages of a partition arrive in offset order.
    /// Returns `None` for a partition that is not assigned (the message must not be processed).
    pub fn begin(&mut self, topic: &str, partition: i32, offset: i64) -> Option<Ticket> {
        let st = self.parts.get_mut(&(topic.to_owned(), partition))?;
        if let Some(&(last, _)) = st.pending.back() {
            if offset <= last {
                // Re-delivery of an offset we already track (after a seek); keep the first.
                return None;
            }
        }
        st.pending.push_back((offset, false));
        Some(Ticket {
            topic: topic.to_owned(),
            partition,
            offset,
            epoch: st.epoch,
        })
    }

    /// Marks a message finished. Returns the new committable offset for its partition when
    /// the watermark moved, `None` otherwise (or when the ticket is from an older epoch).
    pub fn complete(&mut self, t: &Ticket) -> Option<i64> {
        let st = self.parts.get_mut(&(t.topic.clone(), t.partition))?;
        if st.epoch != t.epoch {
            return None;
        }
        let idx = st
            .pending
            .binary_search_by_key(&t.offset, |(o, _)| *o)
            .ok()?;
        st.pending[idx].1 = true;
        let mut moved = None;
        while let Some(&(offset, true)) = st.pending.front() {
            st.pending.pop_front();
            moved = Some(offset + 1);
        }
        if moved.is_some() {
            st.watermark = moved;
        }
        moved
    }

    /// Unfinished messages on these partitions (all partitions when `None`).
    pub fn pending(&self, partitions: Option<&[TopicPartition]>) -> usize {
        let count = |st: &PartitionState| st.pending.iter().filter(|(_, done)| !done).count();
        match partitions {
            Some(ps) => ps
                .iter()
                .filter_map(|tp| self.parts.get(tp))
                .map(count)
                .sum(),
            None => self.parts.values().map(count).sum(),
        }
    }

    /// Committable offsets of the given partitions (all when `None`) that have one.
    pub fn watermarks(&self, partitions: Option<&[TopicPartition]>) -> Vec<(TopicPartition, i64)> {
        let mut out: Vec<_> = self
            .parts
            .iter()
            .filter(|(tp, _)| partitions.is_none_or(|ps| ps.contains(tp)))
            .filter_map(|(tp, st)| st.watermark.map(|w| (tp.clone(), w)))
            .collect();
        out.sort();
        out
    }

    pub fn assigned(&self) -> Vec<TopicPartition> {
        let mut v: Vec<_> = self.parts.keys().cloned().collect();
        v.sort();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tp(p: i32) -> TopicPartition {
        ("in".to_owned(), p)
    }

    #[test]
    fn watermark_waits_for_the_oldest() {
        let mut t = OffsetTracker::new();
        t.assign(&[tp(0)]);
        let a = t.begin("in", 0, 10).unwrap();
        let b = t.begin("in", 0, 11).unwrap();
        let c = t.begin("in", 0, 13).unwrap(); // 12 is a gap (compaction / control record)
        assert_eq!(t.complete(&b), None, "11 finished but 10 is not");
        assert_eq!(t.complete(&c), None);
        assert_eq!(t.pending(None), 1);
        assert_eq!(
            t.complete(&a),
            Some(14),
            "all three finished: commit past the gap"
        );
        assert_eq!(t.watermarks(None), vec![(tp(0), 14)]);
        assert_eq!(t.pending(None), 0);
    }

    #[test]
    fn stale_epoch_is_fenced() {
        let mut t = OffsetTracker::new();
        t.assign(&[tp(0)]);
        let old = t.begin("in", 0, 5).unwrap();
        t.revoke(&[tp(0)]);
        assert_eq!(
            t.begin("in", 0, 6),
            None,
            "revoked partition accepts nothing"
        );
        t.assign(&[tp(0)]);
        let new = t.begin("in", 0, 5).unwrap();
        assert_eq!(
            t.complete(&old),
            None,
            "late ack from the previous assignment"
        );
        assert_eq!(t.pending(Some(&[tp(0)])), 1);
        assert_eq!(t.complete(&new), Some(6));
    }

    #[test]
    fn partitions_are_independent() {
        let mut t = OffsetTracker::new();
        t.assign(&[tp(0), tp(1)]);
        let a = t.begin("in", 0, 0).unwrap();
        let b = t.begin("in", 1, 0).unwrap();
        assert_eq!(t.complete(&b), Some(1));
        assert_eq!(t.pending(Some(&[tp(0)])), 1);
        assert_eq!(t.watermarks(None), vec![(tp(1), 1)]);
        assert_eq!(t.complete(&a), Some(1));
    }

    #[test]
    fn redelivered_offset_is_refused() {
        let mut t = OffsetTracker::new();
        t.assign(&[tp(0)]);
        t.begin("in", 0, 3).unwrap();
        assert_eq!(t.begin("in", 0, 3), None);
        assert_eq!(t.begin("in", 0, 2), None);
    }

    proptest! {
        /// Whatever the completion order, the watermark never passes an unfinished message
        /// and reaches the end once everything finished.
        #[test]
        fn never_passes_unfinished(order in Just((0..50usize).collect::<Vec<_>>()).prop_shuffle()) {
            let mut t = OffsetTracker::new();
            t.assign(&[tp(0)]);
            let tickets: Vec<_> = (0..50).map(|i| t.begin("in", 0, 100 + 2 * i as i64).unwrap()).collect();
            let mut done = [false; 50];
            for i in order {
                done[i] = true;
                if let Some(w) = t.complete(&tickets[i]) {
                    for (j, d) in done.iter().enumerate() {
                        if (100 + 2 * j as i64) < w {
                            prop_assert!(*d, "watermark {} passed unfinished {}", w, j);
                        }
                    }
                }
            }
            prop_assert_eq!(t.watermarks(None), vec![(tp(0), 199)]);
        }
    }
}
