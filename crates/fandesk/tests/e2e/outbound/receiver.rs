//! A webhook receiver on `127.0.0.1:0` for the outbound tests: it records every request
//! (headers and raw body) and can be told to fail the next ones with a 500.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use fandesk_testkit::DEFAULT_TIMEOUT;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as received.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("header {name}"))
            .to_str()
            .expect("ASCII header")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }

    /// Checks `X-Fandesk-Signature` independently of the server's code.
    #[track_caller]
    pub fn assert_signed(&self, secret: &str) {
        let timestamp = self.header("x-fandesk-timestamp");
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(&self.body);
        let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert_eq!(self.header("x-fandesk-signature"), expected, "signature");
    }
}

#[derive(Default)]
struct Inbox {
    received: Mutex<Vec<Received>>,
    fail_next: Mutex<usize>,
}

/// A running receiver.
#[derive(Clone)]
pub struct Receiver {
    inbox: Arc<Inbox>,
    pub addr: SocketAddr,
}

async fn receive(State(inbox): State<Arc<Inbox>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    inbox.received.lock().unwrap().push(Received {
        headers,
        body: body.to_vec(),
    });
    let mut fail = inbox.fail_next.lock().unwrap();
    if *fail > 0 {
        *fail -= 1;
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    }
}

impl Receiver {
    pub async fn start() -> Receiver {
        let inbox = Arc::new(Inbox::default());
        let router = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(inbox.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        Receiver { inbox, addr }
    }

    /// `http://127.0.0.1:PORT/hook`.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub fn fail_next(&self, count: usize) {
        *self.inbox.fail_next.lock().unwrap() = count;
    }

    pub fn received(&self) -> Vec<Received> {
        self.inbox.received.lock().unwrap().clone()
    }

    /// Waits (bounded) until `count` requests arrived; returns them.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        self.wait_for_within(count, DEFAULT_TIMEOUT).await
    }

    /// [`Self::wait_for`] with a deadline of its own (a delivery that failed under load is
    /// retried after the scheduler's backoff).
    pub async fn wait_for_within(&self, count: usize, timeout: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "received {} requests, expected {count}",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
