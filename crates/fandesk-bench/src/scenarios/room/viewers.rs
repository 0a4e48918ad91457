//! The room trials' viewers: their generators' specs (spread over processes, servers and
//! source addresses), the wait for all of them to connect, and the drain after publishing.

use super::{PER_GEN, STILL_POLLS};
use crate::Ctx;
use crate::genctl::{self, Gens};
use crate::loadgen::{Mode, Spec};
use crate::servers::Kind;
use anyhow::{Result, bail};
use std::time::Duration;

/// The viewers of a room trial.
pub(crate) struct Viewers<'a> {
    pub(crate) kind: Kind,
    pub(crate) count: usize,
    pub(crate) tokens: &'a [String],
    pub(crate) topic: &'a str,
    /// More topics each viewer subscribes to (fandesk: the event's `event:{id}`).
    pub(crate) also: &'a [String],
    pub(crate) lifetime_secs: u64,
}

impl Viewers<'_> {
    /// The generators' specs: about one process per [`PER_GEN`] viewers (at least two, and
    /// one per server, the servers taken in turn), each from a source address of its own.
    pub(crate) fn specs(&self, ctx: &Ctx, addrs: &[std::net::SocketAddr]) -> Vec<Spec> {
        let gen_count = self.count.div_ceil(PER_GEN).max(2).max(addrs.len());
        let mut specs = Vec::new();
        let mut remaining = self.count;
        for g in 0..gen_count {
            let share = remaining / (gen_count - g);
            remaining -= share;
            specs.push(Spec {
                label: format!("g{g}"),
                server: addrs[g % addrs.len()],
                path: self.kind.ws_path().into(),
                source_ip: ctx.next_ip(),
                proto: self.kind.proto(),
                connect_concurrency: 64,
                connect_timeout_secs: 60,
                lifetime_secs: self.lifetime_secs,
                read_buffer: 16 * 1024,
                mode: Mode::Viewers {
                    count: share,
                    tokens: self.tokens.to_vec(),
                    topic: self.topic.to_owned(),
                    also: self.also.to_vec(),
                },
            });
        }
        specs
    }
}

/// Waits for every generator to connect its viewers; any failure fails the trial.
pub(crate) async fn all_connected(gens: &mut Gens) -> Result<crate::genctl::Ready> {
    let ready = gens.ready(Duration::from_secs(180)).await?;
    if ready.errors > 0 {
        bail!(
            "{} viewers failed to connect: {:?}",
            ready.errors,
            ready.error_samples
        );
    }
    Ok(ready)
}

/// Waits until every delivery arrived, or the count stopped moving for [`STILL_POLLS`]
/// polls (bounded: 30 s).
pub(crate) async fn drain(gens: &mut Gens, expected: u64) -> Result<()> {
    let mut last = u64::MAX;
    let mut still = 0;
    for _ in 0..120 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let counts = gens
            .ask_all("count", "count", Duration::from_secs(10))
            .await?;
        let total = genctl::sum(&counts, "deliveries");
        if total >= expected {
            break;
        }
        still = if total == last { still + 1 } else { 0 };
        if still >= STILL_POLLS {
            break;
        }
        last = total;
    }
    Ok(())
}
