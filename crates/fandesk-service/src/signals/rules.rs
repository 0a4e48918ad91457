//! Signals on messages before they are committed (docs/product.md › Supervision: restricted
//! words; › Signals: sentiment), the team-only annotations a post carries, and the editable
//! rules.

use crate::App;
use crate::app::error::{ServiceError, ServiceResult};
use fandesk_domain::signals::{
    KeywordMatcher, KeywordRule, RestrictedAction, RestrictedRule, RestrictedVerdict,
    RestrictedWords, message_score,
};
use fandesk_domain::{Capability, MemberId, Principal, Visibility};
use fandesk_store::PostExtras;
use std::sync::{Arc, RwLock};

/// The rules compiled for matching; rebuilt after any rule edit.
pub(crate) struct CompiledRules {
    pub keywords: KeywordMatcher,
    pub restricted: RestrictedWords,
}

/// A cache of [`CompiledRules`], invalidated by rule edits on this node.
#[derive(Default)]
pub(crate) struct RuleCache(RwLock<Option<Arc<CompiledRules>>>);

impl RuleCache {
    fn get(&self) -> Option<Arc<CompiledRules>> {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn set(&self, rules: Option<Arc<CompiledRules>>) {
        *self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = rules;
    }
}

impl App {
    /// The compiled keyword and restricted-word rules.
    pub(crate) async fn compiled_rules(&self) -> ServiceResult<Arc<CompiledRules>> {
        if let Some(rules) = self.inner.rules.get() {
            return Ok(rules);
        }
        let keyword_rules: Vec<KeywordRule> = self
            .store()
            .list_keyword_rules()
            .await?
            .into_iter()
            .map(|row| KeywordRule {
                name: row.name,
                patterns: row.patterns,
            })
            .collect();
        let restricted_rules: Vec<RestrictedRule> = self
            .store()
            .list_restricted_rules()
            .await?
            .into_iter()
            .map(|row| RestrictedRule {
                name: row.pattern.clone(),
                patterns: vec![row.pattern],
                action: RestrictedAction::parse(&row.action).unwrap_or(RestrictedAction::Warn),
            })
            .collect();
        let compiled = Arc::new(CompiledRules {
            keywords: KeywordMatcher::new(&keyword_rules)?,
            restricted: RestrictedWords::new(&restricted_rules)?,
        });
        self.inner.rules.set(Some(compiled.clone()));
        Ok(compiled)
    }

    /// Decides the team-only facts of a post: the whisper addressee, the sentiment of a
    /// fan message, and restricted words in a team message (`block` refuses it with the
    /// rule named; `warn` flags it for supervisors).
    pub(crate) async fn post_extras(
        &self,
        actor: &Principal,
        visibility: Visibility,
        body: &str,
        to: Option<&str>,
    ) -> ServiceResult<PostExtras> {
        let mut extras = PostExtras::default();
        if actor.is_fan() {
            extras.sentiment = Some(message_score(body));
        } else {
            match self.compiled_rules().await?.restricted.check(body) {
                RestrictedVerdict::Clean => {}
                RestrictedVerdict::Warn(hits) => {
                    extras.flag = hits.first().map(|hit| hit.rule.clone())
                }
                blocked @ RestrictedVerdict::Block(_) => {
                    blocked.into_result()?;
                }
            }
        }
        if let Some(to) = to {
            if actor.is_fan() || visibility != Visibility::Internal {
                return Err(ServiceError::invalid(
                    "to",
                    "only team members address internal messages",
                ));
            }
            let member = self
                .store()
                .find_member(&MemberId::from(to))
                .await?
                .ok_or_else(|| ServiceError::invalid("to", "no such member"))?;
            extras.whisper_to = Some(member.id);
        }
        Ok(extras)
    }
}

/// A keyword rule as the API shows it.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct KeywordRuleView {
    pub id: String,
    pub name: String,
    pub patterns: Vec<String>,
}

/// A restricted-word rule as the API shows it.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct RestrictedRuleView {
    pub id: String,
    pub pattern: String,
    /// `block` or `warn`.
    pub action: String,
}

