//! The charter's schema: which keys each section has, their types and limits. Reading
//! goes on past a problem so every one is reported; the charter is returned only when
//! there are none.

use super::reader::{Node, Report, Table, as_table, as_text, position};
use super::{Charter, CharterError, EscalationPath, MAX_CHARTER_BYTES, RestrictedWord};
use crate::RuleViolation;
use crate::desk::FirstLineMode;
use crate::signals::{KeywordMatcher, KeywordRule, RestrictedAction};
use toml::de::{DeTable, DeValue};

/// Longest keyword, restricted word or escalation reason, in characters.
const MAX_WORD_CHARS: usize = 64;
const MAX_RULES: usize = 200;
const MAX_PATHS: usize = 50;
const MAX_LEADS: usize = 20;
/// An email address is at most 254 characters.
const MAX_LEAD_CHARS: usize = 254;
const MAX_PHRASES: usize = 50;
const MAX_PHRASE_CHARS: usize = 200;
const MAX_PROSE_CHARS: usize = 1_000;

pub(super) fn parse(text: &str) -> Result<Charter, Vec<CharterError>> {
    let mut report = Report::new(text);
    if text.len() > MAX_CHARTER_BYTES {
        report.error(
            "toml",
            0,
            format!("a charter is at most {MAX_CHARTER_BYTES} bytes"),
        );
        return Err(report.into_errors());
    }
    let document = match DeTable::parse(text) {
        Ok(document) => document,
        Err(error) => {
            let offset = error.span().map_or(0, |span| span.start);
            let field = syntax_field(text, offset);
            report.error(&field, offset, error.message().trim());
            return Err(report.into_errors());
        }
    };
    let mut root = Table::root(document.get_ref());
    let mut charter = Charter::default();
    section(&mut report, &mut root, "response", |report, table| {
        read_response(report, table, &mut charter)
    });
    section(&mut report, &mut root, "escalation", |report, table| {
        if let Some(paths) = table.array(report, "paths", MAX_PATHS) {
            let read: Vec<Option<EscalationPath>> = paths
                .into_iter()
                .map(|(field, node)| read_path(report, &field, node))
                .collect();
            if let Some(paths) = read.into_iter().collect() {
                charter.escalation.paths = paths;
            }
        }
    });
    section(&mut report, &mut root, "channels", |report, table| {
        let channels = &mut charter.channels;
        if let Some(limit) = table.integer(report, "limit", 1..=1_000, "channels") {
            channels.limit = whole(limit);
        }
        if let Some(days) = table.integer(report, "archive_after_days", 1..=3_650, "days") {
            channels.archive_after_days = whole(days);
        }
    });
    section(&mut report, &mut root, "bots", |report, table| {
        if let Some(exchanges) = table.integer(report, "max_exchanges", 1..=100, "exchanges") {
            charter.bots.max_exchanges = whole(exchanges);
        }
    });
    section(&mut report, &mut root, "canned", |report, table| {
        let field = table.field("first_line");
        if let Some(node) = table.node("first_line") {
            let mode = match node.value {
                DeValue::String(text) => FirstLineMode::parse(text),
                _ => None,
            };
            match mode {
                Some(mode) => charter.canned.first_line = mode,
                None => report.error(
                    &field,
                    node.start(),
                    "must be \"enforce\", \"warn\" or \"off\"",
                ),
            }
        }
    });
    section(&mut report, &mut root, "keywords", |report, table| {
        if let Some(items) = table.array(report, "rules", MAX_RULES) {
            let rules: Vec<Option<KeywordRule>> = items
                .iter()
                .map(|(field, node)| read_keyword_rule(report, field, *node))
                .collect();
            let names = rules
                .iter()
                .zip(&items)
                .filter_map(|(rule, (field, node))| {
                    rule.as_ref()
                        .map(|rule| (rule.name.clone(), format!("{field}.name"), node.start()))
                });
            unique(report, names, "another rule has this name");
            if let Some(rules) = rules.into_iter().collect() {
                charter.keywords.rules = rules;
            }
        }
    });
    section(&mut report, &mut root, "restricted", |report, table| {
        if let Some(items) = table.array(report, "rules", MAX_RULES) {
            let rules: Vec<Option<RestrictedWord>> = items
                .iter()
                .map(|(field, node)| read_restricted_rule(report, field, *node))
                .collect();
            let patterns = rules
                .iter()
                .zip(&items)
                .filter_map(|(rule, (field, node))| {
                    rule.as_ref().map(|rule| {
                        (
                            rule.pattern.clone(),
                            format!("{field}.pattern"),
                            node.start(),
                        )
                    })
                });
            unique(report, patterns, "another rule has this word");
            if let Some(rules) = rules.into_iter().collect() {
                charter.restricted.rules = rules;
            }
        }
    });
    section(&mut report, &mut root, "voice", |report, table| {
        let voice = &mut charter.voice;
        if let Some(tone) = table.text(report, "tone", MAX_PROSE_CHARS, true) {
            voice.tone = tone;
        }
        if let Some(phrases) = table.texts(report, "phrases_to_use", MAX_PHRASES, MAX_PHRASE_CHARS)
        {
            voice.phrases_to_use = phrases;
        }
        if let Some(phrases) =
            table.texts(report, "phrases_to_avoid", MAX_PHRASES, MAX_PHRASE_CHARS)
        {
            voice.phrases_to_avoid = phrases;
        }
        if let Some(emoji) = table.text(report, "emoji", MAX_PROSE_CHARS, true) {
            voice.emoji = emoji;
        }
        if let Some(sign_off) = table.text(report, "sign_off", MAX_PHRASE_CHARS, true) {
            voice.sign_off = sign_off;
        }
    });
    section(&mut report, &mut root, "review", |report, table| {
        if let Some(days) = table.integer(report, "every_days", 1..=3_650, "days") {
            charter.review.every_days = whole(days);
        }
    });
    root.finish(&mut report);
    if report.has_errors() {
        Err(report.into_errors())
    } else {
        Ok(charter)
    }
}

