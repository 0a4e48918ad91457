//! Request limits: login attempts per client address, so a password cannot be guessed at
//! network speed (answered with docs/api.md's `rate_limited`, 429), and the time a request
//! may take (503 `timeout`).

use crate::error::ApiError;
use fandesk_service::ServiceError;
use governor::{DefaultKeyedRateLimiter, Quota};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

pub struct LoginLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
}

impl LoginLimiter {
    pub fn new(per_minute: u32) -> LoginLimiter {
        let per_minute = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        LoginLimiter {
            limiter: DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_minute)),
        }
    }

    /// Counts one attempt from `address`; refuses it past the quota.
    pub fn check(&self, address: IpAddr) -> Result<(), ApiError> {
        self.limiter.check_key(&address).map_err(|_| {
            ApiError::from(ServiceError::RateLimited(
                "too many login attempts; wait a minute".into(),
            ))
        })?;
        if self.limiter.len() > 100_000 {
            // Forget addresses whose quota has refilled, so the table cannot grow without
            // bound under a spray of source addresses.
            self.limiter.retain_recent();
        }
        Ok(())
    }
}

/// Answers 503 `timeout` when the handler has not produced a response within `limit`
/// (reading a slow body counts). Only the time to the response's head is limited: a
/// WebSocket's life after its upgrade answer is not a request's.
pub async fn time_limit(
    limit: Duration,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::timeout(limit).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::net::SocketAddr;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn get(address: SocketAddr, path: &str) -> String {
        let mut stream = tokio::net::TcpStream::connect(address)
            .await
            .expect("connect");
        let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.expect("read");
        answer
    }

    #[tokio::test]
    async fn a_request_past_the_time_limit_is_answered_503_timeout() {
        let limit = Duration::from_millis(50);
        let app = axum::Router::new()
            .route(
                "/slow",
                axum::routing::get(|| async {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    "late"
                }),
            )
            .route("/fast", axum::routing::get(|| async { "fast" }))
            .layer(axum::middleware::from_fn(move |request, next| {
                time_limit(limit, request, next)
            }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        let slow = get(address, "/slow").await;
        assert!(slow.starts_with("HTTP/1.1 503"), "{slow}");
        assert!(slow.contains(r#"{"error":{"code":"timeout""#), "{slow}");
        let fast = get(address, "/fast").await;
        assert!(
            fast.starts_with("HTTP/1.1 200") && fast.ends_with("fast"),
            "{fast}"
        );
    }

    #[test]
    fn the_quota_is_per_address() {
        let limiter = LoginLimiter::new(2);
        let (a, b): (IpAddr, IpAddr) = ("127.0.0.1".parse().unwrap(), "127.0.0.2".parse().unwrap());
        assert!(limiter.check(a).is_ok());
        assert!(limiter.check(a).is_ok());
        assert!(limiter.check(a).is_err());
        assert!(limiter.check(b).is_ok());
    }
}
