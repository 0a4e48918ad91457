//! The flow's step function: from where a conversation waits and what the fan wrote, the
//! bot's next actions. Pure: the facts it branches on (the fan's tags and attributes,
//! business hours) are passed in, and what it decides is carried out by the service.
//!
//! The bot rules allow one automated message per fan message (docs/product.md › Bots), so
//! everything the flow says before it waits again — an answer, a branch, the next menu —
//! goes out as one message.

use super::document::{CollectFormat, Condition, Flow, StepKind};
use std::collections::BTreeMap;

/// Said when an answer to `collect` is not valid and the step has no `retry` of its own.
const DEFAULT_RETRY: &str = "Sorry, that does not look right. Could you try again?";
/// Longest collected text value, in characters.
const MAX_COLLECTED_CHARS: usize = 500;
/// Longest e-mail address (RFC 5321 path limit).
const MAX_EMAIL_CHARS: usize = 254;

/// What the flow knows of the fan and the team when it decides.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Facts {
    /// The fan's tags, lowercase.
    pub tags: Vec<String>,
    /// The fan's custom attributes.
    pub attributes: BTreeMap<String, String>,
    /// The fan's IANA time zone.
    pub timezone: Option<String>,
    /// Someone on the team is on shift (or the team keeps no schedule).
    pub business_hours: bool,
}

impl Facts {
    fn holds(&self, condition: &Condition) -> bool {
        if let Some(tag) = &condition.tag {
            let tag = tag.trim().to_lowercase();
            return self.tags.contains(&tag);
        }
        if let Some(key) = &condition.attribute {
            return self.attribute(key.trim()).is_some();
        }
        condition.business_hours == Some(self.business_hours)
    }

    fn attribute(&self, key: &str) -> Option<&str> {
        let value = match key {
            "timezone" => self.timezone.as_deref(),
            _ => self.attributes.get(key).map(String::as_str),
        };
        value.filter(|value| !value.trim().is_empty())
    }

    fn remember(&mut self, key: &str, value: &str) {
        match key {
            "timezone" => self.timezone = Some(value.to_owned()),
            _ => {
                self.attributes.insert(key.to_owned(), value.to_owned());
            }
        }
    }
}

/// What reached the flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowInput<'a> {
    /// A new conversation: the flow greets from its start step.
    Start,
    /// The fan wrote (or pressed a quick reply, which sends its value).
    Fan(&'a str),
}

/// A button under the bot's message; pressing it sends `value`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct QuickReply {
    pub label: String,
    pub value: String,
}

/// One thing the service carries out, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlowAction {
    /// An automated public message.
    Send {
        body: String,
        quick_replies: Vec<QuickReply>,
    },
    /// Store an attribute in the fan's profile (`timezone` is the profile's time zone).
    Remember { attribute: String, value: String },
    /// A team-only note, then the hand-off to the queue.
    HandOff { note: String },
}

/// The actions, and the step the conversation waits at afterwards (`None`: the flow is
/// over for this conversation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub actions: Vec<FlowAction>,
    pub waiting_at: Option<String>,
}

/// Advances a conversation's flow by one input. `waiting_at` is the step it waits at
/// (ignored for `Start`); a conversation whose flow is over (`None`) gets no actions.
pub fn step<'f>(
    flow: &'f Flow,
    waiting_at: Option<&'f str>,
    input: FlowInput<'_>,
    facts: &Facts,
) -> Outcome {
    let mut facts = facts.clone();
    let mut actions = Vec::new();
    let from = match input {
        FlowInput::Start => flow.start.as_str(),
        FlowInput::Fan(text) => {
            let Some(id) = waiting_at else {
                return Outcome {
                    actions,
                    waiting_at: None,
                };
            };
            let Some(step) = flow.steps.get(id) else {
                return Outcome {
                    actions,
                    waiting_at: None,
                };
            };
            match step.kind() {
                StepKind::Menu(choices) => {
                    let text = text.trim();
                    let picked = choices.iter().find(|choice| {
                        choice.value().trim().eq_ignore_ascii_case(text)
                            || choice.label.trim().eq_ignore_ascii_case(text)
                    });
                    match picked {
                        Some(choice) => choice.next.as_str(),
                        // Not one of the choices: ask again with the same buttons.
                        None => return say_from(flow, id, Vec::new(), &facts, actions),
                    }
                }
                StepKind::Collect(collect) => match normalize(collect.format(), text) {
                    Some(value) => {
                        facts.remember(&collect.attribute, &value);
                        actions.push(FlowAction::Remember {
                            attribute: collect.attribute.clone(),
                            value,
                        });
                        collect.next.as_str()
                    }
                    None => {
                        let retry = collect.retry.as_deref().unwrap_or(DEFAULT_RETRY);
                        actions.push(FlowAction::Send {
                            body: retry.trim().to_owned(),
                            quick_replies: Vec::new(),
                        });
                        return Outcome {
                            actions,
                            waiting_at: Some(id.to_owned()),
                        };
                    }
                },
                // Only menus and collects wait for the fan.
                _ => {
                    return Outcome {
                        actions,
                        waiting_at: None,
                    };
                }
            }
        }
    };
    say_from(flow, from, Vec::new(), &facts, actions)
}

