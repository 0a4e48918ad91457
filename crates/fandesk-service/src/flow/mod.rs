//! Scripted bot flows (docs/api.md › Flows): owners and supervisors upload a flow in YAML
//! or JSON, keep its versions, and activate one flow for new conversations. What a flow
//! says in a conversation is decided by the domain's step function and sent by the desk
//! worker (`runtime.rs`), as automated messages under the bot rules.

pub(crate) mod runtime;
pub mod view;

use crate::app::error::{ServiceError, ServiceResult};
use crate::{App, new_id};
use fandesk_domain::flow::{Flow, Format, parse_flow};
use fandesk_domain::{Capability, Principal};
use fandesk_store::{FlowRow, FlowVersionRow};
use view::{FlowDetailView, FlowVersionView, FlowView};

/// A flow document as uploaded.
#[derive(Clone, Debug)]
pub struct FlowUpload {
    pub source: String,
    /// `yaml` (the default) or `json`.
    pub format: Option<String>,
}

impl FlowUpload {
    /// The document checked: its format and the validated flow.
    fn check(&self) -> ServiceResult<(Format, Flow)> {
        let format = match self.format.as_deref() {
            None => Format::Yaml,
            Some(text) => Format::parse(text)
                .ok_or_else(|| ServiceError::invalid("format", "must be \"yaml\" or \"json\""))?,
        };
        let flow = parse_flow(&self.source, format).map_err(ServiceError::InvalidFlow)?;
        Ok((format, flow))
    }
}

/// A stored version parsed again (it was valid when saved; a newer validator may disagree,
/// which is an internal error, never the caller's).
pub(crate) fn parse_stored(row: &FlowVersionRow) -> ServiceResult<Flow> {
    let format = Format::parse(&row.format)
        .ok_or_else(|| ServiceError::Internal(format!("flow format {:?}", row.format)))?;
    parse_flow(&row.source, format).map_err(|error| {
        ServiceError::Internal(format!(
            "stored flow {} v{}: {error}",
            row.flow_id, row.version
        ))
    })
}

impl App {
    /// `POST /flows`: a new flow with its first version.
    pub async fn create_flow(
        &self,
        actor: &Principal,
        upload: FlowUpload,
    ) -> ServiceResult<FlowDetailView> {
        actor.require(Capability::ManageFlows)?;
        let (format, flow) = upload.check()?;
        let row = FlowVersionRow {
            flow_id: new_id("flw"),
            version: 1,
            format: format.as_str().to_owned(),
            source: upload.source,
            created_by: actor.author_id().to_owned(),
            created_at: self.now(),
        };
        self.store().insert_flow(flow.name.trim(), &row).await?;
        self.flow_detail(&row.flow_id, None).await
    }

    /// `POST /flows/{id}/versions`: a new version on top of `base_version`, which must
    /// still be the newest (409 otherwise).
    pub async fn add_flow_version(
        &self,
        actor: &Principal,
        id: &str,
        base_version: i64,
        upload: FlowUpload,
    ) -> ServiceResult<FlowDetailView> {
        actor.require(Capability::ManageFlows)?;
        let current = self.find_flow(id).await?;
        let (format, flow) = upload.check()?;
        let stale = ServiceError::StaleVersion {
            base: base_version,
            current: current.latest_version,
        };
        if base_version != current.latest_version {
            return Err(stale);
        }
        let row = FlowVersionRow {
            flow_id: current.id.clone(),
            version: base_version + 1,
            format: format.as_str().to_owned(),
            source: upload.source,
            created_by: actor.author_id().to_owned(),
            created_at: self.now(),
        };
        if !self
            .store()
            .insert_flow_version(flow.name.trim(), base_version, &row)
            .await?
        {
            return Err(stale);
        }
        self.flow_detail(id, None).await
    }

    /// `GET /flows`.
    pub async fn list_flows(&self, actor: &Principal) -> ServiceResult<Vec<FlowView>> {
        actor.require(Capability::ManageFlows)?;
        let rows = self.store().list_flows().await?;
        Ok(rows.iter().map(FlowView::from).collect())
    }

    /// `GET /flows/{id}`: the flow, one version's source and document (the newest when
    /// `version` is absent), and every version.
    pub async fn get_flow(
        &self,
        actor: &Principal,
        id: &str,
        version: Option<i64>,
    ) -> ServiceResult<FlowDetailView> {
        actor.require(Capability::ManageFlows)?;
        self.flow_detail(id, version).await
    }

    /// `POST /flows/{id}/activate`: new conversations start this flow at `version` (the
    /// newest when absent); the flow active before stops starting them.
    pub async fn activate_flow(
        &self,
        actor: &Principal,
        id: &str,
        version: Option<i64>,
    ) -> ServiceResult<FlowView> {
        actor.require(Capability::ManageFlows)?;
        let flow = self.find_flow(id).await?;
        let version = version.unwrap_or(flow.latest_version);
        if version < 1 || version > flow.latest_version {
            return Err(ServiceError::invalid(
                "version",
                format!("this flow has versions 1 to {}", flow.latest_version),
            ));
        }
        self.store().activate_flow(id, version, self.now()).await?;
        Ok(FlowView::from(&self.find_flow(id).await?))
    }

    /// `POST /flows/{id}/deactivate`: new conversations start no flow (conversations
    /// already in it finish it). Deactivating an inactive flow changes nothing.
    pub async fn deactivate_flow(&self, actor: &Principal, id: &str) -> ServiceResult<FlowView> {
        actor.require(Capability::ManageFlows)?;
        self.find_flow(id).await?;
        self.store().deactivate_flow(id, self.now()).await?;
        Ok(FlowView::from(&self.find_flow(id).await?))
    }

    async fn find_flow(&self, id: &str) -> ServiceResult<FlowRow> {
        self.store()
            .find_flow(id)
            .await?
            .ok_or(ServiceError::NotFound("flow"))
    }

    async fn flow_detail(&self, id: &str, version: Option<i64>) -> ServiceResult<FlowDetailView> {
        let flow = self.find_flow(id).await?;
        let number = version.unwrap_or(flow.latest_version);
        let row = self
            .store()
            .find_flow_version(id, number)
            .await?
            .ok_or(ServiceError::NotFound("flow version"))?;
        let document = parse_stored(&row)?;
        let versions = self.store().list_flow_versions(id).await?;
        Ok(FlowDetailView::new(
            &flow,
            &row,
            &document,
            versions.iter().map(FlowVersionView::from).collect(),
        ))
    }
}
