//! Table tests of the flow validator and the step function.

use super::*;

/// The flow the e2e and browser tests also use (docs/api.md › Flows shows it).
const WELCOME: &str = r#"name: Welcome
start: greet
steps:
  greet:
    say: Hi! What can we help you with?
    menu:
      - label: Where is my order?
        value: orders
        next: orders
      - label: Something else
        next: ask_email
  orders:
    say: Orders ship within two days.
    next: ask_email
  ask_email:
    say: What is your email address?
    collect:
      attribute: email
      next: route
  route:
    branch:
      - when: {tag: vip}
        next: vip
      - when: {business_hours: false}
        next: closed
    otherwise: handoff
  vip:
    say: Thank you for being a VIP!
    next: handoff
  closed:
    say: We are away right now; we will write back.
    end: true
  handoff:
    say: A person will take it from here.
    handoff: Wants help after the welcome flow
"#;

fn welcome() -> Flow {
    parse_flow(WELCOME, Format::Yaml).expect("the welcome flow is valid")
}

/// `(source, format, field, line, words in the message)` for a refused flow.
fn refused(source: &str, format: Format, field: &str, line: Option<usize>, words: &str) {
    let error = parse_flow(source, format).expect_err(source);
    assert_eq!(
        (error.field.as_str(), error.line),
        (field, line),
        "{source}\n→ {error}"
    );
    assert!(error.message.contains(words), "{error} lacks {words:?}");
}

#[test]
fn accepts_the_welcome_flow_in_yaml_and_json() {
    let flow = welcome();
    assert_eq!(flow.steps.len(), 7);
    let json = serde_json::to_string_pretty(&flow).unwrap();
    assert_eq!(parse_flow(&json, Format::Json).unwrap(), flow);
}

#[test]
fn refuses_with_the_key_and_the_line() {
    let yaml = Format::Yaml;
    let json = Format::Json;
    refused("", yaml, "", None, "empty");
    refused("name: [", yaml, "name", Some(1), "invalid type");
    refused(
        "name: W\nstart: a\n  steps: x\n",
        yaml,
        "",
        Some(3),
        "mapping values are not allowed",
    );
    refused(
        "name: W\nstart: a\nsteps:\n  a:\n    say: Hi\n    end: true\n    colour: red\n",
        yaml,
        "steps.a.colour",
        Some(7),
        "unknown field `colour`",
    );
    refused(
        "name: W\nstart: b\nsteps:\n  a:\n    say: Hi\n    end: true\n",
        yaml,
        "start",
        Some(2),
        "no step named \"b\"",
    );
    refused(
        "name: W\nstart: a\nsteps:\n  a:\n    say: Hi\n    menu:\n      - label: One\n        next: a\n      - label: Two\n        next: nowhere\n",
        yaml,
        "steps.a.menu[1].next",
        Some(10),
        "no step named \"nowhere\"",
    );
    refused(
        "name: W\nstart: a\nsteps:\n  a:\n    say: Hi\n    next: a\n",
        yaml,
        "steps.a",
        Some(4),
        "without waiting",
    );
    refused(
        "name: W\nstart: a\nsteps:\n  a:\n    say: Hi\n",
        yaml,
        "steps.a",
        Some(4),
        "exactly one of",
    );
    refused(
        "name: W\nstart: a\nsteps:\n  a:\n    say: Hi\n    end: true\n    next: a\n",
        yaml,
        "steps.a",
        Some(4),
        "exactly one of",
    );
    refused(
        "name: W\nstart: a\nsteps:\n  a:\n    end: true\n",
        yaml,
        "steps.a",
        Some(4),
        "needs something to say",
    );
    refused(
        "name: W\nstart: a\nsteps:\n  a:\n    say: Hi\n    menu: []\n",
        yaml,
        "steps.a.menu",
        Some(6),
        "1 to 10 choices",
    );
    refused(
        "name: W\nstart: a\nsteps:\n  a:\n    say: Hi\n    menu:\n      - {label: One, next: a}\n      - {label: one, next: a}\n",
        yaml,
        "steps.a.menu[1]",
        Some(8),
        "same value",
    );
    refused(
        "name: W\nstart: a\nsteps:\n  a:\n    say: Hi\n    collect: {attribute: timezone, format: email, next: a}\n",
        yaml,
        "steps.a.collect.format",
        Some(6),
        "timezone",
    );
    refused(
        "name: W\nstart: a\nsteps:\n  a:\n    say: Hi\n    collect: {attribute: email, format: phone, next: a}\n",
        yaml,
        "steps.a.collect.format",
        Some(6),
        "unknown variant",
    );
    refused(
        "name: W\nstart: a\nsteps:\n  a:\n    branch:\n      - when: {tag: vip, business_hours: true}\n        next: a\n    otherwise: a\n",
        yaml,
        "steps.a.branch[0].when",
        Some(6),
        "exactly one of tag",
    );
    refused(
        "name: W\nstart: a\nsteps:\n  a:\n    branch:\n      - when: {tag: vip}\n        next: b\n  b:\n    say: Hi\n    end: true\n",
        yaml,
        "steps.a",
        Some(4),
        "otherwise",
    );
    refused(
        "name: W\nstart: a\nsteps:\n  a:\n    say: Hi\n    end: false\n",
        yaml,
        "steps.a.end",
        Some(6),
        "true",
    );
    refused(
        "name: \"  \"\nstart: a\nsteps:\n  a:\n    say: Hi\n    end: true\n",
        yaml,
        "name",
        Some(1),
        "1 to 80",
    );
    refused(
        "name: W\nstart: a b\nsteps:\n  a b:\n    say: Hi\n    end: true\n",
        yaml,
        "steps.a b",
        Some(4),
        "step's name",
    );
    refused(
        "{\n  \"name\": \"W\",\n  \"start\": 3\n}",
        json,
        "start",
        Some(3),
        "invalid type",
    );
    refused(
        "{\n  \"name\": \"W\",\n  \"start\": \"a\",\n  \"steps\": {\"a\": {\"say\": \"Hi\", \"next\": \"b\"}}\n}",
        json,
        "steps.a.next",
        Some(4),
        "no step named \"b\"",
    );
    refused(
        "{\"name\": \"W\"}",
        json,
        "",
        Some(1),
        "missing field `start`",
    );
    refused(
        "{\"name\": \"W\", \"start\": \"a\", \"steps\": {\"a\": {\"say\": \"Hi\", \"end\": true}}} trailing",
        json,
        "",
        Some(1),
        "trailing",
    );
    refused("name: W\u{0}", yaml, "", Some(1), "NUL");
    let long = format!(
        "name: W\nstart: a\nsteps:\n  a:\n    say: {}\n    next: b\n  b:\n    say: {}\n    next: c\n  c:\n    say: {}\n    next: d\n  d:\n    say: {}\n    next: e\n  e:\n    say: {}\n    end: true\n",
        "x".repeat(900),
        "x".repeat(900),
        "x".repeat(900),
        "x".repeat(900),
        "x".repeat(900)
    );
    refused(&long, yaml, "steps.a", Some(4), "exceed 4000");
}

