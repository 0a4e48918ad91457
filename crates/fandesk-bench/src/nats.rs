//! The NATS text protocol as carried over nats-server's WebSocket listener (enough of it
//! for viewers and a publisher), and the nats-server configuration the harness generates.

/// The subject every room viewer subscribes to.
pub const SUBJECT: &str = "room.bench";

/// What the server sent, one protocol operation at a time.
#[derive(Debug, PartialEq, Eq)]
pub enum Op {
    /// A delivered message: its payload is `buf[start..end]` of [`Parser::buffer`].
    Msg {
        start: usize,
        end: usize,
    },
    Ping,
    Pong,
    Info,
    Ok,
    Err(String),
}

/// Incremental parser: WebSocket frames may split or join protocol operations.
#[derive(Default)]
pub struct Parser {
    buf: Vec<u8>,
    pos: usize,
    /// The payload length of a `MSG` whose control line was read.
    pending_payload: Option<usize>,
}

impl Parser {
    /// Adds received bytes; call [`Parser::next`] until it returns `None`.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos > 64 * 1024 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    pub fn buffer(&self) -> &[u8] {
        &self.buf
    }

    /// The next complete operation, or `None` until more bytes are fed.
    pub fn next(&mut self) -> Option<Op> {
        loop {
            if let Some(len) = self.pending_payload {
                if self.buf.len() - self.pos < len + 2 {
                    return None;
                }
                let start = self.pos;
                self.pos += len + 2;
                self.pending_payload = None;
                return Some(Op::Msg {
                    start,
                    end: start + len,
                });
            }
            let rest = &self.buf[self.pos..];
            let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
            let line = &rest[..line_end];
            self.pos += line_end + 2;
            if line.starts_with(b"MSG ") {
                // MSG <subject> <sid> [reply-to] <#bytes>
                let len = line
                    .rsplit(|b| *b == b' ')
                    .next()
                    .and_then(|n| std::str::from_utf8(n).ok())
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                self.pending_payload = Some(len);
                continue;
            }
            return Some(match line {
                b"PING" => Op::Ping,
                b"PONG" => Op::Pong,
                b"+OK" => Op::Ok,
                _ if line.starts_with(b"INFO") => Op::Info,
                _ if line.starts_with(b"-ERR") => {
                    Op::Err(String::from_utf8_lossy(line).into_owned())
                }
                _ => Op::Err(format!("unexpected: {}", String::from_utf8_lossy(line))),
            });
        }
    }
}

/// The client's greeting: no echo of its own messages, no +OK chatter.
pub fn connect_and_subscribe() -> String {
    format!(
        "CONNECT {{\"verbose\":false,\"pedantic\":false,\"echo\":false,\"protocol\":1,\
         \"lang\":\"rust\",\"version\":\"0.1\",\"name\":\"fandesk-bench\"}}\r\nSUB {SUBJECT} 1\r\nPING\r\n"
    )
}

pub fn connect_only() -> String {
    "CONNECT {\"verbose\":false,\"pedantic\":false,\"echo\":false,\"protocol\":1,\
     \"lang\":\"rust\",\"version\":\"0.1\",\"name\":\"fandesk-bench-pub\"}\r\nPING\r\n"
        .to_owned()
}

pub fn publish(payload: &str) -> String {
    format!("PUB {SUBJECT} {}\r\n{payload}\r\n", payload.len())
}

/// A configuration for our own nats-server instance (never the system one).
pub fn config(port: u16, ws_port: u16, monitor_port: u16, dir: &std::path::Path) -> String {
    format!(
        "listen: \"127.0.0.1:{port}\"\n\
         http: \"127.0.0.1:{monitor_port}\"\n\
         max_connections: 100000\n\
         max_payload: 1048576\n\
         max_pending: 67108864\n\
         write_deadline: \"10s\"\n\
         ping_interval: \"2m\"\n\
         pid_file: \"{pid}\"\n\
         websocket {{\n  host: \"127.0.0.1\"\n  port: {ws_port}\n  no_tls: true\n  compression: false\n}}\n",
        pid = dir.join("nats.pid").display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_split_operations() {
        let mut parser = Parser::default();
        parser.feed(b"INFO {}\r\nPI");
        assert_eq!(parser.next(), Some(Op::Info));
        assert_eq!(parser.next(), None);
        parser.feed(b"NG\r\nMSG room.bench 1 5\r\nhel");
        assert_eq!(parser.next(), Some(Op::Ping));
        assert_eq!(parser.next(), None);
        parser.feed(b"lo\r\nMSG room.bench 1 reply 2\r\nab\r\n");
        let Some(Op::Msg { start, end }) = parser.next() else {
            panic!()
        };
        assert_eq!(&parser.buffer()[start..end], b"hello");
        let Some(Op::Msg { start, end }) = parser.next() else {
            panic!()
        };
        assert_eq!(&parser.buffer()[start..end], b"ab");
        assert_eq!(parser.next(), None);
        assert!(publish("xyz").starts_with("PUB room.bench 3\r\n"));
    }
}
