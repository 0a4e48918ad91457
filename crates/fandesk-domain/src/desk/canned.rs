//! Canned-response templates (docs/product.md › Canned responses): checked when a template
//! is created and rendered so that a variable never renders empty, "so 'Hi ,' never reaches
//! a fan".
//!
//! Variables: `fan.name`, `fan.first_name`, `agent.name`, `creator.name`, and the fan's
//! custom attributes as `fan.attributes.KEY` (or `fan.attributes["any key"]`). A value that
//! is absent or blank (empty or only whitespace) is missing. Every `{{ … }}` must render
//! something: when its first variable is missing and no default covers it, the render fails
//! with [`TemplateError::VariableMissing`] (`template_variable_missing`). Defaults use the
//! Liquid form docs/product.md writes, `{{ fan.first_name | default: "there" }}`, or the
//! minijinja form `default("there")`; like Liquid's, they also replace blank values.
//!
//! Rendering is sandboxed: minijinja with no globals, a handful of filters
//! (`desk::canned_syntax`), no HTML escaping, a fixed budget of steps
//! ([`RENDER_FUEL`](crate::desk::canned_engine::RENDER_FUEL)), and output capped at
//! what a message may hold.

use crate::desk::{canned_engine, canned_syntax};
use crate::message::MAX_BODY_CHARS;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use thiserror::Error;

/// A template is a message draft, so it obeys the message limit.
pub const MAX_TEMPLATE_CHARS: usize = MAX_BODY_CHARS;

/// The variables a template may name; see [`allowed_variable`] for attributes.
pub const VARIABLES: &[&str] = &["fan.name", "fan.first_name", "agent.name", "creator.name"];

/// Where in the template a problem is: 1-based line and, when known, column (in
/// characters). Errors found by minijinja itself carry only the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Position {
    pub line: usize,
    pub column: Option<usize>,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.column {
            Some(column) => write!(f, "line {}, column {column}", self.line),
            None => write!(f, "line {}", self.line),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum TemplateError {
    #[error("template body must not be empty")]
    Empty,
    #[error("template body must be at most {max} characters")]
    TooLong { max: usize },
    #[error("syntax error at {position}: {message}")]
    Syntax { position: Position, message: String },
    #[error("{what} is not allowed in canned responses ({position})")]
    NotAllowed { what: String, position: Position },
    #[error(
        "unknown variable {variable} ({position}); use fan.name, fan.first_name, \
         fan.attributes.KEY, agent.name or creator.name"
    )]
    UnknownVariable {
        variable: String,
        position: Position,
    },
    /// The one render-time refusal a valid template meets in normal use.
    #[error("template variable {variable} has no value and no default")]
    VariableMissing { variable: String },
    #[error("rendered text is longer than a message may be ({MAX_BODY_CHARS} characters)")]
    OutputTooLarge,
    #[error("template takes too many steps to render")]
    TooComplex,
    #[error("template cannot be rendered: {message}")]
    Render { message: String },
}

impl TemplateError {
    /// The error code the service answers with (docs/api.md › Errors).
    pub fn code(&self) -> &'static str {
        match self {
            TemplateError::VariableMissing { .. } => "template_variable_missing",
            _ => "invalid_request",
        }
    }
}

/// What a render knows about the conversation. The service fills it; blank values count
/// as absent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TemplateVars {
    pub fan_name: Option<String>,
    /// When absent, the first word of `fan_name` (fan profiles hold a display name only).
    pub fan_first_name: Option<String>,
    pub fan_attributes: BTreeMap<String, String>,
    pub agent_name: Option<String>,
    pub creator_name: Option<String>,
}

/// A template that passed [`CannedTemplate::parse`]; only these are stored or rendered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CannedTemplate {
    body: String,
    prepared: String,
}