/// One conversation through the flow: each `(fan input, expected bodies, expected
/// buttons, expected other actions, waiting step)`; `None` input is the start.
type Turn<'a> = (
    Option<&'a str>,
    &'a [&'a str],
    &'a [&'a str],
    &'a [&'a str],
    Option<&'a str>,
);

fn check(flow: &Flow, mut facts: Facts, turns: &[Turn<'_>]) {
    let mut waiting: Option<String> = None;
    for (number, (input, bodies, buttons, others, expected_wait)) in turns.iter().enumerate() {
        let input = input.map_or(FlowInput::Start, FlowInput::Fan);
        let outcome = step(flow, waiting.as_deref(), input, &facts);
        let mut said = Vec::new();
        let mut pressed = Vec::new();
        let mut rest = Vec::new();
        for action in &outcome.actions {
            match action {
                FlowAction::Send {
                    body,
                    quick_replies,
                } => {
                    said.push(body.clone());
                    pressed.extend(
                        quick_replies
                            .iter()
                            .map(|reply| format!("{}={}", reply.label, reply.value)),
                    );
                }
                FlowAction::Remember { attribute, value } => {
                    rest.push(format!("remember {attribute}={value}"));
                    if attribute == "timezone" {
                        facts.timezone = Some(value.clone());
                    } else {
                        facts.attributes.insert(attribute.clone(), value.clone());
                    }
                }
                FlowAction::HandOff { note } => rest.push(format!("handoff {note}")),
            }
        }
        assert_eq!(said, *bodies, "turn {number}: bodies");
        assert_eq!(pressed, *buttons, "turn {number}: buttons");
        assert_eq!(rest, *others, "turn {number}: actions");
        assert_eq!(
            outcome.waiting_at.as_deref(),
            *expected_wait,
            "turn {number}: waiting"
        );
        assert!(said.len() <= 1, "one automated message per fan message");
        waiting = outcome.waiting_at;
    }
}

const MENU: &[&str] = &["Where is my order?=orders", "Something else=Something else"];
const GREETING: &str = "Hi! What can we help you with?";
const ASK: &str = "What is your email address?";

#[test]
fn walks_the_welcome_flow() {
    let open = Facts {
        business_hours: true,
        ..Facts::default()
    };
    let flow = welcome();
    // Greet → menu → an answer and the next question in one message → collect → hand off.
    check(
        &flow,
        open.clone(),
        &[
            (None, &[GREETING], MENU, &[], Some("greet")),
            (
                Some("ORDERS"),
                &["Orders ship within two days.\n\nWhat is your email address?"],
                &[],
                &[],
                Some("ask_email"),
            ),
            (
                Some("not an address"),
                &["Sorry, that does not look right. Could you try again?"],
                &[],
                &[],
                Some("ask_email"),
            ),
            (
                Some(" fan@example.com "),
                &["A person will take it from here."],
                &[],
                &[
                    "remember email=fan@example.com",
                    "handoff Wants help after the welcome flow\nCollected by the flow: email: fan@example.com",
                ],
                None,
            ),
            (Some("hello?"), &[], &[], &[], None),
        ],
    );
    // A label works like its value; anything else asks again with the same buttons.
    check(
        &flow,
        open.clone(),
        &[
            (None, &[GREETING], MENU, &[], Some("greet")),
            (Some("pizza"), &[GREETING], MENU, &[], Some("greet")),
            (Some("something else"), &[ASK], &[], &[], Some("ask_email")),
        ],
    );
    // Branches: a VIP tag first, then business hours, then otherwise.
    let vip = Facts {
        tags: vec!["vip".into()],
        ..open.clone()
    };
    check(
        &flow,
        vip,
        &[
            (None, &[GREETING], MENU, &[], Some("greet")),
            (Some("Something else"), &[ASK], &[], &[], Some("ask_email")),
            (
                Some("a@b.co"),
                &["Thank you for being a VIP!\n\nA person will take it from here."],
                &[],
                &[
                    "remember email=a@b.co",
                    "handoff Wants help after the welcome flow\nCollected by the flow: email: a@b.co",
                ],
                None,
            ),
        ],
    );
    let closed = Facts::default();
    check(
        &flow,
        closed,
        &[
            (None, &[GREETING], MENU, &[], Some("greet")),
            (Some("Something else"), &[ASK], &[], &[], Some("ask_email")),
            (
                Some("a@b.co"),
                &["We are away right now; we will write back."],
                &[],
                &["remember email=a@b.co"],
                None,
            ),
        ],
    );
}

#[test]
fn collects_time_zones_and_branches_on_attributes() {
    let source = "name: Zones\nstart: ask\nsteps:\n  ask:\n    say: Your time zone?\n    collect:\n      attribute: timezone\n      retry: An IANA name, please.\n      next: known\n  known:\n    branch:\n      - when: {attribute: timezone}\n        next: thanks\n    otherwise: ask\n  thanks:\n    say: Noted.\n    end: true\n";
    let flow = parse_flow(source, Format::Yaml).unwrap();
    check(
        &flow,
        Facts::default(),
        &[
            (None, &["Your time zone?"], &[], &[], Some("ask")),
            (
                Some("Mars/Olympus"),
                &["An IANA name, please."],
                &[],
                &[],
                Some("ask"),
            ),
            (
                Some("europe/paris"),
                &["Noted."],
                &[],
                &["remember timezone=Europe/Paris"],
                None,
            ),
        ],
    );
}

#[test]
fn validates_email_addresses() {
    for (text, valid) in [
        ("fan@example.com", true),
        ("a.b+c@sub.example.co", true),
        ("fan@example", false),
        ("fan@@example.com", false),
        ("@example.com", false),
        ("fan example@example.com", false),
        ("fan@-example.com", false),
        ("fan@example..com", false),
    ] {
        assert_eq!(super::step::tests_is_email(text), valid, "{text}");
    }
}

proptest::proptest! {
    /// Whatever the bytes, parsing answers (a flow or an error), never a panic; so does
    /// locating any key in them.
    #[test]
    fn any_source_is_answered(source in "\\PC{0,300}", path in "[a-zé\\[\\]0-9.]{0,30}") {
        let _ = parse_flow(&source, Format::Yaml);
        let _ = parse_flow(&source, Format::Json);
        let _ = super::locate::line_of(&source, &path);
    }

    /// Every flow that parses can be stepped through with any input without a panic, and
    /// says at most one message per input.
    #[test]
    fn any_input_steps_safely(inputs in proptest::collection::vec("\\PC{0,40}", 0..8)) {
        let flow = welcome();
        let facts = Facts::default();
        let mut waiting = step(&flow, None, FlowInput::Start, &facts).waiting_at;
        for input in &inputs {
            let outcome = step(&flow, waiting.as_deref(), FlowInput::Fan(input), &facts);
            let sends = outcome.actions.iter().filter(|a| matches!(a, FlowAction::Send { .. })).count();
            proptest::prop_assert!(sends <= 1);
            waiting = outcome.waiting_at;
        }
    }
}
