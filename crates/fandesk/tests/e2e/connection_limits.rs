//! Connection limits through a real server with small limits (README › Configuration): a
//! client that sends its headers too slowly, or idles on a kept-alive connection, is cut
//! off; one address cannot hold more than its share of connections; and at the limit new
//! connections are refused with an answer while `/healthz` and the connections already
//! open keep working.

use fandesk_http::ConnectionLimits;
use fandesk_testkit::{HttpConfig, TestServer};
use serde_json::Value;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const PATIENCE: Duration = Duration::from_secs(5);

async fn server_with(limits: ConnectionLimits) -> TestServer {
    TestServer::spawn_with(HttpConfig {
        connections: limits,
        ..HttpConfig::default()
    })
    .await
}

/// A TCP connection to `server` from `source` (any 127.0.0.0/8 address is this machine).
async fn connect_from(server: SocketAddr, source: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    let source: IpAddr = source.parse().expect("source address");
    socket.bind(SocketAddr::new(source, 0)).expect("bind");
    socket.connect(server).await.expect("connect")
}

/// Reads until the server closes the connection (or `PATIENCE` passes): the bytes.
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(read)) => received.extend_from_slice(&buffer[..read]),
            Err(_) => panic!(
                "the server kept the connection open past {PATIENCE:?}; got {:?}",
                String::from_utf8_lossy(&received)
            ),
        }
    }
    String::from_utf8_lossy(&received).into_owned()
}

/// One `GET path` with `Connection: close` on a fresh connection from `source`: the status
/// and the JSON body.
async fn get_from(server: SocketAddr, source: &str, path: &str) -> (u16, Value) {
    let mut stream = connect_from(server, source).await;
    let request = format!("GET {path} HTTP/1.1\r\nHost: fandesk\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    parse(&read_to_close(&mut stream).await)
}

fn parse(response: &str) -> (u16, Value) {
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {response:?}"));
    let body = response.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// Opens `count` connections from `source` that send nothing, and waits until the server
/// has accepted them (a later connection from the same source is accepted after them).
async fn idle_connections(server: SocketAddr, source: &str, count: usize) -> Vec<TcpStream> {
    let mut idle = Vec::new();
    for _ in 0..count {
        idle.push(connect_from(server, source).await);
    }
    idle
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_and_idle_keep_alive_are_cut_off() {
    let timeout = Duration::from_millis(400);
    let server = server_with(ConnectionLimits {
        header_read_timeout: timeout,
        ..ConnectionLimits::default()
    })
    .await;
    // Slowloris: half a request head, then nothing. The clock starts before the connect:
    // the server's timer cannot start earlier than that.
    let started = Instant::now();
    let mut slow = connect_from(server.addr(), "127.0.0.1").await;
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: fandesk\r\nX-Slow: ")
        .await
        .unwrap();
    read_to_close(&mut slow).await;
    assert!(
        started.elapsed() >= timeout,
        "closed early: {:?}",
        started.elapsed()
    );
    // A kept-alive connection is served, then closed once it idles past the timeout.
    let mut idle = connect_from(server.addr(), "127.0.0.1").await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: fandesk\r\n\r\n")
        .await
        .unwrap();
    let answered = read_to_close(&mut idle).await;
    assert_eq!(parse(&answered).0, 200, "{answered}");
    // And nothing of this touched the server's readiness.
    assert_eq!(
        get_from(server.addr(), "127.0.0.1", "/healthz").await.0,
        200
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_holds_at_most_its_share_of_connections() {
    let server = server_with(ConnectionLimits {
        max_per_ip: 4,
        ..ConnectionLimits::default()
    })
    .await;
    let held = idle_connections(server.addr(), "127.0.0.3", 4).await;
    let (status, body) = get_from(server.addr(), "127.0.0.3", "/healthz").await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    // Another address is not affected.
    assert_eq!(
        get_from(server.addr(), "127.0.0.4", "/healthz").await.0,
        200
    );
    // Places come back when connections close.
    drop(held);
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (status, _) = get_from(server.addr(), "127.0.0.3", "/healthz").await;
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "the address stayed refused");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_limit_new_connections_are_refused_and_the_rest_keep_working() {
    let server = server_with(ConnectionLimits {
        max_connections: Some(8),
        fd_reserve: 8,
        ..ConnectionLimits::default()
    })
    .await;
    // The test server's own HTTP client may hold kept-alive connections: drop them first
    // by using raw sockets only from here on; one kept-alive connection of our own.
    let mut kept = connect_from(server.addr(), "127.0.0.5").await;
    let ask = b"GET /api/v1/openapi.json HTTP/1.1\r\nHost: fandesk\r\n\r\n";
    kept.write_all(ask).await.unwrap();
    let first = read_response(&mut kept).await;
    assert!(first.starts_with("HTTP/1.1 200"), "{first:.200}");
    // Fill every other place with connections that send nothing.
    let mut held = Vec::new();
    let mut refused = None;
    for _ in 0..16 {
        let (status, body) = get_from(server.addr(), "127.0.0.6", "/api/v1/openapi.json").await;
        if status == 503 {
            refused = Some(body);
            break;
        }
        held.push(connect_from(server.addr(), "127.0.0.7").await);
    }
    let refused = refused.expect("the server never reached its connection limit");
    assert_eq!(refused["error"]["code"], "unavailable", "{refused}");
    // At the limit: /healthz still answers on a new connection, and the kept-alive
    // connection is still served.
    assert_eq!(
        get_from(server.addr(), "127.0.0.6", "/healthz").await.0,
        200
    );
    kept.write_all(ask).await.unwrap();
    let again = read_response(&mut kept).await;
    assert!(again.starts_with("HTTP/1.1 200"), "{again:.200}");
    drop(held);
    server.shutdown().await;
}

/// Reads one response with a `content-length` body from a kept-alive connection.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buffer = [0u8; 8192];
    let deadline = Instant::now() + PATIENCE;
    loop {
        let text = String::from_utf8_lossy(&received).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if body.len() >= length {
                return text;
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return text,
            Ok(Ok(read)) => received.extend_from_slice(&buffer[..read]),
            Err(_) => panic!("no whole response within {PATIENCE:?}: {text:.200}"),
        }
    }
}
