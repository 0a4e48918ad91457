//! The abuse scenario's Markdown report and its `--check` verdicts.

use super::AbuseArgs;
use super::attack::{BAD_JSON_RATE, Kind};
use super::tally::{NormalStats, Phase, Tally, percentile_ms};
use crate::api::prometheus_value;
use crate::report::fmt;
use std::sync::Arc;

pub struct Figures {
    pub args: AbuseArgs,
    pub stats: NormalStats,
    pub tally: Arc<Tally>,
    /// Server CPU (cores) alone and under abuse.
    pub server_cores: [f64; 2],
    /// This process's CPU (the normal clients), alone and under abuse.
    pub harness_cores: [f64; 2],
    /// The abusive clients' process's CPU over the abuse phase.
    pub abusers_cores: f64,
    /// The machine's load average at the end of the abuse phase.
    pub load_average: String,
    /// The conversation writer's commits, alone and under abuse.
    pub commits: [Commits; 2],
    pub peak_fds: usize,
    pub peak_rss_mib: f64,
    /// (warnings, errors) in the server's log.
    pub log_warnings: (usize, usize),
}

/// The conversation writer's group commits over a phase (server metrics).
#[derive(Clone, Copy, Debug, Default)]
pub struct Commits {
    pub per_sec: f64,
    pub mean_ms: Option<f64>,
    pub mean_batch: Option<f64>,
}

