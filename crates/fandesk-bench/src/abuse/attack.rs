//! The abusive clients. Each is one task looping over one abusive behaviour until the
//! coordinator aborts it, from a loopback address of the abusers (never one a normal
//! client uses), and counts what the server did about it in the shared [`Tally`].

use super::tally::Tally;
use crate::wsraw::{self, Client};
use anyhow::Result;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

/// One abusive behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    Slowloris,
    HalfOpen,
    Flood,
    Oversize,
    BadUtf8,
    BadJson,
    Reconnect,
    Login,
}

pub const KINDS: [Kind; 8] = [
    Kind::Slowloris,
    Kind::HalfOpen,
    Kind::Flood,
    Kind::Oversize,
    Kind::BadUtf8,
    Kind::BadJson,
    Kind::Reconnect,
    Kind::Login,
];

/// Bytes an oversize frame declares (the server accepts 64 KiB).
pub const OVERSIZE_DECLARED: usize = 1024 * 1024;
/// Bytes of it actually written before waiting for the server's answer.
pub const OVERSIZE_WRITTEN: usize = 128 * 1024;
/// A slowloris client writes one byte of its request head this often.
pub const TRICKLE: Duration = Duration::from_secs(1);
/// Pause between two rounds of the round-based kinds (oversize, bad UTF-8, reconnect).
pub const ROUND_PAUSE: Duration = Duration::from_millis(100);
/// Frames a bad-JSON client sends per second.
pub const BAD_JSON_RATE: u64 = 20;
/// Unsent bytes a flooding or bad-JSON client's kernel may hold. The server reads a fan's
/// or an unauthenticated connection at its own pace (a burst, then a steady rate); the rest
/// waits in the client's socket, as it would in a remote attacker's machine, so the client
/// keeps its rate instead of blocking: 60 s of a 50-a-second flood is ≈ 400 KiB.
pub const ABUSER_SEND_BUFFER: usize = 2 * 1024 * 1024;
/// Pause between two login guesses of one client.
pub const LOGIN_PAUSE: Duration = Duration::from_millis(20);

impl Kind {
    /// The kind whose [`Kind::name`] is `name`.
    pub fn named(name: &str) -> Option<Kind> {
        KINDS.into_iter().find(|kind| kind.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Slowloris => "slowloris",
            Kind::HalfOpen => "half-open",
            Kind::Flood => "message flood",
            Kind::Oversize => "oversize frame",
            Kind::BadUtf8 => "bad UTF-8",
            Kind::BadJson => "invalid JSON",
            Kind::Reconnect => "reconnect storm",
            Kind::Login => "login guessing",
        }
    }

    /// What one client of this kind does.
    pub fn what(self) -> String {
        match self {
            Kind::Slowloris => format!(
                "opens `GET /api/v1/ws`, then trickles header bytes one every {} s and never ends the head; \
                 again when the server closes",
                TRICKLE.as_secs()
            ),
            Kind::HalfOpen => "half the clients open TCP and send nothing; the other half complete a \
                 WebSocket upgrade without a token and send nothing (no `hello`); again when closed"
                .into(),
            Kind::Flood => "a fan session of its own (`POST /fan-sessions` from its address), a conversation, \
                 then `send` frames over WebSocket at the flood rate (see the settings), reading the answers; \
                 again when closed. Its kernel may hold 2 MiB unsent (the server reads fans at its own pace)"
                .into(),
            Kind::Oversize => format!(
                "upgrades, then a text frame declaring {} KiB (writes {} KiB of it) and waits for the close; \
                 again after {} ms",
                OVERSIZE_DECLARED / 1024,
                OVERSIZE_WRITTEN / 1024,
                ROUND_PAUSE.as_millis()
            ),
            Kind::BadUtf8 => format!(
                "upgrades, then a text frame that is not UTF-8, waits for the close; again after {} ms",
                ROUND_PAUSE.as_millis()
            ),
            Kind::BadJson => format!(
                "upgrades without a token and sends {BAD_JSON_RATE} malformed frames a second (broken JSON, \
                 unknown types, wrong shapes); again when closed"
            ),
            Kind::Reconnect => format!(
                "connect, upgrade (every other time with a made-up bearer token), close, again after {} ms",
                ROUND_PAUSE.as_millis()
            ),
            Kind::Login => format!(
                "`POST /auth/login` with wrong passwords, alternately for one real account and unknown \
                 e-mail addresses, one every {} ms after each answer",
                LOGIN_PAUSE.as_millis()
            ),
        }
    }