/// Says what the steps from `id` say until one waits for the fan or ends the flow.
fn say_from<'f>(
    flow: &'f Flow,
    mut id: &'f str,
    mut said: Vec<String>,
    facts: &Facts,
    mut actions: Vec<FlowAction>,
) -> Outcome {
    // The validator refuses loops without a wait; the bound keeps a bad flow harmless.
    for _ in 0..=flow.steps.len() {
        let Some(step) = flow.steps.get(id) else {
            break;
        };
        if let Some(say) = &step.say {
            said.push(say.trim().to_owned());
        }
        let send = |quick_replies: Vec<QuickReply>, actions: &mut Vec<FlowAction>| {
            if !said.is_empty() {
                actions.push(FlowAction::Send {
                    body: said.join("\n\n"),
                    quick_replies,
                });
            }
        };
        match step.kind() {
            StepKind::Next(next) => id = next,
            StepKind::Branch(rules, otherwise) => {
                id = rules
                    .iter()
                    .find(|rule| facts.holds(&rule.when))
                    .map_or(otherwise, |rule| rule.next.as_str());
            }
            StepKind::Menu(choices) => {
                let buttons = choices
                    .iter()
                    .map(|choice| QuickReply {
                        label: choice.label.trim().to_owned(),
                        value: choice.value().trim().to_owned(),
                    })
                    .collect();
                send(buttons, &mut actions);
                return Outcome {
                    actions,
                    waiting_at: Some(id.to_owned()),
                };
            }
            StepKind::Collect(_) => {
                send(Vec::new(), &mut actions);
                return Outcome {
                    actions,
                    waiting_at: Some(id.to_owned()),
                };
            }
            StepKind::HandOff(note) => {
                send(Vec::new(), &mut actions);
                actions.push(FlowAction::HandOff {
                    note: handoff_note(flow, note, facts),
                });
                return Outcome {
                    actions,
                    waiting_at: None,
                };
            }
            StepKind::End => {
                send(Vec::new(), &mut actions);
                return Outcome {
                    actions,
                    waiting_at: None,
                };
            }
        }
    }
    Outcome {
        actions,
        waiting_at: None,
    }
}

/// The creator's note, then what the flow collected, so the agent need not ask again.
fn handoff_note(flow: &Flow, note: &str, facts: &Facts) -> String {
    let mut keys: Vec<&str> = flow
        .steps
        .values()
        .filter_map(|step| {
            step.collect
                .as_ref()
                .map(|collect| collect.attribute.as_str())
        })
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let collected: Vec<String> = keys
        .into_iter()
        .filter_map(|key| facts.attribute(key).map(|value| format!("{key}: {value}")))
        .collect();
    let note = note.trim();
    if collected.is_empty() {
        note.to_owned()
    } else {
        format!("{note}\nCollected by the flow: {}", collected.join(", "))
    }
}

/// The fan's answer as stored, or `None` when it is not valid for `format`.
fn normalize(format: CollectFormat, text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() || text.chars().any(char::is_control) {
        return None;
    }
    match format {
        CollectFormat::Text => {
            (text.chars().count() <= MAX_COLLECTED_CHARS).then(|| text.to_owned())
        }
        CollectFormat::Email => is_email(text).then(|| text.to_owned()),
        CollectFormat::Timezone => jiff::tz::TimeZone::get(text)
            .ok()
            .and_then(|zone| zone.iana_name().map(str::to_owned)),
    }
}

/// A plausible address: one `@`, a local part, a dotted domain of letters, digits and
/// hyphens, no spaces. Whether it receives mail is not ours to know.
fn is_email(text: &str) -> bool {
    if text.chars().count() > MAX_EMAIL_CHARS || text.chars().any(char::is_whitespace) {
        return false;
    }
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    let label_ok = |label: &str| {
        !label.is_empty()
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && domain.split('.').all(label_ok)
}

#[cfg(test)]
pub(super) fn tests_is_email(text: &str) -> bool {
    is_email(text)
}