/// Reads the section `key` of the root with `read`, then reports its unknown keys.
fn section<'a, 'i>(
    report: &mut Report,
    root: &mut Table<'a, 'i>,
    key: &'static str,
    read: impl FnOnce(&mut Report, &mut Table<'a, 'i>),
) {
    if let Some(mut table) = root.table(report, key) {
        read(report, &mut table);
        table.finish(report);
    }
}

/// A value already checked to lie in a `u32` range.
fn whole(number: i64) -> u32 {
    u32::try_from(number).unwrap_or(u32::MAX)
}

fn read_response(report: &mut Report, table: &mut Table, charter: &mut Charter) {
    let response = &mut charter.response;
    let day = 1..=86_400;
    if let Some(secs) = table.integer(report, "first_response_target_secs", day.clone(), "seconds")
    {
        response.first_response_target_secs = whole(secs);
    }
    let stretch_field = table.field("stretch_target_secs");
    let stretch_at = table.node("stretch_target_secs").map(|node| node.start());
    if let Some(secs) = table.integer(report, "stretch_target_secs", day, "seconds") {
        response.stretch_target_secs = whole(secs);
    }
    if response.stretch_target_secs > response.first_response_target_secs {
        let field = match stretch_at {
            Some(_) => stretch_field,
            None => table.field("first_response_target_secs"),
        };
        let at = stretch_at
            .or_else(|| {
                table
                    .node("first_response_target_secs")
                    .map(|node| node.start())
            })
            .unwrap_or(0);
        report.error(
            &field,
            at,
            format!(
                "the stretch target ({} s) must not exceed the first-response target ({} s)",
                response.stretch_target_secs, response.first_response_target_secs
            ),
        );
    }
}

