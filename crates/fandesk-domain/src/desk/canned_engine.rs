//! The minijinja sandbox behind canned templates (`desk::canned`), and the only file that
//! names minijinja: no globals, only the allow-listed filters and tests, no HTML escaping,
//! bounded steps, recursion and output. Everything it renders was checked and rewritten by
//! `desk::canned_syntax` first.

use crate::desk::canned::{Position, TemplateError, TemplateVars, first_name_of};
use crate::desk::canned_syntax::GUARD_FILTER;
use crate::message::MAX_BODY_CHARS;
use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior, Value};
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::io;

/// Steps one render may take. A real reply needs well under 500; nested loops over the
/// variables run out long before they cost anything.
pub const RENDER_FUEL: u64 = 10_000;
/// Output beyond this fails the render; a body must fit in [`MAX_BODY_CHARS`] characters
/// of at most 4 bytes each anyway.
const MAX_RENDERED_BYTES: usize = 4 * MAX_BODY_CHARS;
const RECURSION_LIMIT: usize = 16;
/// A `.txt` name: minijinja would HTML-escape a `.html` template.
const TEMPLATE_NAME: &str = "canned.txt";

/// Compiles rewritten source and returns the variables it reads, nested
/// (`fan.attributes.tier`), so the caller can refuse unknown ones.
pub(crate) fn compile(source: &str) -> Result<HashSet<String>, TemplateError> {
    let environment = environment();
    let template = environment
        .template_from_named_str(TEMPLATE_NAME, source)
        .map_err(syntax_error)?;
    Ok(template.undeclared_variables(true))
}

/// Renders rewritten source for one conversation.
pub(crate) fn render(source: &str, vars: &TemplateVars) -> Result<String, TemplateError> {
    let environment = environment();
    let template = environment
        .template_from_named_str(TEMPLATE_NAME, source)
        .map_err(syntax_error)?;
    let mut output = CappedOutput::default();
    template
        .render_captured_to(context(vars), &mut output)
        .map_err(render_error)?;
    let text = String::from_utf8(output.bytes).map_err(|_| TemplateError::Render {
        message: "output is not UTF-8".into(),
    })?;
    if text.chars().count() > MAX_BODY_CHARS {
        return Err(TemplateError::OutputTooLarge);
    }
    Ok(text)
}

/// Present and not blank; trimmed, so "  Anna " cannot render as "Hi   Anna ,".
fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|text| !text.is_empty())
}

fn context(vars: &TemplateVars) -> Value {
    let text = |value: Option<&str>| present(value).map(Value::from);
    let mut fan: BTreeMap<&str, Value> = BTreeMap::new();
    let first_name = present(vars.fan_first_name.as_deref())
        .map(str::to_owned)
        .or_else(|| vars.fan_name.as_deref().and_then(first_name_of));
    let entries = [
        ("name", text(vars.fan_name.as_deref())),
        ("first_name", first_name.map(Value::from)),
    ];
    fan.extend(
        entries
            .into_iter()
            .filter_map(|(key, value)| Some((key, value?))),
    );
    let attributes: BTreeMap<&str, Value> = vars
        .fan_attributes
        .iter()
        .filter_map(|(key, value)| Some((key.as_str(), text(Some(value))?)))
        .collect();
    fan.insert("attributes", Value::from(attributes));
    let mut root: BTreeMap<&str, Value> = BTreeMap::new();
    root.insert("fan", Value::from(fan));
    for (name, value) in [("agent", &vars.agent_name), ("creator", &vars.creator_name)] {
        let fields: BTreeMap<&str, Value> = text(value.as_deref())
            .map(|value| ("name", value))
            .into_iter()
            .collect();
        root.insert(name, Value::from(fields));
    }
    Value::from(root)
}

fn environment<'source>() -> Environment<'source> {
    let mut environment = Environment::empty();
    // Block tags on their own lines leave no blank lines in a chat message.
    let syntax = SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .build();
    // Only custom delimiters can fail to build; these are the defaults.
    if let Ok(syntax) = syntax {
        environment.set_syntax(syntax);
    }
    // Chainable: a missing attribute's attribute is undefined rather than an error without
    // a name; the guard filter then names the variable.
    environment.set_undefined_behavior(UndefinedBehavior::Chainable);
    environment.set_fuel(Some(RENDER_FUEL));
    environment.set_recursion_limit(RECURSION_LIMIT);
    environment.add_filter("default", liquid_default);
    environment.add_filter(GUARD_FILTER, required);
    environment.add_filter("upper", minijinja::filters::upper);
    environment.add_filter("upcase", minijinja::filters::upper);
    environment.add_filter("lower", minijinja::filters::lower);
    environment.add_filter("downcase", minijinja::filters::lower);
    environment.add_filter("capitalize", minijinja::filters::capitalize);
    environment.add_filter("title", minijinja::filters::title);
    environment.add_filter("trim", minijinja::filters::trim);
    environment.add_filter("strip", minijinja::filters::trim);
    environment.add_test("defined", minijinja::tests::is_defined);
    environment.add_test("undefined", minijinja::tests::is_undefined);
    environment.add_test("none", minijinja::tests::is_none);
    environment.add_test("string", minijinja::tests::is_string);
    environment.add_test("number", minijinja::tests::is_number);
    environment.add_test("eq", minijinja::tests::is_eq);
    environment.add_test("ne", minijinja::tests::is_ne);
    environment.add_test("startingwith", minijinja::tests::is_startingwith);
    environment.add_test("endingwith", minijinja::tests::is_endingwith);
    environment
}

