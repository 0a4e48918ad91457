//! Test support for fandesk's end-to-end tests: a real server on port 0 with a database
//! of its own ([`TestServer`]), the `fandesk serve` binary as a child process
//! ([`ServerProcess`]), more nodes on one database over NATS ([`ClusterNode`],
//! [`NatsServer`]), a JSON HTTP client and a WebSocket client ([`WsClient`]).

pub mod cluster;
pub mod database;
mod fault;
pub mod http;
pub mod process;
pub mod server;
pub mod ws;

pub use cluster::{ClusterNode, NATS_URL_VAR, NatsServer};
pub use database::{POSTGRES_URL_VAR, PostgresDatabase, TestDatabase, postgres_url, random_hex};
pub use http::{Body, HttpClient, Reply};
pub use process::ServerProcess;
pub use server::{MEMBER_PASSWORD, METRICS_TOKEN, OWNER_EMAIL, OWNER_PASSWORD, TestServer};
pub use ws::{Closed, ConnectError, DEFAULT_TIMEOUT, Incoming, WsClient};

/// Re-exported so tests can configure servers without depending on the crate directly.
pub use fandesk_http::{HttpConfig, WsConfig};