fn read_path(report: &mut Report, field: &str, node: Node) -> Option<EscalationPath> {
    let mut table = as_table(report, field, node)?;
    let reasons_field = table.field("reasons");
    let reasons = table.texts(report, "reasons", MAX_RULES, MAX_WORD_CHARS);
    let leads_field = table.field("leads");
    let leads = table.texts(report, "leads", MAX_LEADS, MAX_LEAD_CHARS);
    let mut ok = true;
    match &reasons {
        Some(reasons) if reasons.is_empty() => {
            report.error(&reasons_field, node.start(), "lists at least one word");
            ok = false;
        }
        Some(reasons) => {
            let rule = KeywordRule::new("reasons", reasons.iter().map(|word| word.trim()));
            if let Err(violation) = KeywordMatcher::new(&[rule]) {
                report.error(&reasons_field, node.start(), reason_of(&violation));
                ok = false;
            }
        }
        None => {
            if table.node("reasons").is_none() {
                report.error(&reasons_field, node.start(), "is required");
            }
            ok = false;
        }
    }
    match &leads {
        Some(leads) if leads.is_empty() || leads.iter().any(|lead| lead.trim().is_empty()) => {
            report.error(
                &leads_field,
                node.start(),
                "lists at least one lead, none blank",
            );
            ok = false;
        }
        Some(_) => {}
        None => {
            if table.node("leads").is_none() {
                report.error(&leads_field, node.start(), "is required");
            }
            ok = false;
        }
    }
    table.finish(report);
    Some(EscalationPath {
        reasons: reasons?.iter().map(|word| word.trim().to_owned()).collect(),
        leads: leads?.iter().map(|lead| lead.trim().to_owned()).collect(),
    })
    .filter(|_| ok)
}

/// A keyword rule: a word (`"refund"`: the rule and its only pattern share the name) or
/// a table `{ name = "…", patterns = ["…", …] }`. Each problem is reported on the value
/// that has it.
fn read_keyword_rule(report: &mut Report, field: &str, node: Node) -> Option<KeywordRule> {
    match node.value {
        DeValue::String(_) => {
            let word = as_text(report, field, node, MAX_WORD_CHARS, false)?;
            let word = word.trim().to_owned();
            let rule = KeywordRule::new(word.clone(), [word]);
            check_rule(report, field, node.start(), &rule).then_some(rule)
        }
        DeValue::Table(_) => {
            let mut table = as_table(report, field, node)?;
            let name_field = table.field("name");
            let patterns_field = table.field("patterns");
            let name_at = table.node("name").map_or(node.start(), |name| name.start());
            let name = table.text(report, "name", MAX_WORD_CHARS, false);
            let patterns = words(report, &mut table, "patterns");
            for key in ["name", "patterns"] {
                if table.node(key).is_none() {
                    report.error(&table.field(key), node.start(), "is required");
                }
            }
            table.finish(report);
            let (name, patterns) = (name?, patterns?);
            let mut ok = check_rule(
                report,
                &name_field,
                name_at,
                &KeywordRule::new(name.trim(), ["x"]),
            );
            for (field, word, at) in &patterns {
                ok &= check_rule(report, field, *at, &KeywordRule::new("x", [word.as_str()]));
            }
            if patterns.is_empty() {
                report.error(&patterns_field, name_at, "lists at least one word");
                ok = false;
            }
            let rule = KeywordRule::new(name.trim(), patterns.into_iter().map(|word| word.1));
            (ok && check_rule(report, field, node.start(), &rule)).then_some(rule)
        }
        other => {
            report.error(
                field,
                node.start(),
                format!(
                    "must be a word or a table {{ name, patterns }}, not {}",
                    other.type_str()
                ),
            );
            None
        }
    }
}

/// Whether the keyword matcher takes `rule` (a letter or digit in every word, folded
/// length, number of words); if not, the problem is reported on `field`.
fn check_rule(report: &mut Report, field: &str, at: usize, rule: &KeywordRule) -> bool {
    match KeywordMatcher::new(std::slice::from_ref(rule)) {
        Ok(_) => true,
        Err(violation) => {
            report.error(field, at, reason_of(&violation));
            false
        }
    }
}

