//! A minimal WebSocket (RFC 6455) codec and client for load generation: no per-message
//! allocation, a small fixed read buffer per connection, an explicit source address
//! (127.0.0.x, so many connections do not exhaust one address's ephemeral ports).
//! Load generators share the machine with the server under test, so they must be cheap.

use anyhow::{Context, Result, bail};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

pub const OP_TEXT: u8 = 0x1;
pub const OP_BINARY: u8 = 0x2;
pub const OP_CLOSE: u8 = 0x8;
pub const OP_PING: u8 = 0x9;
pub const OP_PONG: u8 = 0xA;

/// Largest frame this codec accepts (the servers under test send far smaller ones).
pub const MAX_FRAME: usize = 16 * 1024 * 1024;

/// A parsed frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    pub fin: bool,
    pub opcode: u8,
    pub header_len: usize,
    pub payload_len: usize,
    pub mask: Option<[u8; 4]>,
}

impl Head {
    pub fn total(&self) -> usize {
        self.header_len + self.payload_len
    }
}

/// Parses a frame header at the start of `b`; `None` until enough bytes are there.
pub fn parse_head(b: &[u8]) -> Option<Head> {
    if b.len() < 2 {
        return None;
    }
    let fin = b[0] & 0x80 != 0;
    let opcode = b[0] & 0x0F;
    let masked = b[1] & 0x80 != 0;
    let (payload_len, mut at) = match b[1] & 0x7F {
        126 => (
            u16::from_be_bytes(b.get(2..4)?.try_into().ok()?) as usize,
            4,
        ),
        127 => (
            u64::from_be_bytes(b.get(2..10)?.try_into().ok()?) as usize,
            10,
        ),
        n => (n as usize, 2),
    };
    let mask = if masked {
        let key: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        at += 4;
        Some(key)
    } else {
        None
    };
    Some(Head {
        fin,
        opcode,
        header_len: at,
        payload_len,
        mask,
    })
}

/// Appends one frame to `out`. Clients must mask (`mask` = Some), servers must not.
pub fn encode(out: &mut Vec<u8>, opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) {
    out.push(0x80 | opcode);
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(mask_bit | n as u8),
        n if n <= u16::MAX as usize => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i & 3]));
        }
        None => out.extend_from_slice(payload),
    }
}

pub fn unmask(payload: &mut [u8], key: [u8; 4]) {
    for (i, b) in payload.iter_mut().enumerate() {
        *b ^= key[i & 3];
    }
}

/// Opens a TCP connection from `source` (port chosen by the kernel).
pub async fn connect_tcp(server: SocketAddr, source: Option<Ipv4Addr>) -> Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    if let Some(ip) = source {
        socket
            .bind(SocketAddr::from((ip, 0)))
            .with_context(|| format!("binding {ip}"))?;
    }
    let stream = socket
        .connect(server)
        .await
        .with_context(|| format!("connecting to {server}"))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// A frame just read: where its payload is in the client's buffer.
#[derive(Clone, Copy, Debug)]
pub struct FrameRef {
    pub opcode: u8,
    start: usize,
    end: usize,
}

/// One client connection.
pub struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Unconsumed bytes are `buf[pos..end]`.
    pos: usize,
    end: usize,
    mask_seed: u32,
    out: Vec<u8>,
    /// The code of the server's close frame, once one was read (1005 when it had none).
    pub close_code: Option<u16>,
}

impl Client {
    /// Connects and performs the opening handshake. `headers` are extra request headers.
    pub async fn connect(
        server: SocketAddr,
        source: Option<Ipv4Addr>,
        path: &str,
        headers: &[(&str, &str)],
        read_buffer: usize,
        timeout: Duration,
    ) -> Result<Client> {
        tokio::time::timeout(
            timeout,
            Client::connect_inner(server, source, path, headers, read_buffer),
        )
        .await
        .context("handshake timed out")?
    }

