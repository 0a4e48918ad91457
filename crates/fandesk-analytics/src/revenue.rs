//! Conversions and their attribution (docs/metrics.md › Conversions and revenue): a
//! conversion is credited to the human team member whose public reply to the fan came
//! last within 24 h before it, and to that reply's shift; revenue is summed per agent, per
//! shift and per event.

use jiff::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;

/// How far back a public reply still earns a conversion; a reply exactly 24 h before it
/// still counts.
pub const ATTRIBUTION_WINDOW_MICROS: i64 = 24 * 3_600 * 1_000_000;

/// A public reply by a human team member to the fan (bots' automated replies and internal
/// notes are not replies to the fan, so they are never offered here).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub author: String,
    pub sent_at: Timestamp,
}

/// The reply a conversion at `at` is credited to: the latest one in `[at − 24 h, at]`.
pub fn attribute(at: Timestamp, replies: &[Reply]) -> Option<&Reply> {
    let at_micros = at.as_microsecond();
    replies
        .iter()
        .filter(|reply| {
            let age = at_micros - reply.sent_at.as_microsecond();
            (0..=ATTRIBUTION_WINDOW_MICROS).contains(&age)
        })
        .max_by_key(|reply| reply.sent_at)
}

/// One stored conversion, as the reports read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conversion {
    pub event_id: Option<String>,
    pub value_cents: i64,
    pub created_at: Timestamp,
    /// The credited member and the time of the credited reply.
    pub agent_id: Option<String>,
    pub reply_at: Option<Timestamp>,
}

/// Conversions and their value for one key (a member id, a shift name, an event id);
/// `None`: no member credited, or a reply outside every shift.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RevenueRow {
    pub key: Option<String>,
    pub conversions: u64,
    pub value_cents: i64,
}

/// Sums `conversions` by the key `key_of` gives each (`None` leaves it out entirely),
/// ordered by key with the `None` key first.
pub fn revenue_by(
    conversions: &[Conversion],
    key_of: impl Fn(&Conversion) -> Option<Option<String>>,
) -> Vec<RevenueRow> {
    let mut groups: BTreeMap<Option<String>, (u64, i64)> = BTreeMap::new();
    for conversion in conversions {
        if let Some(key) = key_of(conversion) {
            let group = groups.entry(key).or_default();
            group.0 += 1;
            group.1 = group.1.saturating_add(conversion.value_cents);
        }
    }
    groups
        .into_iter()
        .map(|(key, (conversions, value_cents))| RevenueRow {
            key,
            conversions,
            value_cents,
        })
        .collect()
}

/// The weekly report's revenue: per credited agent, per shift of the credited reply, per
/// event (conversions tied to one).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RevenueReport {
    pub by_agent: Vec<RevenueRow>,
    pub by_shift: Vec<RevenueRow>,
    pub by_event: Vec<RevenueRow>,
}

/// The three groupings of `conversions`; `shift_of` names the shift an instant falls in.
pub fn revenue_report(
    conversions: &[Conversion],
    shift_of: &dyn Fn(Timestamp) -> Option<String>,
) -> RevenueReport {
    RevenueReport {
        by_agent: revenue_by(conversions, |c| Some(c.agent_id.clone())),
        by_shift: revenue_by(conversions, |c| Some(c.reply_at.and_then(shift_of))),
        by_event: revenue_by(conversions, |c| c.event_id.clone().map(Some)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().expect("a timestamp")
    }

    fn reply(author: &str, sent_at: &str) -> Reply {
        Reply {
            author: author.to_owned(),
            sent_at: at(sent_at),
        }
    }

    #[test]
    fn the_latest_reply_within_24_hours_earns_the_conversion() {
        let replies = [
            reply("ann", "2026-03-01T10:00:00Z"),
            reply("bob", "2026-03-01T12:00:00Z"),
            reply("cy", "2026-03-02T12:00:01Z"),
        ];
        // (conversion time, credited author)
        let table: &[(&str, Option<&str>)] = &[
            // Before every reply.
            ("2026-03-01T09:59:59Z", None),
            // At the same instant as a reply: it counts.
            ("2026-03-01T10:00:00Z", Some("ann")),
            ("2026-03-01T11:59:59Z", Some("ann")),
            // The later reply wins.
            ("2026-03-01T12:00:00Z", Some("bob")),
            // Exactly 24 h after bob's reply: still bob's (cy's is after the conversion).
            ("2026-03-02T12:00:00Z", Some("bob")),
            // cy's reply came one second later.
            ("2026-03-02T12:00:01Z", Some("cy")),
            // 24 h and one microsecond after cy: nobody.
            ("2026-03-03T12:00:01.000001Z", None),
            ("2026-03-03T12:00:01Z", Some("cy")),
        ];
        for &(when, expected) in table {
            let credited = attribute(at(when), &replies).map(|reply| reply.author.as_str());
            assert_eq!(credited, expected, "conversion at {when}");
        }
        assert_eq!(attribute(at("2026-03-01T10:00:00Z"), &[]), None);
    }

    fn conversion(
        agent: Option<&str>,
        reply_at: Option<&str>,
        event: Option<&str>,
        value: i64,
    ) -> Conversion {
        Conversion {
            event_id: event.map(str::to_owned),
            value_cents: value,
            created_at: at("2026-03-02T00:00:00Z"),
            agent_id: agent.map(str::to_owned),
            reply_at: reply_at.map(at),
        }
    }

    #[test]
    fn revenue_is_summed_per_agent_shift_and_event() {
        let conversions = [
            conversion(Some("ann"), Some("2026-03-01T09:00:00Z"), Some("e1"), 500),
            conversion(Some("ann"), Some("2026-03-01T20:00:00Z"), None, 250),
            conversion(Some("bob"), Some("2026-03-01T10:30:00Z"), Some("e1"), 1_000),
            conversion(None, None, Some("e2"), 99),
        ];
        // The morning shift, 08:00–16:00 in Berlin (UTC+1 in March), every day; the
        // evening is outside every shift.
        let morning = fandesk_domain::desk::Shift {
            name: "morning".to_owned(),
            weekdays: vec![jiff::civil::Weekday::Saturday, jiff::civil::Weekday::Sunday],
            start: jiff::civil::time(8, 0, 0, 0),
            end: jiff::civil::time(16, 0, 0, 0),
            time_zone: jiff::tz::TimeZone::get("Europe/Berlin").expect("a zone"),
        };
        let calendar = crate::ShiftCalendar::new(
            &[morning],
            crate::Period {
                from: at("2026-02-28T00:00:00Z"),
                to: at("2026-03-03T00:00:00Z"),
            },
        );
        // 2026-03-01 is a Sunday: 09:00 and 10:30 UTC are 10:00 and 11:30 in Berlin.
        let shift_of = |when: Timestamp| calendar.shift_at(when);
        let report = revenue_report(&conversions, &shift_of);
        let row = |key: Option<&str>, conversions, value_cents| RevenueRow {
            key: key.map(str::to_owned),
            conversions,
            value_cents,
        };
        assert_eq!(
            report.by_agent,
            vec![
                row(None, 1, 99),
                row(Some("ann"), 2, 750),
                row(Some("bob"), 1, 1_000)
            ]
        );
        assert_eq!(
            report.by_shift,
            vec![row(None, 2, 349), row(Some("morning"), 2, 1_500)]
        );
        assert_eq!(
            report.by_event,
            vec![row(Some("e1"), 2, 1_500), row(Some("e2"), 1, 99)]
        );
    }
}
