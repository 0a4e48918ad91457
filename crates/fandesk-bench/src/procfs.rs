//! What a process costs, read from /proc: resident memory (VmRSS), CPU time
//! (utime + stime), its file-descriptor limit.

use anyhow::{Context, Result};
use std::sync::OnceLock;

/// Resident set size in KiB (`VmRSS` of /proc/PID/status).
pub fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    field_kib(&status, "VmRSS:").context("no VmRSS line")
}

/// Anonymous resident memory in KiB (`RssAnon`: the heap and stacks, not mapped files).
pub fn rss_anon_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    field_kib(&status, "RssAnon:").context("no RssAnon line")
}

fn field_kib(status: &str, name: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with(name))?;
    line[name.len()..].split_whitespace().next()?.parse().ok()
}

/// User + system CPU seconds used so far (fields 14 and 15 of /proc/PID/stat).
pub fn cpu_secs(pid: u32) -> Result<f64> {
    let (user, system) = cpu_split(&format!("/proc/{pid}/stat"))?;
    Ok(user + system)
}

/// (user, system) CPU seconds from a `stat` file (a process's or a thread's).
fn cpu_split(path: &str) -> Result<(f64, f64)> {
    let stat = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    // The command name may contain spaces; fields are counted after its closing paren.
    let after = stat.rsplit_once(')').context("malformed stat")?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // `after` starts at field 3 (state): utime is field 14, stime field 15.
    let utime: u64 = fields.get(11).context("no utime")?.parse()?;
    let stime: u64 = fields.get(12).context("no stime")?.parse()?;
    let ticks = clock_ticks() as f64;
    Ok((utime as f64 / ticks, stime as f64 / ticks))
}

/// CPU seconds (user + system) per thread name of a process, e.g.
/// `tokio-runtime-w` or `sqlx-sqlite-wor` (names are cut at 15 bytes by the kernel).
pub fn threads_cpu(pid: u32) -> std::collections::BTreeMap<String, f64> {
    let mut by_name = std::collections::BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return by_name;
    };
    for task in tasks.flatten() {
        let dir = task.path();
        let name = std::fs::read_to_string(dir.join("comm"))
            .unwrap_or_default()
            .trim()
            .to_owned();
        if let Ok((user, system)) = cpu_split(&dir.join("stat").to_string_lossy()) {
            *by_name.entry(name).or_insert(0.0) += user + system;
        }
    }
    by_name
}

/// The soft `Max open files` limit of a process.
pub fn max_open_files(pid: u32) -> Result<u64> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits"))?;
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .context("no limit line")?;
    let soft = line["Max open files".len()..]
        .split_whitespace()
        .next()
        .context("no soft limit")?;
    Ok(soft.parse().unwrap_or(u64::MAX))
}

/// Open file descriptors of a process.
pub fn open_fds(pid: u32) -> Result<usize> {
    Ok(std::fs::read_dir(format!("/proc/{pid}/fd"))?.count())
}

/// `getconf CLK_TCK` (100 on every Linux this runs on; asked once to be sure).
fn clock_ticks() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(100)
    })
}

/// A snapshot of one process, for deltas.
#[derive(Clone, Copy, Debug)]
pub struct Usage {
    pub rss_kib: u64,
    pub cpu_secs: f64,
    pub user_secs: f64,
    pub system_secs: f64,
    /// Bytes read and written through file system calls so far (`rchar`, `wchar` of
    /// /proc/PID/io): SQLite's page reads past its memory map, its WAL and checkpoint
    /// writes. Sockets' `recv`/`send` are not counted. 0 when unreadable.
    pub read_bytes: u64,
    pub written_bytes: u64,
    pub at: std::time::Instant,
}

impl Usage {
    pub fn of(pid: u32) -> Result<Usage> {
        let (user_secs, system_secs) = cpu_split(&format!("/proc/{pid}/stat"))?;
        let io = std::fs::read_to_string(format!("/proc/{pid}/io")).unwrap_or_default();
        let io_field = |name: &str| {
            io.lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|value| value.trim().parse().ok())
                .unwrap_or(0)
        };
        Ok(Usage {
            rss_kib: rss_kib(pid)?,
            cpu_secs: user_secs + system_secs,
            user_secs,
            system_secs,
            read_bytes: io_field("rchar:"),
            written_bytes: io_field("wchar:"),
            at: std::time::Instant::now(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let pid = std::process::id();
        assert!(rss_kib(pid).unwrap() > 0);
        let _ = std::fs::read("/proc/self/status");
        assert!(Usage::of(pid).unwrap().read_bytes > 0);
        assert!(cpu_secs(pid).unwrap() >= 0.0);
        assert!(max_open_files(pid).unwrap() > 0);
        assert!(open_fds(pid).unwrap() > 0);
        assert!(!threads_cpu(pid).is_empty());
    }
}
