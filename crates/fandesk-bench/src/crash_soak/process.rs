//! The crash soak's server: `fandesk serve` as a child process on one SQLite data
//! directory or one PostgreSQL database, started again on the same data after each
//! SIGKILL. Its stderr of every life goes to one log file.

use crate::servers::{Kind, Server, fandesk_serve};
use anyhow::Result;
use std::net::SocketAddr;
use std::path::PathBuf;

pub struct Soaked {
    exe: PathBuf,
    data_dir: PathBuf,
    database: Option<String>,
    pub log: PathBuf,
    server: Option<Server>,
}

impl Soaked {
    pub fn new(exe: PathBuf, data_dir: PathBuf, database: Option<String>, log: PathBuf) -> Soaked {
        Soaked {
            exe,
            data_dir,
            database,
            log,
            server: None,
        }
    }

    /// Starts the server and waits until `/healthz` answers; returns its address.
    pub async fn start(&mut self) -> Result<SocketAddr> {
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let mut command = fandesk_serve(&self.exe, &self.data_dir);
        command.arg("--listen").arg("127.0.0.1:0");
        let kind = match &self.database {
            Some(url) => {
                command.arg("--database").arg(url);
                Kind::FandeskPostgres
            }
            None => Kind::Fandesk,
        };
        // The soak owns its database: the server must not drop it when it stops.
        let server = Server::launch(kind, command, self.log.clone(), log_file, None).await?;
        let addr = server.addr;
        self.server = Some(server);
        Ok(addr)
    }

    /// SIGKILL, and wait for the process to be gone.
    pub async fn kill(&mut self) -> Result<()> {
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
        Ok(())
    }

    /// Whether the current process died on its own (a crash the soak did not cause).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.server.as_mut()?.exited()
    }
}
