//! Signals and alerts (docs/product.md › Signals; README.md › Supervision and signals):
//! the editable keyword and restricted-word rules and what a post carries before its
//! commit ([`rules`]), the after-commit processor that raises keyword, sentiment,
//! engagement and restricted-word alerts ([`processor`]), and alerts themselves
//! ([`alerts`]).

pub(crate) mod alert_details;
pub(crate) mod alerts;
pub(crate) mod processor;
pub(crate) mod rules;
