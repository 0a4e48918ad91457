//! The charter's rules as tables: every key's bad values name the dotted key and line,
//! documents round-trip through `render`, rule edits keep the rest of the text.

use super::*;
use crate::signals::RestrictedAction;
use jiff::Timestamp;

/// `document` is refused, and the first problem is `field` on `line`.
fn check(document: &str, field: &str, line: usize) {
    match Charter::parse(document) {
        Ok(charter) => panic!("{document:?} was accepted: {charter:?}"),
        Err(errors) => {
            let first = &errors[0];
            assert_eq!(
                (first.field.as_str(), first.line),
                (field, line),
                "{document:?}: {errors:?}"
            );
            assert!(!first.message.is_empty());
        }
    }
}

#[test]
fn every_key_refuses_bad_values_naming_the_dotted_key() {
    let table: &[(&str, &str, usize)] = &[
        // response
        (
            "[response]\nfirst_response_target_secs = 0",
            "response.first_response_target_secs",
            2,
        ),
        (
            "[response]\nfirst_response_target_secs = \"sixty\"",
            "response.first_response_target_secs",
            2,
        ),
        (
            "response.first_response_target_secs = 86401",
            "response.first_response_target_secs",
            1,
        ),
        (
            "[response]\nstretch_target_secs = 90",
            "response.stretch_target_secs",
            2,
        ),
        (
            "[response]\nfirst_response_target_secs = 20",
            "response.first_response_target_secs",
            2,
        ),
        // channels
        ("[channels]\nlimit = 0", "channels.limit", 2),
        ("[channels]\nlimit = \"12\"", "channels.limit", 2),
        ("[channels]\nlimit = 1.5", "channels.limit", 2),
        ("[channels]\nlimit = 1001", "channels.limit", 2),
        (
            "[channels]\narchive_after_days = 0",
            "channels.archive_after_days",
            2,
        ),
        (
            "channels = { archive_after_days = true }",
            "channels.archive_after_days",
            1,
        ),
        // bots
        ("[bots]\nmax_exchanges = -1", "bots.max_exchanges", 2),
        ("[bots]\nmax_exchanges = 0", "bots.max_exchanges", 2),
        // canned
        (
            "[canned]\nfirst_line = \"sometimes\"",
            "canned.first_line",
            2,
        ),
        ("[canned]\nfirst_line = \"Enforce\"", "canned.first_line", 2),
        ("[canned]\nfirst_line = 1", "canned.first_line", 2),
        // keywords
        ("[keywords]\nrules = \"refund\"", "keywords.rules", 2),
        ("[keywords]\nrules = [\"!!!\"]", "keywords.rules[0]", 2),
        ("[keywords]\nrules = [\"ok\", 5]", "keywords.rules[1]", 2),
        (
            "[keywords]\nrules = [{ name = \"x\" }]",
            "keywords.rules[0].patterns",
            2,
        ),
        (
            "[keywords]\nrules = [{ name = \"x\", patterns = [] }]",
            "keywords.rules[0].patterns",
            2,
        ),
        (
            "[keywords]\nrules = [{ name = \"x\", patterns = [\"a\"], colour = 1 }]",
            "keywords.rules[0].colour",
            2,
        ),
        (
            "[keywords]\nrules = [\"refund\",\n  { name = \"refund\", patterns = [\"money\"] }]",
            "keywords.rules[1].name",
            3,
        ),
        (
            "[[keywords.rules]]\nname = \"\"\npatterns = [\"a\"]",
            "keywords.rules[0].name",
            2,
        ),
        // restricted
        (
            "[restricted]\nrules = [{ pattern = \"paypal\", action = \"ban\" }]",
            "restricted.rules[0].action",
            2,
        ),
        (
            "[restricted]\nrules = [{ action = \"block\" }]",
            "restricted.rules[0].pattern",
            2,
        ),
        (
            "[restricted]\nrules = [\"paypal\"]",
            "restricted.rules[0]",
            2,
        ),
        (
            "[restricted]\nrules = [{ pattern = \"a\", action = \"warn\" }, { pattern = \"a\", action = \"block\" }]",
            "restricted.rules[1].pattern",
            2,
        ),
        // escalation
        (
            "[escalation]\npaths = [{ reasons = [], leads = [\"l@x.test\"] }]",
            "escalation.paths[0].reasons",
            2,
        ),
        (
            "[escalation]\npaths = [{ reasons = [\"legal\"] }]",
            "escalation.paths[0].leads",
            2,
        ),
        (
            "[[escalation.paths]]\nreasons = [\"legal\"]\nleads = [\"\"]",
            "escalation.paths[0].leads",
            1,
        ),
        (
            "[escalation]\npaths = [{ reasons = [\"legal\"], leads = [\"l\"], when = 1 }]",
            "escalation.paths[0].when",
            2,
        ),
        // voice
        ("[voice]\ntone = 5", "voice.tone", 2),
        (
            "[voice]\nphrases_to_use = [1]",
            "voice.phrases_to_use[0]",
            2,
        ),
        (
            "[voice]\nphrases_to_avoid = \"babe\"",
            "voice.phrases_to_avoid",
            2,
        ),
        ("[voice]\nsign_off = \"x\\u0000\"", "voice.sign_off", 2),
        ("[voice]\nemoji = []", "voice.emoji", 2),
        // review
        ("[review]\nevery_days = 0", "review.every_days", 2),
        (
            "[review]\nevery_days = \"quarterly\"",
            "review.every_days",
            2,
        ),
        // unknown keys and sections, wrong shapes
        ("[colour]\nred = 1", "colour", 1),
        ("[channels]\ncolour = 1", "channels.colour", 2),
        ("channels = 5", "channels", 1),
        ("\n\n[review]\nevery_day = 91", "review.every_day", 4),
        // syntax errors name the key on their line when there is one
        ("[channels]\nlimit = ", "channels.limit", 2),
        ("[channels]\nlimit = 12\nlimit = 13", "channels.limit", 3),
        (
            "[[keywords.rules]]\nname = \"a\"\npatterns = [\"a\"\n",
            "keywords.rules[0].patterns",
            3,
        ),
        ("this is not toml", "toml", 1),
    ];
    for (document, field, line) in table {
        check(document, field, *line);
    }
}

