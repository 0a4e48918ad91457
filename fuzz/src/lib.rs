//! What each fuzz target does with its bytes, shared by the libFuzzer targets
//! (`fuzz_targets/`, run by `scripts/fuzz`) and the corpus replay that `cargo test` runs
//! (`crates/fandesk/tests/fuzz_corpus.rs` includes this file). Each function must return
//! for any input: a panic is a bug.

use fandesk_domain::charter::{self, Charter};
use fandesk_domain::desk::{
    CannedTemplate, Shift, TemplateVars, coverage, is_on_shift, parse_weekday,
};
use fandesk_domain::schedule::{
    QuietHours, Timing, due_at, parse_date, parse_wall_time, validate_timing,
};
use jiff::Timestamp;
use jiff::tz::TimeZone;

/// A client WebSocket frame through the strict decoder the connection uses.
pub fn ws_frame(data: &[u8]) {
    fandesk_http::fuzzing::client_frame(data);
}

/// A REST body through the strict JSON extractor into every request type, and a query
/// string through the strict query decoder into every query type.
pub fn rest_body(data: &[u8]) {
    fandesk_http::fuzzing::request_body(data);
    if let Ok(text) = std::str::from_utf8(data) {
        fandesk_http::fuzzing::query(text);
    }
}

/// A canned template: checked as at creation, then rendered with values taken from the
/// input's first line (a fan name may hold anything).
pub fn canned_template(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (first, _) = text.split_once('\n').unwrap_or((&text, ""));
    let Ok(template) = CannedTemplate::parse(&text) else {
        return;
    };
    let mut vars = TemplateVars {
        fan_name: Some(first.to_owned()),
        agent_name: Some("Ana".to_owned()),
        creator_name: Some(first.chars().rev().collect()),
        ..TemplateVars::default()
    };
    vars.fan_attributes
        .insert("city".to_owned(), first.to_owned());
    let _ = template.render(&vars);
    let _ = template.render(&TemplateVars::default());
}

/// A charter document: parsed; a valid one is rendered, which must parse again, edited,
/// diffed against its rendering, and its escalation paths matched against the text.
pub fn charter(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = charter::diff_lines(&text, "");
    let Ok(parsed) = Charter::parse(&text) else {
        return;
    };
    let rendered = charter::render(&parsed);
    if let Err(errors) = Charter::parse(&rendered) {
        panic!("a rendered charter does not parse: {errors:?}\n{rendered}");
    }
    let _ = charter::unified_diff(&text, &rendered, "a", "b");
    let _ = charter::set_keyword_rules(&text, &parsed.keywords.rules);
    let _ = charter::set_restricted_rules(&text, &parsed.restricted.rules);
    let _ = parsed.restricted_rules();
    if let Ok(matcher) = parsed.escalation_matcher() {
        let _ = parsed.escalation_path(&matcher, &text);
    }
}

/// Schedule and time-zone input as the API takes it, one field a line: an IANA zone, a
/// date, a wall time, quiet hours' start and end, a weekday. What parses is used: a due
/// time in the zone out of the quiet hours, a shift's windows, the week's coverage.
pub fn schedule(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut fields = text.split('\n');
    let mut next = || fields.next().unwrap_or("");
    let (zone, date, time, quiet_start, quiet_end, weekday) =
        (next(), next(), next(), next(), next(), next());
    let zone = TimeZone::get(zone).unwrap_or(TimeZone::UTC);
    let quiet = match (parse_wall_time(quiet_start), parse_wall_time(quiet_end)) {
        (Some(start), Some(end)) => QuietHours::new(start, end).ok(),
        _ => None,
    };
    let now = Timestamp::from_second(1_796_000_000).expect("a valid instant");
    if let (Some(date), Some(time)) = (parse_date(date), parse_wall_time(time)) {
        let timing = Timing::Local { date, time };
        let _ = validate_timing(timing, now);
        let _ = due_at(timing, &zone, quiet);
        let start = time;
        let end = quiet.map(|quiet| quiet.end).unwrap_or(time);
        let shift = Shift {
            name: "fuzz".to_owned(),
            weekdays: parse_weekday(weekday).into_iter().collect(),
            start,
            end,
            time_zone: zone.clone(),
        };
        if shift.validate().is_ok() {
            let _ = shift.windows_overlapping(
                now,
                now.saturating_add(jiff::SignedDuration::from_hours(24 * 8))
                    .unwrap_or(now),
            );
            let _ = is_on_shift(&shift, now);
            let _ = shift.window_starting_on(date);
            let _ = coverage(std::slice::from_ref(&shift), &zone, date);
        }
    }
}
