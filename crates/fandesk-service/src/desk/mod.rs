//! The agent desk (docs/product.md › Routing, priority and shifts; Canned responses): fan
//! profiles, the priority score and the queue, automatic assignment and escalation,
//! shifts and coverage, first-response SLA timers, canned responses, and the worker that
//! runs the desk after each commit, off the write path.

pub(crate) mod canned;
mod config;
pub(crate) mod fan_profile;
pub(crate) mod floor;
pub(crate) mod priority;
pub(crate) mod queue;
pub(crate) mod roster;
pub(crate) mod routing;
pub(crate) mod shifts;
pub(crate) mod sla;
mod worker;

pub use config::DeskConfig;
pub(crate) use worker::{AfterSend, DeskRuntime};