#[test]
fn every_problem_is_reported_in_document_order() {
    let errors = Charter::parse(
        "[review]\nevery_days = 0\n\n[channels]\nlimit = 0\narchive_after_days = -3\nmood = 1\n",
    )
    .unwrap_err();
    let fields: Vec<(&str, usize)> = errors
        .iter()
        .map(|error| (error.field.as_str(), error.line))
        .collect();
    assert_eq!(
        fields,
        [
            ("review.every_days", 2),
            ("channels.limit", 5),
            ("channels.archive_after_days", 6),
            ("channels.mood", 7)
        ]
    );
    assert!(
        errors[3]
            .message
            .contains("known keys here: limit, archive_after_days")
    );
}

#[test]
fn keys_left_out_take_their_defaults() {
    assert_eq!(Charter::parse("").unwrap(), Charter::default());
    let charter = Charter::parse("channels.limit = 4\n[bots]\nmax_exchanges = 5").unwrap();
    assert_eq!(charter.channels.limit, 4);
    assert_eq!(charter.channels.archive_after_days, 30);
    assert_eq!(charter.bots.max_exchanges, 5);
    let defaults = Charter::default();
    assert_eq!(defaults.response.first_response_target_secs, 60);
    assert_eq!(defaults.response.stretch_target_secs, 30);
    assert_eq!(defaults.channels.limit, 12);
    assert_eq!(defaults.review.every_days, 91);
    assert_eq!(
        defaults.canned.first_line,
        crate::desk::FirstLineMode::Enforce
    );
    let names: Vec<&str> = defaults
        .keywords
        .rules
        .iter()
        .map(|rule| rule.name.as_str())
        .collect();
    assert_eq!(names, ["cancel", "refund", "complaint"]);
}

fn rich() -> Charter {
    let mut charter = Charter::default();
    charter.response.first_response_target_secs = 120;
    charter.response.stretch_target_secs = 45;
    charter.escalation.paths = vec![EscalationPath {
        reasons: vec!["chargeback".into(), "legal".into()],
        leads: vec!["lead@x.test".into(), "mem_1".into()],
    }];
    charter.channels = Channels {
        limit: 3,
        archive_after_days: 10,
    };
    charter.bots.max_exchanges = 2;
    charter.canned.first_line = crate::desk::FirstLineMode::Warn;
    charter
        .keywords
        .rules
        .push(KeywordRule::new("money back", ["refund", "=car"]));
    charter.restricted.rules = vec![
        RestrictedWord {
            pattern: "paypal".into(),
            action: RestrictedAction::Block,
        },
        RestrictedWord {
            pattern: "guarantee".into(),
            action: RestrictedAction::Warn,
        },
    ];
    charter.voice = Voice {
        tone: "Warm, \"playful\",\nnever salesy \\ ever".into(),
        phrases_to_use: vec!["hey love".into(), "thank you so much 💛".into()],
        phrases_to_avoid: vec!["dear customer".into()],
        emoji: "one 💛 at most\tno 🔥".into(),
        sign_off: "— Mia".into(),
    };
    charter.review.every_days = 30;
    charter
}

#[test]
fn rendered_charters_read_back_the_same() {
    for charter in [Charter::default(), rich()] {
        let text = render(&charter);
        assert_eq!(Charter::parse(&text), Ok(charter.clone()), "{text}");
    }
}

#[test]
fn keyword_rules_may_be_words_or_tables() {
    let charter = Charter::parse(
        "[keywords]\nrules = [\"chargeback\", { name = \"money\", patterns = [\" refund \", \"money back\"] }]\n\
         [[restricted.rules]]\npattern = \"paypal\"\naction = \"block\"\n",
    )
    .unwrap();
    assert_eq!(
        charter.keywords.rules,
        [
            KeywordRule::new("chargeback", ["chargeback"]),
            KeywordRule::new("money", ["refund", "money back"]),
        ]
    );
    assert_eq!(charter.restricted_rules()[0].name, "paypal");
    assert_eq!(
        charter.restricted_rules()[0].action,
        RestrictedAction::Block
    );
    let none = Charter::parse("keywords.rules = []").unwrap();
    assert!(none.keywords.rules.is_empty());
}

