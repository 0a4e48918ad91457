//! The crash soak's history: every send, acknowledgement, error and timeout a client saw,
//! and every kill and restart of the server, with times since the start of the run.

use serde::Serialize;

/// What happened to one attempt of one client message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// The request was sent (a first send or a retry with the same `client_msg_id`).
    Send,
    /// A 2xx answer with the message's number: `seq`, or `public_seq` for a fan
    /// (`public`), as the API acks each.
    Ack { seq: u64, public: bool },
    /// A connection error or a 5xx answer; the send is retried.
    Error { detail: String },
    /// No answer within the client's time limit; the send is retried.
    Timeout,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub at_ms: u64,
    pub sender: String,
    pub conversation: String,
    pub client_msg_id: String,
    #[serde(flatten)]
    pub op: Op,
}

/// A change of the server process.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ServerEvent {
    /// SIGKILL sent.
    Kill { at_ms: u64 },
    /// The restarted process answers `/healthz`.
    Ready { at_ms: u64, addr: String },
}
