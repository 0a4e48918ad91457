//! Moving a workspace's fans and conversations out and in as JSON lines (docs/export.md):
//! the owner's export, streamed from one snapshot, and import, checked whole before any
//! row is written and then written in batches that skip what is already there.

use crate::{App, ServiceError, ServiceResult};
use fandesk_domain::{Capability, Principal};
use fandesk_store::{ExportCursor, ImportSummary, StoreError, check_import_line};

impl App {
    /// `GET /api/v1/export` (owner): a cursor over the lines of the export.
    pub async fn export_workspace(&self, actor: &Principal) -> ServiceResult<ExportCursor> {
        actor.require(Capability::MoveData)?;
        Ok(self.store().export(self.now()).await?)
    }

    /// `POST /api/v1/import` (owner). Every line is checked before the first is written,
    /// so a malformed line (422, `details.field` = `body`, the reason naming the line)
    /// leaves the workspace as it was.
    pub async fn import_workspace(
        &self,
        actor: &Principal,
        text: &str,
    ) -> ServiceResult<ImportSummary> {
        actor.require(Capability::MoveData)?;
        let lines = || {
            text.lines()
                .enumerate()
                .map(|(index, line)| (index as u64 + 1, line))
                .filter(|(_, line)| !line.trim().is_empty())
        };
        for (position, (number, line)) in lines().enumerate() {
            check_import_line(number, line, position == 0).map_err(bad_line)?;
        }
        let mut importer = self.store().importer();
        for (number, line) in lines() {
            importer.push_line(number, line).await.map_err(bad_line)?;
        }
        let summary = importer.finish().await.map_err(bad_line)?;
        tracing::info!(
            fans = summary.fans,
            conversations = summary.conversations,
            messages = summary.messages,
            skipped = summary.skipped,
            "import finished"
        );
        Ok(summary)
    }
}

/// A refused line is the caller's input error, named by its line number.
fn bad_line(error: StoreError) -> ServiceError {
    match error {
        StoreError::BadLine { line, reason } => {
            ServiceError::invalid("body", format!("line {line}: {reason}"))
        }
        other => other.into(),
    }
}
