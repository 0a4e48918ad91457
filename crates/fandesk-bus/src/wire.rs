//! How an [`Event`] travels between nodes: one NATS message on the topic's subject
//! (`fandesk.` + the topic, with `.`, `*`, `>`, `%` and whitespace percent-encoded), the
//! numbering and the publishing node in headers, and the payload the team frame followed by
//! the fan frame (absent when fans must never see the event).

use crate::Event;
use async_nats::HeaderMap;
use bytes::{Bytes, BytesMut};

const NODE: &str = "Fandesk-Node";
const TOPIC: &str = "Fandesk-Topic";
const SEQ: &str = "Fandesk-Seq";
const PUBLIC_SEQ: &str = "Fandesk-Public-Seq";
const TEAM_LEN: &str = "Fandesk-Team-Len";

/// The prefix of every subject the bus uses; nodes subscribe to `fandesk.>`.
pub(crate) const PREFIX: &str = "fandesk";

/// The subject of `topic`.
pub(crate) fn subject(topic: &str) -> String {
    let mut subject = String::with_capacity(PREFIX.len() + 1 + topic.len());
    subject.push_str(PREFIX);
    subject.push('.');
    for c in topic.chars() {
        match c {
            '.' | '*' | '>' | '%' => subject.push_str(&format!("%{:02X}", c as u32)),
            c if c.is_whitespace() || c.is_control() => {
                for byte in c.to_string().bytes() {
                    subject.push_str(&format!("%{byte:02X}"));
                }
            }
            c => subject.push(c),
        }
    }
    subject
}

/// Headers and payload for `event` published by `node`.
pub(crate) fn encode(node: &str, event: &Event) -> (HeaderMap, Bytes) {
    let mut headers = HeaderMap::new();
    headers.insert(NODE, node);
    headers.insert(TOPIC, event.topic.as_str());
    if let Some(seq) = event.seq {
        headers.insert(SEQ, seq.to_string().as_str());
    }
    if let Some(public_seq) = event.public_seq {
        headers.insert(PUBLIC_SEQ, public_seq.to_string().as_str());
    }
    let payload = match &event.fan {
        None => event.team.clone(),
        Some(fan) => {
            headers.insert(TEAM_LEN, event.team.len().to_string().as_str());
            let mut payload = BytesMut::with_capacity(event.team.len() + fan.len());
            payload.extend_from_slice(&event.team);
            payload.extend_from_slice(fan);
            payload.freeze()
        }
    };
    (headers, payload)
}

/// A received message: the publishing node and the event, or why it is malformed.
pub(crate) fn decode(
    headers: Option<&HeaderMap>,
    payload: Bytes,
) -> Result<(String, Event), String> {
    let headers = headers.ok_or("no headers")?;
    let text = |name: &str| headers.get(name).map(|value| value.as_str().to_owned());
    let number = |name: &str| -> Result<Option<u64>, String> {
        text(name)
            .map(|value| {
                value
                    .parse::<u64>()
                    .map_err(|_| format!("{name} is not a number"))
            })
            .transpose()
    };
    let node = text(NODE).ok_or("no node")?;
    let topic = text(TOPIC).ok_or("no topic")?;
    let (team, fan) = match number(TEAM_LEN)? {
        None => (payload, None),
        Some(len) => {
            let len = usize::try_from(len).map_err(|_| "team length out of range")?;
            if len > payload.len() {
                return Err("team length past the payload".into());
            }
            (payload.slice(..len), Some(payload.slice(len..)))
        }
    };
    let event = Event {
        topic,
        seq: number(SEQ)?,
        public_seq: number(PUBLIC_SEQ)?,
        team,
        fan,
    };
    Ok((node, event))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_keep_topics_apart_and_escape_subject_syntax() {
        assert_eq!(subject("conversation:c_1"), "fandesk.conversation:c_1");
        assert_eq!(subject("inbox"), "fandesk.inbox");
        assert_eq!(subject("a.b*c>d%e f"), "fandesk.a%2Eb%2Ac%3Ed%25e%20f");
    }

    #[test]
    fn events_round_trip_with_and_without_a_fan_frame() {
        let events = [
            Event {
                topic: "conversation:c1".into(),
                seq: Some(7),
                public_seq: Some(3),
                team: Bytes::from_static(b"{\"team\":1}"),
                fan: Some(Bytes::from_static(b"{\"fan\":1}")),
            },
            Event {
                topic: "conversation:c1".into(),
                seq: Some(8),
                public_seq: None,
                team: Bytes::from_static(b"{\"internal\":true}"),
                fan: None,
            },
            Event {
                topic: "inbox".into(),
                seq: None,
                public_seq: None,
                team: Bytes::new(),
                fan: Some(Bytes::new()),
            },
        ];
        for event in events {
            let (headers, payload) = encode("node-a", &event);
            let (node, decoded) = decode(Some(&headers), payload).unwrap();
            assert_eq!(node, "node-a");
            assert_eq!(decoded.topic, event.topic);
            assert_eq!(decoded.seq, event.seq);
            assert_eq!(decoded.public_seq, event.public_seq);
            assert_eq!(decoded.team, event.team);
            assert_eq!(decoded.fan, event.fan);
        }
    }

    #[test]
    fn malformed_messages_are_refused() {
        assert!(decode(None, Bytes::new()).is_err());
        let mut headers = HeaderMap::new();
        headers.insert(NODE, "n");
        assert!(decode(Some(&headers), Bytes::new()).is_err(), "no topic");
        headers.insert(TOPIC, "inbox");
        headers.insert(TEAM_LEN, "9");
        assert!(decode(Some(&headers), Bytes::from_static(b"abc")).is_err());
        headers.insert(TEAM_LEN, "x");
        assert!(decode(Some(&headers), Bytes::from_static(b"abc")).is_err());
    }
}
