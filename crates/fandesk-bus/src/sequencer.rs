//! Per-topic ordering of timeline events on a node that receives them from several
//! publishers (its own writer and other nodes over NATS). Pure bookkeeping: it says what
//! to do with each event; the bus does it (and reads gaps from the database).

use std::collections::HashMap;

/// What to do with an offered event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Deliver it now (the next in order, an ephemeral event, or the first one seen).
    Deliver,
    /// Already delivered (a copy, or an event a gap fill delivered first): drop it.
    Drop,
    /// Events `after < seq < before` are missing: deliver them from the database first,
    /// then this one.
    Fill { after: u64, before: u64 },
}

/// The last delivered `seq` of each topic that has subscribers on this node.
#[derive(Default)]
pub(crate) struct Sequencer {
    last: HashMap<String, u64>,
}

impl Sequencer {
    /// Decides what to do with an event of `topic` numbered `seq` (`None`: ephemeral).
    /// A topic seen for the first time starts at its first event: its subscribers
    /// replayed the stored history before following (and de-duplicate by `seq`).
    pub(crate) fn offer(&self, topic: &str, seq: Option<u64>) -> Step {
        let Some(seq) = seq else { return Step::Deliver };
        match self.last.get(topic) {
            None => Step::Deliver,
            Some(&last) if seq <= last => Step::Drop,
            Some(&last) if seq == last + 1 => Step::Deliver,
            Some(&last) => Step::Fill {
                after: last,
                before: seq,
            },
        }
    }

    /// Records that `seq` of `topic` was delivered (never moves backwards).
    pub(crate) fn delivered(&mut self, topic: &str, seq: Option<u64>) {
        if let Some(seq) = seq {
            let last = self.last.entry(topic.to_owned()).or_insert(0);
            *last = (*last).max(seq);
        }
    }

    /// The last delivered `seq` of `topic`, if it is tracked.
    pub(crate) fn last(&self, topic: &str) -> Option<u64> {
        self.last.get(topic).copied()
    }

    /// Stops tracking a topic nobody on this node follows any more.
    pub(crate) fn forget(&mut self, topic: &str) {
        self.last.remove(topic);
    }

    /// Every tracked topic with its last delivered `seq` (to resynchronise after a
    /// reconnect to NATS).
    pub(crate) fn tracked(&self) -> Vec<(String, u64)> {
        self.last
            .iter()
            .map(|(topic, last)| (topic.clone(), *last))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_each_topic_by_seq() {
        // (topic, seq, expected step) applied in order; a delivered or filled event is
        // recorded before the next row.
        let rows: &[(&str, Option<u64>, Step)] = &[
            ("a", Some(5), Step::Deliver),
            ("a", Some(6), Step::Deliver),
            ("a", Some(6), Step::Drop),
            ("a", Some(4), Step::Drop),
            ("a", None, Step::Deliver),
            (
                "a",
                Some(9),
                Step::Fill {
                    after: 6,
                    before: 9,
                },
            ),
            ("a", Some(8), Step::Drop),
            ("b", Some(1), Step::Deliver),
            (
                "b",
                Some(3),
                Step::Fill {
                    after: 1,
                    before: 3,
                },
            ),
            ("a", Some(10), Step::Deliver),
        ];
        let mut sequencer = Sequencer::default();
        for (i, (topic, seq, expected)) in rows.iter().enumerate() {
            let step = sequencer.offer(topic, *seq);
            assert_eq!(step, *expected, "row {i}: {topic} {seq:?}");
            if step != Step::Drop {
                sequencer.delivered(topic, *seq);
            }
        }
        let mut tracked = sequencer.tracked();
        tracked.sort();
        assert_eq!(tracked, vec![("a".to_owned(), 10), ("b".to_owned(), 3)]);
    }

    #[test]
    fn a_forgotten_topic_starts_again_at_its_next_event() {
        let mut sequencer = Sequencer::default();
        sequencer.delivered("a", Some(3));
        sequencer.forget("a");
        assert_eq!(sequencer.offer("a", Some(7)), Step::Deliver);
    }
}
