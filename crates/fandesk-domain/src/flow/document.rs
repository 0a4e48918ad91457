//! The flow document (docs/api.md › Flows) and its validator. A flow is a map of named
//! steps; each step may say something and then does exactly one thing: offer a `menu` of
//! quick replies, `collect` an attribute into the fan's profile, `branch` on the fan's
//! tags, attributes or business hours, go on to the `next` step, `handoff` to a human with
//! a note for the team, or `end`. Every error names the key (`steps.greet.menu[1].next`)
//! and, where it can be found, its line, so the editor can point at it.

use super::locate::line_of;
use crate::message::MAX_BODY_CHARS;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Largest source accepted, in bytes.
pub const MAX_SOURCE_BYTES: usize = 32 * 1024;
const MAX_STEPS: usize = 100;
const MAX_NAME_CHARS: usize = 80;
const MAX_STEP_ID_CHARS: usize = 40;
const MAX_SAY_CHARS: usize = 1_000;
const MAX_NOTE_CHARS: usize = 1_000;
const MAX_CHOICES: usize = 10;
const MAX_LABEL_CHARS: usize = 40;
const MAX_VALUE_CHARS: usize = 100;
const MAX_RULES: usize = 20;
const MAX_ATTRIBUTE_CHARS: usize = 64;

/// How the source is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Yaml,
    Json,
}

impl Format {
    pub fn parse(text: &str) -> Option<Format> {
        match text {
            "yaml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Yaml => "yaml",
            Format::Json => "json",
        }
    }
}

/// A validated flow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flow {
    pub name: String,
    /// The step a new conversation starts at.
    pub start: String,
    pub steps: BTreeMap<String, Step>,
}

/// One step as written. The validator guarantees exactly one of its actions is set.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub say: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub menu: Option<Vec<Choice>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collect: Option<Collect>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<Vec<Rule>>,
    /// Where a `branch` goes when no rule matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otherwise: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// The note the team reads with the hand-off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<bool>,
}

/// A quick reply: the fan presses `label`, which sends `value` (the label when absent).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    pub next: String,
}

impl Choice {
    /// What pressing the button sends.
    pub fn value(&self) -> &str {
        self.value.as_deref().unwrap_or(&self.label)
    }
}

/// Asks the fan for an attribute of their profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Collect {
    /// `timezone` sets the profile's time zone; any other key a custom attribute.
    pub attribute: String,
    /// Defaults to `email` for `email`, `timezone` for `timezone`, `text` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<CollectFormat>,
    pub next: String,
    /// Said when the answer is not valid (a sentence of ours when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<String>,
}

