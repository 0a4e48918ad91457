//! The coordinator's side of the generator processes: spawn, command, collect.

use crate::loadgen::{Spec, new_histogram};
use anyhow::{Context, Result, bail};
use hdrhistogram::Histogram;
use serde_json::Value;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

pub struct Gen {
    /// The generator's latest `progress` (viewers: lowest message index + 1 seen).
    pub progress: Arc<AtomicU64>,
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
    pub pid: u32,
    pub label: String,
}

impl Gen {
    pub async fn spawn(spec: &Spec, dir: &Path) -> Result<Gen> {
        let path = dir.join(format!(
            "gen-{}-{}.json",
            spec.label,
            crate::stamp::now_us()
        ));
        std::fs::write(&path, serde_json::to_vec(spec)?)?;
        let exe = std::env::current_exe().context("locating fandesk-bench")?;
        let mut child = Command::new(exe)
            .arg("gen")
            .arg("--spec-file")
            .arg(&path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("starting a generator process")?;
        let pid = child.id().context("generator has no pid")?;
        let stdin = child.stdin.take().context("no stdin")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let stderr = child.stderr.take().context("no stderr")?;
        let progress = Arc::new(AtomicU64::new(0));
        let task_progress = progress.clone();
        let label = spec.label.clone();
        // Progress lines feed the pacer; anything else is the generator talking to us.
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                match line
                    .strip_prefix("progress ")
                    .and_then(|n| n.parse::<u64>().ok())
                {
                    Some(value) => {
                        task_progress.fetch_max(value, Ordering::Relaxed);
                    }
                    None => eprintln!("[{label}] {line}"),
                }
            }
        });
        Ok(Gen {
            progress,
            child,
            stdin,
            lines: BufReader::new(stdout).lines(),
            pid,
            label: spec.label.clone(),
        })
    }

    pub async fn send(&mut self, command: &str) -> Result<()> {
        self.stdin
            .write_all(format!("{command}\n").as_bytes())
            .await?;
        self.stdin.flush().await?;
        Ok(())
    }

    /// The next JSON line of kind `kind` (other lines are skipped; bounded by `timeout`).
    pub async fn expect(&mut self, kind: &str, timeout: Duration) -> Result<Value> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let line = tokio::time::timeout_at(deadline, self.lines.next_line())
                .await
                .with_context(|| {
                    format!(
                        "generator {} did not answer {kind:?} in {timeout:?}",
                        self.label
                    )
                })??
                .with_context(|| format!("generator {} exited", self.label))?;
            let value: Value = match serde_json::from_str(&line) {
                Ok(value) => value,
                Err(_) => continue,
            };
            if value["kind"] == kind {
                return Ok(value);
            }
        }
    }

    pub fn cpu_secs(&self) -> f64 {
        crate::procfs::cpu_secs(self.pid).unwrap_or(0.0)
    }

    pub async fn quit(mut self) {
        let _ = self.send("quit").await;
        if tokio::time::timeout(Duration::from_secs(5), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.start_kill();
            let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
        }
    }
}

/// A group of generators working on one trial.
pub struct Gens {
    pub gens: Vec<Gen>,
}

/// What the `ready` lines say, summed.
#[derive(Debug, Default, Clone)]
pub struct Ready {
    pub connected: u64,
    pub errors: u64,
    pub error_samples: Vec<String>,
    /// The slowest generator's connect time.
    pub connect_secs: f64,
}

impl Gens {
    pub async fn spawn(specs: &[Spec], dir: &Path) -> Result<Gens> {
        let mut gens = Vec::with_capacity(specs.len());
        for spec in specs {
            gens.push(Gen::spawn(spec, dir).await?);
        }
        Ok(Gens { gens })
    }

    pub async fn ready(&mut self, timeout: Duration) -> Result<Ready> {
        let mut ready = Ready::default();
        for generator in &mut self.gens {
            let line = generator.expect("ready", timeout).await?;
            ready.connected += line["connected"].as_u64().unwrap_or(0);
            ready.errors += line["errors"].as_u64().unwrap_or(0);
            ready.connect_secs = ready
                .connect_secs
                .max(line["connect_secs"].as_f64().unwrap_or(0.0));
            for sample in line["error_samples"].as_array().into_iter().flatten() {
                if ready.error_samples.len() < 5 {
                    ready
                        .error_samples
                        .push(sample.as_str().unwrap_or("").to_owned());
                }
            }
        }
        Ok(ready)
    }

    /// Sends `command` to every generator, then collects every answer of `kind`.
    pub async fn ask_all(
        &mut self,
        command: &str,
        kind: &str,
        timeout: Duration,
    ) -> Result<Vec<Value>> {
        for generator in &mut self.gens {
            generator.send(command).await?;
        }
        let mut answers = Vec::with_capacity(self.gens.len());
        for generator in &mut self.gens {
            answers.push(generator.expect(kind, timeout).await?);
        }
        Ok(answers)
    }

    pub fn cpu_secs(&self) -> f64 {
        self.gens.iter().map(Gen::cpu_secs).sum()
    }

    /// The slowest generator's progress.
    pub fn progress(&self) -> u64 {
        self.gens
            .iter()
            .map(|g| g.progress.load(Ordering::Relaxed))
            .min()
            .unwrap_or(0)
    }

    pub async fn quit(self) {
        for generator in self.gens {
            generator.quit().await;
        }
    }
}

pub fn sum(answers: &[Value], field: &str) -> u64 {
    answers
        .iter()
        .map(|answer| answer[field].as_u64().unwrap_or(0))
        .sum()
}

pub fn max(answers: &[Value], field: &str) -> u64 {
    answers
        .iter()
        .map(|answer| answer[field].as_u64().unwrap_or(0))
        .max()
        .unwrap_or(0)
}

/// Merges the `[[value, count], …]` histograms of every answer.
pub fn merged_histogram(answers: &[Value], field: &str) -> Result<Histogram<u64>> {
    let mut histogram = new_histogram();
    for answer in answers {
        let Some(pairs) = answer[field].as_array() else {
            bail!("no {field} in a report")
        };
        for pair in pairs {
            let value = pair[0].as_u64().unwrap_or(1).max(1);
            let count = pair[1].as_u64().unwrap_or(0);
            histogram.record_n(value.min(histogram.high()), count)?;
        }
    }
    Ok(histogram)
}

pub fn samples(answers: &[Value], field: &str) -> Vec<String> {
    answers
        .iter()
        .flat_map(|answer| answer[field].as_array().cloned().unwrap_or_default())
        .filter_map(|sample| sample.as_str().map(str::to_owned))
        .take(5)
        .collect()
}