    /// The outcome (prefix) that shows the server defended itself; `--check` wants each.
    pub fn expected(self) -> &'static str {
        match self {
            Kind::Slowloris => "closed by the server",
            Kind::HalfOpen => "closed",
            Kind::Flood => "error frame rate_limited",
            Kind::Oversize => "closed 1009",
            Kind::BadUtf8 => "closed 1007",
            Kind::BadJson => "error frame invalid_request",
            Kind::Reconnect => "upgraded and closed",
            Kind::Login => "HTTP 429",
        }
    }
}

/// What every abusive client knows.
#[derive(Clone)]
pub struct Abuser {
    pub kind: Kind,
    pub index: usize,
    pub server: SocketAddr,
    pub source: Ipv4Addr,
    pub tally: Arc<Tally>,
    /// The real account the login guessers aim at.
    pub victim_email: String,
    /// `send` frames a flooder writes per second.
    pub flood_rate: u64,
}

impl Abuser {
    /// Loops over the behaviour until aborted.
    pub async fn run(self) {
        loop {
            let outcome = match self.kind {
                Kind::Slowloris => self.slowloris().await,
                Kind::HalfOpen => self.half_open().await,
                Kind::Flood => self.flood().await,
                Kind::Oversize => self.oversize().await,
                Kind::BadUtf8 => self.bad_utf8().await,
                Kind::BadJson => self.bad_json().await,
                Kind::Reconnect => self.reconnect().await,
                Kind::Login => self.login().await,
            };
            if let Err(error) = outcome {
                self.tally
                    .add(self.kind.name(), describe_error(&error.to_string()));
                tokio::time::sleep(ROUND_PAUSE).await;
            }
        }
    }

    fn add(&self, outcome: impl Into<String>) {
        self.tally.add(self.kind.name(), outcome);
    }

    async fn upgrade(&self, token: Option<&str>) -> Result<Client> {
        let bearer = token.map(|token| format!("Bearer {token}"));
        let headers: Vec<(&str, &str)> = bearer
            .as_deref()
            .map(|value| vec![("Authorization", value)])
            .unwrap_or_default();
        Client::connect(
            self.server,
            Some(self.source),
            "/api/v1/ws",
            &headers,
            4096,
            Duration::from_secs(30),
        )
        .await
    }

    /// Reads until the server closes; the outcome names the close code.
    async fn until_closed(&self, client: &mut Client) {
        let opened = Instant::now();
        loop {
            match client.next().await {
                Ok(Some(frame)) => {
                    if let Some(code) = error_code(client.payload(&frame)) {
                        self.add(format!("error frame {code}"));
                    }
                }
                Ok(None) => {
                    self.add(match client.close_code {
                        Some(code) => format!("closed {code}"),
                        None => "closed by the server (no close frame)".into(),
                    });
                    break;
                }
                Err(error) => {
                    self.add(describe_error(&format!("{error:#}")));
                    break;
                }
            }
        }
        self.tally
            .held(self.kind.name(), opened.elapsed().as_millis() as u64);
    }

    async fn slowloris(&self) -> Result<()> {
        let stream = wsraw::connect_tcp(self.server, Some(self.source)).await?;
        let opened = Instant::now();
        let (mut reader, mut writer) = stream.into_split();
        let head = b"GET /api/v1/ws HTTP/1.1\r\nHost: abuse\r\nX-Slow: ";
        let mut buf = [0u8; 512];
        let mut written = 0usize;
        let answer = loop {
            let byte = head.get(written).copied().unwrap_or(b'a');
            if writer.write_all(&[byte]).await.is_err() {
                break Ok(0);
            }
            written += 1;
            tokio::select! {
                read = reader.read(&mut buf) => break read,
                () = tokio::time::sleep(TRICKLE) => {}
            }
        };
        self.tally
            .held(self.kind.name(), opened.elapsed().as_millis() as u64);
        match answer {
            Ok(0) => self.add("closed by the server"),
            Ok(n) => self.add(http_outcome(&buf[..n])),
            Err(error) => self.add(format!("closed by the server ({})", error.kind())),
        }
        Ok(())
    }

