//! Replays every file of `fuzz/corpus/<target>/` — the seeds and the inputs fuzzing runs
//! found and were committed, regressions included — through its fuzz target's function,
//! as an ordinary test: CI's cheap stand-in for fuzzing (`scripts/fuzz` runs libFuzzer).

#[path = "../../../fuzz/src/lib.rs"]
mod targets;

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files = 0;
    let entries = std::fs::read_dir(&folder).unwrap_or_else(|error| panic!("{folder:?}: {error}"));
    for entry in entries {
        let path = entry.expect("a corpus entry").path();
        let data = std::fs::read(&path).unwrap_or_else(|error| panic!("{path:?}: {error}"));
        if std::panic::catch_unwind(|| run(&data)).is_err() {
            panic!("{target}: {path:?} panics");
        }
        files += 1;
    }
    assert!(files > 0, "{target}: an empty corpus replays nothing");
}

#[test]
fn ws_frame() {
    replay("ws_frame", targets::ws_frame);
}

#[test]
fn rest_body() {
    replay("rest_body", targets::rest_body);
}

#[test]
fn canned_template() {
    replay("canned_template", targets::canned_template);
}

#[test]
fn charter() {
    replay("charter", targets::charter);
}

#[test]
fn schedule() {
    replay("schedule", targets::schedule);
}
