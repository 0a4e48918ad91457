//! `ServerProcess`: the real `fandesk serve` binary as a child process, for tests that
//! must kill the whole process (crash durability) or check the command line contract
//! (docs/api.md › Running).

use crate::http::HttpClient;
use crate::server::{OWNER_EMAIL, OWNER_PASSWORD};
use anyhow::{Context, bail};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};

/// How long the binary may take to print its `listening on` line.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// Collected output of a child stream.
type Output = Arc<Mutex<String>>;

pub struct ServerProcess {
    child: Child,
    addr: SocketAddr,
    http: HttpClient,
    /// Everything on stdout after the `listening on` line (the contract says there is none).
    stdout_rest: Output,
    stderr: Output,
}

impl ServerProcess {
    /// Runs `EXE serve --listen 127.0.0.1:0 --data-dir DIR [--database URL]` with the owner
    /// set through `FANDESK_OWNER_EMAIL` / `FANDESK_OWNER_PASSWORD`, and waits for its single
    /// stdout line `listening on 127.0.0.1:PORT`.
    pub async fn start(
        exe: &Path,
        data_dir: &Path,
        database: Option<&str>,
    ) -> anyhow::Result<ServerProcess> {
        ServerProcess::start_with(exe, data_dir, database, &["--listen", "127.0.0.1:0"]).await
    }

    /// The same with `args` in place of `--listen 127.0.0.1:0` (a fixed port shared with
    /// `--reuse-port`, `--nats URL`, `--node NAME`, …); `args` must include `--listen`.
    pub async fn start_with(
        exe: &Path,
        data_dir: &Path,
        database: Option<&str>,
        args: &[&str],
    ) -> anyhow::Result<ServerProcess> {
        let mut command = Command::new(exe);
        command
            .arg("serve")
            .args(args)
            .arg("--data-dir")
            .arg(data_dir)
            .env("FANDESK_OWNER_EMAIL", OWNER_EMAIL)
            .env("FANDESK_OWNER_PASSWORD", OWNER_PASSWORD)
            .env_remove("FANDESK_LISTEN")
            .env_remove("FANDESK_DATA_DIR")
            .env_remove("FANDESK_DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(url) = database {
            command.args(["--database", url]);
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("spawn {}", exe.display()))?;
        let stderr = Output::default();
        collect(child.stderr.take().context("stderr")?, stderr.clone());
        let mut stdout = BufReader::new(child.stdout.take().context("stdout")?);
        let mut first = String::new();
        let read = tokio::time::timeout(STARTUP_TIMEOUT, stdout.read_line(&mut first)).await;
        let addr = match read {
            Ok(Ok(count)) if count > 0 => parse_listening(&first),
            Ok(Ok(_)) => Err(anyhow::anyhow!("stdout closed before the listening line")),
            Ok(Err(error)) => Err(error.into()),
            Err(_) => Err(anyhow::anyhow!(
                "no listening line within {STARTUP_TIMEOUT:?}"
            )),
        };
        let addr = match addr {
            Ok(addr) => addr,
            Err(error) => {
                let _ = child.kill().await;
                let log = stderr.lock().map(|text| text.clone()).unwrap_or_default();
                bail!("fandesk serve did not start: {error:#}\nstderr:\n{log}");
            }
        };
        let stdout_rest = Output::default();
        collect(stdout, stdout_rest.clone());
        let http = HttpClient::new(format!("http://{addr}"));
        Ok(ServerProcess {
            child,
            addr,
            http,
            stdout_rest,
            stderr,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/api/v1/ws", self.addr)
    }

    /// What the process wrote to stderr so far (for failure messages).
    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .map(|text| text.clone())
            .unwrap_or_default()
    }

    /// What the process wrote to stdout after its `listening on` line.
    pub fn stdout_rest(&self) -> String {
        self.stdout_rest
            .lock()
            .map(|text| text.clone())
            .unwrap_or_default()
    }

    /// SIGKILL: no shutdown code runs, exactly like a crash or a power cut of the process.
    pub async fn kill(mut self) -> anyhow::Result<()> {
        self.child.kill().await.context("kill fandesk serve")
    }

    /// SIGTERM, then waits for the process to exit on its own (graceful shutdown).
    pub async fn terminate(mut self, timeout: Duration) -> anyhow::Result<ExitStatus> {
        let pid = self.child.id().context("process already exited")?;
        let status = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await?;
        if !status.success() {
            bail!("kill -TERM {pid} failed: {status}");
        }
        match tokio::time::timeout(timeout, self.child.wait()).await {
            Ok(status) => Ok(status?),
            Err(_) => bail!(
                "fandesk serve did not exit within {timeout:?} of SIGTERM\nstderr:\n{}",
                self.stderr()
            ),
        }
    }
}

fn parse_listening(line: &str) -> anyhow::Result<SocketAddr> {
    let address = line
        .trim_end_matches(['\r', '\n'])
        .strip_prefix("listening on ")
        .with_context(|| format!("first stdout line is not `listening on ADDR`: {line:?}"))?;
    address
        .parse()
        .with_context(|| format!("bad address in {line:?}"))
}

/// Copies a child's stream into `into` on a background task until it closes.
fn collect(stream: impl AsyncRead + Unpin + Send + 'static, into: Output) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Ok(mut text) = into.lock() {
                text.push_str(&line);
                text.push('\n');
            }
        }
    });
}
