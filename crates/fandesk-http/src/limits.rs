//! The time a request may take (503 `timeout`). Limits per client are in `client.rs`.

use crate::error::ApiError;
use std::time::Duration;

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
}
