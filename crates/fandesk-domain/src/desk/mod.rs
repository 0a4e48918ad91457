//! The agent desk's pure rules (docs/product.md › Routing, priority and shifts; Canned
//! responses): the priority score, assignment and escalation choice, shifts and 24/7
//! coverage, canned-response templates with the first-line rule, and library health. No IO,
//! no clock: every instant is passed in (ARCHITECTURE.md › Invariants).

pub mod assignment;
pub mod canned;
pub mod canned_engine;
pub mod canned_first_line;
mod canned_lexer;
pub mod canned_library;
pub mod canned_syntax;
pub mod coverage;
pub mod priority;
pub mod shift;

pub use assignment::{
    AgentLoad, Assignment, AssignmentReason, choose_agent, choose_escalation_lead,
};
pub use canned::{
    CannedTemplate, Position, TemplateError, TemplateVars, allowed_variable, first_name_of,
};
pub use canned_first_line::{
    FIRST_LINE_UNEDITED, FirstLineMode, FirstLineVerdict, check_first_line, first_line,
};
pub use canned_library::{
    HealthPolicy, LibrarySizeWarning, is_stale, library_size_warning, overuse_share,
    validate_shortcut,
};
pub use coverage::{UncoveredHour, coverage, next_coverage_start, off_hours_reply};
pub use priority::{
    Intent, IntentMatch, PriorityFacts, PriorityInput, PriorityScore, detect_intent, score,
};
pub use shift::{Shift, ShiftWindow, is_on_shift, local_instant, parse_weekday};