    async fn half_open(&self) -> Result<()> {
        if self.index.is_multiple_of(2) {
            let mut stream = wsraw::connect_tcp(self.server, Some(self.source)).await?;
            let opened = Instant::now();
            let mut buf = [0u8; 512];
            let outcome = match stream.read(&mut buf).await {
                Ok(0) => "closed by the server".to_owned(),
                Ok(n) => http_outcome(&buf[..n]),
                Err(error) => format!("closed by the server ({})", error.kind()),
            };
            self.tally
                .held(self.kind.name(), opened.elapsed().as_millis() as u64);
            self.add(format!("{outcome} (silent TCP)"));
        } else {
            let mut client = self.upgrade(None).await?;
            self.until_closed(&mut client).await;
            tokio::time::sleep(ROUND_PAUSE).await;
        }
        Ok(())
    }

    async fn flood(&self) -> Result<()> {
        let api = crate::api::Api::from_source(self.server, Some(IpAddr::V4(self.source)));
        let token = loop {
            match api.fan(&format!("Flooder {}", self.index)).await {
                Ok(token) => break token,
                Err(error) => {
                    self.add(format!(
                        "fan session: {}",
                        describe_error(&error.to_string())
                    ));
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        let conversation = api.open_conversation(&token).await?;
        let topic = format!("conversation:{conversation}");
        let mut number: u64 = 0;
        loop {
            let mut client = match self.upgrade(Some(&token)).await {
                Ok(client) => client,
                Err(error) => {
                    self.add(describe_error(&format!("{error:#}")));
                    tokio::time::sleep(ROUND_PAUSE).await;
                    continue;
                }
            };
            client.set_send_buffer(ABUSER_SEND_BUFFER)?;
            let mut tick =
                tokio::time::interval(Duration::from_micros(1_000_000 / self.flood_rate.max(1)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    frame = client.next() => match frame {
                        Ok(Some(frame)) => {
                            let payload = client.payload(&frame);
                            if payload.starts_with(br#"{"type":"ack""#) {
                                self.add("acked (within the fan's quota)");
                            } else if let Some(code) = error_code(payload) {
                                self.add(format!("error frame {code}"));
                            }
                        }
                        Ok(None) => {
                            self.add(client.close_code.map_or("closed by the server (no close frame)".into(), |code| format!("closed {code}")));
                            break;
                        }
                        Err(error) => {
                            self.add(describe_error(&format!("{error:#}")));
                            break;
                        }
                    },
                    _ = tick.tick() => {
                        let frame = format!(
                            r#"{{"type":"send","topic":"{topic}","client_msg_id":"flood-{number}","body":"spam {number}"}}"#
                        );
                        number += 1;
                        if client.send_text(frame.as_bytes()).await.is_err() {
                            self.add("closed by the server (write failed)");
                            break;
                        }
                        self.add("sent");
                    }
                }
            }
            tokio::time::sleep(ROUND_PAUSE).await;
        }
    }

    async fn oversize(&self) -> Result<()> {
        let mut client = self.upgrade(None).await?;
        let mut frame = Vec::with_capacity(OVERSIZE_WRITTEN + 16);
        frame.push(0x80 | wsraw::OP_TEXT);
        frame.push(0x80 | 127);
        frame.extend_from_slice(&(OVERSIZE_DECLARED as u64).to_be_bytes());
        frame.extend_from_slice(&[0, 0, 0, 0]);
        frame.resize(frame.len() + OVERSIZE_WRITTEN, b'x');
        // The server may close before reading it all: the close is what counts.
        let _ = client.send_raw(&frame).await;
        self.until_closed(&mut client).await;
        tokio::time::sleep(ROUND_PAUSE).await;
        Ok(())
    }

    async fn bad_utf8(&self) -> Result<()> {
        let mut client = self.upgrade(None).await?;
        let _ = client
            .send(
                wsraw::OP_TEXT,
                b"{\"type\":\"ping\",\"x\":\"\xff\xfe\xc3\x28\"}",
            )
            .await;
        self.until_closed(&mut client).await;
        tokio::time::sleep(ROUND_PAUSE).await;
        Ok(())
    }

    async fn bad_json(&self) -> Result<()> {
        const FRAMES: [&[u8]; 5] = [
            b"{not json",
            b"[1,2,3]",
            br#"{"type":"nope"}"#,
            br#"{"type":"send","topic":42}"#,
            b"",
        ];
        let mut client = self.upgrade(None).await?;
        client.set_send_buffer(ABUSER_SEND_BUFFER)?;
        let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / BAD_JSON_RATE));
        let opened = Instant::now();
        let mut n = 0usize;
        loop {
            tokio::select! {
                frame = client.next() => match frame {
                    Ok(Some(frame)) => {
                        if let Some(code) = error_code(client.payload(&frame)) {
                            self.add(format!("error frame {code}"));
                        }
                    }
                    Ok(None) => {
                        self.add(client.close_code.map_or("closed by the server (no close frame)".into(), |code| format!("closed {code}")));
                        break;
                    }
                    Err(error) => {
                        self.add(describe_error(&format!("{error:#}")));
                        break;
                    }
                },
                _ = tick.tick() => {
                    if client.send_text(FRAMES[n % FRAMES.len()]).await.is_err() {
                        self.add("closed by the server (write failed)");
                        break;
                    }
                    self.add("sent");
                    n += 1;
                }
            }
        }
        self.tally
            .held(self.kind.name(), opened.elapsed().as_millis() as u64);
        Ok(())
    }

    async fn reconnect(&self) -> Result<()> {
        let mut round = 0usize;
        loop {
            let token = (round % 2 == 1).then_some("made-up-token-0123456789");
            round += 1;
            match self.upgrade(token).await {
                Ok(mut client) => {
                    let _ = client.send(wsraw::OP_CLOSE, &1000u16.to_be_bytes()).await;
                    let _ = tokio::time::timeout(Duration::from_secs(5), async {
                        while let Ok(Some(_)) = client.next().await {}
                    })
                    .await;
                    self.add("upgraded and closed");
                }
                Err(error) => self.add(describe_error(&format!("{error:#}"))),
            }
            tokio::time::sleep(ROUND_PAUSE).await;
        }
    }

    async fn login(&self) -> Result<()> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .local_address(IpAddr::V4(self.source))
            .build()?;
        let url = format!("http://{}/api/v1/auth/login", self.server);
        let mut n = 0u64;
        loop {
            let email = if n.is_multiple_of(2) {
                self.victim_email.clone()
            } else {
                format!("nobody-{}-{n}@abuse.invalid", self.index)
            };
            let body = serde_json::json!({"email": email, "password": format!("guess-{n}")});
            n += 1;
            match http.post(&url).json(&body).send().await {
                Ok(response) => self.add(format!("HTTP {}", response.status().as_u16())),
                Err(error) => self.add(describe_error(&format!("{error:#}"))),
            }
            tokio::time::sleep(LOGIN_PAUSE).await;
        }
    }
}

