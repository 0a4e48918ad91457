//! The crash soak's checker: a pure function from what the clients saw (the history) and
//! what the server holds afterwards (the timelines) to the anomalies — lost, unexpected,
//! duplicated, reordered, wrongly acked — and the recovery times after each kill.

use super::history::{Entry, Op};
use std::collections::{BTreeMap, HashMap};

/// One message as read back from a conversation's team timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub client_msg_id: Option<String>,
    pub seq: u64,
    pub public_seq: Option<u64>,
}

/// What the checker found. Every list holds client message ids (or descriptions), so a
/// failing run names its evidence.
#[derive(Debug, Default)]
pub struct Report {
    /// Distinct client message ids sent at least once.
    pub sent: usize,
    /// Distinct ids acknowledged (2xx) at least once.
    pub acked: usize,
    /// Sent, never acknowledged: may be present once or absent (not an anomaly).
    pub indeterminate: usize,
    /// Attempts (first sends and retries) in all.
    pub attempts: usize,
    /// Acknowledged, absent from its conversation's timeline.
    pub lost: Vec<String>,
    /// Present in a timeline, never sent there.
    pub unexpected: Vec<String>,
    /// Present more than once.
    pub duplicated: Vec<String>,
    /// A sender's message stored before (lower `seq`) one it sent earlier.
    pub reordered: Vec<String>,
    /// Acknowledged with a sequence number other than the stored one, or acked twice
    /// with different numbers.
    pub ack_mismatch: Vec<String>,
    /// Timeline entries without a client message id (system and bot entries); counted,
    /// not an anomaly.
    pub other_entries: usize,
    /// Per kill: ms from the kill to the first acknowledgement after it; `None` when the
    /// next kill (or the end) came first.
    pub recoveries: Vec<Option<u64>>,
}

impl Report {
    /// The anomalies, one line each; empty when the run is clean.
    pub fn failures(&self) -> Vec<String> {
        let mut failures = Vec::new();
        for (name, ids) in [
            ("lost", &self.lost),
            ("unexpected", &self.unexpected),
            ("duplicated", &self.duplicated),
            ("reordered", &self.reordered),
            ("ack mismatch", &self.ack_mismatch),
        ] {
            if !ids.is_empty() {
                let shown: Vec<&str> = ids.iter().take(5).map(String::as_str).collect();
                failures.push(format!("{name}: {} ({})", ids.len(), shown.join(", ")));
            }
        }
        failures
    }

    /// Recovery times that were measured, sorted.
    pub fn recovered_ms(&self) -> Vec<u64> {
        let mut times: Vec<u64> = self.recoveries.iter().flatten().copied().collect();
        times.sort_unstable();
        times
    }

    /// Nearest-rank percentile of the measured recovery times.
    pub fn recovery_percentile(&self, percent: u64) -> Option<u64> {
        let times = self.recovered_ms();
        if times.is_empty() {
            return None;
        }
        let rank = (percent * times.len() as u64).div_ceil(100).max(1) as usize;
        times.get(rank - 1).copied()
    }
}

/// What the history says about one client message id.
#[derive(Default)]
struct Sent {
    sender: String,
    conversation: String,
    /// Position in its sender's order of first sends.
    order: usize,
    /// The acked number (`seq`, or `public_seq` for a fan) of each 2xx answer.
    acks: Vec<(u64, bool)>,
}

