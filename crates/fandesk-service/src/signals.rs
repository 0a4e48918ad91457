//! Signals on messages before they are committed (PRODUCT.md › C4 restricted words) and
//! the team-only annotations a post carries.

use crate::error::{ServiceError, ServiceResult};
use crate::App;
use fandesk_domain::{MemberId, Principal, Visibility};
use fandesk_store::PostExtras;

impl App {
    /// Decides the team-only facts of a post: the whisper addressee.
    pub(crate) async fn post_extras(
        &self,
        actor: &Principal,
        visibility: Visibility,
        _body: &str,
        to: Option<&str>,
    ) -> ServiceResult<PostExtras> {
        let mut extras = PostExtras::default();
        if let Some(to) = to {
            if actor.is_fan() || visibility != Visibility::Internal {
                return Err(ServiceError::invalid("to", "only team members address internal messages"));
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
