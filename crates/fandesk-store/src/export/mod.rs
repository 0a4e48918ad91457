//! Export and import of fans and conversations as JSON lines (docs/export.md): the
//! format's tables and columns (`tables`), one line each way (`line`), the streamed
//! reader (`read`) and the batched, idempotent importer (`write`).

mod line;
mod read;
mod tables;
mod write;

pub use read::{ExportCounts, ExportCursor};
pub use write::{ImportSummary, Importer, check_import_line};

/// The exported tables and their columns, for tests that hold them against the schema:
/// `(table, [columns])` in file order.
pub fn exported_columns() -> Vec<(&'static str, Vec<&'static str>)> {
    tables::TABLES
        .iter()
        .map(|table| {
            (
                table.name,
                table.columns.iter().map(|column| column.name).collect(),
            )
        })
        .collect()
}