impl Collect {
    pub fn format(&self) -> CollectFormat {
        self.format.unwrap_or(match self.attribute.as_str() {
            "email" => CollectFormat::Email,
            "timezone" => CollectFormat::Timezone,
            _ => CollectFormat::Text,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CollectFormat {
    Email,
    Timezone,
    Text,
}

/// One branch: where to go when `when` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub when: Condition,
    pub next: String,
}

/// Exactly one of: the fan has a tag, the fan's profile has an attribute, the team is (or
/// is not) within business hours (someone on shift).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_hours: Option<bool>,
}

/// What a step does after saying its text.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StepKind<'a> {
    Menu(&'a [Choice]),
    Collect(&'a Collect),
    Branch(&'a [Rule], &'a str),
    Next(&'a str),
    HandOff(&'a str),
    End,
}

impl Step {
    /// The step's action; `End` for a step the validator would refuse.
    pub fn kind(&self) -> StepKind<'_> {
        if let Some(choices) = &self.menu {
            StepKind::Menu(choices)
        } else if let Some(collect) = &self.collect {
            StepKind::Collect(collect)
        } else if let Some(rules) = &self.branch {
            StepKind::Branch(rules, self.otherwise.as_deref().unwrap_or_default())
        } else if let Some(next) = &self.next {
            StepKind::Next(next)
        } else if let Some(note) = &self.handoff {
            StepKind::HandOff(note)
        } else {
            StepKind::End
        }
    }

    /// The steps this one may go to without waiting for the fan.
    fn automatic_successors(&self) -> Vec<&str> {
        match self.kind() {
            StepKind::Branch(rules, otherwise) => rules
                .iter()
                .map(|rule| rule.next.as_str())
                .chain([otherwise])
                .collect(),
            StepKind::Next(next) => vec![next],
            _ => Vec::new(),
        }
    }
}

/// A refused flow: the key (dotted, with `[index]` for list items; empty for the document
/// itself), its 1-based line when known, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowError {
    pub field: String,
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for FlowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

/// A parser's sentence without its own " at line L column C" and its own leading path (both
/// are reported apart).
fn sentence(text: String) -> String {
    let text = match text.split_once(": ") {
        Some((head, rest)) if !head.contains(' ') => rest.to_owned(),
        _ => text,
    };
    match text.find(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

fn path_text(path: &serde_path_to_error::Path) -> String {
    // The known part only: `?` stands for where the parser lost its way.
    let text = path.to_string();
    let known: Vec<&str> = text
        .split('.')
        .take_while(|part| !part.is_empty() && !part.starts_with('?'))
        .collect();
    known.join(".")
}

/// Parses and validates a flow document.
pub fn parse_flow(source: &str, format: Format) -> Result<Flow, FlowError> {
    let refuse = |message: &str| FlowError {
        field: String::new(),
        line: None,
        message: message.to_owned(),
    };
    if source.len() > MAX_SOURCE_BYTES {
        return Err(refuse("the flow is larger than 32 KiB"));
    }
    if let Some(index) = source.find('\0') {
        let line = source[..index].lines().count().max(1);
        return Err(FlowError {
            line: Some(line),
            ..refuse("the flow contains a NUL character")
        });
    }
    if source.trim().is_empty() {
        return Err(refuse("the flow is empty"));
    }
    let flow: Flow = match format {
        Format::Json => {
            let mut reader = serde_json::Deserializer::from_str(source);
            let flow = serde_path_to_error::deserialize(&mut reader).map_err(|error| {
                let field = path_text(error.path());
                let inner = error.into_inner();
                FlowError {
                    field,
                    line: Some(inner.line()),
                    message: sentence(inner.to_string()),
                }
            })?;
            reader.end().map_err(|error| FlowError {
                field: String::new(),
                line: Some(error.line()),
                message: sentence(error.to_string()),
            })?;
            flow
        }
        Format::Yaml => {
            let reader = serde_norway::Deserializer::from_str(source);
            serde_path_to_error::deserialize(reader).map_err(|error| {
                let field = path_text(error.path());
                let inner = error.into_inner();
                let line = inner
                    .location()
                    .map(|location| location.line())
                    .or_else(|| line_of(source, &field));
                FlowError {
                    field,
                    line,
                    message: sentence(inner.to_string()),
                }
            })?
        }
    };
    Checker { source }.flow(&flow)?;
    Ok(flow)
}

/// The semantic checks, each error located in the source.
struct Checker<'a> {
    source: &'a str,
}

impl Checker<'_> {
    fn error(&self, field: impl Into<String>, message: impl Into<String>) -> FlowError {
        let field = field.into();
        FlowError {
            line: line_of(self.source, &field),
            field,
            message: message.into(),
        }
    }

    /// Trimmed text of 1 to `max` characters.
    fn text(&self, field: &str, text: &str, max: usize) -> Result<(), FlowError> {
        let chars = text.trim().chars().count();
        if chars == 0 || chars > max {
            return Err(self.error(field, format!("must be 1 to {max} characters")));
        }
        Ok(())
    }

    fn target(&self, flow: &Flow, field: &str, target: &str) -> Result<(), FlowError> {
        if flow.steps.contains_key(target) {
            Ok(())
        } else {
            Err(self.error(field, format!("there is no step named \"{target}\"")))
        }
    }

    fn flow(&self, flow: &Flow) -> Result<(), FlowError> {
        self.text("name", &flow.name, MAX_NAME_CHARS)?;
        if flow.steps.is_empty() || flow.steps.len() > MAX_STEPS {
            return Err(self.error("steps", format!("a flow has 1 to {MAX_STEPS} steps")));
        }
        self.target(flow, "start", &flow.start)?;
        for (id, step) in &flow.steps {
            self.step(flow, id, step)?;
        }
        self.automatic_paths(flow)
    }

    fn step(&self, flow: &Flow, id: &str, step: &Step) -> Result<(), FlowError> {
        let at = format!("steps.{id}");
        let id_ok = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
        if id.is_empty() || id.len() > MAX_STEP_ID_CHARS || !id.chars().all(id_ok) {
            return Err(self.error(
                &at,
                format!("a step's name is 1 to {MAX_STEP_ID_CHARS} characters of letters, digits, _ and -"),
            ));
        }
        let actions = [
            step.menu.is_some(),
            step.collect.is_some(),
            step.branch.is_some(),
            step.next.is_some(),
            step.handoff.is_some(),
            step.end.is_some(),
        ];
        if actions.iter().filter(|set| **set).count() != 1 {
            return Err(self.error(
                &at,
                "a step does exactly one of menu, collect, branch, next, handoff and end",
            ));
        }
        if step.otherwise.is_some() && step.branch.is_none() {
            return Err(self.error(format!("{at}.otherwise"), "only a branch has otherwise"));
        }
        match &step.say {
            Some(say) => self.text(&format!("{at}.say"), say, MAX_SAY_CHARS)?,
            None if step.branch.is_none() => {
                return Err(self.error(&at, "this step needs something to say (say)"));
            }
            None => {}
        }
        match step.kind() {
            StepKind::Menu(choices) => self.menu(flow, &at, choices),
            StepKind::Collect(collect) => self.collect(flow, &at, collect),
            StepKind::Branch(rules, _) => self.branch(flow, &at, rules, step.otherwise.as_deref()),
            StepKind::Next(next) => self.target(flow, &format!("{at}.next"), next),
            StepKind::HandOff(note) => self.text(&format!("{at}.handoff"), note, MAX_NOTE_CHARS),
            StepKind::End if step.end == Some(true) => Ok(()),
            StepKind::End => Err(self.error(format!("{at}.end"), "end is true when present")),
        }
    }

    fn menu(&self, flow: &Flow, at: &str, choices: &[Choice]) -> Result<(), FlowError> {
        if choices.is_empty() || choices.len() > MAX_CHOICES {
            return Err(self.error(
                format!("{at}.menu"),
                format!("a menu has 1 to {MAX_CHOICES} choices"),
            ));
        }
        let mut seen: Vec<String> = Vec::new();
        for (index, choice) in choices.iter().enumerate() {
            let item = format!("{at}.menu[{index}]");
            self.text(&format!("{item}.label"), &choice.label, MAX_LABEL_CHARS)?;
            if let Some(value) = &choice.value {
                self.text(&format!("{item}.value"), value, MAX_VALUE_CHARS)?;
            }
            let value = choice.value().trim().to_lowercase();
            if seen.contains(&value) {
                return Err(self.error(item, "two choices of a menu send the same value"));
            }
            seen.push(value);
            self.target(flow, &format!("{item}.next"), &choice.next)?;
        }
        Ok(())
    }

    fn collect(&self, flow: &Flow, at: &str, collect: &Collect) -> Result<(), FlowError> {
        let field = format!("{at}.collect.attribute");
        let key = collect.attribute.as_str();
        if key.trim() != key
            || key.is_empty()
            || key.chars().count() > MAX_ATTRIBUTE_CHARS
            || key.contains('.')
        {
            return Err(self.error(
                field,
                format!("an attribute is 1 to {MAX_ATTRIBUTE_CHARS} characters without '.' or surrounding spaces"),
            ));
        }
        if key == "timezone" && collect.format() != CollectFormat::Timezone {
            return Err(self.error(
                format!("{at}.collect.format"),
                "the time zone is collected as timezone",
            ));
        }
        if let Some(retry) = &collect.retry {
            self.text(&format!("{at}.collect.retry"), retry, MAX_SAY_CHARS)?;
        }
        self.target(flow, &format!("{at}.collect.next"), &collect.next)
    }

    fn branch(
        &self,
        flow: &Flow,
        at: &str,
        rules: &[Rule],
        otherwise: Option<&str>,
    ) -> Result<(), FlowError> {
        if rules.is_empty() || rules.len() > MAX_RULES {
            return Err(self.error(
                format!("{at}.branch"),
                format!("a branch has 1 to {MAX_RULES} rules"),
            ));
        }
        for (index, rule) in rules.iter().enumerate() {
            let item = format!("{at}.branch[{index}]");
            let condition = &rule.when;
            let set = [
                condition.tag.is_some(),
                condition.attribute.is_some(),
                condition.business_hours.is_some(),
            ];
            if set.iter().filter(|set| **set).count() != 1 {
                return Err(self.error(
                    format!("{item}.when"),
                    "a condition is exactly one of tag, attribute and business_hours",
                ));
            }
            if let Some(tag) = &condition.tag {
                self.text(&format!("{item}.when.tag"), tag, MAX_ATTRIBUTE_CHARS)?;
            }
            if let Some(attribute) = &condition.attribute {
                self.text(
                    &format!("{item}.when.attribute"),
                    attribute,
                    MAX_ATTRIBUTE_CHARS,
                )?;
            }
            self.target(flow, &format!("{item}.next"), &rule.next)?;
        }
        let Some(otherwise) = otherwise else {
            return Err(self.error(
                at,
                "a branch says where to go when no rule matches (otherwise)",
            ));
        };
        self.target(flow, &format!("{at}.otherwise"), otherwise)
    }

    /// Steps reached without waiting for the fan are said in one message (the bot rules
    /// allow one automated message per fan message): such a path must not loop, and what
    /// it says must fit one message.
    fn automatic_paths(&self, flow: &Flow) -> Result<(), FlowError> {
        let mut longest: HashMap<&str, usize> = HashMap::new();
        for id in flow.steps.keys() {
            let mut path = Vec::new();
            let chars = self.longest_say(flow, id, &mut path, &mut longest)?;
            if chars > MAX_BODY_CHARS {
                return Err(self.error(
                    format!("steps.{id}"),
                    format!(
                        "the steps said in one go from here exceed {MAX_BODY_CHARS} characters"
                    ),
                ));
            }
        }
        Ok(())
    }

    fn longest_say<'f>(
        &self,
        flow: &'f Flow,
        id: &'f str,
        path: &mut Vec<&'f str>,
        longest: &mut HashMap<&'f str, usize>,
    ) -> Result<usize, FlowError> {
        if let Some(known) = longest.get(id) {
            return Ok(*known);
        }
        if path.contains(&id) {
            let from = path.last().copied().unwrap_or(id);
            return Err(self.error(
                format!("steps.{from}"),
                format!("this step comes back to \"{id}\" without waiting for the fan"),
            ));
        }
        let Some(step) = flow.steps.get(id) else {
            return Ok(0);
        };
        let own = step
            .say
            .as_deref()
            .map_or(0, |say| say.trim().chars().count() + 2);
        path.push(id);
        let mut after = 0;
        for next in step.automatic_successors() {
            after = after.max(self.longest_say(flow, next, path, longest)?);
        }
        path.pop();
        longest.insert(id, own + after);
        Ok(own + after)
    }
}
