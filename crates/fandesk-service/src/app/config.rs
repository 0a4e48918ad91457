//! The service's runtime settings, one struct with a section per feature.

use crate::charter::CharterConfig;
use crate::commit::WriterConfig;
use crate::desk::DeskConfig;
use crate::integration::WebhookConfig;
use crate::jobs::JobsConfig;
use crate::reporting::ReportDelivery;
use crate::room::fanout::RoomFanoutConfig;
use std::time::Duration;

/// Runtime settings of the service layer.
#[derive(Clone, Debug)]
pub struct Config {
    /// This node's name, unique among the nodes sharing a database (`/healthz`, logs,
    /// the bus). Defaults to the host name and process id.
    pub node: String,
    /// When set, a fan's `external_id` is trusted only with `signature` =
    /// hex HMAC-SHA256(secret, external_id) (docs/api.md › Authentication).
    pub fan_identity_secret: Option<Vec<u8>>,
    /// How long a team member's token lives.
    pub member_token_ttl: Duration,
    /// How long a fan's token lives (fans come back days later to the same chat).
    pub fan_token_ttl: Duration,
    /// Most ops committed in one transaction by a group-commit writer.
    pub write_batch_max: usize,
    /// Ops waiting for a writer before senders wait (backpressure).
    pub write_queue: usize,
    /// The agent desk: creator time zone and name, shifts; its SLA targets and first-line
    /// rule only seed a fresh charter, which holds them from then on.
    pub desk: DeskConfig,
    /// The charter: the seed of a fresh one, how often nodes check for a new version.
    pub charter: CharterConfig,
    /// Live rooms' fan-out: workers per room and the coalescing tick.
    pub room_fanout: RoomFanoutConfig,
    /// How often at most a question's upvote count goes out on `event:{id}`: upvotes
    /// counted meanwhile share one `question.updated` entry (`event::tally`).
    pub question_tally: Duration,
    /// Scheduled weekly report delivery; `None`: off.
    pub report_delivery: Option<ReportDelivery>,
    /// The job scheduler: polling, leases, retries, the session purge.
    pub jobs: JobsConfig,
    /// Outgoing webhooks: allow-listed hosts, timeouts, attempts.
    pub webhooks: WebhookConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            node: default_node_name(),
            fan_identity_secret: None,
            member_token_ttl: Duration::from_secs(12 * 3600),
            fan_token_ttl: Duration::from_secs(30 * 24 * 3600),
            write_batch_max: 512,
            write_queue: 16_384,
            desk: DeskConfig::default(),
            charter: CharterConfig::default(),
            room_fanout: RoomFanoutConfig::default(),
            question_tally: Duration::from_millis(250),
            report_delivery: None,
            jobs: JobsConfig::default(),
            webhooks: WebhookConfig::default(),
        }
    }
}

impl Config {
    /// The settings every group-commit writer shares.
    pub(crate) fn writer(&self) -> WriterConfig {
        WriterConfig {
            batch_max: self.write_batch_max,
            queue: self.write_queue,
        }
    }
}

/// `HOSTNAME-PID`: unique on a host, readable in logs.
pub fn default_node_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "fandesk".to_owned());
    format!("{host}-{}", std::process::id())
}
