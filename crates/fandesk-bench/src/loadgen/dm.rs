//! The DM side of a load generator: fandesk frame classification and the 1:1 sender
//! that sends, matches acks in order and times the peer's messages.

use super::*;

/// The kind of a fandesk server frame, by its first bytes (serde writes `type` first).
enum ServerFrame<'a> {
    Ack(Option<&'a [u8]>),
    Error(Option<&'a [u8]>),
    Event,
    Other,
}

fn classify(payload: &[u8]) -> ServerFrame<'_> {
    if payload.starts_with(b"{\"type\":\"ack\"") {
        ServerFrame::Ack(string_field(payload, b"\"client_msg_id\":\""))
    } else if payload.starts_with(b"{\"type\":\"event\"") {
        ServerFrame::Event
    } else if payload.starts_with(b"{\"type\":\"error\"") {
        ServerFrame::Error(string_field(payload, b"\"ref\":\""))
    } else {
        ServerFrame::Other
    }
}

fn string_field<'a>(payload: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let at = payload.windows(key.len()).position(|w| w == key)? + key.len();
    let len = payload[at..].iter().position(|b| *b == b'"')?;
    Some(&payload[at..at + len])
}

/// One side of a 1:1 conversation: sends (closed loop or at a fixed rate), matches acks in
/// order, and times the peer's messages as they arrive.
pub(super) async fn dm_sender(
    mut client: Client,
    dm: &DmSpec,
    pair: &DmPair,
    tag: String,
    state: Shared,
    mut start_rx: watch::Receiver<Option<u64>>,
) {
    let start_us = loop {
        if let Some(at) = *start_rx.borrow_and_update() {
            break at;
        }
        if start_rx.changed().await.is_err() {
            return;
        }
    };
    let to_instant = |us: u64| {
        let now_us = stamp::now_us();
        let now = Instant::now();
        if us >= now_us {
            now + Duration::from_micros(us - now_us)
        } else {
            now - Duration::from_micros(now_us - us)
        }
    };
    tokio::time::sleep_until(to_instant(start_us)).await;
    let stop_us = start_us + dm.duration_ms * 1000;
    let stop_at = to_instant(stop_us);
    let drain_until = stop_at + Duration::from_secs(10);
    let topic = format!("conversation:{}", pair.conversation_id);
    // (sequence number, intended send time µs) of unacknowledged sends, in send order.
    let mut pending: VecDeque<(u64, u64)> = VecDeque::new();
    let mut next_number: u64 = 0;
    let interval_us = dm.rate_per_sender.map(|rate| (1e6 / rate.max(1e-3)) as u64);
    // Spread open-loop senders over one interval so they do not send in lockstep.
    let phase_us = interval_us
        .map(|i| (hash(&tag) % i.max(1)).min(i))
        .unwrap_or(0);
    let mut sending = true;
    let max_sends = interval_us
        .map(|i| dm.duration_ms * 1000 / i.max(1) + 2)
        .unwrap_or(u64::MAX)
        .min(10_000_000);
    let (window_from, window_to) = state.borrow().window;
    let mut frame_text = String::with_capacity(dm.body_len + 200);
    if interval_us.is_none() {
        for _ in 0..dm.window.max(1) {
            let at = stamp::now_us();
            if send_one(
                &mut client,
                &topic,
                &tag,
                next_number,
                at,
                dm.body_len,
                &mut frame_text,
            )
            .await
            .is_err()
            {
                return state.borrow_mut().lost("send failed".into());
            }
            pending.push_back((next_number, at));
            next_number += 1;
        }
        state.borrow_mut().sent += dm.window.max(1) as u64;
    }
    loop {
        if !sending && pending.is_empty() {
            break;
        }
        let next_due = interval_us.map(|i| start_us + phase_us + next_number * i);
        let may_send_now = sending
            && next_due.is_some()
            && pending.len() < dm.in_flight_cap.max(1)
            && next_number < max_sends;
        let due_at = next_due.map(&to_instant).unwrap_or(drain_until);
        tokio::select! {
            frame = client.next() => {
                let frame = match frame {
                    Ok(Some(frame)) => frame,
                    Ok(None) => return state.borrow_mut().lost("closed by the server".into()),
                    Err(error) => return state.borrow_mut().lost(format!("{error:#}")),
                };
                let now = stamp::now_us();
                let in_window = now >= window_from && now <= window_to;
                let payload = client.payload(&frame);
                let mut answered = false;
                {
                    let mut state = state.borrow_mut();
                    match classify(payload) {
                        ServerFrame::Ack(id) | ServerFrame::Error(id) => {
                            let is_ack = payload.starts_with(b"{\"type\":\"ack\"");
                            if let Some((number, at)) = pending.pop_front() {
                                let expected = format!("{tag}-{number}");
                                if id != Some(expected.as_bytes()) {
                                    state.ack_mismatches += 1;
                                }
                                if is_ack {
                                    state.acks += 1;
                                    if in_window {
                                        state.acks_in_window += 1;
                                        let _ = state.ack_latency.record(now.saturating_sub(at).max(1));
                                    }
                                } else {
                                    state.error_frames += 1;
                                    if state.close_samples.len() < 5 {
                                        let text = String::from_utf8_lossy(payload).chars().take(200).collect();
                                        state.close_samples.push(text);
                                    }
                                }
                                answered = true;
                            } else {
                                state.ack_mismatches += 1;
                            }
                        }
                        ServerFrame::Event => {
                            if let Some((sent, _)) = stamp::find(payload) {
                                state.delivered(now, sent, in_window);
                            }
                        }
                        ServerFrame::Other => {}
                    }
                }
                if answered && interval_us.is_none() && sending && Instant::now() < stop_at {
                    let at = stamp::now_us();
                    if send_one(&mut client, &topic, &tag, next_number, at, dm.body_len, &mut frame_text).await.is_err() {
                        return state.borrow_mut().lost("send failed".into());
                    }
                    pending.push_back((next_number, at));
                    next_number += 1;
                    state.borrow_mut().sent += 1;
                }
            }
            () = tokio::time::sleep_until(due_at), if may_send_now => {
                // Stamped with the intended time: a late send shows up as latency.
                let at = next_due.unwrap_or_else(stamp::now_us);
                if send_one(&mut client, &topic, &tag, next_number, at, dm.body_len, &mut frame_text).await.is_err() {
                    return state.borrow_mut().lost("send failed".into());
                }
                pending.push_back((next_number, at));
                next_number += 1;
                state.borrow_mut().sent += 1;
            }
            () = tokio::time::sleep_until(stop_at), if sending => sending = false,
            () = tokio::time::sleep_until(drain_until), if !sending => break,
        }
    }
    {
        let mut state = state.borrow_mut();
        state.outstanding_at_end += pending.len() as u64;
        state.senders_done += 1;
    }
    // Keep reading (answering pings) until the coordinator quits, so the server does not
    // see a disconnect storm in the middle of the other generators' measurement.
    let _ = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(_)) = client.next().await {}
    })
    .await;
}

