//! An event's audience figures as a pure fold over the stored viewings (docs/metrics.md ›
//! Events): unique viewers, peak concurrent viewers, average watch time, retention by
//! minute and chat messages per minute. Everything is counted inside the event's window
//! `[start, end)` (`end` is the event's end, or now while it is live); a fan's overlapping
//! viewings (two tabs, two nodes) count once.

use jiff::Timestamp;
use serde::Serialize;
use std::collections::HashMap;

const MINUTE_MICROS: i64 = 60_000_000;

/// One fan watching from `joined_at` to `left_at` (through one node, one stretch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Viewing {
    pub fan: String,
    pub joined_at: Timestamp,
    pub left_at: Timestamp,
}

/// What the figures are computed over: the event's window so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AudienceWindow {
    pub start: Timestamp,
    /// The event's end, or the present moment while it is live (never before `start`).
    pub end: Timestamp,
}

impl AudienceWindow {
    /// Minutes begun inside the window: the length of the per-minute lists.
    pub fn minutes(self) -> usize {
        let length = micros(self.end) - micros(self.start);
        if length <= 0 {
            return 0;
        }
        usize::try_from((length + MINUTE_MICROS - 1) / MINUTE_MICROS).unwrap_or(0)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AudienceFigures {
    pub unique_viewers: u64,
    pub peak_concurrent: u64,
    /// Seconds watched inside the window per unique viewer; 0 without viewers.
    pub avg_watch_secs: f64,
    /// Of the fans watching at the start, the share still watching at the start of each
    /// minute (the first is 1); empty when no one watched at the start.
    pub retention_by_minute: Vec<f64>,
    /// Chat messages sent in each minute of the window.
    pub messages_per_minute: Vec<u64>,
}

fn micros(at: Timestamp) -> i64 {
    at.as_microsecond()
}

/// Each fan's viewings cut to the window, sorted and merged where they overlap or touch.
fn merged_by_fan(window: AudienceWindow, viewings: &[Viewing]) -> HashMap<&str, Vec<(i64, i64)>> {
    let (start, end) = (micros(window.start), micros(window.end));
    let mut by_fan: HashMap<&str, Vec<(i64, i64)>> = HashMap::new();
    for viewing in viewings {
        let from = micros(viewing.joined_at).max(start);
        let to = micros(viewing.left_at).min(end);
        if from < to {
            by_fan
                .entry(viewing.fan.as_str())
                .or_default()
                .push((from, to));
        }
    }
    for spans in by_fan.values_mut() {
        spans.sort_unstable();
        let mut merged: Vec<(i64, i64)> = Vec::with_capacity(spans.len());
        for &(from, to) in spans.iter() {
            match merged.last_mut() {
                Some(last) if from <= last.1 => last.1 = last.1.max(to),
                _ => merged.push((from, to)),
            }
        }
        *spans = merged;
    }
    by_fan
}

fn present_at(spans: &[(i64, i64)], at: i64) -> bool {
    spans.iter().any(|&(from, to)| from <= at && at < to)
}

/// The figures of `window` from its `viewings` and the send times of its chat messages.
pub fn audience_figures(
    window: AudienceWindow,
    viewings: &[Viewing],
    messages: &[Timestamp],
) -> AudienceFigures {
    let minutes = window.minutes();
    let start = micros(window.start);
    let by_fan = merged_by_fan(window, viewings);
    let unique_viewers = by_fan.len() as u64;
    let watched_micros: i64 = by_fan
        .values()
        .flat_map(|spans| spans.iter().map(|(from, to)| to - from))
        .sum();
    let avg_watch_secs = if unique_viewers == 0 {
        0.0
    } else {
        watched_micros as f64 / 1e6 / unique_viewers as f64
    };
    // Peak: a sweep over every fan's merged spans; a leave at an instant comes before a
    // join at the same instant (spans are half-open).
    let mut changes: Vec<(i64, i64)> = by_fan
        .values()
        .flat_map(|spans| spans.iter().flat_map(|&(from, to)| [(from, 1), (to, -1)]))
        .collect();
    changes.sort_unstable();
    let (mut current, mut peak) = (0_i64, 0_i64);
    for (_, change) in changes {
        current += change;
        peak = peak.max(current);
    }
    let cohort: Vec<&Vec<(i64, i64)>> = by_fan
        .values()
        .filter(|spans| present_at(spans, start))
        .collect();
    let retention_by_minute = if cohort.is_empty() {
        Vec::new()
    } else {
        (0..minutes)
            .map(|minute| {
                let mark = start + minute as i64 * MINUTE_MICROS;
                let staying = cohort
                    .iter()
                    .filter(|spans| present_at(spans, mark))
                    .count();
                staying as f64 / cohort.len() as f64
            })
            .collect()
    };
    let mut messages_per_minute = vec![0_u64; minutes];
    for &at in messages {
        let offset = micros(at) - start;
        if offset < 0 || at >= window.end {
            continue;
        }
        if let Some(count) = usize::try_from(offset / MINUTE_MICROS)
            .ok()
            .and_then(|minute| messages_per_minute.get_mut(minute))
        {
            *count += 1;
        }
    }
    AudienceFigures {
        unique_viewers,
        peak_concurrent: u64::try_from(peak).unwrap_or(0),
        avg_watch_secs,
        retention_by_minute,
        messages_per_minute,
    }
}

#[cfg(test)]
#[path = "audience_tests.rs"]
mod tests;