impl CannedTemplate {
    /// Validates a template at creation: size, syntax (with position), the allowed language
    /// and variables, and a trial render with sample values so a template that cannot
    /// render for anyone (too many steps, too much output) is refused now, not in front of
    /// a fan.
    pub fn parse(body: &str) -> Result<CannedTemplate, TemplateError> {
        if body.trim().is_empty() {
            return Err(TemplateError::Empty);
        }
        if body.chars().count() > MAX_TEMPLATE_CHARS {
            return Err(TemplateError::TooLong {
                max: MAX_TEMPLATE_CHARS,
            });
        }
        let prepared = canned_syntax::prepare(body)?;
        let variables = canned_engine::compile(&prepared.source)?;
        if let Some(error) = first_unknown_variable(&variables, &prepared.paths) {
            return Err(error);
        }
        let sample = sample_vars(&variables);
        let parsed = CannedTemplate {
            body: body.to_owned(),
            prepared: prepared.source,
        };
        match parsed.render(&sample) {
            Ok(_) | Err(TemplateError::VariableMissing { .. }) => Ok(parsed),
            Err(error) => Err(error),
        }
    }

    /// The template as its author wrote it.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// Renders for one conversation. Fails with [`TemplateError::VariableMissing`] rather
    /// than render a blank where a variable was meant to be.
    pub fn render(&self, vars: &TemplateVars) -> Result<String, TemplateError> {
        canned_engine::render(&self.prepared, vars)
    }
}

/// `fan.name`, `fan.first_name`, `agent.name`, `creator.name`, `fan.attributes` and
/// `fan.attributes.KEY` (one level: attribute values are text).
pub fn allowed_variable(path: &str) -> bool {
    VARIABLES.contains(&path)
        || path == "fan.attributes"
        || path
            .strip_prefix("fan.attributes.")
            .is_some_and(|key| !key.is_empty() && !key.contains('.'))
}

/// The first word of a display name: "Anna Schmidt" → "Anna"; `None` for a blank name.
pub fn first_name_of(display_name: &str) -> Option<String> {
    display_name.split_whitespace().next().map(str::to_owned)
}

/// The unknown variable that comes first in the text, so the author fixes problems top to
/// bottom; `paths` (from `desk::canned_syntax`) say where each variable is written.
fn first_unknown_variable(
    variables: &HashSet<String>,
    paths: &[(String, Position)],
) -> Option<TemplateError> {
    let unknown = variables
        .iter()
        .filter(|variable| !allowed_variable(variable));
    let located = unknown.map(|variable| {
        let written_at = paths.iter().find(|(path, _)| {
            path == variable
                || path
                    .strip_prefix(variable.as_str())
                    .is_some_and(|rest| rest.starts_with('.'))
        });
        let position = written_at.map_or(
            Position {
                line: 1,
                column: None,
            },
            |(_, at)| *at,
        );
        (position, variable)
    });
    let (position, variable) =
        located.min_by_key(|(at, variable)| (at.line, at.column, variable.to_string()))?;
    Some(TemplateError::UnknownVariable {
        variable: variable.clone(),
        position,
    })
}

