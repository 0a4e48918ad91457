//! The crash soak's server: `fandesk serve` as a child process on one SQLite data
//! directory or one PostgreSQL database, started again on the same data after each
//! SIGKILL. Its stderr of every life goes to one log file.

use crate::servers::{OWNER_EMAIL, OWNER_PASSWORD, tail};
use anyhow::{Context, Result, bail};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

pub struct Soaked {
    exe: PathBuf,
    data_dir: PathBuf,
    database: Option<String>,
    pub log: PathBuf,
    child: Option<(Child, Lines<BufReader<ChildStdout>>)>,
}

impl Soaked {
    pub fn new(exe: PathBuf, data_dir: PathBuf, database: Option<String>, log: PathBuf) -> Soaked {
        Soaked {
            exe,
            data_dir,
            database,
            log,
            child: None,
        }
    }

    /// Starts the server and waits until `/healthz` answers; returns its address.
    pub async fn start(&mut self) -> Result<SocketAddr> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let mut command = Command::new(&self.exe);
        command
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(&self.data_dir)
            .env("FANDESK_OWNER_EMAIL", OWNER_EMAIL)
            .env("FANDESK_OWNER_PASSWORD", OWNER_PASSWORD)
            .env("FANDESK_LOG", "warn")
            .env("FANDESK_FAN_SESSIONS_PER_IP", "1000000000")
            .env("FANDESK_FAN_MESSAGES_PER_FAN", "1000000000")
            .env("FANDESK_FAN_MESSAGES_PER_IP", "1000000000")
            .env_remove("FANDESK_DATABASE_URL")
            .env_remove("FANDESK_LISTEN")
            .env_remove("FANDESK_DATA_DIR");
        if let Some(url) = &self.database {
            command.arg("--database").arg(url);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .context("starting fandesk serve")?;
        let mut lines = BufReader::new(child.stdout.take().context("no stdout")?).lines();
        let first = tokio::time::timeout(Duration::from_secs(60), lines.next_line()).await;
        let addr = match first {
            Ok(Ok(Some(line))) => line
                .strip_prefix("listening on ")
                .and_then(|addr| addr.trim().parse::<SocketAddr>().ok())
                .with_context(|| format!("unexpected first line {line:?}"))?,
            _ => {
                let _ = child.start_kill();
                bail!("fandesk did not start; log: {}", tail(&self.log));
            }
        };
        self.child = Some((child, lines));
        let api = crate::api::Api::new(addr);
        for _ in 0..200 {
            if api.healthy().await {
                return Ok(addr);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        bail!("fandesk never became healthy; log: {}", tail(&self.log))
    }

    /// SIGKILL, and wait for the process to be gone.
    pub async fn kill(&mut self) -> Result<()> {
        if let Some((mut child, _)) = self.child.take() {
            child.start_kill()?;
            child.wait().await?;
        }
        Ok(())
    }

    /// Whether the current process died on its own (a crash the soak did not cause).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        let (child, _) = self.child.as_mut()?;
        child.try_wait().ok().flatten()
    }
}
