//! The hub on its own, over an in-process bus: audiences, order, coalescing, resume,
//! slow viewers and idle rooms.

use super::*;
use crate::live::frame_queue::Outgoing;
use fandesk_bus::LocalBus;

const TOPIC: &str = "room:r1";

fn event(seq: Option<u64>, team: &str, fan: Option<&str>) -> Arc<Event> {
    Arc::new(Event {
        topic: TOPIC.to_owned(),
        seq,
        public_seq: seq.filter(|_| fan.is_some()),
        team: Bytes::from(team.to_owned()),
        fan: fan.map(|fan| Bytes::from(fan.to_owned())),
    })
}

fn hub(tick_ms: u64) -> (Arc<LocalBus>, RoomFanout) {
    let bus = Arc::new(LocalBus::new());
    let config = RoomFanoutConfig {
        workers: 2,
        tick: Duration::from_millis(tick_ms),
        // Always the full tick: the tests choose it.
        busy_factor: u32::MAX,
        held_max: 8,
    };
    (bus.clone(), RoomFanout::new(bus, config))
}

/// Everything a queue received so far, as pushes (each a list of frames).
async fn pushes(queue: &FrameQueue, frames: usize) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while out
        .iter()
        .map(|item: &Vec<String>| item.len())
        .sum::<usize>()
        < frames
    {
        tokio::time::timeout_at(deadline, queue.ready())
            .await
            .expect("frames in time");
        let mut items = Vec::new();
        queue.take(&mut items);
        for item in items {
            let frames = match item {
                Outgoing::Frame(frame) => vec![frame],
                Outgoing::Batch(frames) => frames.to_vec(),
            };
            out.push(
                frames
                    .iter()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect(),
            );
        }
        if queue.is_closed() {
            break;
        }
    }
    out
}

fn flat(pushes: &[Vec<String>]) -> Vec<String> {
    pushes.iter().flatten().cloned().collect()
}

/// Waits until the hub's workers have applied the joins (a published event reaches a
/// viewer only after its join is applied; a probe viewer's first frame proves it).
async fn settle(bus: &LocalBus, probe: &FrameQueue, seq: u64) {
    bus.publish(event(
        Some(seq),
        &format!("t{seq}"),
        Some(&format!("f{seq}")),
    ));
    pushes(probe, 1).await;
}

#[tokio::test]
async fn each_audience_gets_its_own_frames_in_order() {
    let (bus, hub) = hub(1);
    let (team, fan) = (FrameQueue::new(64), FrameQueue::new(64));
    let _a = hub.join(TOPIC, team.clone(), Audience::Team, None);
    let _b = hub.join(TOPIC, fan.clone(), Audience::Fan, None);
    settle(&bus, &team, 1).await;
    pushes(&fan, 1).await;
    bus.publish(event(Some(2), "t2", Some("f2")));
    bus.publish(event(Some(3), "t3-internal", None));
    bus.publish(event(None, "viewers", Some("viewers")));
    bus.publish(event(Some(4), "t4", Some("f4")));
    assert_eq!(
        flat(&pushes(&team, 4).await),
        ["t2", "t3-internal", "viewers", "t4"]
    );
    assert_eq!(flat(&pushes(&fan, 3).await), ["f2", "viewers", "f4"]);
}

#[tokio::test]
async fn a_busy_room_is_coalesced_into_one_push_per_tick() {
    let (bus, hub) = hub(200);
    let viewer = FrameQueue::new(64);
    let _member = hub.join(TOPIC, viewer.clone(), Audience::Fan, None);
    settle(&bus, &viewer, 1).await;
    for seq in 2..=6 {
        bus.publish(event(Some(seq), "t", Some(&format!("f{seq}"))));
    }
    let got = pushes(&viewer, 5).await;
    assert_eq!(flat(&got), ["f2", "f3", "f4", "f5", "f6"]);
    assert_eq!(got.len(), 1, "one push for the whole tick: {got:?}");
}

#[tokio::test]
async fn a_quiet_room_delivers_at_once() {
    let tick = Duration::from_secs(2);
    let (bus, hub) = hub(tick.as_millis() as u64);
    let viewer = FrameQueue::new(64);
    let _member = hub.join(TOPIC, viewer.clone(), Audience::Fan, None);
    settle(&bus, &viewer, 1).await;
    // A tick after the last delivery the room counts as quiet again.
    tokio::time::sleep(tick + Duration::from_millis(100)).await;
    let published = Instant::now();
    bus.publish(event(Some(2), "t2", Some("f2")));
    assert_eq!(flat(&pushes(&viewer, 1).await), ["f2"]);
    assert!(published.elapsed() < tick * 3 / 4, "waited for a tick");
}

#[tokio::test]
async fn resume_releases_held_frames_without_what_the_replay_sent() {
    let (bus, hub) = hub(1);
    let probe = FrameQueue::new(64);
    let _probe = hub.join(TOPIC, probe.clone(), Audience::Fan, None);
    let resuming = FrameQueue::new(64);
    // Joined for a resume after seq 2: live frames wait for the replay.
    let member = hub.join(TOPIC, resuming.clone(), Audience::Fan, Some(2));
    settle(&bus, &probe, 3).await;
    bus.publish(event(Some(4), "t4", Some("f4")));
    bus.publish(event(None, "viewers", Some("viewers")));
    pushes(&probe, 2).await;
    assert!(!resuming.is_closed());
    // The replay (store) delivered up to 3 meanwhile.
    resuming.push(Bytes::from_static(b"replayed f3"));
    member.resume(3);
    bus.publish(event(Some(5), "t5", Some("f5")));
    assert_eq!(
        flat(&pushes(&resuming, 4).await),
        ["replayed f3", "f4", "viewers", "f5"]
    );
}

#[tokio::test]
async fn a_viewer_too_far_behind_is_closed_with_4008_and_others_go_on() {
    let (bus, hub) = hub(1);
    let slow = FrameQueue::new(4);
    let fast = FrameQueue::new(64);
    let _slow = hub.join(TOPIC, slow.clone(), Audience::Fan, None);
    let _fast = hub.join(TOPIC, fast.clone(), Audience::Fan, None);
    settle(&bus, &fast, 1).await;
    for seq in 2..=9 {
        bus.publish(event(Some(seq), "t", Some(&format!("f{seq}"))));
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    assert_eq!(flat(&pushes(&fast, 8).await).len(), 8);
    assert_eq!(slow.reason().map(|r| r.0), Some(CLOSE_SLOW_CONSUMER));
}

#[tokio::test]
async fn a_room_nobody_watches_has_no_workers() {
    let (bus, hub) = hub(1);
    let viewer = FrameQueue::new(64);
    let member = hub.join(TOPIC, viewer.clone(), Audience::Team, None);
    settle(&bus, &viewer, 1).await;
    assert_eq!(hub.room_count(), 1);
    drop(member);
    let deadline = Instant::now() + Duration::from_secs(5);
    while hub.room_count() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(hub.room_count(), 0);
    // A new viewer starts a new worker.
    let again = FrameQueue::new(64);
    let _member = hub.join(TOPIC, again.clone(), Audience::Team, None);
    settle(&bus, &again, 2).await;
}
