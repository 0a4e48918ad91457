//! The charter in force (docs/product.md › Charter): the newest stored version, read and
//! compiled once (keyword, restricted-word and escalation matchers) and shared as one
//! `Arc` snapshot, so every decision sees one whole version and a save applies atomically.
//!
//! Every node keeps its own snapshot and re-reads the store when the stored version
//! changes: after its own save at once, when a `charter.updated` event arrives on the
//! bus's `charter` topic (with a multi-node bus, another node's save), and on a periodic
//! version check on the service's clock (a missed event). Before the first version exists
//! the server writes one, seeded from its settings (`CharterConfig::seed`, else the
//! environment-derived desk settings and any rules stored before the charter existed).

pub(crate) mod edit;
pub(crate) mod view;

use crate::App;
use crate::app::error::{ServiceError, ServiceResult};
use crate::jobs::{FirstRun, Registry};
use fandesk_domain::Principal;
use fandesk_domain::charter::{Charter, render};
use fandesk_domain::signals::{KeywordMatcher, KeywordRule, RestrictedAction, RestrictedWords};
use fandesk_store::{CharterEffects, CharterVersionRow};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Settings of the charter machinery.
#[derive(Clone, Debug)]
pub struct CharterConfig {
    /// A TOML document that becomes version 1 of a fresh charter (`fandesk serve
    /// --charter FILE`). `None`: the seed is written from the desk settings.
    pub seed: Option<String>,
    /// How often each node checks whether the stored version changed (a save on another
    /// node whose bus event it missed).
    pub refresh_every: Duration,
}

impl Default for CharterConfig {
    fn default() -> Self {
        CharterConfig {
            seed: None,
            refresh_every: Duration::from_secs(5),
        }
    }
}

/// One version of the charter, read and compiled.
pub(crate) struct ActiveCharter {
    pub version: i64,
    pub charter: Charter,
    /// Fan messages that alert supervisors (`keywords.rules`).
    pub keywords: KeywordMatcher,
    /// Team messages blocked or flagged (`restricted.rules`).
    pub restricted: RestrictedWords,
    /// Rule `i` is `escalation.paths[i]`.
    pub escalation: KeywordMatcher,
}

impl ActiveCharter {
    fn compile(version: i64, charter: Charter) -> ServiceResult<ActiveCharter> {
        Ok(ActiveCharter {
            version,
            keywords: KeywordMatcher::new(&charter.keywords.rules)?,
            restricted: RestrictedWords::new(&charter.restricted_rules())?,
            escalation: charter.escalation_matcher()?,
            charter,
        })
    }

    /// Reads a stored version; a stored document is always valid, as it was validated
    /// before it was saved (a newer server's key on an older node is the exception).
    fn read(row: &CharterVersionRow) -> ServiceResult<ActiveCharter> {
        let charter = Charter::parse(&row.toml).map_err(|errors| {
            let first = errors.first().map(ToString::to_string).unwrap_or_default();
            ServiceError::Internal(format!(
                "stored charter v{} is invalid: {first}",
                row.version
            ))
        })?;
        ActiveCharter::compile(row.version, charter)
    }
}

/// This node's snapshot of the charter in force.
#[derive(Default)]
pub(crate) struct CharterRuntime {
    current: RwLock<Option<Arc<ActiveCharter>>>,
    /// Held while the first version is read (or seeded), so it happens once.
    loading: tokio::sync::Mutex<()>,
}

impl CharterRuntime {
    fn get(&self) -> Option<Arc<ActiveCharter>> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Installs `active` unless a newer version is already in place (a slow reader must
    /// not roll back a faster one).
    fn install(&self, active: Arc<ActiveCharter>) -> Arc<ActiveCharter> {
        let mut current = self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match &*current {
            Some(installed) if installed.version >= active.version => installed.clone(),
            _ => {
                *current = Some(active.clone());
                active
            }
        }
    }
}

/// Registers the periodic version check (every node runs it; it also seeds a fresh
/// charter at start).
pub(crate) fn register_jobs(jobs: &mut Registry, config: &CharterConfig) {
    jobs.every(
        "charter refresh",
        config.refresh_every,
        FirstRun::AtStart,
        |app| {
            Box::pin(async move {
                if let Err(error) = app.refresh_charter().await {
                    tracing::warn!(%error, "could not check the charter version");
                }
            })
        },
    );
}

impl App {
    /// The bot limits in force (`bots.max_exchanges`), attached to every automated post so
    /// the group commit can decide the bot rules (docs/product.md › Bots).
    pub(crate) async fn bot_limits(&self) -> ServiceResult<fandesk_domain::BotLimits> {
        let active = self.charter().await?;
        Ok(fandesk_domain::BotLimits {
            max_exchanges: active.charter.bots.max_exchanges,
        })
    }