/// `HTTP 408` etc. from the start of an answer.
fn http_outcome(answer: &[u8]) -> String {
    let text = String::from_utf8_lossy(answer);
    match text.split_whitespace().nth(1) {
        Some(status) if text.starts_with("HTTP/") => format!("HTTP {status}"),
        _ => "answered something else".into(),
    }
}

/// The `code` of an error frame.
fn error_code(payload: &[u8]) -> Option<String> {
    if !payload.starts_with(br#"{"type":"error""#) {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(payload).ok()?;
    Some(value["code"].as_str().unwrap_or("?").to_owned())
}

/// An error as an outcome: a refused upgrade is its HTTP status, a refused API call too.
fn describe_error(text: &str) -> String {
    if let Some(rest) = text.split("upgrade refused: ").nth(1) {
        return http_outcome(rest.as_bytes());
    }
    // `Api::post`: "POST /path: 429 Too Many Requests {…}".
    if let Some(status) = text
        .split(": ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .filter(|status| status.len() == 3 && status.bytes().all(|b| b.is_ascii_digit()))
        && text.starts_with("POST ")
    {
        return format!("HTTP {status}");
    }
    if text.contains("Connection reset") || text.contains("reset by peer") {
        return "connection reset".into();
    }
    if text.contains("closed during the handshake") {
        return "closed during the handshake".into();
    }
    if text.contains("timed out") {
        return "timed out".into();
    }
    let short: String = text.chars().take(80).collect();
    format!("error: {short}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_named_by_status() {
        assert_eq!(
            describe_error("upgrade refused: HTTP/1.1 429 Too Many Requests {\"error\":{}}"),
            "HTTP 429"
        );
        assert_eq!(
            describe_error("POST /fan-sessions: 429 Too Many Requests {\"error\":{}}"),
            "HTTP 429"
        );
        assert_eq!(
            describe_error("connecting: Connection reset by peer (os error 104)"),
            "connection reset"
        );
        assert_eq!(
            http_outcome(b"HTTP/1.1 408 Request Timeout\r\n"),
            "HTTP 408"
        );
        assert_eq!(
            error_code(br#"{"type":"error","code":"rate_limited","message":"m"}"#).as_deref(),
            Some("rate_limited")
        );
        assert_eq!(error_code(br#"{"type":"ack"}"#), None);
    }
}
