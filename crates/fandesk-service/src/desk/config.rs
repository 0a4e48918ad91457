//! The agent desk's settings: the creator's time zone and name, shift-scoped access and
//! how often the queue is offered to agents; and the first-response targets and canned
//! first-line rule a fresh charter starts with (the charter holds them from then on).

use crate::app::error::{ServiceError, ServiceResult};
use fandesk_domain::desk::FirstLineMode;
use jiff::tz::TimeZone;
use std::time::Duration;

/// Settings of the agent desk.
#[derive(Clone, Debug)]
pub struct DeskConfig {
    /// The creator's IANA time zone: shifts and the coverage view are in it.
    pub creator_timezone: TimeZone,
    /// `{{ creator.name }}` in canned responses. Unset, templates naming it need a default.
    pub creator_name: Option<String>,
    /// The seed of a fresh charter's `response.first_response_target_secs` (default 60
    /// s): only the first version of the charter is written from it (docs/product.md ›
    /// Charter).
    pub sla_target: Duration,
    /// The seed of `response.stretch_target_secs` (default 30 s).
    pub sla_stretch: Duration,
    /// The seed of `canned.first_line` (docs/product.md › Canned responses: `enforce` by
    /// default).
    pub first_line: FirstLineMode,
    /// Agents send in fan conversations only while on shift (docs/product.md › Routing,
    /// priority and shifts, optional).
    pub shift_scoped_access: bool,
    /// How often (on the service's clock) queued conversations are offered to agents
    /// whose shift has started.
    pub rebalance_every: Duration,
}

impl Default for DeskConfig {
    fn default() -> Self {
        DeskConfig {
            creator_timezone: TimeZone::UTC,
            creator_name: None,
            sla_target: Duration::from_secs(60),
            sla_stretch: Duration::from_secs(30),
            first_line: FirstLineMode::Enforce,
            shift_scoped_access: false,
            rebalance_every: Duration::from_secs(15),
        }
    }
}

impl DeskConfig {
    /// Sets the creator's time zone by IANA name (`Europe/Berlin`).
    pub fn with_creator_timezone(mut self, name: &str) -> ServiceResult<DeskConfig> {
        self.creator_timezone = TimeZone::get(name).map_err(|_| {
            ServiceError::invalid(
                "creator_timezone",
                format!("unknown IANA time zone {name:?}"),
            )
        })?;
        Ok(self)
    }
}