/// Checks a history against the timelines (`conversation id → messages`), and times the
/// recoveries after `kills` (ms since the start, as the history's).
pub fn check(
    history: &[Entry],
    kills: &[u64],
    timelines: &BTreeMap<String, Vec<Stored>>,
) -> Report {
    let mut report = Report::default();
    let mut sent: HashMap<&str, Sent> = HashMap::new();
    let mut next_order: HashMap<&str, usize> = HashMap::new();
    let mut ack_times: Vec<u64> = Vec::new();
    for entry in history {
        match &entry.op {
            Op::Send => {
                report.attempts += 1;
                if !sent.contains_key(entry.client_msg_id.as_str()) {
                    let order = next_order.entry(entry.sender.as_str()).or_default();
                    sent.insert(
                        &entry.client_msg_id,
                        Sent {
                            sender: entry.sender.clone(),
                            conversation: entry.conversation.clone(),
                            order: *order,
                            acks: Vec::new(),
                        },
                    );
                    *order += 1;
                }
            }
            Op::Ack { seq, public } => {
                ack_times.push(entry.at_ms);
                if let Some(record) = sent.get_mut(entry.client_msg_id.as_str()) {
                    record.acks.push((*seq, *public));
                } else {
                    report
                        .ack_mismatch
                        .push(format!("{} (acked, never sent)", entry.client_msg_id));
                }
            }
            Op::Error { .. } | Op::Timeout => {}
        }
    }
    report.sent = sent.len();
    report.acked = sent.values().filter(|s| !s.acks.is_empty()).count();
    report.indeterminate = report.sent - report.acked;

    // Where each id is stored: (conversation, entry) for every occurrence.
    let mut found: HashMap<&str, Vec<(&str, &Stored)>> = HashMap::new();
    for (conversation, messages) in timelines {
        for message in messages {
            match &message.client_msg_id {
                Some(id) => found
                    .entry(id.as_str())
                    .or_default()
                    .push((conversation.as_str(), message)),
                None => report.other_entries += 1,
            }
        }
    }

    for (id, places) in &found {
        let expected = sent.get(id);
        let at_home = places
            .iter()
            .filter(|(conversation, _)| expected.is_some_and(|s| s.conversation == *conversation))
            .count();
        if at_home < places.len() {
            report.unexpected.push((*id).to_owned());
        }
        if places.len() > 1 {
            report.duplicated.push((*id).to_owned());
        }
    }

    for (id, record) in &sent {
        let stored = found.get(id).and_then(|places| {
            places
                .iter()
                .find(|(conversation, _)| *conversation == record.conversation)
                .map(|(_, message)| *message)
        });
        match stored {
            None if !record.acks.is_empty() => report.lost.push((*id).to_owned()),
            None => {}
            Some(message) => {
                let wrong = record.acks.iter().any(|(seq, public)| {
                    let stored_number = if *public {
                        message.public_seq
                    } else {
                        Some(message.seq)
                    };
                    stored_number != Some(*seq)
                });
                if wrong {
                    report.ack_mismatch.push((*id).to_owned());
                }
            }
        }
    }

    // Per sender: its stored messages in `seq` order must be in its sending order.
    let mut by_sender: BTreeMap<&str, Vec<(u64, usize, &str)>> = BTreeMap::new();
    for (id, record) in &sent {
        if let Some(places) = found.get(id) {
            for (conversation, message) in places {
                if *conversation == record.conversation {
                    by_sender.entry(record.sender.as_str()).or_default().push((
                        message.seq,
                        record.order,
                        id,
                    ));
                }
            }
        }
    }
    for messages in by_sender.values_mut() {
        messages.sort_unstable();
        let mut highest: Option<usize> = None;
        for (_, order, id) in messages.iter() {
            if highest.is_some_and(|high| *order < high) {
                report.reordered.push((*id).to_owned());
            }
            highest = Some(highest.map_or(*order, |high| high.max(*order)));
        }
    }

    ack_times.sort_unstable();
    for (index, kill) in kills.iter().enumerate() {
        let next_kill = kills.get(index + 1).copied().unwrap_or(u64::MAX);
        let first = ack_times
            .iter()
            .find(|at| **at > *kill)
            .filter(|at| **at <= next_kill);
        report.recoveries.push(first.map(|at| at - kill));
    }

    for list in [
        &mut report.lost,
        &mut report.unexpected,
        &mut report.duplicated,
        &mut report.reordered,
        &mut report.ack_mismatch,
    ] {
        list.sort();
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(at_ms: u64, sender: &str, id: &str, op: Op) -> Entry {
        Entry {
            at_ms,
            sender: sender.into(),
            conversation: format!("c-{}", &sender[..1]),
            client_msg_id: id.into(),
            op,
        }
    }

    fn ack(seq: u64) -> Op {
        Op::Ack { seq, public: false }
    }

    fn stored(id: &str, seq: u64) -> Stored {
        Stored {
            client_msg_id: Some(id.into()),
            seq,
            public_seq: Some(seq),
        }
    }

    /// Sender `a` in conversation `c-a`: a-0, a-1, a-2 sent and acked with seq 1, 2, 3;
    /// a kill at 25 ms, the ack of a-2 at 40 ms.
    fn clean_history() -> Vec<Entry> {
        vec![
            entry(0, "a", "a-0", Op::Send),
            entry(5, "a", "a-0", ack(1)),
            entry(10, "a", "a-1", Op::Send),
            entry(15, "a", "a-1", ack(2)),
            entry(20, "a", "a-2", Op::Send),
            entry(
                26,
                "a",
                "a-2",
                Op::Error {
                    detail: "connection reset".into(),
                },
            ),
            entry(30, "a", "a-2", Op::Send),
            entry(40, "a", "a-2", ack(3)),
        ]
    }

    fn timeline(messages: Vec<Stored>) -> BTreeMap<String, Vec<Stored>> {
        BTreeMap::from([("c-a".to_owned(), messages)])
    }

    #[test]
    fn a_clean_run_has_no_failures_and_times_the_recovery() {
        let report = check(
            &clean_history(),
            &[25],
            &timeline(vec![
                stored("a-0", 1),
                stored("a-1", 2),
                stored("a-2", 3),
                Stored {
                    client_msg_id: None,
                    seq: 4,
                    public_seq: None,
                },
            ]),
        );
        assert!(report.failures().is_empty(), "{:?}", report.failures());
        assert_eq!(
            (report.sent, report.acked, report.attempts),
            (3, 3, 4),
            "{report:?}"
        );
        assert_eq!(report.other_entries, 1);
        assert_eq!(report.recoveries, vec![Some(15)]);
        assert_eq!(report.recovery_percentile(50), Some(15));
    }

    #[test]
    fn an_acked_message_missing_is_lost() {
        let report = check(
            &clean_history(),
            &[],
            &timeline(vec![stored("a-0", 1), stored("a-2", 2)]),
        );
        assert_eq!(report.lost, vec!["a-1"]);
        // a-2 was acked with seq 3 but stored as 2.
        assert_eq!(report.ack_mismatch, vec!["a-2"]);
        assert_eq!(report.failures().len(), 2, "{:?}", report.failures());
    }

    #[test]
    fn an_unacked_message_may_be_absent() {
        let mut history = clean_history();
        history.truncate(7); // a-2's retry never answered
        let report = check(
            &history,
            &[],
            &timeline(vec![stored("a-0", 1), stored("a-1", 2)]),
        );
        assert!(report.failures().is_empty(), "{:?}", report.failures());
        assert_eq!(report.indeterminate, 1);
    }

    #[test]
    fn a_message_stored_twice_is_duplicated() {
        let report = check(
            &clean_history(),
            &[],
            &timeline(vec![
                stored("a-0", 1),
                stored("a-1", 2),
                stored("a-2", 3),
                stored("a-2", 4),
            ]),
        );
        assert_eq!(report.duplicated, vec!["a-2"]);
    }

    #[test]
    fn a_message_never_sent_or_sent_elsewhere_is_unexpected() {
        let mut timelines = timeline(vec![
            stored("a-0", 1),
            stored("a-1", 2),
            stored("a-2", 3),
            stored("ghost", 4),
        ]);
        timelines.insert("c-b".into(), vec![stored("a-1", 1)]);
        let report = check(&clean_history(), &[], &timelines);
        assert_eq!(report.unexpected, vec!["a-1", "ghost"]);
        // a-1 is in two timelines: a copy, too.
        assert_eq!(report.duplicated, vec!["a-1"]);
    }

    #[test]
    fn a_later_send_stored_first_is_reordered() {
        let mut history = clean_history();
        history[3] = entry(15, "a", "a-1", ack(1));
        history[1] = entry(5, "a", "a-0", ack(2));
        let report = check(
            &history,
            &[],
            &timeline(vec![stored("a-1", 1), stored("a-0", 2), stored("a-2", 3)]),
        );
        assert_eq!(report.reordered, vec!["a-0"]);
        assert!(report.ack_mismatch.is_empty(), "{:?}", report.ack_mismatch);
    }

    #[test]
    fn a_fan_ack_is_compared_with_the_public_sequence() {
        let history = vec![
            entry(0, "f", "f-0", Op::Send),
            entry(
                1,
                "f",
                "f-0",
                Op::Ack {
                    seq: 1,
                    public: true,
                },
            ),
        ];
        let good = BTreeMap::from([(
            "c-f".to_owned(),
            vec![Stored {
                client_msg_id: Some("f-0".into()),
                seq: 3,
                public_seq: Some(1),
            }],
        )]);
        assert!(check(&history, &[], &good).failures().is_empty());
        let bad = BTreeMap::from([(
            "c-f".to_owned(),
            vec![Stored {
                client_msg_id: Some("f-0".into()),
                seq: 1,
                public_seq: Some(2),
            }],
        )]);
        assert_eq!(check(&history, &[], &bad).ack_mismatch, vec!["f-0"]);
    }

    #[test]
    fn a_kill_followed_by_another_kill_before_any_ack_has_no_recovery() {
        let report = check(
            &clean_history(),
            &[21, 22, 100],
            &timeline(vec![stored("a-0", 1), stored("a-1", 2), stored("a-2", 3)]),
        );
        assert_eq!(report.recoveries, vec![None, Some(18), None]);
        assert_eq!(report.recovery_percentile(100), Some(18));
    }
}
