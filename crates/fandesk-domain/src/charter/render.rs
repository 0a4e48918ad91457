//! A charter written out as a commented TOML document: the first version of a fresh
//! charter (seeded from the server's settings) and the editor's starting point. Reading
//! the text back gives the same charter (tested).

use super::{Charter, RestrictedWord};
use crate::signals::KeywordRule;
use std::fmt::Write;

/// The document for `charter`, every key written with a comment on what it does.
pub fn render(charter: &Charter) -> String {
    let mut out = String::new();
    let response = &charter.response;
    let _ = write!(
        out,
        "\
# The team's communication charter (README › Charter). Every key is optional: one left
# out takes its default. A saved change applies at once, without a restart.

[response]
# A fan's first message of an opening should get a human reply within this many seconds;
# a miss alerts supervisors (sla_breach) and counts as an SLA breach in the metrics.
first_response_target_secs = {}
# The stretch goal the queue shows (at most the target); it raises nothing.
stretch_target_secs = {}

[escalation]
# Which escalation leads take which reasons: an escalation whose reason mentions one of a
# path's words (or their inflections) goes to the least loaded of its leads, by email or
# member id; the first matching path wins. No path matches: any escalation lead.
# e.g. {{ reasons = [\"chargeback\", \"legal\"], leads = [\"lead@example.com\"] }}
paths = {}

[channels]
# Active team channels at most.
limit = {}
# A channel with no message for this many days is archived (warned 7 days before).
archive_after_days = {}

[bots]
# Fan↔bot exchanges in an opening before the conversation goes to a human.
max_exchanges = {}

[canned]
# A canned response sent with its first line unedited: \"enforce\" refuses it, \"warn\"
# flags it for coaching, \"off\" does not check.
first_line = {}

[keywords]
# Fan messages mentioning these alert supervisors: a word, or {{ name, patterns }}.
# Inflections match (refund → refunds, refunded); \"=car\" matches the exact word only.
rules = {}

[restricted]
# Words team members must not send: \"block\" refuses the message, \"warn\" flags it.
rules = {}

[voice]
# How the creator sounds, shown to agents beside the composer.
tone = {}
phrases_to_use = {}
phrases_to_avoid = {}
# Emoji habits, in words.
emoji = {}
sign_off = {}

[review]
# The team reviews this charter every so many days; the dashboard says when it is due.
every_days = {}
",
        response.first_response_target_secs,
        response.stretch_target_secs,
        paths(charter),
        charter.channels.limit,
        charter.channels.archive_after_days,
        charter.bots.max_exchanges,
        string(charter.canned.first_line.as_str()),
        keyword_rules(&charter.keywords.rules),
        restricted_rules(&charter.restricted.rules),
        string(&charter.voice.tone),
        strings(&charter.voice.phrases_to_use),
        strings(&charter.voice.phrases_to_avoid),
        string(&charter.voice.emoji),
        string(&charter.voice.sign_off),
        charter.review.every_days,
    );
    out
}

fn paths(charter: &Charter) -> String {
    list(charter.escalation.paths.iter().map(|path| {
        format!(
            "{{ reasons = {}, leads = {} }}",
            strings(&path.reasons),
            strings(&path.leads)
        )
    }))
}

/// Keyword rules: a rule whose only pattern is its name is written as the word alone.
pub(super) fn keyword_rules(rules: &[KeywordRule]) -> String {
    list(rules.iter().map(|rule| match rule.patterns.as_slice() {
        [only] if *only == rule.name => string(only),
        _ => format!(
            "{{ name = {}, patterns = {} }}",
            string(&rule.name),
            strings(&rule.patterns)
        ),
    }))
}

pub(super) fn restricted_rules(rules: &[RestrictedWord]) -> String {
    list(rules.iter().map(|rule| {
        format!(
            "{{ pattern = {}, action = {} }}",
            string(&rule.pattern),
            string(rule.action.as_str())
        )
    }))
}

/// A list with one item per line, or `[]`.
fn list(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        return "[]".to_owned();
    }
    let mut out = String::from("[\n");
    for item in items {
        let _ = writeln!(out, "    {item},");
    }
    out.push(']');
    out
}

/// A list of strings on one line.
fn strings(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|item| string(item)).collect();
    format!("[{}]", items.join(", "))
}

/// A TOML basic string: quotes, backslashes and control characters escaped.
pub(super) fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