impl Commits {
    pub fn between(before: &str, after: &str, secs: u64) -> Commits {
        let delta = |name: &str| {
            prometheus_value(after, name).unwrap_or(0.0)
                - prometheus_value(before, name).unwrap_or(0.0)
        };
        let commits = delta(r#"fandesk_commit_seconds_count{writer="conversation"}"#);
        let batches = delta(r#"fandesk_write_batch_size_count{writer="conversation"}"#);
        Commits {
            per_sec: commits / secs.max(1) as f64,
            mean_ms: (commits > 0.0).then(|| {
                delta(r#"fandesk_commit_seconds_sum{writer="conversation"}"#) * 1000.0 / commits
            }),
            mean_batch: (batches > 0.0)
                .then(|| delta(r#"fandesk_write_batch_size_sum{writer="conversation"}"#) / batches),
        }
    }
}

const ALONE: usize = Phase::Alone as usize;
const ABUSE: usize = Phase::Abuse as usize;

/// A rate-driven abusive kind's volume: what its clients sent (or had answered) against
/// what they meant to send over the abuse phase.
pub struct Delivered {
    pub kind: &'static str,
    pub what: &'static str,
    pub done: u64,
    pub intended: u64,
}

impl Delivered {
    pub fn share(&self) -> f64 {
        self.done as f64 / self.intended.max(1) as f64
    }
}

impl Figures {
    /// The volume of the rate-driven kinds (message flood, invalid JSON), so a run whose
    /// abusers were starved of CPU cannot pass for one the server withstood.
    pub fn delivered(&self) -> Vec<Delivered> {
        let args = &self.args;
        let kinds = args.kinds();
        let clients_of = |kind: Kind| {
            kinds.iter().position(|k| *k == kind).map_or(0, |index| {
                (0..args.abusive)
                    .filter(|i| i % kinds.len() == index)
                    .count() as u64
            })
        };
        let mut out = Vec::new();
        for (kind, what, outcome, rate) in [
            (Kind::Flood, "`send` frames sent", "sent", args.flood_rate),
            (
                Kind::BadJson,
                "malformed frames sent",
                "sent",
                BAD_JSON_RATE,
            ),
        ] {
            let clients = clients_of(kind);
            if clients > 0 {
                out.push(Delivered {
                    kind: kind.name(),
                    what,
                    done: self.tally.count(kind.name(), outcome),
                    intended: clients * rate * args.phase_secs,
                });
            }
        }
        out
    }

    /// p99 under abuse / p99 alone, of send → ack and send → peer's event.
    pub fn ratios(&self) -> (Option<f64>, Option<f64>) {
        let ratio = |h: &[hdrhistogram::Histogram<u64>; 2]| {
            let alone = percentile_ms(&h[ALONE], 0.99)?;
            let abuse = percentile_ms(&h[ABUSE], 0.99)?;
            Some(abuse / alone.max(1e-3))
        };
        (ratio(&self.stats.ack), ratio(&self.stats.delivery))
    }
}

fn ms(value: Option<f64>) -> String {
    value.map_or("—".into(), |v| fmt(v, 2))
}

pub fn markdown(f: &Figures) -> String {
    let args = &f.args;
    let s = &f.stats;
    let mut out = format!(
        "### abuse — {} normal clients alone, then beside {} abusive clients\n\n",
        args.normal * 2,
        args.abusive
    );
    let notes = [
        format!(
            "normal: {} fans (127.0.2.x, {} an address) each in a conversation claimed by one of {} agents \
             (127.0.3.x), all on WebSocket and subscribed; fan and agent each send one message every {} ms \
             (open loop, latency from the intended send time); `/healthz` probed every 100 ms from 127.0.0.1",
            args.normal,
            super::normal::FANS_PER_ADDRESS,
            args.agents,
            args.send_every_ms
        ),
        format!(
            "abusive: {} clients, {} of each kind, from {} addresses (127.0.1.x); {} s warm-up, then {} s \
             alone, then {} s with the abusive clients (measured from their start), one server process; \
             the abusive clients run in a process of their own at CPU priority nice {}",
            args.abusive,
            args.abusive / args.kinds().len(),
            args.abusive_addresses,
            args.warmup_secs,
            args.phase_secs,
            args.phase_secs,
            args.abusers_nice.min(19)
        ),
        format!(
            "server settings: header timeout {} s, {} connections per address, {} in all, {} descriptors \
             reserved, {} failed logins per address a minute, {} fan sessions per address a minute, \
             {} messages per fan and {} per address a minute; WebSocket (built in): 64 KiB messages, \
             `hello` within 10 s, idle timeout 90 s, read at a pace (a fan: 30 frames + a minute's \
             quota, then 5/s + the quota's rate; unauthenticated: 10, then 2/s); flood rate {} frames/s per flooder; SQLite",
            args.header_timeout_secs,
            args.max_connections_per_ip,
            args.max_connections,
            args.fd_reserve,
            args.login_failures_per_ip,
            args.fan_sessions_per_ip,
            args.fan_messages_per_fan,
            args.fan_messages_per_ip,
            args.flood_rate
        ),
    ];
    for note in notes {
        out.push_str(&format!("- {note}\n"));
    }
    let (ack_ratio, delivery_ratio) = f.ratios();
    let verdict = |ok: bool| if ok { "met" } else { "**not met**" };
    out.push_str("\n| metric | alone | under abuse | target | verdict |\n|---|---|---|---|---|\n");
    let mut row = |metric: &str, alone: String, abuse: String, target: &str, verdict: &str| {
        out.push_str(&format!(
            "| {metric} | {alone} | {abuse} | {target} | {verdict} |\n"
        ));
    };
    for (name, h) in [("send → ack", &s.ack), ("send → peer's event", &s.delivery)] {
        for (q, label) in [(0.5, "p50"), (0.99, "p99")] {
            row(
                &format!("normal {name} {label} (ms)"),
                ms(percentile_ms(&h[ALONE], q)),
                ms(percentile_ms(&h[ABUSE], q)),
                "",
                "",
            );
        }
        row(
            &format!("normal {name} max (ms)"),
            ms((!h[ALONE].is_empty()).then(|| h[ALONE].max() as f64 / 1000.0)),
            ms((!h[ABUSE].is_empty()).then(|| h[ABUSE].max() as f64 / 1000.0)),
            "",
            "",
        );
    }
    for (name, ratio) in [
        ("send → ack", ack_ratio),
        ("send → peer's event", delivery_ratio),
    ] {
        row(
            &format!("p99 under abuse / alone, {name}"),
            String::new(),
            ratio.map_or("—".into(), |r| fmt(r, 2)),
            "≤ 2.0",
            ratio.map_or("n/a", |r| verdict(r <= 2.0)),
        );
    }
    for delivered in f.delivered() {
        row(
            &format!("abuse delivered: {} {}", delivered.kind, delivered.what),
            String::new(),
            format!(
                "{} of {} ({} %)",
                fmt(delivered.done as f64, 0),
                fmt(delivered.intended as f64, 0),
                fmt(delivered.share() * 100.0, 0)
            ),
            &format!("≥ {} %", fmt(f.args.min_delivered * 100.0, 0)),
            verdict(delivered.share() >= f.args.min_delivered),
        );
    }
    row(
        "normal sends / acked",
        format!("{} / {}", s.sent[ALONE], s.acked[ALONE]),
        format!("{} / {}", s.sent[ABUSE], s.acked[ABUSE]),
        "all acked",
        verdict(s.sent == s.acked),
    );
    row(
        "normal clients disconnected (whole run)",
        String::new(),
        s.disconnected.to_string(),
        "0",
        verdict(s.disconnected == 0),
    );
    row(
        "error frames to normal clients (whole run)",
        String::new(),
        s.error_frames.to_string(),
        "0",
        verdict(s.error_frames == 0),
    );
    for (q, label) in [(0.5, "p50"), (0.99, "p99")] {
        row(
            &format!("`/healthz` {label} (ms)"),
            ms(percentile_ms(&s.health[ALONE], q)),
            ms(percentile_ms(&s.health[ABUSE], q)),
            "",
            "",
        );
    }
    row(
        "`/healthz` failed or not 200",
        s.health_failures[ALONE].to_string(),
        s.health_failures[ABUSE].to_string(),
        "0",
        verdict(s.health_failures == [0, 0]),
    );
    let server_errors = f.tally.server_errors();
    row(
        "5xx answers to abusive clients",
        String::new(),
        server_errors.to_string(),
        "0",
        verdict(server_errors == 0),
    );
    row(
        "server CPU (cores)",
        fmt(f.server_cores[ALONE], 2),
        fmt(f.server_cores[ABUSE], 2),
        "",
        "",
    );
    row(
        "normal clients' process CPU (cores)",
        fmt(f.harness_cores[ALONE], 2),
        fmt(f.harness_cores[ABUSE], 2),
        "",
        "",
    );
    row(
        &format!(
            "abusive clients' process CPU (cores; at nice {})",
            args.abusers_nice.min(19)
        ),
        String::new(),
        fmt(f.abusers_cores, 2),
        "",
        "",
    );
    row(
        "machine load average (end of the abuse phase)",
        String::new(),
        f.load_average.clone(),
        "",
        "",
    );
    let c = &f.commits;
    row(
        "conversation commits/s; mean commit (ms); mean batch",
        format!(
            "{}; {}; {}",
            fmt(c[ALONE].per_sec, 1),
            ms(c[ALONE].mean_ms),
            c[ALONE].mean_batch.map_or("—".into(), |b| fmt(b, 1))
        ),
        format!(
            "{}; {}; {}",
            fmt(c[ABUSE].per_sec, 1),
            ms(c[ABUSE].mean_ms),
            c[ABUSE].mean_batch.map_or("—".into(), |b| fmt(b, 1))
        ),
        "",
        "",
    );
    row(
        "server peak descriptors / RSS (MiB)",
        String::new(),
        format!("{} / {}", f.peak_fds, fmt(f.peak_rss_mib, 1)),
        "",
        "",
    );
    row(
        "server log: warnings / errors",
        String::new(),
        format!("{} / {}", f.log_warnings.0, f.log_warnings.1),
        "",
        "",
    );
    out.push_str(
        "\n| abusive kind | what each client does | what the server did (outcomes, most frequent first) | longest held (s) |\n|---|---|---|---|\n",
    );
    for kind in args.kinds() {
        let outcomes: Vec<String> = f
            .tally
            .outcomes(kind.name())
            .iter()
            .map(|(outcome, count)| format!("{outcome}: {}", fmt(*count as f64, 0)))
            .collect();
        let held = f
            .tally
            .longest_held_ms(kind.name())
            .map_or("—".into(), |ms| fmt(ms as f64 / 1000.0, 1));
        out.push_str(&format!(
            "| {} | {} | {} | {held} |\n",
            kind.name(),
            kind.what().replace('|', "\\|"),
            outcomes.join("; ").replace('|', "\\|"),
        ));
    }
    if !s.samples.is_empty() {
        out.push_str("\nNormal clients' problems (first few):\n\n");
        for sample in &s.samples {
            out.push_str(&format!("- `{}`\n", sample.replace('`', "'")));
        }
    }
    out.push('\n');
    out
}

/// What `--check` fails on.
pub fn failures(f: &Figures) -> Vec<String> {
    let s = &f.stats;
    let mut failures = Vec::new();
    let (ack_ratio, delivery_ratio) = f.ratios();
    for (name, ratio) in [
        ("send → ack", ack_ratio),
        ("send → peer's event", delivery_ratio),
    ] {
        match ratio {
            Some(r) if r <= f.args.max_ratio => {}
            Some(r) => failures.push(format!(
                "normal {name} p99 under abuse is {r:.2}× alone (allowed {:.2}×)",
                f.args.max_ratio
            )),
            None => failures.push(format!("no normal {name} measured in a phase")),
        }
    }
    for delivered in f.delivered() {
        if delivered.share() < f.args.min_delivered {
            failures.push(format!(
                "the abusive clients fell short: {} {} {} of {} intended (the run does not \
                 show the server under the full abuse)",
                delivered.kind, delivered.what, delivered.done, delivered.intended
            ));
        }
    }
    if s.disconnected > 0 {
        failures.push(format!(
            "{} normal clients disconnected, e.g. {:?}",
            s.disconnected, s.samples
        ));
    }
    if s.error_frames > 0 {
        failures.push(format!(
            "{} error frames to normal clients, e.g. {:?}",
            s.error_frames, s.samples
        ));
    }
    if s.sent != s.acked {
        failures.push(format!("normal sends {:?} but acked {:?}", s.sent, s.acked));
    }
    if s.health_failures != [0, 0] {
        failures.push(format!(
            "/healthz failed {:?} times (alone, under abuse)",
            s.health_failures
        ));
    }
    let server_errors = f.tally.server_errors();
    if server_errors > 0 {
        failures.push(format!("{server_errors} 5xx answers to abusive clients"));
    }
    if f.log_warnings.1 > 0 {
        failures.push(format!("{} errors in the server log", f.log_warnings.1));
    }
    let kinds = f.args.kinds();
    if f.args.abusive >= kinds.len() {
        for kind in kinds {
            if f.tally.count(kind.name(), kind.expected()) == 0 {
                failures.push(format!(
                    "{}: never saw \"{}\" (outcomes: {:?})",
                    kind.name(),
                    kind.expected(),
                    f.tally.outcomes(kind.name())
                ));
            }
        }
    }
    failures
}