    async fn connect_inner(
        server: SocketAddr,
        source: Option<Ipv4Addr>,
        path: &str,
        headers: &[(&str, &str)],
        read_buffer: usize,
    ) -> Result<Client> {
        let mut stream = connect_tcp(server, source).await?;
        let mut request = format!(
            "GET {path} HTTP/1.1\r\nHost: {server}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut buf = vec![0u8; read_buffer.max(512)];
        let mut end = 0;
        let header_end = loop {
            if let Some(at) = buf[..end].windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            if end == buf.len() {
                if buf.len() >= 64 * 1024 {
                    bail!("handshake response too large");
                }
                buf.resize(buf.len() * 2, 0);
            }
            let n = stream.read(&mut buf[end..]).await?;
            if n == 0 {
                bail!("connection closed during the handshake");
            }
            end += n;
        };
        let status_line = String::from_utf8_lossy(&buf[..header_end])
            .lines()
            .next()
            .unwrap_or("")
            .to_owned();
        if !status_line.contains(" 101 ") {
            let body = String::from_utf8_lossy(&buf[header_end..end])
                .chars()
                .take(200)
                .collect::<String>();
            bail!("upgrade refused: {status_line} {body}");
        }
        let seed =
            (server.port() as u32).wrapping_mul(2_654_435_761) ^ crate::stamp::now_us() as u32 | 1;
        Ok(Client {
            stream,
            buf,
            pos: header_end,
            end,
            mask_seed: seed,
            out: Vec::with_capacity(0),
            close_code: None,
        })
    }

    fn next_mask(&mut self) -> [u8; 4] {
        // xorshift32: the mask only has to vary, not be secret, for a load generator.
        let mut x = self.mask_seed;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.mask_seed = x;
        x.to_be_bytes()
    }

    /// Lets the kernel hold up to `bytes` of this client's unsent data, so a client whose
    /// server reads it slowly goes on writing (as an attacker's own machine would) rather
    /// than blocking once the default buffer is full.
    pub fn set_send_buffer(&self, bytes: usize) -> Result<()> {
        socket2::SockRef::from(&self.stream).set_send_buffer_size(bytes)?;
        Ok(())
    }

    /// Sends one masked frame.
    pub async fn send(&mut self, opcode: u8, payload: &[u8]) -> Result<()> {
        let mask = self.next_mask();
        let mut out = std::mem::take(&mut self.out);
        out.clear();
        encode(&mut out, opcode, payload, Some(mask));
        let result = self.stream.write_all(&out).await;
        // Keep small scratch buffers only: idle connections must stay cheap.
        if out.capacity() <= 4096 {
            self.out = out;
        }
        Ok(result?)
    }

    /// Writes `bytes` as they are (a hand-made or truncated frame).
    pub async fn send_raw(&mut self, bytes: &[u8]) -> Result<()> {
        Ok(self.stream.write_all(bytes).await?)
    }

    pub async fn send_text(&mut self, payload: &[u8]) -> Result<()> {
        self.send(OP_TEXT, payload).await
    }

    /// Reads the next frame (pings are answered, closes end the stream with `None`).
    /// The payload stays valid until the next call; see [`Client::payload`].
    pub async fn next(&mut self) -> Result<Option<FrameRef>> {
        loop {
            let Some(frame) = self.read_frame().await? else {
                return Ok(None);
            };
            match frame.opcode {
                OP_PING => {
                    let payload = self.payload(&frame).to_vec();
                    self.send(OP_PONG, &payload).await?;
                }
                OP_PONG => {}
                OP_CLOSE => {
                    let payload = self.payload(&frame);
                    self.close_code = Some(match payload {
                        [high, low, ..] => u16::from_be_bytes([*high, *low]),
                        _ => 1005,
                    });
                    let _ = self.send(OP_CLOSE, &[]).await;
                    return Ok(None);
                }
                _ => return Ok(Some(frame)),
            }
        }
    }

    /// The payload of a frame returned by [`Client::next`].
    pub fn payload(&self, frame: &FrameRef) -> &[u8] {
        &self.buf[frame.start..frame.end]
    }

    async fn read_frame(&mut self) -> Result<Option<FrameRef>> {
        loop {
            if let Some(head) = parse_head(&self.buf[self.pos..self.end]) {
                if head.payload_len > MAX_FRAME {
                    bail!("frame of {} bytes is too large", head.payload_len);
                }
                if self.end - self.pos >= head.total() {
                    let start = self.pos + head.header_len;
                    let end = start + head.payload_len;
                    if let Some(key) = head.mask {
                        unmask(&mut self.buf[start..end], key);
                    }
                    self.pos = end;
                    return Ok(Some(FrameRef {
                        opcode: head.opcode,
                        start,
                        end,
                    }));
                }
                if head.total() > self.buf.len() {
                    // Larger than the buffer: grow just for it (rare for chat frames).
                    self.compact();
                    self.buf.resize(head.total(), 0);
                }
            }
            if self.end == self.buf.len() {
                self.compact();
            }
            if self.pos == self.end {
                // Everything consumed: start over at the front (cheap, no copy).
                self.pos = 0;
                self.end = 0;
            }
            let n = self.stream.read(&mut self.buf[self.end..]).await?;
            if n == 0 {
                return Ok(None);
            }
            self.end += n;
        }
    }

    fn compact(&mut self) {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        for len in [0usize, 5, 125, 126, 65_535, 65_536] {
            let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
            for mask in [None, Some([1, 2, 3, 4])] {
                let mut out = Vec::new();
                encode(&mut out, OP_TEXT, &payload, mask);
                let head = parse_head(&out).unwrap();
                assert_eq!(head.opcode, OP_TEXT);
                assert!(head.fin);
                assert_eq!(head.payload_len, len);
                assert_eq!(head.total(), out.len());
                let mut body = out[head.header_len..].to_vec();
                if let Some(key) = head.mask {
                    unmask(&mut body, key);
                }
                assert_eq!(body, payload);
                assert_eq!(parse_head(&out[..1]), None);
            }
        }
    }
}
