//! The accept loop: hyper's HTTP/1 connections with a header-read timeout, a cap on
//! connections per client address and in all, and a reserve of file descriptors, so that
//! under a flood of connections the server refuses new ones with an answer (and keeps
//! answering `/healthz`) instead of stalling the connections it already serves.

use crate::error::ApiError;
use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// Longest request target (path and query) answered normally; longer: 414. hyper itself
/// answers 414 without a body past 65,534 bytes.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Most request header fields answered normally; more: 431. hyper itself answers 431
/// without a body past [`PARSED_HEADERS`] fields or about 400 KB of head.
pub const MAX_HEADERS: usize = 100;
/// Largest total size of the header fields (names and values) answered normally.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// Header fields hyper parses, so that up to this many get the error body.
const PARSED_HEADERS: usize = 256;
/// How long to wait after `accept` failed (out of descriptors) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Connection limits (README › Configuration).
#[derive(Clone, Debug)]
pub struct ConnectionLimits {
    /// How long a connection may take to send a request's headers. hyper starts this
    /// timer whenever the connection waits for a request head, so it is also the idle
    /// time allowed between two requests on a kept-alive connection.
    pub header_read_timeout: Duration,
    /// Open connections (WebSockets included) allowed from one client address; more are
    /// answered 429 `rate_limited` and closed.
    pub max_per_ip: usize,
    /// Open connections in all; `None`: the process's open-file limit less `fd_reserve`.
    /// Past it new connections are answered 503 `unavailable` (but `/healthz`) and closed.
    pub max_connections: Option<usize>,
    /// Descriptors kept free for the database, logs, outgoing webhooks and the refusals
    /// themselves, so that `accept` keeps working at the limit.
    pub fd_reserve: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(10),
            max_per_ip: 256,
            max_connections: None,
            fd_reserve: 128,
        }
    }
}

impl ConnectionLimits {
    /// The cap on open connections: the configured one, or what the open-file limit
    /// leaves after the reserve.
    pub fn connection_cap(&self) -> usize {
        self.max_connections.unwrap_or_else(|| {
            let files = open_files_limit().unwrap_or(1024);
            usize::try_from(files)
                .unwrap_or(usize::MAX)
                .saturating_sub(self.fd_reserve)
                .max(16)
        })
    }

    /// Refused connections served at once (each holds a descriptor until it is answered):
    /// half the reserve, so refusing never eats the rest of it.
    fn refusal_cap(&self) -> usize {
        (self.fd_reserve / 2).max(1)
    }
}

/// The soft open-file limit of this process, from `/proc/self/limits` (Linux); `None`
/// elsewhere or when unlimited.
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_open_files(&limits)
}

fn parse_open_files(limits: &str) -> Option<u64> {
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// What a new connection may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Admission {
    Serve,
    /// Its address holds `max_per_ip` connections already: every request gets 429.
    TooManyFromAddress,
    /// The server holds its cap: every request but `/healthz` gets 503.
    AtCapacity,
}

/// Open connections per address and in all. A [`Slot`] holds one place and gives it back
/// when the socket is dropped, after a WebSocket's end as well.
#[derive(Default)]
struct Counts {
    by_address: HashMap<IpAddr, usize>,
    total: usize,
    refusing: usize,
}

struct Tracker {
    counts: Mutex<Counts>,
    limits: ConnectionLimits,
    cap: usize,
    /// Proxies carry many clients' connections: the per-address cap does not apply to
    /// them (the total cap does).
    trusted_proxies: Vec<crate::client::ProxyRange>,
}

struct Slot {
    tracker: Arc<Tracker>,
    address: IpAddr,
    refusal: bool,
}

impl Tracker {
    /// Admits a connection from `address`, or `None` when even a refusal would exceed the
    /// reserve (the connection is then dropped at once).
    fn admit(self: &Arc<Self>, address: IpAddr) -> Option<(Admission, Slot)> {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let from_address = counts.by_address.get(&address).copied().unwrap_or(0);
        let proxy = self
            .trusted_proxies
            .iter()
            .any(|range| range.contains(address));
        let admission = if from_address >= self.limits.max_per_ip && !proxy {
            Admission::TooManyFromAddress
        } else if counts.total >= self.cap {
            Admission::AtCapacity
        } else {
            Admission::Serve
        };
        let refusal = admission != Admission::Serve;
        if refusal {
            if counts.refusing >= self.limits.refusal_cap() {
                return None;
            }
            counts.refusing += 1;
        } else {
            counts.total += 1;
            *counts.by_address.entry(address).or_insert(0) += 1;
        }
        let slot = Slot {
            tracker: Arc::clone(self),
            address,
            refusal,
        };
        Some((admission, slot))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self
            .tracker
            .counts
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if self.refusal {
            counts.refusing = counts.refusing.saturating_sub(1);
            return;
        }
        counts.total = counts.total.saturating_sub(1);
        if let Some(count) = counts.by_address.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                counts.by_address.remove(&self.address);
            }
        }
    }
}

