//! Reporting (docs/product.md › Metrics and reports): metric summaries and the weekly
//! report read from the metric rows the group commit maintains ([`summary`]), and the
//! report's scheduled delivery to a directory or a signed webhook ([`delivery`]). The
//! Prometheus registry is `app::metrics`.

pub(crate) mod delivery;
pub(crate) mod summary;

pub use delivery::ReportDelivery;
