//! Several fandesk nodes on one PostgreSQL database with NATS between them, as an
//! operator would run them: each its own `fandesk serve` process (`--nats`, `--node`), on
//! ports of their own or sharing one port with `--reuse-port`.

use crate::Ctx;
use crate::servers::{Kind, Server, fandesk_command, free_port, psql, start_nats};
use anyhow::{Context, Result};
use std::net::SocketAddr;

pub struct Cluster {
    pub nodes: Vec<Server>,
    nats: Server,
    database: (String, String),
}

/// Where the nodes listen.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Listen {
    /// Each on a port of its own.
    Apart,
    /// All on one port (`--reuse-port`): the kernel spreads connections over them.
    Shared,
}

impl Cluster {
    pub async fn start(ctx: &Ctx, count: usize, listen: Listen) -> Result<Cluster> {
        let base = ctx.postgres.clone().context("a cluster needs PostgreSQL")?;
        let n = ctx.next_serial();
        let nats_log = ctx.work.path().join(format!("nats-cluster-{n}.log"));
        let nats = start_nats(ctx, n, nats_log).await?;
        let nats_url = format!(
            "nats://{}",
            nats.client.context("nats-server without a client port")?
        );
        let name = format!("fandesk_cluster_{}_{n}", std::process::id());
        psql(&base, &format!("CREATE DATABASE {name}")).await?;
        let url = format!("{}/{name}", base.trim_end_matches('/'));
        let shared = format!("127.0.0.1:{}", free_port()?);
        let mut nodes: Vec<Server> = Vec::new();
        for index in 0..count {
            let serial = ctx.next_serial();
            let mut command = fandesk_command(ctx, serial);
            command
                .arg("--database")
                .arg(&url)
                .arg("--nats")
                .arg(&nats_url)
                .arg("--node")
                .arg(format!("node-{index}"));
            match listen {
                Listen::Apart => command.arg("--listen").arg("127.0.0.1:0"),
                Listen::Shared => command.arg("--listen").arg(&shared).arg("--reuse-port"),
            };
            let log = ctx
                .work
                .path()
                .join(format!("fandesk-node{index}-{serial}.log"));
            let log_file = std::fs::File::create(&log)?;
            // The first node creates the schema; the others start after it.
            match Server::launch(Kind::FandeskPostgres, command, log, log_file, None).await {
                Ok(node) => nodes.push(node),
                Err(error) => {
                    for node in nodes {
                        node.stop().await;
                    }
                    nats.stop().await;
                    let _ = psql(&base, &format!("DROP DATABASE IF EXISTS {name}")).await;
                    return Err(error.context(format!("starting node {index}")));
                }
            }
        }
        Ok(Cluster {
            nodes,
            nats,
            database: (base, name),
        })
    }

    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.nodes.iter().map(|node| node.addr).collect()
    }

    /// Every node still running.
    pub fn all_alive(&mut self) -> bool {
        self.nodes.iter_mut().all(Server::alive)
    }

    pub async fn stop(self) {
        for node in self.nodes {
            node.stop().await;
        }
        self.nats.stop().await;
        let (base, name) = self.database;
        for _ in 0..10 {
            if psql(&base, &format!("DROP DATABASE IF EXISTS {name}"))
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
    }
}
