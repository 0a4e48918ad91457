//! The decision log (docs/api.md › Team channels): decisions and actions across the
//! channels a member belongs to, filtered by kind, status, channel, owner and date; an
//! entry's status set `open` or `done`; the whole log exported as Markdown or CSV.

use crate::App;
use crate::app::error::{ServiceError, ServiceResult};
use crate::channel::team_member;
use crate::channel::view::DecisionView;
use fandesk_domain::channel::decision::{csv_field, markdown_cell};
use fandesk_domain::channel::{DecisionId, DecisionStatus, is_member};
use fandesk_domain::{Capability, Principal};
use fandesk_store::{DecisionFilter, DecisionRow};
use std::collections::HashSet;

/// Most entries one list returns; an export takes up to [`EXPORT_MAX`].
pub const DECISION_PAGE_MAX: u32 = 500;
pub const EXPORT_MAX: u32 = 10_000;

/// The formats of `GET /decisions/export`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecisionExportFormat {
    Markdown,
    Csv,
}

impl DecisionExportFormat {
    pub fn parse(text: &str) -> Option<DecisionExportFormat> {
        match text {
            "md" => Some(DecisionExportFormat::Markdown),
            "csv" => Some(DecisionExportFormat::Csv),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            DecisionExportFormat::Markdown => "text/markdown; charset=utf-8",
            DecisionExportFormat::Csv => "text/csv; charset=utf-8",
        }
    }
}

impl App {
    /// `GET /decisions`: newest first, from the channels `actor` belongs to.
    pub async fn list_decisions(
        &self,
        actor: &Principal,
        filter: &DecisionFilter,
        limit: u32,
    ) -> ServiceResult<Vec<DecisionView>> {
        let rows = self
            .readable_decisions(actor, filter, limit.clamp(1, DECISION_PAGE_MAX))
            .await?;
        Ok(rows.iter().map(DecisionView::new).collect())
    }

    /// `PATCH /decisions/{id}` `{"status"}`.
    pub async fn set_decision_status(
        &self,
        actor: &Principal,
        id: &str,
        status: DecisionStatus,
    ) -> ServiceResult<DecisionView> {
        team_member(actor, Capability::UseChannels)?;
        let id = DecisionId::from(id);
        let row = self
            .store()
            .find_decision(&id)
            .await?
            .ok_or(ServiceError::NotFound("decision"))?;
        // Only those who read its channel learn the entry exists.
        self.readable_channel(actor, row.channel_id.as_str())
            .await
            .map_err(|_| ServiceError::NotFound("decision"))?;
        let row = self
            .store()
            .update_decision_status(&id, status, self.now())
            .await?
            .ok_or(ServiceError::NotFound("decision"))?;
        Ok(DecisionView::new(&row))
    }

    /// `GET /decisions/export?format=md|csv`: the filtered log, oldest first.
    pub async fn export_decisions(
        &self,
        actor: &Principal,
        filter: &DecisionFilter,
        format: DecisionExportFormat,
    ) -> ServiceResult<String> {
        let mut rows = self.readable_decisions(actor, filter, EXPORT_MAX).await?;
        rows.reverse();
        Ok(match format {
            DecisionExportFormat::Markdown => markdown(&rows),
            DecisionExportFormat::Csv => csv(&rows),
        })
    }

    async fn readable_decisions(
        &self,
        actor: &Principal,
        filter: &DecisionFilter,
        limit: u32,
    ) -> ServiceResult<Vec<DecisionRow>> {
        team_member(actor, Capability::UseChannels)?;
        let mut rows = self.store().list_decisions(filter, limit).await?;
        if !actor.may(Capability::ManageChannels) {
            // Entries of channels that name members are for those members only.
            let mut hidden = HashSet::new();
            for archived in [false, true] {
                for channel in self.store().list_channels(archived).await? {
                    if !is_member(actor, &channel.member_ids) {
                        hidden.insert(channel.id);
                    }
                }
            }
            rows.retain(|row| !hidden.contains(&row.channel_id));
        }
        Ok(rows)
    }
}

fn owner(row: &DecisionRow) -> &str {
    row.owner_name.as_deref().unwrap_or("")
}

/// The log as a Markdown table, one row per entry, oldest first.
fn markdown(rows: &[DecisionRow]) -> String {
    let mut text = String::from(
        "# Decision log\n\n| Date (UTC) | Kind | Status | Owner | Channel | Text |\n\
         |---|---|---|---|---|---|\n",
    );
    for row in rows {
        let cells = [
            row.created_at.strftime("%Y-%m-%d %H:%M").to_string(),
            row.kind.as_str().to_owned(),
            row.status.as_str().to_owned(),
            markdown_cell(owner(row)),
            markdown_cell(&row.channel_name),
            markdown_cell(&row.text),
        ];
        text.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    text
}

/// The log as CSV (RFC 4180, CRLF line ends), oldest first.
fn csv(rows: &[DecisionRow]) -> String {
    let mut text = String::from(
        "id,kind,status,text,owner_id,owner_name,channel_id,channel_name,message_id,created_at,updated_at\r\n",
    );
    for row in rows {
        let fields = [
            row.id.0.clone(),
            row.kind.as_str().to_owned(),
            row.status.as_str().to_owned(),
            row.text.clone(),
            row.owner_id.clone().unwrap_or_default(),
            owner(row).to_owned(),
            row.channel_id.0.clone(),
            row.channel_name.clone(),
            row.message_id.0.clone(),
            row.created_at.to_string(),
            row.updated_at.to_string(),
        ];
        let line: Vec<String> = fields.iter().map(|field| csv_field(field)).collect();
        text.push_str(&line.join(","));
        text.push_str("\r\n");
    }
    text
}
