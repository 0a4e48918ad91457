//! Scripted bot flows (docs/product.md › Automation and bots): a flow document written by
//! a creator in YAML or JSON (`document.rs`: the model and its validator, whose errors name
//! the key and the line), where a key sits in the source (`locate.rs`), and the pure step
//! function that turns a fan's input into the bot's next actions (`step.rs`).

mod document;
mod locate;
mod step;
#[cfg(test)]
mod tests;

pub use document::{
    Choice, Collect, CollectFormat, Condition, Flow, FlowError, Format, MAX_SOURCE_BYTES, Rule,
    Step, StepKind, parse_flow,
};
pub use step::{Facts, FlowAction, FlowInput, Outcome, QuickReply, step};
