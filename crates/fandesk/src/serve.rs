//! `fandesk serve`: open the store, start the service, listen, and shut down gracefully on
//! SIGTERM or Ctrl-C (stop accepting, close WebSockets with 1001, commit queued writes).

use crate::{LogFormat, ServeArgs};
use anyhow::Context;
use fandesk_bus::{LocalBus, NatsBus};
use fandesk_http::{HttpConfig, WsConfig};
use fandesk_service::{
    App, CharterConfig, Clock, Config, DeskConfig, FirstLineMode, JobsConfig, SystemClock,
    WebhookConfig,
};
use fandesk_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

/// Logs to stderr, filtered by `FANDESK_LOG` or else `default` (`info`; the demo: `warn`).
pub(crate) fn init_logging(format: LogFormat, default: &str) {
    let filter = EnvFilter::try_from_env("FANDESK_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn env_secret(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// The agent desk's settings from the environment (README › Agent desk). The SLA
/// targets and the first-line mode only seed a fresh charter (README › Charter).
fn desk_config() -> anyhow::Result<DeskConfig> {
    let mut desk = DeskConfig::default();
    if let Some(zone) = env_secret("FANDESK_CREATOR_TIMEZONE") {
        desk = desk
            .with_creator_timezone(&zone)
            .map_err(|error| anyhow::anyhow!("FANDESK_CREATOR_TIMEZONE: {error}"))?;
    }
    desk.creator_name = env_secret("FANDESK_CREATOR_NAME");
    let seconds = |name: &str| -> anyhow::Result<Option<std::time::Duration>> {
        env_secret(name)
            .map(|text| {
                text.parse()
                    .map(std::time::Duration::from_secs)
                    .with_context(|| format!("{name}: whole seconds"))
            })
            .transpose()
    };
    if let Some(target) = seconds("FANDESK_SLA_TARGET_SECS")? {
        desk.sla_target = target;
    }
    if let Some(stretch) = seconds("FANDESK_SLA_STRETCH_SECS")? {
        desk.sla_stretch = stretch;
    }
    if let Some(mode) = env_secret("FANDESK_CANNED_FIRST_LINE") {
        desk.first_line = FirstLineMode::parse(&mode)
            .ok_or_else(|| anyhow::anyhow!("FANDESK_CANNED_FIRST_LINE: enforce, warn or off"))?;
    }
    if let Some(flag) = env_secret("FANDESK_SHIFT_SCOPED_ACCESS") {
        desk.shift_scoped_access = flag
            .parse()
            .context("FANDESK_SHIFT_SCOPED_ACCESS: true or false")?;
    }
    Ok(desk)
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    init_logging(args.log_format, "info");
    let shutdown = CancellationToken::new();
    crate::heap_profile::record_until(shutdown.clone());
    let (store, app) = start(&args, Arc::new(SystemClock)).await?;
    if let (Some(email), Some(password)) = (
        env_secret("FANDESK_OWNER_EMAIL"),
        env_secret("FANDESK_OWNER_PASSWORD"),
    ) && app
        .bootstrap_owner(&email, &password)
        .await
        .context("creating the owner account")?
    {
        tracing::info!(%email, "created the owner account");
    }
    let listener = bind(&args, &store).await?;
    tokio::spawn(watch_signals(shutdown.clone()));
    serve_until(&args, store, app, listener, shutdown).await
}

/// Opens the store and starts the service (shared with `fandesk demo`, which passes its
/// own clock to date the seeded history).
pub(crate) async fn start(args: &ServeArgs, clock: Arc<dyn Clock>) -> anyhow::Result<(Store, App)> {
    let store = match &args.database {
        Some(url) => Store::connect_postgres(url, None)
            .await
            .context("connecting to PostgreSQL")?,
        None => Store::open_sqlite(&args.data_dir)
            .await
            .with_context(|| format!("opening SQLite in {}", args.data_dir.display()))?,
    };
    let config = Config {
        node: args
            .node
            .clone()
            .unwrap_or_else(fandesk_service::default_node_name),
        fan_identity_secret: env_secret("FANDESK_FAN_IDENTITY_SECRET").map(String::into_bytes),
        desk: desk_config()?,
        charter: charter_config(args)?,
        report_delivery: args.report.delivery()?,
        webhooks: WebhookConfig {
            allow_hosts: args
                .webhook_allow_hosts
                .iter()
                .map(|host| host.trim().to_owned())
                .filter(|host| !host.is_empty())
                .collect(),
            ..WebhookConfig::default()
        },
        jobs: JobsConfig {
            lease: std::time::Duration::from_secs(args.job_lease_secs),
            ..JobsConfig::default()
        },
        ..Config::default()
    };
    let app = match &args.nats {
        None => App::start(store.clone(), Arc::new(LocalBus::new()), config, clock),
        Some(url) => {
            if store.backend() == "sqlite" {
                anyhow::bail!(
                    "--nats joins nodes that share one database: use it with --database postgres://…"
                );
            }
            let bus = Arc::new(NatsBus::connect(url, &config.node).await?);
            let app = App::start(store.clone(), bus.clone(), config, clock);
            bus.set_gap_fill(app.gap_fill());
            app
        }
    };
    app.metrics()
        .set_heap_reader(crate::allocator::heap_figures);
    Ok((store, app))
}

/// The charter seed of `--charter FILE`, checked before anything starts.
fn charter_config(args: &ServeArgs) -> anyhow::Result<CharterConfig> {
    let mut config = CharterConfig::default();
    if let Some(path) = &args.charter {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the charter {}", path.display()))?;
        if let Err(errors) = fandesk_domain::charter::Charter::parse(&text) {
            let listed: Vec<String> = errors.iter().map(ToString::to_string).collect();
            anyhow::bail!(
                "the charter {} is invalid:\n{}",
                path.display(),
                listed.join("\n")
            );
        }
        config.seed = Some(text);
    }
    Ok(config)
}

/// Binds the listener and prints the `listening on ADDR` line.
pub(crate) async fn bind(
    args: &ServeArgs,
    store: &Store,
) -> anyhow::Result<tokio::net::TcpListener> {
    let listener = listen(args.listen, args.reuse_port)
        .with_context(|| format!("listening on {}", args.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, backend = store.backend(), "fandesk is serving");
    // The one line on stdout: scripts and tests read the chosen port from it.
    println!("listening on {address}");
    Ok(listener)
}

/// A listening socket on `address`; with `reuse_port`, one other processes may bind too.
fn listen(address: SocketAddr, reuse_port: bool) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if address.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    if reuse_port {
        socket.set_reuseport(true)?;
    }
    socket.bind(address)?;
    socket.listen(1024)
}

/// Serves until `shutdown` is cancelled, then commits queued writes and closes the store.
pub(crate) async fn serve_until(
    args: &ServeArgs,
    store: Store,
    app: App,
    listener: tokio::net::TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let http = args.edge.apply(HttpConfig {
        allowed_origins: args.allowed_origins.clone(),
        ws: WsConfig::default(),
        ..HttpConfig::default()
    })?;
    fandesk_http::serve(listener, app.clone(), http, shutdown).await?;
    tracing::info!("no longer accepting; committing queued writes");
    app.shutdown().await;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

pub(crate) async fn watch_signals(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(error) => {
                    tracing::warn!(%error, "cannot watch SIGTERM");
                    let _ = ctrl_c.await;
                    shutdown.cancel();
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutdown requested");
    shutdown.cancel();
}
