//! The agent desk's settings: the creator's time zone and name, the first-response
//! targets, the canned first-line rule, shift-scoped access and how often the queue is
//! offered to agents.

use crate::app::error::{ServiceError, ServiceResult};
use fandesk_domain::desk::FirstLineMode;
use jiff::tz::TimeZone;
use std::time::Duration;

/// Settings of the agent desk; the charter will own them (docs/product.md › Not yet
/// implemented).
#[derive(Clone, Debug)]
pub struct DeskConfig {
    /// The creator's IANA time zone: shifts and the coverage view are in it.
    pub creator_timezone: TimeZone,
    /// `{{ creator.name }}` in canned responses. Unset, templates naming it need a default.
    pub creator_name: Option<String>,
    /// First-response target (docs/product.md › Routing, priority and shifts: default 60
    /// s); a breach raises `sla_breach`.
    pub sla_target: Duration,
    /// The stretch goal the queue shows (default 30 s); it raises nothing.
    pub sla_stretch: Duration,
    /// The canned first-line rule (docs/product.md › Canned responses: `enforce` by
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
