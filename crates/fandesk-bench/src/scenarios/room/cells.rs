//! The room tables' cells and verdicts: one column per server, and fandesk's median
//! against the targets, some of them ratios to the baselines of the same run.

use crate::report::{Samples, Table, verdict};
use crate::servers::Kind;

/// The last run's notes of every server (nats-server's own counters).
pub(super) fn add_notes(table: &mut Table, samples: &Samples, group: &str, kinds: &[Kind]) {
    for kind in kinds {
        for note in samples.notes(&format!("{group}/{}", kind.label())) {
            table.note(format!("{}, last run: {note}", kind.label()));
        }
    }
}

/// One cell per server, from the samples.
pub(super) fn cells(
    samples: &Samples,
    group: &str,
    metric: &str,
    kinds: &[Kind],
    decimals: usize,
) -> Vec<String> {
    kinds
        .iter()
        .map(|kind| samples.cell(metric, &format!("{group}/{}", kind.label()), decimals))
        .collect()
}

/// The median of `metric` for one server of `group`.
fn median(samples: &Samples, group: &str, metric: &str, kind: Kind) -> Option<f64> {
    samples.median(metric, &format!("{group}/{}", kind.label()))
}

/// fandesk's median against bounds taken from the other columns' medians: "met" when
/// `ok(fandesk, baseline medians)` holds; "n/a" when a needed column is missing.
fn compare(
    samples: &Samples,
    group: &str,
    metric: &str,
    against: &[Kind],
    ok: impl Fn(f64, &[f64]) -> bool,
) -> String {
    let others: Option<Vec<f64>> = against
        .iter()
        .map(|kind| median(samples, group, metric, *kind))
        .collect();
    match others {
        Some(others) => verdict(median(samples, group, metric, Kind::Fandesk), |value| {
            ok(value, &others)
        }),
        None => "n/a".into(),
    }
}

/// The verdict of a row with a target, or "" for rows without one.
pub(super) fn row_verdict(samples: &Samples, group: &str, metric: &str) -> String {
    let fandesk = median(samples, group, metric, Kind::Fandesk);
    match metric {
        "loss_pct" => verdict(fandesk, |v| v <= 0.0),
        "delivered_pct" => verdict(fandesk, |v| v >= 95.0),
        "server_cores" if group == "coalesced" => verdict(fandesk, |v| v <= 1.0),
        "p99_ms" if group == "coalesced" => verdict(fandesk, |v| v <= 500.0),
        "p99_ms" if group == "latency" => compare(
            samples,
            group,
            metric,
            &[Kind::Ceiling, Kind::Nats],
            |v, b| v <= 1.2 * b[0] && v < b[1],
        ),
        "deliveries_per_sec" if group != "coalesced" => compare(
            samples,
            group,
            metric,
            &[Kind::Ceiling, Kind::Naive],
            |v, b| v >= 0.8 * b[0] && v >= b[1],
        ),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(samples: &mut Samples, group: &str, metric: &str, kind: Kind, value: f64) {
        samples.add(metric, &format!("{group}/{}", kind.label()), value);
    }

    #[test]
    fn verdicts_compare_fandesk_with_the_baselines_of_the_run() {
        let mut samples = Samples::default();
        add(
            &mut samples,
            "1000",
            "deliveries_per_sec",
            Kind::Ceiling,
            400.0,
        );
        add(
            &mut samples,
            "1000",
            "deliveries_per_sec",
            Kind::Naive,
            100.0,
        );
        add(
            &mut samples,
            "1000",
            "deliveries_per_sec",
            Kind::Fandesk,
            330.0,
        );
        assert_eq!(row_verdict(&samples, "1000", "deliveries_per_sec"), "met");
        add(
            &mut samples,
            "10000",
            "deliveries_per_sec",
            Kind::Ceiling,
            400.0,
        );
        add(
            &mut samples,
            "10000",
            "deliveries_per_sec",
            Kind::Naive,
            100.0,
        );
        add(
            &mut samples,
            "10000",
            "deliveries_per_sec",
            Kind::Fandesk,
            310.0,
        );
        assert_eq!(
            row_verdict(&samples, "10000", "deliveries_per_sec"),
            "**not met**"
        );
        add(&mut samples, "latency", "p99_ms", Kind::Ceiling, 20.0);
        add(&mut samples, "latency", "p99_ms", Kind::Fandesk, 23.0);
        assert_eq!(
            row_verdict(&samples, "latency", "p99_ms"),
            "n/a",
            "no nats column"
        );
        add(&mut samples, "latency", "p99_ms", Kind::Nats, 22.0);
        assert_eq!(row_verdict(&samples, "latency", "p99_ms"), "**not met**");
        add(&mut samples, "coalesced", "p99_ms", Kind::Fandesk, 480.0);
        assert_eq!(row_verdict(&samples, "coalesced", "p99_ms"), "met");
        assert_eq!(row_verdict(&samples, "coalesced", "p50_ms"), "");
    }
}