async fn send_one(
    client: &mut Client,
    topic: &str,
    tag: &str,
    number: u64,
    at_us: u64,
    body_len: usize,
    text: &mut String,
) -> Result<()> {
    use std::fmt::Write;
    text.clear();
    let _ = write!(
        text,
        r#"{{"type":"send","topic":"{topic}","client_msg_id":"{tag}-{number}","body":"t={at_us} i={number} "#
    );
    let body_start = text.len() - format!("t={at_us} i={number} ").len();
    while text.len() - body_start < body_len {
        text.push('x');
    }
    text.push_str("\"}");
    client.send_text(text.as_bytes()).await
}

fn hash(text: &str) -> u64 {
    // FNV-1a: a stable spread of phases, nothing more.
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_fandesk_frames() {
        let ack = br#"{"type":"ack","client_msg_id":"g0f1-7","message_id":"m","seq":3}"#;
        assert!(matches!(classify(ack), ServerFrame::Ack(Some(b"g0f1-7"))));
        let error = br#"{"type":"error","code":"x","message":"y","ref":"g0a1-2"}"#;
        assert!(matches!(
            classify(error),
            ServerFrame::Error(Some(b"g0a1-2"))
        ));
        assert!(matches!(
            classify(br#"{"type":"event","topic":"t"}"#),
            ServerFrame::Event
        ));
        assert!(matches!(
            classify(br#"{"type":"pong"}"#),
            ServerFrame::Other
        ));
    }
}