#[test]
fn rule_edits_keep_the_rest_of_the_document() {
    let text = "# Our charter\n[channels]\nlimit = 4 # few\n\n[keywords]\n# alert on these\nrules = [\"refund\"]\n";
    let rules = [
        KeywordRule::new("refund", ["refund"]),
        KeywordRule::new("money", ["money back", "chargeback"]),
    ];
    let edited = set_keyword_rules(text, &rules).unwrap();
    assert!(
        edited.starts_with("# Our charter\n[channels]\nlimit = 4 # few\n"),
        "{edited}"
    );
    assert!(edited.contains("# alert on these\nrules = [\n"), "{edited}");
    let charter = Charter::parse(&edited).unwrap();
    assert_eq!(charter.keywords.rules, rules);
    assert_eq!(charter.channels.limit, 4);
    // A section that is not there yet is added.
    let word = RestrictedWord {
        pattern: "paypal".into(),
        action: RestrictedAction::Warn,
    };
    let added = set_restricted_rules(&edited, std::slice::from_ref(&word)).unwrap();
    let charter = Charter::parse(&added).unwrap();
    assert_eq!(charter.restricted.rules, [word]);
    assert_eq!(charter.keywords.rules, rules);
    let cleared = set_restricted_rules(&added, &[]).unwrap();
    assert!(
        Charter::parse(&cleared)
            .unwrap()
            .restricted
            .rules
            .is_empty()
    );
}

#[test]
fn escalation_paths_pick_leads_by_the_reason() {
    let charter = Charter::parse(
        "[escalation]\npaths = [\n  { reasons = [\"chargeback\"], leads = [\"money@x.test\"] },\n  \
         { reasons = [\"legal\", \"lawyer\"], leads = [\"legal@x.test\"] },\n]\n",
    )
    .unwrap();
    let matcher = charter.escalation_matcher().unwrap();
    let check = |reason: &str, expected: Option<&str>| {
        let lead = charter
            .escalation_path(&matcher, reason)
            .map(|path| path.leads[0].as_str());
        assert_eq!(lead, expected, "{reason:?}");
    };
    check("fan threatens chargebacks", Some("money@x.test"));
    check("their LAWYER wrote", Some("legal@x.test"));
    check("legal threat and a chargeback", Some("money@x.test"));
    check("just angry", None);
}

#[test]
fn diffs_list_every_line_with_both_numbers() {
    let lines = diff_lines("a\nb\nc\n", "a\nc\nd\n");
    let tags: Vec<(DiffTag, Option<usize>, Option<usize>, &str)> = lines
        .iter()
        .map(|line| (line.tag, line.old_line, line.new_line, line.text.as_str()))
        .collect();
    assert_eq!(
        tags,
        [
            (DiffTag::Equal, Some(1), Some(1), "a"),
            (DiffTag::Delete, Some(2), None, "b"),
            (DiffTag::Equal, Some(3), Some(2), "c"),
            (DiffTag::Insert, None, Some(3), "d"),
        ]
    );
    let unified = unified_diff("a\nb\n", "a\nc\n", "v1", "v2");
    assert!(unified.starts_with("--- v1\n+++ v2\n@@"), "{unified}");
    assert!(unified.contains("-b\n+c\n"), "{unified}");
    assert_eq!(unified_diff("same\n", "same\n", "v1", "v2"), "");
}

#[test]
fn the_review_is_due_every_days_after_the_last_sign_off() {
    let written: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    let reviewed: Timestamp = "2026-03-01T12:00:00Z".parse().unwrap();
    let check = |last: Option<Timestamp>, days: u32, expected: &str| {
        assert_eq!(
            review_due_at(last, written, days),
            expected.parse::<Timestamp>().unwrap()
        );
    };
    check(None, 91, "2026-04-02T00:00:00Z");
    check(Some(reviewed), 91, "2026-05-31T12:00:00Z");
    check(Some(reviewed), 1, "2026-03-02T12:00:00Z");
}

#[test]
fn oversized_documents_are_refused() {
    let text = format!("# {}\n", "x".repeat(MAX_CHARTER_BYTES));
    check(&text, "toml", 1);
}

#[test]
fn problems_found_elsewhere_are_positioned_on_their_value() {
    let text = "[escalation]\npaths = [\n  { reasons = [\"legal\"], leads = [\"a@x.test\", \"b@x.test\"] },\n]\n";
    let check = |field: &str, line: usize, column: usize| {
        let error = Charter::error_at(text, field, "no such lead");
        assert_eq!((error.line, error.column), (line, column), "{field}");
        assert_eq!(error.field, field);
    };
    check("escalation.paths[0].leads[1]", 3, 47);
    check("escalation.paths[0].leads", 3, 34);
    check("escalation.paths", 2, 9);
    check("escalation.paths[3]", 1, 1);
    check("nothing.here", 1, 1);
}
