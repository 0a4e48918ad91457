//! The archiving sweep (docs/product.md › Team channels): a recurring task on the
//! service's clock reads the active channels and, for each idle one, posts the warning
//! `channels.archive_after_days - 7` days after it was last in use, then archives it at
//! `channels.archive_after_days`. Each step goes through the channels' group commit and
//! is skipped there if the channel was used (or warned, or archived) since the read, so
//! a message racing the sweep always wins.

use crate::App;
use crate::app::error::ServiceResult;
use crate::jobs::{FirstRun, Registry};
use fandesk_domain::AuthorKind;
use fandesk_domain::MessageId;
use fandesk_domain::channel::{ArchiveStep, archive_at, archive_step, archive_warning};
use fandesk_store::{ChannelMessageRow, ChannelOp, SweepStep};
use std::time::Duration;

/// How often the sweep runs. Archiving is counted in days; a quarter hour is prompt
/// enough and costs one read of the (few) active channels.
const SWEEP_EVERY: Duration = Duration::from_secs(15 * 60);

/// The author of the warning, as channel messages name it.
const SYSTEM_AUTHOR: &str = "system";

pub(crate) fn register_jobs(jobs: &mut Registry) {
    jobs.every("channel archive", SWEEP_EVERY, FirstRun::AtStart, |app| {
        Box::pin(async move {
            if let Err(error) = app.sweep_channels().await {
                tracing::warn!(%error, "could not sweep idle channels");
            }
        })
    });
}

impl App {
    /// Warns or archives every idle active channel; returns how many steps were taken.
    pub async fn sweep_channels(&self) -> ServiceResult<usize> {
        let days = self.charter().await?.charter.channels.archive_after_days;
        let now = self.now();
        let mut taken = 0;
        for channel in self.store().list_channels(false).await? {
            let step = match archive_step(channel.active_at, channel.warned_at.is_some(), days, now)
            {
                ArchiveStep::Nothing => continue,
                ArchiveStep::Archive => SweepStep::Archive,
                ArchiveStep::Warn => SweepStep::Warn(Box::new(ChannelMessageRow {
                    id: MessageId(crate::new_id("cmsg")),
                    channel_id: channel.id.clone(),
                    seq: 0,
                    author_kind: AuthorKind::System,
                    author_id: SYSTEM_AUTHOR.to_owned(),
                    author_name: "fandesk".to_owned(),
                    client_msg_id: None,
                    body: archive_warning(days, archive_at(channel.active_at, days)),
                    thread_root_id: None,
                    summary_of: None,
                    tag: None,
                    created_at: now,
                })),
            };
            let op = ChannelOp::Sweep {
                channel_id: channel.id,
                active_at: channel.active_at,
                step,
                at: now,
            };
            if !matches!(
                self.inner.channels.submit(op).await?,
                fandesk_store::ChannelOutcome::Skipped
            ) {
                taken += 1;
            }
        }
        Ok(taken)
    }
}
