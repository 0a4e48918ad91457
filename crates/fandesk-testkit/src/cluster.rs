//! Several nodes on one database: a NATS server of the test's own ([`NatsServer`]: a
//! `nats-server` child process on a free port, or `FANDESK_TEST_NATS_URL`) and extra
//! nodes ([`ClusterNode`]: an `App` + HTTP server on port 0) on a [`crate::TestServer`]'s
//! store, each with the bus it is given.

use crate::http::HttpClient;
use fandesk_bus::Bus;
use fandesk_http::HttpConfig;
use fandesk_service::{App, Config, SystemClock};
use fandesk_store::Store;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A NATS server URL to use instead of starting one (e.g. the one `.ci/run` starts).
pub const NATS_URL_VAR: &str = "FANDESK_TEST_NATS_URL";

/// The NATS server a test's nodes share. Dropping it stops the child process.
pub struct NatsServer {
    url: String,
    /// The child process and its port, when this test started the server.
    child: Option<(Child, u16)>,
}

impl NatsServer {
    /// Uses `FANDESK_TEST_NATS_URL` when set; otherwise starts `nats-server` (from PATH)
    /// on a free loopback port and waits until it accepts connections. Fails with a clear
    /// message when there is no `nats-server` to start.
    pub async fn start() -> anyhow::Result<NatsServer> {
        if let Some(url) = std::env::var(NATS_URL_VAR)
            .ok()
            .filter(|url| !url.is_empty())
        {
            return Ok(NatsServer { url, child: None });
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = spawn_on(port).await?;
        Ok(NatsServer {
            url: format!("nats://127.0.0.1:{port}"),
            child: Some((child, port)),
        })
    }

    /// Kills the server and starts it again on the same port after `down_for` (only a
    /// server this test started; `None` otherwise): every node loses its connection and
    /// reconnects.
    pub async fn restart(&mut self, down_for: Duration) -> Option<()> {
        let (child, port) = self.child.as_mut()?;
        let port = *port;
        child.kill().await.ok()?;
        tokio::time::sleep(down_for).await;
        let fresh = spawn_on(port).await.ok()?;
        self.child = Some((fresh, port));
        Some(())
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

/// `nats-server` on `127.0.0.1:port`, once it accepts connections.
async fn spawn_on(port: u16) -> anyhow::Result<Child> {
    let child = Command::new("nats-server")
        .args(["-a", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| {
            anyhow::anyhow!(
                "multi-node tests need a NATS server: install nats-server (Debian package \
                 `nats-server`) or set {NATS_URL_VAR}: {error}"
            )
        })?;
    let address = format!("127.0.0.1:{port}");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(&address).await.is_ok() {
            return Ok(child);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("nats-server did not listen on {address} within 5 s")
}

/// One more node on an existing database, serving HTTP and WebSocket on port 0.
pub struct ClusterNode {
    addr: SocketAddr,
    http: HttpClient,
    app: App,
    stop: CancellationToken,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl ClusterNode {
    /// Starts node `name` on `store` with `bus`; returns it with its `App` so the caller
    /// can connect the bus to it (`NatsBus::set_gap_fill(app.gap_fill())`).
    pub async fn start(store: Store, bus: Arc<dyn Bus>, name: &str) -> anyhow::Result<ClusterNode> {
        ClusterNode::start_with(store, bus, name, Config::default()).await
    }

    /// The same with service settings of the caller's (its `node` is replaced by `name`).
    pub async fn start_with(
        store: Store,
        bus: Arc<dyn Bus>,
        name: &str,
        config: Config,
    ) -> anyhow::Result<ClusterNode> {
        let config = Config {
            node: name.to_owned(),
            ..config
        };
        let app = App::start(store, bus, config, Arc::new(SystemClock));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let stop = CancellationToken::new();
        // Cluster tests send bursts from one fan: the fan limits (tested on their own) are
        // lifted so they measure delivery, not flooding.
        let http = HttpConfig {
            fans: fandesk_http::client::FanPolicy {
                sessions_per_address_per_minute: 100_000,
                messages_per_fan_per_minute: 100_000,
                messages_per_address_per_minute: 100_000,
            },
            ..HttpConfig::default()
        };
        let task = tokio::spawn(fandesk_http::serve(
            listener,
            app.clone(),
            http,
            stop.clone(),
        ));
        Ok(ClusterNode {
            addr,
            http: HttpClient::new(format!("http://{addr}")),
            app,
            stop,
            task: Some(task),
        })
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/api/v1/ws", self.addr)
    }

    /// Stops serving and commits what is queued (the store stays open for the others).
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(30), task).await;
        }
        self.app.shutdown().await;
    }
}

impl Drop for ClusterNode {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