/// Checks one word or phrase of a rule.
fn check_pattern(field: &str, pattern: &str) -> ServiceResult<String> {
    let pattern = pattern.trim();
    let chars = pattern.chars().count();
    if chars == 0 || chars > 64 || pattern.chars().any(char::is_control) {
        return Err(ServiceError::invalid(
            field,
            "each pattern must be 1 to 64 characters",
        ));
    }
    Ok(pattern.to_owned())
}

impl App {
    pub async fn list_keyword_rules(
        &self,
        actor: &Principal,
    ) -> ServiceResult<Vec<KeywordRuleView>> {
        actor.require(Capability::ViewRules)?;
        let rows = self.store().list_keyword_rules().await?;
        Ok(rows
            .into_iter()
            .map(|row| KeywordRuleView {
                id: row.id,
                name: row.name,
                patterns: row.patterns,
            })
            .collect())
    }

    pub async fn create_keyword_rule(
        &self,
        actor: &Principal,
        name: &str,
        patterns: &[String],
    ) -> ServiceResult<KeywordRuleView> {
        actor.require(Capability::ManageRules)?;
        let name = check_pattern("name", name)?;
        let mut words = Vec::with_capacity(patterns.len());
        for pattern in patterns {
            words.push(check_pattern("patterns", pattern)?);
        }
        KeywordRule {
            name: name.clone(),
            patterns: words.clone(),
        }
        .validate()?;
        let row = fandesk_store::KeywordRuleRow {
            id: crate::new_id("kw"),
            name,
            patterns: words,
            created_at: self.now(),
        };
        self.store()
            .insert_keyword_rule(&row)
            .await
            .map_err(|error| match error {
                fandesk_store::StoreError::Conflict(_) => {
                    ServiceError::Conflict("a keyword rule with this name exists".into())
                }
                other => other.into(),
            })?;
        self.rules_changed();
        Ok(KeywordRuleView {
            id: row.id,
            name: row.name,
            patterns: row.patterns,
        })
    }

    pub async fn delete_keyword_rule(&self, actor: &Principal, id: &str) -> ServiceResult<()> {
        actor.require(Capability::ManageRules)?;
        self.store().delete_keyword_rule(id).await?;
        self.rules_changed();
        Ok(())
    }

    pub async fn list_restricted_rules(
        &self,
        actor: &Principal,
    ) -> ServiceResult<Vec<RestrictedRuleView>> {
        actor.require(Capability::ViewRules)?;
        let rows = self.store().list_restricted_rules().await?;
        Ok(rows
            .into_iter()
            .map(|row| RestrictedRuleView {
                id: row.id,
                pattern: row.pattern,
                action: row.action,
            })
            .collect())
    }

    pub async fn create_restricted_rule(
        &self,
        actor: &Principal,
        pattern: &str,
        action: &str,
    ) -> ServiceResult<RestrictedRuleView> {
        actor.require(Capability::ManageRules)?;
        let pattern = check_pattern("pattern", pattern)?;
        let parsed = RestrictedAction::parse(action)
            .ok_or_else(|| ServiceError::invalid("action", "must be \"block\" or \"warn\""))?;
        RestrictedRule {
            name: pattern.clone(),
            patterns: vec![pattern.clone()],
            action: parsed,
        }
        .validate()?;
        let row = fandesk_store::RestrictedRuleRow {
            id: crate::new_id("rw"),
            pattern,
            action: action.to_owned(),
            created_at: self.now(),
        };
        self.store()
            .insert_restricted_rule(&row)
            .await
            .map_err(|error| match error {
                fandesk_store::StoreError::Conflict(_) => {
                    ServiceError::Conflict("this pattern already has a rule".into())
                }
                other => other.into(),
            })?;
        self.rules_changed();
        Ok(RestrictedRuleView {
            id: row.id,
            pattern: row.pattern,
            action: row.action,
        })
    }

    pub async fn delete_restricted_rule(&self, actor: &Principal, id: &str) -> ServiceResult<()> {
        actor.require(Capability::ManageRules)?;
        self.store().delete_restricted_rule(id).await?;
        self.rules_changed();
        Ok(())
    }

    /// Drops the compiled matchers so the next message compiles the new rules.
    fn rules_changed(&self) {
        self.inner.rules.set(None);
    }
}
