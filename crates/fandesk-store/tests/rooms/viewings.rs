//! Rooms' viewings (docs/metrics.md › Events): a generated join/leave log written in
//! batches by two nodes, read back the same from either, and the event figures folded
//! from the stored rows equal to an independent second-by-second count of the log; a
//! node's viewings left open end where it last marked them seen.

use crate::support::{TestDb, add_fan, add_member, add_room, at, fan_id, new_id};
use fandesk_analytics::{AudienceFigures, AudienceWindow, Viewing, audience_figures};
use fandesk_domain::room::{RoomId, RoomState};
use fandesk_domain::{FanId, Role};
use fandesk_store::{Store, ViewingChange};
use std::collections::{BTreeSet, HashMap};

/// The event's window: seconds 0 to 600 (10 minutes).
const LENGTH: i64 = 600;

/// One generated viewing: a fan, the node serving it, from, to (`None`: still open).
struct Generated {
    fan: usize,
    node: usize,
    from: i64,
    to: Option<i64>,
}

/// A small deterministic generator (a linear congruential one), so the log is the same
/// on every run and backend.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

/// 12 fans, each with up to 5 stretches starting between −120 s and 700 s, some on both
/// nodes at once, one in ten left open.
fn generate() -> Vec<Generated> {
    let mut random = Lcg(7);
    let mut log = Vec::new();
    for fan in 0..12 {
        let mut from = random.below(300) as i64 - 120;
        for _ in 0..=random.below(4) {
            if from > 700 {
                break;
            }
            let stay = random.below(240) as i64 + 1;
            let open = random.below(10) == 0;
            log.push(Generated {
                fan,
                node: random.below(2) as usize,
                from,
                to: (!open).then_some(from + stay),
            });
            // Sometimes the next stretch overlaps this one (another tab).
            from += stay - random.below(60) as i64 + random.below(120) as i64;
        }
    }
    log
}

/// The figures by brute force over the log: who is present at each whole second, an open
/// viewing counting until `seen` (the last time its node marked it seen).
fn count(log: &[Generated], seen: i64) -> AudienceFigures {
    let present = |second: i64| -> BTreeSet<usize> {
        log.iter()
            .filter(|v| v.from <= second && second < v.to.unwrap_or(seen))
            .map(|v| v.fan)
            .collect()
    };
    let (mut unique, mut peak, mut fan_seconds) = (BTreeSet::new(), 0, 0);
    for second in 0..LENGTH {
        let here = present(second);
        peak = peak.max(here.len());
        fan_seconds += here.len();
        unique.extend(here);
    }
    let cohort = present(0);
    let retention = (0..LENGTH / 60)
        .map(|minute| {
            let later = present(minute * 60);
            cohort.intersection(&later).count() as f64 / cohort.len() as f64
        })
        .collect();
    AudienceFigures {
        unique_viewers: unique.len() as u64,
        peak_concurrent: peak as u64,
        avg_watch_secs: fan_seconds as f64 / unique.len() as f64,
        retention_by_minute: if cohort.is_empty() {
            Vec::new()
        } else {
            retention
        },
        messages_per_minute: vec![0; (LENGTH / 60) as usize],
    }
}

/// Writes `log` as the nodes would: every change in time order, each node's changes
/// batched by the minute, then each node marks its open viewings seen at `seen`.
async fn write(nodes: [&Store; 2], room: &RoomId, fans: &[FanId], log: &[Generated], seen: i64) {
    let ids: Vec<String> = log.iter().map(|_| new_id()).collect();
    // (time, node, change)
    let mut changes: Vec<(i64, usize, ViewingChange)> = Vec::new();
    for (viewing, id) in log.iter().zip(&ids) {
        changes.push((
            viewing.from,
            viewing.node,
            ViewingChange::Joined {
                id: id.clone(),
                room: room.clone(),
                fan: fans[viewing.fan].clone(),
                at: at(viewing.from),
            },
        ));
        if let Some(to) = viewing.to {
            let left = ViewingChange::Left {
                id: id.clone(),
                at: at(to),
            };
            changes.push((to, viewing.node, left));
        }
    }
    changes.sort_by_key(|(time, _, _)| *time);
    let mut batches: HashMap<(usize, i64), Vec<ViewingChange>> = HashMap::new();
    for (time, node, change) in changes {
        batches
            .entry((node, time.div_euclid(60)))
            .or_default()
            .push(change);
    }
    let mut keys: Vec<(usize, i64)> = batches.keys().copied().collect();
    keys.sort_by_key(|(node, minute)| (*minute, *node));
    for key in keys {
        let (node, minute) = key;
        let batch = &batches[&key];
        let now = at((minute + 1) * 60);
        nodes[node]
            .record_viewings(&format!("node-{node}"), batch, now)
            .await
            .expect("record viewings");
    }
    for (node, store) in nodes.iter().enumerate() {
        store
            .record_viewings(&format!("node-{node}"), &[], at(seen))
            .await
            .expect("mark seen");
    }
}

fn sorted(mut viewings: Vec<Viewing>) -> Vec<(String, i64, i64)> {
    let mut rows: Vec<(String, i64, i64)> = viewings
        .drain(..)
        .map(|v| (v.fan, v.joined_at.as_second(), v.left_at.as_second()))
        .collect();
    rows.sort();
    rows
}

room_test!(
    stored_viewings_give_the_figures_of_a_second_by_second_count,
    stored_viewings_give_the_figures_of_a_second_by_second_count_sqlite,
    stored_viewings_give_the_figures_of_a_second_by_second_count_postgres
);
async fn stored_viewings_give_the_figures_of_a_second_by_second_count(db: &TestDb) {
    let owner = add_member(db, Role::Owner).await;
    let room = add_room(db, &owner, RoomState::Open, None, 0).await;
    let mut fans = Vec::new();
    for _ in 0..12 {
        fans.push(fan_id(&add_fan(db).await));
    }
    let other = db.another_node().await;
    let log = generate();
    assert!(
        log.iter().any(|v| v.to.is_none()),
        "some viewings stay open"
    );
    let seen = 1_000;
    write([&db.store, &other], &room, &fans, &log, seen).await;

    let window = AudienceWindow {
        start: at(0),
        end: at(LENGTH),
    };
    let here = db
        .list_viewings(&room, window.start, window.end)
        .await
        .expect("viewings");
    let there = other
        .list_viewings(&room, window.start, window.end)
        .await
        .expect("viewings from the other node");
    assert_eq!(
        sorted(here.clone()),
        sorted(there),
        "every node reads the same"
    );
    let figures = audience_figures(window, &here, &[]);
    assert_eq!(figures, count(&log, seen));
    assert!(
        figures.unique_viewers > 5 && figures.peak_concurrent > 1,
        "{figures:?}"
    );

    // Node 1 stops without closing its viewings; when it starts again they end where it
    // last marked them seen, and later marks no longer move them.
    let closed = other.close_stale_viewings("node-1").await.expect("close");
    let open_on_1 = log.iter().filter(|v| v.to.is_none() && v.node == 1).count();
    assert_eq!(closed, open_on_1 as u64);
    other
        .record_viewings("node-1", &[], at(5_000))
        .await
        .expect("mark seen");
    let after = db
        .list_viewings(&room, window.start, at(10_000))
        .await
        .expect("viewings");
    for viewing in &after {
        assert!(
            viewing.left_at <= at(seen),
            "{viewing:?} ends by its last mark"
        );
    }
    if !matches!(db.backend(), "sqlite") {
        other.close().await;
    }
}