/// A list of one-line words (trimmed), each with its dotted key and position.
fn words(
    report: &mut Report,
    table: &mut Table,
    key: &'static str,
) -> Option<Vec<(String, String, usize)>> {
    let items = table.array(report, key, MAX_RULES)?;
    let mut words = Vec::with_capacity(items.len());
    let mut ok = true;
    for (field, item) in items {
        match as_text(report, &field, item, MAX_WORD_CHARS, false) {
            Some(word) => words.push((field, word.trim().to_owned(), item.start())),
            None => ok = false,
        }
    }
    ok.then_some(words)
}

/// A restricted-word rule: `{ pattern = "…", action = "block" | "warn" }`.
fn read_restricted_rule(report: &mut Report, field: &str, node: Node) -> Option<RestrictedWord> {
    let mut table = as_table(report, field, node)?;
    let pattern_field = table.field("pattern");
    let pattern_at = table
        .node("pattern")
        .map_or(node.start(), |pattern| pattern.start());
    let pattern = table.text(report, "pattern", MAX_WORD_CHARS, false);
    let action_field = table.field("action");
    let action = table.node("action").map(|action| match action.value {
        DeValue::String(text) => RestrictedAction::parse(text).ok_or(action.start()),
        _ => Err(action.start()),
    });
    let mut ok = pattern.is_some();
    if table.node("pattern").is_none() {
        report.error(&pattern_field, node.start(), "is required");
    }
    let action = match action {
        Some(Ok(action)) => Some(action),
        Some(Err(at)) => {
            report.error(&action_field, at, "must be \"block\" or \"warn\"");
            None
        }
        None => {
            report.error(&action_field, node.start(), "is required");
            None
        }
    };
    table.finish(report);
    let rule = RestrictedWord {
        pattern: pattern?.trim().to_owned(),
        action: action?,
    };
    let as_keyword = KeywordRule::new(rule.pattern.clone(), [rule.pattern.clone()]);
    ok &= check_rule(report, &pattern_field, pattern_at, &as_keyword);
    ok.then_some(rule)
}

/// Reports each repeated `key` after its first use.
fn unique(report: &mut Report, keys: impl Iterator<Item = (String, String, usize)>, what: &str) {
    let mut seen = std::collections::HashSet::new();
    for (key, field, at) in keys {
        if !seen.insert(key) {
            report.error(&field, at, what);
        }
    }
}

/// The reason of a domain rule's refusal, without its field (the charter names its own).
fn reason_of(violation: &RuleViolation) -> String {
    match violation {
        RuleViolation::Invalid { reason, .. } => reason.clone(),
        other => other.to_string(),
    }
}

/// The dotted key on the line of a syntax error, when the line reads `key = …`:
/// `[channels]` then `limit = ` gives `channels.limit`; otherwise `toml`.
fn syntax_field(text: &str, offset: usize) -> String {
    let (error_line, _) = position(text, offset);
    let mut header = String::new();
    let mut arrays: Vec<(String, usize)> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if index + 1 == error_line {
            let key = line.split_once('=').map(|(key, _)| key.trim());
            return match key {
                Some(key) if is_bare_key(key) && header.is_empty() => key.to_owned(),
                Some(key) if is_bare_key(key) => format!("{header}.{key}"),
                _ => "toml".to_owned(),
            };
        }
        if let Some(name) = line
            .strip_prefix("[[")
            .and_then(|rest| rest.split_once("]]"))
        {
            let name = name.0.trim().to_owned();
            let count = match arrays.iter_mut().find(|(seen, _)| *seen == name) {
                Some((_, count)) => {
                    *count += 1;
                    *count
                }
                None => {
                    arrays.push((name.clone(), 0));
                    0
                }
            };
            header = format!("{name}[{count}]");
        } else if let Some(name) = line.strip_prefix('[').and_then(|rest| rest.split_once(']')) {
            header = name.0.trim().to_owned();
        }
    }
    "toml".to_owned()
}

fn is_bare_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}