fn is_blank(value: &Value) -> bool {
    value.is_undefined()
        || value.is_none()
        || value.as_str().is_some_and(|text| text.trim().is_empty())
}

/// Liquid's `default`: the fallback replaces an absent *or blank* value.
fn liquid_default(value: Value, fallback: Option<Value>) -> Value {
    if is_blank(&value) {
        fallback.unwrap_or_else(|| Value::from(""))
    } else {
        value
    }
}

/// Wraps every `{{ … }}` (see `desk::canned_syntax`): a blank result names its variable.
fn required(value: Value, variable: String) -> Result<Value, Error> {
    if is_blank(&value) {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "template variable has no value",
        )
        .with_source(MissingVariable(variable)));
    }
    Ok(value)
}

/// Carried as the source of the guard's error, so the render can name the variable.
#[derive(Debug)]
struct MissingVariable(String);

impl fmt::Display for MissingVariable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} has no value", self.0)
    }
}

impl std::error::Error for MissingVariable {}

fn syntax_error(error: Error) -> TemplateError {
    TemplateError::Syntax {
        position: Position {
            line: error.line().unwrap_or(1),
            column: None,
        },
        message: error
            .detail()
            .map_or_else(|| error.kind().to_string(), str::to_owned),
    }
}

fn render_error(error: Error) -> TemplateError {
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        if let Some(missing) = cause.downcast_ref::<MissingVariable>() {
            return TemplateError::VariableMissing {
                variable: missing.0.clone(),
            };
        }
        source = cause.source();
    }
    match error.kind() {
        ErrorKind::OutOfFuel => TemplateError::TooComplex,
        ErrorKind::WriteFailure => TemplateError::OutputTooLarge,
        _ if error
            .detail()
            .is_some_and(|detail| detail.contains("recursion")) =>
        {
            TemplateError::TooComplex
        }
        _ => TemplateError::Render {
            message: error
                .detail()
                .map_or_else(|| error.kind().to_string(), str::to_owned),
        },
    }
}

/// An in-memory sink that refuses to grow past [`MAX_RENDERED_BYTES`], so a loop cannot
/// build megabytes before fuel runs out.
#[derive(Default)]
struct CappedOutput {
    bytes: Vec<u8>,
}

impl io::Write for CappedOutput {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.bytes.len() + data.len() > MAX_RENDERED_BYTES {
            return Err(io::Error::other("rendered text too large"));
        }
        self.bytes.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::canned_syntax::prepare;

    /// Fuel a template consumes when rendered with `vars`.
    fn fuel_used(template: &str, vars: &TemplateVars) -> u64 {
        let source = prepare(template).unwrap().source;
        let environment = environment();
        let compiled = environment
            .template_from_named_str(TEMPLATE_NAME, &source)
            .unwrap();
        let captured = compiled
            .render_captured_to(context(vars), io::sink())
            .unwrap();
        captured
            .state()
            .fuel_levels()
            .map_or(0, |(consumed, _)| consumed)
    }

    #[test]
    fn real_replies_use_a_fraction_of_the_fuel() {
        let vars = TemplateVars {
            fan_name: Some("Anna Schmidt".into()),
            fan_attributes: [("tier".to_owned(), "gold".to_owned())].into(),
            agent_name: Some("Sam".into()),
            ..TemplateVars::default()
        };
        let reply = "Hi {{ fan.first_name | default: 'there' }},\n\
            {% if fan.attributes.tier == 'gold' %}\n\
            As a gold member, {{ fan.name }}, you get early access.\n\
            {% elif fan.attributes.tier %}\n\
            Thanks for being a {{ fan.attributes.tier }} member!\n\
            {% else %}\n\
            Thanks for reaching out!\n\
            {% endif %}\n\
            {{ agent.name }} from {{ creator.name | default: 'the team' | upper }}";
        let used = fuel_used(reply, &vars);
        assert!(
            used > 0 && used < RENDER_FUEL / 20,
            "used {used} of {RENDER_FUEL}"
        );
    }
}
