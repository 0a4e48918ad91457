//! Signals on messages before they are committed (docs/product.md › Supervision: restricted
//! words; › Signals: sentiment), the team-only annotations a post carries, and the rule
//! endpoints, which read and edit the charter's rules.

use crate::App;
use crate::app::error::{ServiceError, ServiceResult};
use fandesk_domain::charter::{Charter, RestrictedWord, set_keyword_rules, set_restricted_rules};
use fandesk_domain::signals::{
    KeywordMatcher, KeywordRule, RestrictedAction, RestrictedRule, RestrictedVerdict, message_score,
};
use fandesk_domain::{Capability, MemberId, Principal, RuleViolation, Visibility};
use fandesk_store::PostExtras;

impl App {
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
            extras.bot_limits = self.bot_limits().await?;
            match self.charter().await?.restricted.check(body) {
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

/// A rule endpoint's change is saved as a new charter version on top of the one it read;
/// when another save lands in between, it reads again, this many times at most.
const SAVE_ATTEMPTS: usize = 5;

/// The id the rule endpoints give a keyword rule: its name is unique in the charter.
fn keyword_rule_id(name: &str) -> String {
    format!("kw_{name}")
}

/// The id of a restricted-word rule: its word is unique in the charter.
fn restricted_rule_id(pattern: &str) -> String {
    format!("rw_{pattern}")
}

fn keyword_view(rule: &KeywordRule) -> KeywordRuleView {
    KeywordRuleView {
        id: keyword_rule_id(&rule.name),
        name: rule.name.clone(),
        patterns: rule.patterns.clone(),
    }
}

fn restricted_view(rule: &RestrictedWord) -> RestrictedRuleView {
    RestrictedRuleView {
        id: restricted_rule_id(&rule.pattern),
        pattern: rule.pattern.clone(),
        action: rule.action.as_str().to_owned(),
    }
}

/// The keyword and restricted-word rules are the charter's `keywords.rules` and
/// `restricted.rules` (docs/product.md › Charter): these endpoints read them from the
/// charter in force and change them by saving a new version, attributed to the caller,
/// with the rest of the document as it was.
impl App {
    pub async fn list_keyword_rules(
        &self,
        actor: &Principal,
    ) -> ServiceResult<Vec<KeywordRuleView>> {
        actor.require(Capability::ViewRules)?;
        let charter = self.charter().await?;
        let mut rules: Vec<KeywordRuleView> = charter
            .charter
            .keywords
            .rules
            .iter()
            .map(keyword_view)
            .collect();
        rules.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(rules)
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
        let rule = KeywordRule {
            name,
            patterns: words,
        };
        rule.validate()?;
        KeywordMatcher::new(std::slice::from_ref(&rule))?;
        self.edit_rules(actor, |charter, text| {
            let mut rules = charter.keywords.rules.clone();
            if rules.iter().any(|existing| existing.name == rule.name) {
                return Err(ServiceError::Conflict(
                    "a keyword rule with this name exists".into(),
                ));
            }
            rules.push(rule.clone());
            set_keyword_rules(text, &rules).map_err(ServiceError::Internal)
        })
        .await?;
        Ok(keyword_view(&rule))
    }

    pub async fn delete_keyword_rule(&self, actor: &Principal, id: &str) -> ServiceResult<()> {
        actor.require(Capability::ManageRules)?;
        self.edit_rules(actor, |charter, text| {
            let mut rules = charter.keywords.rules.clone();
            let before = rules.len();
            rules.retain(|rule| keyword_rule_id(&rule.name) != id);
            if rules.len() == before {
                return Err(ServiceError::NotFound("keyword rule"));
            }
            set_keyword_rules(text, &rules).map_err(ServiceError::Internal)
        })
        .await
    }

    pub async fn list_restricted_rules(
        &self,
        actor: &Principal,
    ) -> ServiceResult<Vec<RestrictedRuleView>> {
        actor.require(Capability::ViewRules)?;
        let charter = self.charter().await?;
        let mut rules: Vec<RestrictedRuleView> = charter
            .charter
            .restricted
            .rules
            .iter()
            .map(restricted_view)
            .collect();
        rules.sort_by(|a, b| a.pattern.cmp(&b.pattern));
        Ok(rules)
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
        .validate()
        .map_err(|violation| match violation {
            RuleViolation::Invalid { reason, .. } => ServiceError::invalid("pattern", reason),
            other => other.into(),
        })?;
        let rule = RestrictedWord {
            pattern,
            action: parsed,
        };
        self.edit_rules(actor, |charter, text| {
            let mut rules = charter.restricted.rules.clone();
            if rules
                .iter()
                .any(|existing| existing.pattern == rule.pattern)
            {
                return Err(ServiceError::Conflict(
                    "this pattern already has a rule".into(),
                ));
            }
            rules.push(rule.clone());
            set_restricted_rules(text, &rules).map_err(ServiceError::Internal)
        })
        .await?;
        Ok(restricted_view(&rule))
    }

    pub async fn delete_restricted_rule(&self, actor: &Principal, id: &str) -> ServiceResult<()> {
        actor.require(Capability::ManageRules)?;
        self.edit_rules(actor, |charter, text| {
            let mut rules = charter.restricted.rules.clone();
            let before = rules.len();
            rules.retain(|rule| restricted_rule_id(&rule.pattern) != id);
            if rules.len() == before {
                return Err(ServiceError::NotFound("restricted rule"));
            }
            set_restricted_rules(text, &rules).map_err(ServiceError::Internal)
        })
        .await
    }

    /// Saves the document `edit` makes of the charter in force as its next version; reads
    /// again and retries when another save landed first.
    async fn edit_rules(
        &self,
        actor: &Principal,
        edit: impl Fn(&Charter, &str) -> ServiceResult<String>,
    ) -> ServiceResult<()> {
        self.charter().await?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let row = self
                .store()
                .find_current_charter()
                .await?
                .ok_or(ServiceError::NotFound("charter"))?;
            let charter = Charter::parse(&row.toml).map_err(|errors| {
                let first = errors.first().map(ToString::to_string).unwrap_or_default();
                ServiceError::Internal(format!("stored charter is invalid: {first}"))
            })?;
            let text = edit(&charter, &row.toml)?;
            match self.commit_charter(actor, text, row.version).await {
                Err(ServiceError::StaleVersion { .. }) if attempt < SAVE_ATTEMPTS => continue,
                other => return other.map(drop),
            }
        }
    }
}
