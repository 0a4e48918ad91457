//! Posting to a receiver, signed: the one HTTP path of event webhooks and the weekly
//! report webhook. Two clients: the guarded one of event webhooks (URLs an owner typed:
//! every connection goes through the SSRF guard's resolver) and the trusted one of the
//! report webhook (a URL from the operator's command line). Neither follows redirects
//! nor uses proxies from the environment. The client is built without TLS, so receivers
//! are `http://` (docs/api.md › Webhooks).

use crate::integration::guard::{Guard, GuardedResolver};
use crate::integration::signature::webhook_signature;
use std::sync::Arc;
use std::time::Duration;

/// One signed POST.
pub(crate) struct SignedPost<'a> {
    pub url: &'a str,
    pub secret: &'a [u8],
    /// `X-Fandesk-Event`.
    pub event: &'a str,
    /// `X-Fandesk-Delivery`: the same on every attempt of one delivery.
    pub delivery_id: &'a str,
    /// `X-Fandesk-Timestamp`, Unix seconds (the service's clock).
    pub timestamp: i64,
    pub content_type: &'a str,
    pub body: Vec<u8>,
    /// Further headers (the report's `X-Fandesk-Week`).
    pub headers: Vec<(&'static str, String)>,
    pub timeout: Duration,
}

/// What a receiver answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    /// An HTTP status.
    Status(u16),
    /// No answer: refused address, connection failure, timeout.
    Failed(String),
}

impl Answer {
    pub(crate) fn is_success(&self) -> bool {
        matches!(self, Answer::Status(code) if (200..300).contains(code))
    }
}

/// The two clients.
pub(crate) struct Outbound {
    guarded: Option<reqwest::Client>,
    trusted: Option<reqwest::Client>,
}

fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("fandesk/", env!("CARGO_PKG_VERSION")))
}

impl Outbound {
    pub(crate) fn new(guard: Arc<Guard>) -> Outbound {
        let build = |builder: reqwest::ClientBuilder| match builder.build() {
            Ok(client) => Some(client),
            Err(error) => {
                tracing::error!(%error, "cannot build the webhook HTTP client; deliveries will fail");
                None
            }
        };
        Outbound {
            guarded: build(builder().dns_resolver(Arc::new(GuardedResolver(guard)))),
            trusted: build(builder()),
        }
    }

    /// Posts to a URL an owner typed, through the guard's resolver.
    pub(crate) async fn post_guarded(&self, post: SignedPost<'_>) -> Answer {
        send(self.guarded.as_ref(), post).await
    }

    /// Posts to a URL the operator configured.
    pub(crate) async fn post_trusted(&self, post: SignedPost<'_>) -> Answer {
        send(self.trusted.as_ref(), post).await
    }
}

async fn send(client: Option<&reqwest::Client>, post: SignedPost<'_>) -> Answer {
    let Some(client) = client else {
        return Answer::Failed("no HTTP client".into());
    };
    let signature = webhook_signature(post.secret, post.timestamp, &post.body);
    let mut request = client
        .post(post.url)
        .timeout(post.timeout)
        .header("content-type", post.content_type)
        .header("x-fandesk-event", post.event)
        .header("x-fandesk-delivery", post.delivery_id)
        .header("x-fandesk-timestamp", post.timestamp.to_string())
        .header("x-fandesk-signature", signature);
    for (name, value) in post.headers {
        request = request.header(name, value);
    }
    match request.body(post.body).send().await {
        Ok(response) => Answer::Status(response.status().as_u16()),
        Err(error) => Answer::Failed(describe(&error)),
    }
}

/// The error and its causes in one line (reqwest's own text stops at "error sending
/// request"; the refusal is in a cause).
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_owned()
    } else {
        error.to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