    /// The charter in force on this node: every rule it holds is read from here.
    pub(crate) async fn charter(&self) -> ServiceResult<Arc<ActiveCharter>> {
        if let Some(active) = self.inner.charter.get() {
            return Ok(active);
        }
        let _loading = self.inner.charter.loading.lock().await;
        if let Some(active) = self.inner.charter.get() {
            return Ok(active);
        }
        let row = match self.store().find_current_charter().await? {
            Some(row) => row,
            None => self.seed_charter().await?,
        };
        let active = Arc::new(ActiveCharter::read(&row)?);
        Ok(self.inner.charter.install(active))
    }

    /// Re-reads the stored charter if its version differs from this node's.
    pub(crate) async fn refresh_charter(&self) -> ServiceResult<()> {
        let Some(active) = self.inner.charter.get() else {
            self.charter().await?;
            return Ok(());
        };
        let stored = self.store().current_charter_version().await?;
        if stored.is_some_and(|version| version > active.version)
            && let Some(row) = self.store().find_current_charter().await?
        {
            let version = row.version;
            self.inner
                .charter
                .install(Arc::new(ActiveCharter::read(&row)?));
            tracing::info!(version, "charter updated");
        }
        Ok(())
    }

    /// Installs a version this node just saved.
    pub(crate) fn install_charter(&self, version: i64, charter: Charter) -> ServiceResult<()> {
        let active = ActiveCharter::compile(version, charter)?;
        self.inner.charter.install(Arc::new(active));
        Ok(())
    }

    /// Writes version 1 from the seed and returns the version in force (this one, or the
    /// one another node wrote first).
    async fn seed_charter(&self) -> ServiceResult<CharterVersionRow> {
        let text = self.seed_text().await?;
        let charter = Charter::parse(&text).map_err(|errors| {
            let first = errors.first().map(ToString::to_string).unwrap_or_default();
            ServiceError::Internal(format!("the charter seed is invalid: {first}"))
        })?;
        let row = CharterVersionRow {
            version: 1,
            toml: text,
            created_at: self.now(),
            created_by: None,
            created_by_name: "fandesk".to_owned(),
        };
        let effects = effects_of(&charter);
        if self
            .store()
            .insert_charter_version(None, &row, effects)
            .await?
        {
            tracing::info!("wrote the first version of the charter from the server's settings");
        }
        self.store()
            .find_current_charter()
            .await?
            .ok_or(ServiceError::NotFound("charter"))
    }

    /// The seed document: the configured one, else the defaults with the desk settings
    /// (`FANDESK_SLA_TARGET_SECS`, …) and the rules stored before the charter existed.
    async fn seed_text(&self) -> ServiceResult<String> {
        if let Some(seed) = &self.inner.config.charter.seed {
            return Ok(seed.clone());
        }
        let desk = &self.inner.config.desk;
        let mut charter = Charter::default();
        let seconds = |duration: Duration| u32::try_from(duration.as_secs()).unwrap_or(u32::MAX);
        let target = seconds(desk.sla_target).clamp(1, 86_400);
        charter.response.first_response_target_secs = target;
        charter.response.stretch_target_secs = seconds(desk.sla_stretch).clamp(1, target);
        charter.canned.first_line = desk.first_line;
        let legacy = charter.clone();
        charter.keywords.rules = self
            .store()
            .list_keyword_rules()
            .await?
            .into_iter()
            .map(|row| KeywordRule::new(row.name, row.patterns))
            .collect();
        charter.restricted.rules = self
            .store()
            .list_restricted_rules()
            .await?
            .into_iter()
            .filter_map(|row| {
                Some(fandesk_domain::charter::RestrictedWord {
                    action: RestrictedAction::parse(&row.action)?,
                    pattern: row.pattern,
                })
            })
            .collect();
        let text = render(&charter);
        if let Err(errors) = Charter::parse(&text) {
            let first = errors.first().map(ToString::to_string).unwrap_or_default();
            tracing::warn!(%first, "rules stored before the charter do not fit it; seeding the default rules");
            return Ok(render(&legacy));
        }
        Ok(text)
    }
}

/// What a saved version changes outside the charter table, in the same transaction.
pub(crate) fn effects_of(charter: &Charter) -> CharterEffects {
    let target = charter.first_response_target().as_millis();
    CharterEffects {
        sla_target_ms: i64::try_from(target).unwrap_or(i64::MAX),
    }
}

/// Charter routes do not exist for fans: they get the same 404 as an unknown route.
pub(crate) fn team_only(actor: &Principal) -> ServiceResult<()> {
    if actor.is_fan() {
        Err(ServiceError::NotFound("route"))
    } else {
        Ok(())
    }
}
