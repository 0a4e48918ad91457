//! WebSocket frame shapes (PROTOCOL.md › WebSocket). Client frames are decoded strictly;
//! server control frames are built here. Event frames come pre-encoded from the service.

use crate::error::ApiError;
use crate::extract::decode_json;
use axum::body::Bytes;
use fandesk_service::ServiceError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    Hello {
        token: String,
    },
    Subscribe {
        topic: String,
        after_seq: Option<u64>,
    },
    Unsubscribe {
        topic: String,
    },
    Send {
        topic: String,
        client_msg_id: String,
        body: String,
        visibility: Option<String>,
        template_id: Option<String>,
        to: Option<String>,
    },
    // A struct variant, not a unit one: serde ignores unknown fields beside the tag of a
    // unit variant even with `deny_unknown_fields`.
    Ping {},
}

impl ClientFrame {
    pub fn decode(text: &[u8]) -> Result<ClientFrame, ErrorFrame> {
        decode_json(text).map_err(|error: ApiError| ErrorFrame::from_api(&error, None))
    }
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame<'a> {
    Welcome { session_id: &'a str },
    Subscribed { topic: &'a str },
    Unsubscribed { topic: &'a str },
    Ack { client_msg_id: &'a str, message_id: &'a str, seq: u64 },
    Pong,
    Resync { topic: &'a str },
}

impl ServerFrame<'_> {
    pub fn encode(&self) -> Bytes {
        Bytes::from(serde_json::to_vec(self).unwrap_or_default())
    }
}

/// `{"type":"error","code","message","ref"?}`.
#[derive(Debug, Serialize)]
pub struct ErrorFrame {
    r#type: &'static str,
    pub code: String,
    pub message: String,
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

impl ErrorFrame {
    pub fn new(code: &str, message: impl Into<String>, reference: Option<&str>) -> Self {
        ErrorFrame {
            r#type: "error",
            code: code.to_owned(),
            message: message.into(),
            reference: reference.map(str::to_owned),
        }
    }

    pub fn from_service(error: &ServiceError, reference: Option<&str>) -> Self {
        if error.status() >= 500 {
            tracing::error!(%error, "websocket request failed");
        }
        ErrorFrame::new(error.code(), error.public_message(), reference)
    }

    pub fn from_api(error: &ApiError, reference: Option<&str>) -> Self {
        let (code, message) = error.code_and_message();
        ErrorFrame::new(code, message, reference)
    }

    pub fn encode(&self) -> Bytes {
        Bytes::from(serde_json::to_vec(self).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_frames_decode_strictly() {
        assert!(matches!(ClientFrame::decode(br#"{"type":"ping"}"#), Ok(ClientFrame::Ping {})));
        assert!(matches!(
            ClientFrame::decode(br#"{"type":"subscribe","topic":"inbox","after_seq":3}"#),
            Ok(ClientFrame::Subscribe { after_seq: Some(3), .. })
        ));
        for bad in [
            r#"{"type":"ping","x":1}"#,
            r#"{"type":"dance"}"#,
            r#"{"type":"send","topic":"t","client_msg_id":"a","body":5}"#,
            r#"not json"#,
        ] {
            let error = ClientFrame::decode(bad.as_bytes()).expect_err(bad);
            assert_eq!(error.code, "invalid_request", "{bad}");
        }
    }

    #[test]
    fn error_frames_echo_the_reference() {
        let frame = ErrorFrame::new("conflict", "no", Some("c1")).encode();
        let value: serde_json::Value = serde_json::from_slice(&frame).unwrap();
        assert_eq!(value["type"], "error");
        assert_eq!(value["ref"], "c1");
    }
}