/// A socket that holds its [`Slot`]: the place is freed when the socket is, which for an
/// upgraded connection is when the WebSocket ends.
struct Counted {
    stream: TcpStream,
    _slot: Slot,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Accepts connections until `shutdown` is cancelled, then lets every connection finish
/// its requests (WebSockets are closed by their own tasks, which watch the same token).
pub async fn accept_loop(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    trusted_proxies: Vec<crate::client::ProxyRange>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let cap = limits.connection_cap();
    tracing::info!(
        connections = cap,
        per_address = limits.max_per_ip,
        "connection limits"
    );
    let tracker = Arc::new(Tracker {
        counts: Mutex::default(),
        limits: limits.clone(),
        cap,
        trusted_proxies,
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_headers(PARSED_HEADERS);
    let builder = Arc::new(builder);
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of descriptors, or a connection reset before it was accepted:
                // existing connections go on; try again shortly.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let Some((admission, slot)) = tracker.admit(peer.ip()) else {
            continue;
        };
        // Acks and events are small writes: without TCP_NODELAY, Nagle's algorithm and
        // the peer's delayed ACK hold an ack back ~40 ms (measured, BENCHMARKS.md).
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
        let io = TokioIo::new(Counted {
            stream,
            _slot: slot,
        });
        let router = router.clone();
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            answer(router.clone(), admission, peer, request)
        });
        let builder = Arc::clone(&builder);
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            let mut builder = (*builder).clone();
            if admission != Admission::Serve {
                builder.keep_alive(false);
            }
            let connection = builder.serve_connection(io, service).with_upgrades();
            tokio::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                () = shutdown.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = result {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// One request on a connection: refused by the admission or the size limits, or routed.
async fn answer(
    router: Router,
    admission: Admission,
    peer: SocketAddr,
    mut request: Request<Incoming>,
) -> Result<Response, Infallible> {
    let refusal = match admission {
        Admission::TooManyFromAddress => Some(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many open connections from this address",
        )),
        Admission::AtCapacity if request.uri().path() != "/healthz" => Some(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the server is at its connection limit; try again shortly",
        )),
        _ => oversize(&request),
    };
    if let Some(refusal) = refusal {
        return Ok(refusal.into_response());
    }
    request.extensions_mut().insert(ConnectInfo(peer));
    router.oneshot(request).await
}

/// The 414 or 431 answer for a request past the size limits, if it is.
fn oversize(request: &Request<Incoming>) -> Option<ApiError> {
    let uri = request
        .uri()
        .path_and_query()
        .map_or(0, |target| target.as_str().len());
    if uri > MAX_URI_BYTES {
        return Some(ApiError::new(
            StatusCode::URI_TOO_LONG,
            "invalid_request",
            format!("the request target is longer than {MAX_URI_BYTES} bytes"),
        ));
    }
    let headers = request.headers();
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if headers.len() > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        return Some(ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "invalid_request",
            format!("at most {MAX_HEADERS} header fields and {MAX_HEADER_BYTES} bytes of them"),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_file_limit_is_read_from_proc() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max cpu time              unlimited            unlimited            seconds   \n\
                      Max open files            1024                 524288               files     \n";
        assert_eq!(parse_open_files(limits), Some(1024));
        assert_eq!(
            parse_open_files("Max open files  unlimited unlimited files"),
            None
        );
        assert_eq!(parse_open_files(""), None);
    }

    fn tracker(max_per_ip: usize, cap: usize, fd_reserve: usize) -> Arc<Tracker> {
        let limits = ConnectionLimits {
            max_per_ip,
            max_connections: Some(cap),
            fd_reserve,
            ..ConnectionLimits::default()
        };
        Arc::new(Tracker {
            counts: Mutex::default(),
            cap: limits.connection_cap(),
            limits,
            trusted_proxies: Vec::new(),
        })
    }

    #[test]
    fn connections_are_admitted_per_address_then_in_all() {
        let tracker = tracker(2, 3, 4);
        let one: IpAddr = "10.0.0.1".parse().unwrap();
        let two: IpAddr = "10.0.0.2".parse().unwrap();
        let admit = |address| tracker.admit(address);
        let first = admit(one).unwrap();
        let second = admit(one).unwrap();
        let third = admit(one).unwrap();
        assert_eq!(
            [first.0, second.0, third.0],
            [
                Admission::Serve,
                Admission::Serve,
                Admission::TooManyFromAddress
            ]
        );
        let other = admit(two).unwrap();
        assert_eq!(other.0, Admission::Serve);
        // Three served: the cap. A fourth address is refused, and refusals themselves are
        // bounded by half the reserve (2), the third refusal being dropped outright.
        let at_cap = admit("10.0.0.3".parse().unwrap()).unwrap();
        assert_eq!(at_cap.0, Admission::AtCapacity);
        assert!(admit("10.0.0.4".parse().unwrap()).is_none());
        drop(third);
        drop(at_cap);
        drop(other);
        // Places come back when connections end.
        assert_eq!(admit(two).unwrap().0, Admission::Serve);
        drop(first);
        let counts = tracker.counts.lock().unwrap();
        assert_eq!((counts.total, counts.refusing), (1, 0));
        assert_eq!(counts.by_address.get(&one), Some(&1));
    }
}
