//! Hand-computed cases, and a property: the fold equals a second-by-second count over
//! generated join/leave logs.

use super::*;
use proptest::prelude::*;
use std::collections::HashSet;

const START: i64 = 1_780_000_000; // seconds since the epoch

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(START + secs).expect("a valid instant")
}

fn viewing(fan: &str, from: i64, to: i64) -> Viewing {
    Viewing {
        fan: fan.to_owned(),
        joined_at: at(from),
        left_at: at(to),
    }
}

fn window(secs: i64) -> AudienceWindow {
    AudienceWindow {
        start: at(0),
        end: at(secs),
    }
}

#[test]
fn hand_computed_event() {
    // A 3-minute event. Ann watches from the countdown to the end; Bob from the start to
    // 1:30, then again 2:00–2:30 in two overlapping tabs; Cy joins late at 0:45 for a
    // minute; Dee only watched the countdown (not a viewer).
    let viewings = [
        viewing("ann", -300, 400),
        viewing("bob", 0, 90),
        viewing("bob", 120, 150),
        viewing("bob", 125, 140),
        viewing("cy", 45, 105),
        viewing("dee", -600, -10),
    ];
    let messages = [at(-5), at(0), at(59), at(60), at(179), at(180)];
    let figures = audience_figures(window(180), &viewings, &messages);
    assert_eq!(figures.unique_viewers, 3);
    // 0:45–1:30 all three.
    assert_eq!(figures.peak_concurrent, 3);
    // ann 180 + bob 90 + 30 + cy 60 = 360 seconds over 3 viewers.
    assert_eq!(figures.avg_watch_secs, 120.0);
    // At the start: ann and bob. 1:00 both; 2:00 both (bob's second stretch); so 1,1,1.
    assert_eq!(figures.retention_by_minute, vec![1.0, 1.0, 1.0]);
    // 0:00 and 0:59 in the first minute, 1:00 in the second, 2:59 in the third; before
    // the start and at the end are outside.
    assert_eq!(figures.messages_per_minute, vec![2, 1, 1]);
}

#[test]
fn retention_follows_the_fans_present_at_the_start() {
    let viewings = [
        viewing("a", 0, 300),
        viewing("b", 0, 61),
        viewing("c", -10, 60),
        viewing("d", 0, 150),
        // A late joiner never enters the retention.
        viewing("late", 30, 300),
    ];
    let figures = audience_figures(window(240), &viewings, &[]);
    // Marks 0, 60, 120, 180: 4/4, then a, b, d (c left exactly at 1:00), then a and d,
    // then a.
    assert_eq!(figures.retention_by_minute, vec![1.0, 0.75, 0.5, 0.25]);
    assert_eq!(figures.messages_per_minute, vec![0, 0, 0, 0]);
}

#[test]
fn empty_and_partial_windows() {
    assert_eq!(
        audience_figures(window(0), &[viewing("a", -5, 5)], &[at(0)]),
        AudienceFigures::default()
    );
    // A live event 61 s in: two minutes begun, the present moment cuts open viewings.
    let figures = audience_figures(window(61), &[viewing("a", 10, 1_000)], &[]);
    assert_eq!(figures.unique_viewers, 1);
    assert_eq!(figures.avg_watch_secs, 51.0);
    assert!(
        figures.retention_by_minute.is_empty(),
        "no one at the start"
    );
    assert_eq!(figures.messages_per_minute, vec![0, 0]);
}

#[test]
fn a_leave_and_a_join_at_one_instant_do_not_overlap() {
    let viewings = [viewing("a", 0, 30), viewing("b", 30, 60)];
    let figures = audience_figures(window(60), &viewings, &[]);
    assert_eq!(figures.peak_concurrent, 1);
}

/// The figures by brute force: every whole second of the window, who is present.
fn second_by_second(length: i64, viewings: &[Viewing], messages: &[i64]) -> AudienceFigures {
    let present = |second: i64| -> HashSet<&str> {
        viewings
            .iter()
            .filter(|v| v.joined_at <= at(second) && at(second) < v.left_at)
            .map(|v| v.fan.as_str())
            .collect()
    };
    let mut unique = HashSet::new();
    let (mut peak, mut fan_seconds) = (0, 0);
    for second in 0..length {
        let here = present(second);
        peak = peak.max(here.len());
        fan_seconds += here.len();
        unique.extend(here);
    }
    let minutes = usize::try_from((length + 59) / 60).unwrap_or(0);
    let cohort = present(0);
    let retention = if cohort.is_empty() {
        Vec::new()
    } else {
        (0..minutes)
            .map(|minute| {
                let later = present(minute as i64 * 60);
                cohort.intersection(&later).count() as f64 / cohort.len() as f64
            })
            .collect()
    };
    let mut per_minute = vec![0; minutes];
    for &second in messages {
        if (0..length).contains(&second) {
            per_minute[usize::try_from(second / 60).unwrap_or(0)] += 1;
        }
    }
    AudienceFigures {
        unique_viewers: unique.len() as u64,
        peak_concurrent: peak as u64,
        avg_watch_secs: if unique.is_empty() {
            0.0
        } else {
            fan_seconds as f64 / unique.len() as f64
        },
        retention_by_minute: retention,
        messages_per_minute: per_minute,
    }
}

/// A log of joins and leaves: each fan joins and leaves a few times (sometimes in two
/// tabs at once), in whole seconds around a window of up to 10 minutes.
fn log() -> impl Strategy<Value = (i64, Vec<Viewing>, Vec<i64>)> {
    (
        0_i64..600,
        prop::collection::vec((0_usize..6, -120_i64..700, 0_i64..400), 0..40),
        prop::collection::vec(-60_i64..700, 0..50),
    )
        .prop_map(|(length, spans, messages)| {
            let viewings = spans
                .into_iter()
                .map(|(fan, from, stay)| viewing(&format!("fan{fan}"), from, from + stay))
                .collect();
            (length, viewings, messages)
        })
}

proptest! {
    #[test]
    fn the_fold_equals_a_second_by_second_count((length, viewings, messages) in log()) {
        let times: Vec<Timestamp> = messages.iter().map(|&second| at(second)).collect();
        let figures = audience_figures(window(length), &viewings, &times);
        prop_assert_eq!(figures, second_by_second(length, &viewings, &messages));
    }
}