/// Values for the trial render at creation: every variable the template names, non-blank.
fn sample_vars(variables: &HashSet<String>) -> TemplateVars {
    let sample = || Some("Sample".to_owned());
    TemplateVars {
        fan_name: Some("Sample Fan".into()),
        fan_first_name: sample(),
        fan_attributes: variables
            .iter()
            .filter_map(|path| path.strip_prefix("fan.attributes."))
            .map(|key| (key.to_owned(), "Sample".to_owned()))
            .collect(),
        agent_name: sample(),
        creator_name: sample(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> TemplateVars {
        TemplateVars {
            fan_name: Some("Anna Schmidt".into()),
            fan_first_name: None,
            fan_attributes: [("tier", "gold"), ("blank", "  "), ("shoe size", "42")]
                .into_iter()
                .map(|(key, value)| (key.to_owned(), value.to_owned()))
                .collect(),
            agent_name: Some("Sam".into()),
            creator_name: None,
        }
    }

    /// Parses and renders with [`vars`]; errors as `"missing fan.x"`, `"unknown fan.x at
    /// 1:4"`, `"syntax at line 2"`, `"not allowed"`, `"too complex"`, `"too large"`, or the
    /// code for the rest.
    fn check(template: &str, expected: Result<&str, &str>) {
        check_with(template, &vars(), expected);
    }

    fn check_with(template: &str, vars: &TemplateVars, expected: Result<&str, &str>) {
        let got = CannedTemplate::parse(template).and_then(|parsed| parsed.render(vars));
        let got = got.map_err(|error| match error {
            TemplateError::VariableMissing { variable } => format!("missing {variable}"),
            TemplateError::UnknownVariable { variable, position } => {
                format!(
                    "unknown {variable} at {}:{}",
                    position.line,
                    position.column.unwrap_or(0)
                )
            }
            TemplateError::Syntax { position, .. } => format!("syntax at line {}", position.line),
            TemplateError::NotAllowed { .. } => "not allowed".into(),
            TemplateError::TooComplex => "too complex".into(),
            TemplateError::OutputTooLarge => "too large".into(),
            other => other.code().to_owned(),
        });
        assert_eq!(
            got.as_deref().map_err(String::as_str),
            expected,
            "{template:?}"
        );
    }

    #[test]
    fn variables_render_or_refuse() {
        check("Hi {{fan.first_name}}, thanks!", Ok("Hi Anna, thanks!"));
        check("Hi {{ fan.name }}", Ok("Hi Anna Schmidt"));
        check("{{ agent.name }} here", Ok("Sam here"));
        check(
            "{{ fan.attributes.tier | upcase }} member",
            Ok("GOLD member"),
        );
        check(r#"size {{ fan.attributes["shoe size"] }}"#, Ok("size 42"));
        // Absent, blank, or unknown attribute: refused, never rendered empty.
        check(
            "Thanks from {{ creator.name }}",
            Err("missing creator.name"),
        );
        check(
            "Hi {{ fan.attributes.blank }},",
            Err("missing fan.attributes.blank"),
        );
        check(
            "Hi {{ fan.attributes.nope }},",
            Err("missing fan.attributes.nope"),
        );
        check(
            "Hi {{ fan.attributes.nope | upper }},",
            Err("missing fan.attributes.nope"),
        );
        // Defaults, Liquid and minijinja style; blank values take the default too.
        check(
            r#"From {{ creator.name | default: "the team" }}"#,
            Ok("From the team"),
        );
        check(
            "From {{ creator.name | default('the team') }}",
            Ok("From the team"),
        );
        check(
            "Hi {{ fan.attributes.blank | default: 'there' }}",
            Ok("Hi there"),
        );
        check("Hi {{ fan.first_name | default: 'there' }}", Ok("Hi Anna"));
        // An empty default is no default.
        check(
            "Hi {{ creator.name | default: '' }}",
            Err("missing creator.name"),
        );
        // Conditions may test a missing variable without failing.
        check(
            "{% if creator.name %}{{ creator.name }}{% else %}us{% endif %}",
            Ok("us"),
        );
        check(
            "{% if fan.attributes.tier == 'gold' %}Gold!{% endif %}",
            Ok("Gold!"),
        );
        check(
            "{% if creator.name is defined %}x{% else %}y{% endif %}",
            Ok("y"),
        );
        // Block tags on their own lines leave no blank lines.
        check(
            "Hi {{ fan.first_name }},\n{% if fan.attributes.tier %}\nGold perk\n{% endif %}\nBye",
            Ok("Hi Anna,\nGold perk\nBye"),
        );
        check(
            "{% for c in fan.first_name %}{{ c }}.{% endfor %}",
            Ok("A.n.n.a."),
        );
        // No HTML escaping: this is chat text, not a web page.
        check("{{ fan.name }} <3 & more", Ok("Anna Schmidt <3 & more"));
        let quoted = TemplateVars {
            fan_name: Some("<b>\"Jo\"</b>".into()),
            ..vars()
        };
        check_with("Hi {{ fan.name }}", &quoted, Ok("Hi <b>\"Jo\"</b>"));
    }

    #[test]
    fn first_name_sources() {
        let explicit = TemplateVars {
            fan_first_name: Some(" Annie ".into()),
            ..vars()
        };
        check_with("Hi {{ fan.first_name }}!", &explicit, Ok("Hi Annie!"));
        let blank = TemplateVars {
            fan_first_name: Some(" ".into()),
            ..vars()
        };
        check_with("Hi {{ fan.first_name }}!", &blank, Ok("Hi Anna!"));
        let nameless = TemplateVars {
            fan_name: Some("   ".into()),
            ..vars()
        };
        check_with(
            "Hi {{ fan.first_name }}!",
            &nameless,
            Err("missing fan.first_name"),
        );
        assert_eq!(first_name_of("  Anna  Schmidt "), Some("Anna".into()));
        assert_eq!(first_name_of(""), None);
    }

    #[test]
    fn validation_at_creation() {
        check("", Err("invalid_request"));
        check(" \n ", Err("invalid_request"));
        check(&"x".repeat(MAX_TEMPLATE_CHARS + 1), Err("invalid_request"));
        check("{{ fan.firstname }}", Err("unknown fan.firstname at 1:4"));
        check("Hi\n  {{ user.name }}", Err("unknown user.name at 2:6"));
        check("{{ fan }}", Err("unknown fan at 1:4"));
        check(
            "{{ fan.attributes.a.b }}",
            Err("unknown fan.attributes.a.b at 1:4"),
        );
        check(
            "{% for c in fan.name %}{{ c }}{% endfor %}{{ d }}",
            Err("unknown d at 1:46"),
        );
        check(
            "a\nb\n{% if fan.name %}never closed",
            Err("syntax at line 3"),
        );
        check("{{ fan.name | }}", Err("syntax at line 1"));
        check("{{ fan.name }", Err("syntax at line 1"));
        check("{% set x = fan.name %}", Err("not allowed"));
        check(
            "{% for a in fan.name recursive %}{{ loop(a) }}{% endfor %}",
            Err("not allowed"),
        );
        assert_eq!(
            CannedTemplate::parse("{{ fan.first_name }}").map(|t| t.body().to_owned()),
            Ok("{{ fan.first_name }}".to_owned())
        );
    }

    #[test]
    fn malicious_templates_are_bounded() {
        let nested = |depth: usize| {
            let open = "{% for x in fan.name %}".repeat(depth);
            let close = "{% endfor %}".repeat(depth);
            format!("{open}.{close}")
        };
        // Four loops over the 10-character sample name: out of fuel already at creation.
        check(&nested(4), Err("too complex"));
        // Three pass with the sample, but a long real name runs out of fuel, not memory.
        let long_name = TemplateVars {
            fan_name: Some("x".repeat(60)),
            ..vars()
        };
        check_with(&nested(3), &long_name, Err("too complex"));
        // Loops only repeat output, and output is capped long before memory matters.
        let flood = format!(
            "{{% for x in '{}' %}}{{{{ '{}' }}}}{{% endfor %}}",
            "x".repeat(50),
            "y".repeat(1_000)
        );
        check(&flood, Err("too large"));
        // Just over a message body in characters is refused as well.
        check(
            &format!(
                "{{% for x in 'ab' %}}{{{{ '{}' }}}}{{% endfor %}}",
                "y".repeat(2_001)
            ),
            Err("too large"),
        );
        // Multiplying text in one step is not in the language at all.
        check("{{ fan.name * 100000000 }}", Err("not allowed"));
        check(
            "{{ fan.name | replace('a', 'aaaaaaaaaa') }}",
            Err("not allowed"),
        );
    }

    #[test]
    fn codes() {
        let missing = TemplateError::VariableMissing {
            variable: "fan.name".into(),
        };
        assert_eq!(missing.code(), "template_variable_missing");
        assert_eq!(TemplateError::TooComplex.code(), "invalid_request");
        assert_eq!(
            missing.to_string(),
            "template variable fan.name has no value and no default"
        );
    }
}
