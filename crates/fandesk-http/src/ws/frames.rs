//! WebSocket frame shapes (docs/api.md › WebSocket). Client frames are decoded strictly;
//! server control frames are built here. Event frames come pre-encoded from the service.

use crate::error::ApiError;
use crate::extract::{decode_json, decode_value};
use axum::body::Bytes;
use fandesk_service::ServiceError;
use serde::{Deserialize, Serialize};

/// A decoded client frame. Decoding reads `type` first and then decodes the rest into
/// that frame's own struct, so an error can name the field at fault (serde cannot track
/// field paths inside an internally tagged enum).
#[derive(Debug)]
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
    Ping {},
    /// The sender is typing in a conversation (collision view; team-only event).
    Typing {
        topic: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TypingFrame {
    topic: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HelloFrame {
    token: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubscribeFrame {
    topic: String,
    after_seq: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnsubscribeFrame {
    topic: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendFrame {
    topic: String,
    client_msg_id: String,
    body: String,
    visibility: Option<String>,
    template_id: Option<String>,
    to: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PingFrame {}

impl ClientFrame {
    pub fn decode(text: &[u8]) -> Result<ClientFrame, ErrorFrame> {
        Self::decode_api(text).map_err(|error: ApiError| {
            ErrorFrame::from_api(&error, send_reference(text).as_deref())
        })
    }

    fn decode_api(text: &[u8]) -> Result<ClientFrame, ApiError> {
        let mut object: serde_json::Map<String, serde_json::Value> = decode_json(text)?;
        let kind = match object.remove("type") {
            Some(serde_json::Value::String(kind)) => kind,
            _ => return Err(invalid_type("type: must be a string naming the frame")),
        };
        let rest = serde_json::Value::Object(object);
        Ok(match kind.as_str() {
            "hello" => {
                let frame: HelloFrame = decode_value(rest)?;
                ClientFrame::Hello { token: frame.token }
            }
            "subscribe" => {
                let frame: SubscribeFrame = decode_value(rest)?;
                ClientFrame::Subscribe {
                    topic: frame.topic,
                    after_seq: frame.after_seq,
                }
            }
            "unsubscribe" => {
                let frame: UnsubscribeFrame = decode_value(rest)?;
                ClientFrame::Unsubscribe { topic: frame.topic }
            }
            "send" => {
                let frame: SendFrame = decode_value(rest)?;
                ClientFrame::Send {
                    topic: frame.topic,
                    client_msg_id: frame.client_msg_id,
                    body: frame.body,
                    visibility: frame.visibility,
                    template_id: frame.template_id,
                    to: frame.to,
                }
            }
            "ping" => {
                let _: PingFrame = decode_value(rest)?;
                ClientFrame::Ping {}
            }
            "typing" => {
                let frame: TypingFrame = decode_value(rest)?;
                ClientFrame::Typing { topic: frame.topic }
            }
            other => {
                return Err(invalid_type(&format!(
                    "type: unknown frame type {other:?} (hello, subscribe, unsubscribe, send, ping, typing)"
                )));
            }
        })
    }
}

/// A refused `send` frame's `client_msg_id`, so its error carries `ref` like a refused
/// send does (docs/api.md › WebSocket), when it is a usable key.
fn send_reference(text: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(text).ok()?;
    if value.get("type")?.as_str()? != "send" {
        return None;
    }
    let id = value.get("client_msg_id")?.as_str()?;
    fandesk_domain::validate_client_msg_id(id)
        .is_ok()
        .then(|| id.to_owned())
}

fn invalid_type(message: &str) -> ApiError {
    ApiError::invalid(
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        Some("type"),
        message,
    )
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame<'a> {
    Welcome {
        session_id: &'a str,
    },
    Subscribed {
        topic: &'a str,
    },
    Unsubscribed {
        topic: &'a str,
    },
    Ack {
        client_msg_id: &'a str,
        message_id: &'a str,
        seq: u64,
    },
    Pong,
    Resync {
        topic: &'a str,
    },
}

impl ServerFrame<'_> {
    pub fn encode(&self) -> Bytes {
        Bytes::from(serde_json::to_vec(self).unwrap_or_default())
    }
}

/// `{"type":"error","code","message","ref"?,"details"?}`: `details` as in an HTTP
/// error body (e.g. the offending `field`), present when not empty.
#[derive(Debug, Serialize)]
pub struct ErrorFrame {
    r#type: &'static str,
    pub code: String,
    pub message: String,
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

impl ErrorFrame {
    pub fn new(code: &str, message: impl Into<String>, reference: Option<&str>) -> Self {
        ErrorFrame {
            r#type: "error",
            code: code.to_owned(),
            message: message.into(),
            reference: reference.map(str::to_owned),
            details: None,
        }
    }

    pub fn from_service(error: &ServiceError, reference: Option<&str>) -> Self {
        if error.status() >= 500 {
            tracing::error!(%error, "websocket request failed");
        }
        let mut frame = ErrorFrame::new(error.code(), error.public_message(), reference);
        frame.details = error
            .field()
            .map(|field| serde_json::json!({ "field": field }));
        frame
    }

    pub fn from_api(error: &ApiError, reference: Option<&str>) -> Self {
        let (code, message) = error.code_and_message();
        let mut frame = ErrorFrame::new(code, message, reference);
        frame.details = Some(error.details().clone())
            .filter(|details| details.as_object().is_some_and(|fields| !fields.is_empty()));
        frame
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
        assert!(matches!(
            ClientFrame::decode(br#"{"type":"ping"}"#),
            Ok(ClientFrame::Ping {})
        ));
        assert!(matches!(
            ClientFrame::decode(br#"{"type":"subscribe","topic":"inbox","after_seq":3}"#),
            Ok(ClientFrame::Subscribe {
                after_seq: Some(3),
                ..
            })
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
