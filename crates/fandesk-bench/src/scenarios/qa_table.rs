//! The `qa-burst` table: the chat's latency and delivery, the burst's upvotes and frames,
//! the writers' batches and the server's cost, without and with the burst side by side,
//! and the requirement's verdict on the p99 ratio.

use super::qa::{CHAT_RATE, RATIO_TARGET, Size, WITH, WITHOUT};
use crate::report::{Samples, Table, fmt, verdict};

pub(super) fn table(samples: &Samples, size: &Size) -> Table {
    let mut table = Table::new(
        format!(
            "qa-burst — {} viewers of one event, chat at {} msg/s, with and without {} upvotes/s on one question",
            fmt(size.viewers as f64, 0),
            fmt(CHAT_RATE, 0),
            fmt(size.upvote_rate, 0)
        ),
        &[WITHOUT, WITH],
    );
    table.note(format!(
        "one fandesk server (SQLite) per run; the viewers are fans subscribed to the event's room and to \
         `event:{{id}}`; the owner sends in the room at a fixed rate for {} s per phase; in the burst \
         phase {} distinct fans (sessions made beforehand) upvote one question over REST at a fixed \
         rate during the same {} s; the two phases run on the same server and viewers, their order \
         turned round every run; latency = receive time − send time stamped in the body",
        size.phase.as_secs_f64(),
        fmt(size.upvoters() as f64, 0),
        size.phase.as_secs_f64(),
    ));
    for column in [WITHOUT, WITH] {
        for note in samples.notes(column) {
            table.note(format!("{column}, last run: {note}"));
        }
    }
    let ratio = samples.median("p99_ratio", WITH);
    let rows: [(&str, &str, usize, &str, String); 17] = [
        (
            "p50_ms",
            "chat send → receive p50 (ms)",
            1,
            "",
            String::new(),
        ),
        (
            "p99_ms",
            "chat send → receive p99 (ms)",
            1,
            "",
            String::new(),
        ),
        (
            "p99_ratio",
            "chat p99, with burst / without",
            2,
            "≤ 1.5×",
            verdict(ratio, |value| value <= RATIO_TARGET),
        ),
        (
            "max_ms",
            "chat send → receive max (ms)",
            1,
            "",
            String::new(),
        ),
        (
            "delivered_pct",
            "chat delivered (% of offered)",
            1,
            "",
            String::new(),
        ),
        ("msgs_per_sec", "chat messages sent/s", 0, "", String::new()),
        (
            "upvotes_per_sec",
            "upvotes acknowledged (201)/s",
            0,
            "",
            String::new(),
        ),
        (
            "upvote_p99_ms",
            "upvote intended send → answer p99 (ms)",
            1,
            "",
            String::new(),
        ),
        (
            "question_frames_per_viewer",
            "`event:{id}` frames received per viewer",
            1,
            "",
            String::new(),
        ),
        ("closed", "viewers disconnected", 0, "0", String::new()),
        (
            "question_batch_mean",
            "questions' writer: ops per batch",
            1,
            "",
            String::new(),
        ),
        (
            "question_commit_ms",
            "questions' writer: ms per batch",
            2,
            "",
            String::new(),
        ),
        (
            "room_batch_mean",
            "room's writer: messages per batch",
            1,
            "",
            String::new(),
        ),
        (
            "room_commit_ms",
            "room's writer: ms per batch",
            2,
            "",
            String::new(),
        ),
        ("server_cores", "server CPU (cores)", 2, "", String::new()),
        (
            "gen_cores",
            "load generators' CPU (cores)",
            2,
            "",
            String::new(),
        ),
        ("rss_mib", "server RSS (MiB)", 1, "", String::new()),
    ];
    for (metric, label, decimals, target, verdict) in rows {
        table.sample_row(samples, metric, label, decimals, target, &verdict);
    }
    table
}
