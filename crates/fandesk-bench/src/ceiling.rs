//! Baseline (b): the "ceiling" server. Each published frame is encoded exactly once and
//! the same bytes are written to every viewer socket in a tight non-blocking loop; viewers
//! are sharded over one task per core; an idle viewer is a bare socket (no buffers, no
//! task). With `--coalesce-ms T` frames are concatenated per tick and each viewer gets one
//! write per tick: the ceiling for a coalescing fan-out.
//!
//! Connections to `/pub…` publish: their text frames are broadcast. Every other path is a
//! viewer. Viewers are never read from.

use crate::wsraw;
use anyhow::{Context, Result, bail};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use std::collections::VecDeque;
use std::io::IoSlice;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

/// Frames a viewer may have queued (beyond the kernel's socket buffer) before it is
/// dropped as a slow consumer.
const BACKLOG_LIMIT: usize = 4096;

enum ShardMsg {
    Viewer(TcpStream),
    Frame(Bytes),
}

pub fn run(listen: SocketAddr, shards: usize, coalesce_ms: u64) -> Result<()> {
    let shards = shards.max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(shards)
        .enable_all()
        .build()?;
    runtime.block_on(serve(listen, shards, coalesce_ms))
}

async fn serve(listen: SocketAddr, shards: usize, coalesce_ms: u64) -> Result<()> {
    let listener = TcpListener::bind(listen).await?;
    println!("listening on {}", listener.local_addr()?);
    let mut senders = Vec::with_capacity(shards);
    for _ in 0..shards {
        let (sender, receiver) = mpsc::unbounded_channel();
        tokio::spawn(shard(receiver, coalesce_ms));
        senders.push(sender);
    }
    let senders = Arc::new(senders);
    let next = Arc::new(AtomicUsize::new(0));
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                eprintln!("accept: {error}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let senders = senders.clone();
        let next = next.clone();
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            let Ok(Ok((stream, path, leftover))) =
                tokio::time::timeout(Duration::from_secs(10), handshake(stream)).await
            else {
                return;
            };
            if path.starts_with("/pub") {
                let _ = publisher(stream, leftover, &senders).await;
            } else {
                let index = next.fetch_add(1, Ordering::Relaxed) % senders.len();
                let _ = senders[index].send(ShardMsg::Viewer(stream));
            }
        });
    }
}

/// Server side of the opening handshake; returns the request path and any bytes the
/// client sent after its request.
async fn handshake(mut stream: TcpStream) -> Result<(TcpStream, String, Vec<u8>)> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if buf.len() > 8192 {
            bail!("request too large");
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("closed during handshake");
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..end]).context("request is not UTF-8")?;
    let mut lines = head.split("\r\n");
    let path = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .unwrap_or("/")
        .to_owned();
    let key = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("sec-websocket-key"))
        .map(|(_, value)| value.trim().to_owned())
        .context("no Sec-WebSocket-Key")?;
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        derive_accept_key(key.as_bytes())
    );
    stream.write_all(response.as_bytes()).await?;
    let leftover = buf[end..].to_vec();
    Ok((stream, path, leftover))
}

/// Reads a publisher's frames; each text/binary payload is encoded once as a server frame
/// and handed to every shard.
async fn publisher(
    mut stream: TcpStream,
    mut buf: Vec<u8>,
    shards: &[mpsc::UnboundedSender<ShardMsg>],
) -> Result<()> {
    let mut chunk = vec![0u8; 64 * 1024];
    let mut frame = Vec::with_capacity(1024);
    loop {
        while let Some(head) = wsraw::parse_head(&buf) {
            if head.total() > buf.len() {
                break;
            }
            let mut payload = buf[head.header_len..head.total()].to_vec();
            if let Some(key) = head.mask {
                wsraw::unmask(&mut payload, key);
            }
            buf.drain(..head.total());
            match head.opcode {
                wsraw::OP_TEXT | wsraw::OP_BINARY => {
                    frame.clear();
                    wsraw::encode(&mut frame, head.opcode, &payload, None);
                    let bytes = Bytes::copy_from_slice(&frame);
                    for shard in shards {
                        let _ = shard.send(ShardMsg::Frame(bytes.clone()));
                    }
                }
                wsraw::OP_CLOSE => return Ok(()),
                _ => {}
            }
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

struct Viewer {
    stream: Arc<TcpStream>,
    /// Bytes the kernel did not take yet (first entry possibly partly written).
    backlog: VecDeque<Bytes>,
    /// A writability waiter is armed for this viewer.
    waiting: bool,
    dead: bool,
}

impl Viewer {
    /// Queues `frames` behind whatever is pending and writes as much as the socket takes
    /// right now: several frames go out in one `writev` when the publisher is ahead.
    fn offer(&mut self, frames: &[Bytes]) {
        if self.dead {
            return;
        }
        if self.backlog.len() + frames.len() > BACKLOG_LIMIT {
            // A slow consumer: drop it, as every real server must.
            self.dead = true;
            self.backlog.clear();
            return;
        }
        let was_idle = self.backlog.is_empty();
        self.backlog.extend(frames.iter().cloned());
        if was_idle {
            self.flush();
        }
    }

    /// Writes the backlog: up to 64 pending frames per system call (`writev`), so a
    /// viewer that fell behind catches up without one call per frame.
    fn flush(&mut self) {
        // Bounded: every pass writes something or stops.
        for _ in 0..BACKLOG_LIMIT {
            if self.backlog.is_empty() {
                return;
            }
            let mut slices = [IoSlice::new(&[]); 64];
            let mut count = 0;
            for (slot, frame) in slices.iter_mut().zip(self.backlog.iter()) {
                *slot = IoSlice::new(frame);
                count += 1;
            }
            match self.stream.try_write_vectored(&slices[..count]) {
                Ok(mut written) => {
                    while written > 0 {
                        let Some(front) = self.backlog.front_mut() else {
                            break;
                        };
                        if written >= front.len() {
                            written -= front.len();
                            self.backlog.pop_front();
                        } else {
                            *front = front.slice(written..);
                            written = 0;
                        }
                    }
                }
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(_) => {
                    self.dead = true;
                    self.backlog.clear();
                    return;
                }
            }
        }
    }
}

type Waiter = std::pin::Pin<Box<dyn std::future::Future<Output = usize> + Send>>;

/// Resolves with the viewer's slot once its socket can take more bytes.
async fn writable(stream: Arc<TcpStream>, slot: usize) -> usize {
    let _ = stream.writable().await;
    slot
}

/// One shard: a slab of viewers (slots never move), the frames to send, and a waiter per
/// viewer whose socket is full — woken by the kernel, not by polling.
async fn shard(mut receiver: mpsc::UnboundedReceiver<ShardMsg>, coalesce_ms: u64) {
    let mut viewers: Vec<Option<Viewer>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut waiters: FuturesUnordered<Waiter> = FuturesUnordered::new();
    let mut pending = BytesMut::new();
    let mut tick = tokio::time::interval(Duration::from_millis(coalesce_ms.max(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let mut frames: Vec<Bytes> = Vec::new();
        tokio::select! {
            message = receiver.recv() => {
                let Some(message) = message else { return };
                // Take everything already queued in one go (bounded).
                let mut next = Some(message);
                let mut taken = 0;
                while let Some(message) = next.take() {
                    match message {
                        ShardMsg::Viewer(stream) => {
                            let viewer = Viewer { stream: Arc::new(stream), backlog: VecDeque::new(), waiting: false, dead: false };
                            match free.pop() {
                                Some(slot) => viewers[slot] = Some(viewer),
                                None => viewers.push(Some(viewer)),
                            }
                        }
                        ShardMsg::Frame(frame) if coalesce_ms > 0 => pending.extend_from_slice(&frame),
                        ShardMsg::Frame(frame) => frames.push(frame),
                    }
                    taken += 1;
                    if taken < 1024 {
                        next = receiver.try_recv().ok();
                    }
                }
            }
            _ = tick.tick(), if coalesce_ms > 0 => {
                if !pending.is_empty() {
                    frames.push(pending.split().freeze());
                }
            }
            Some(slot) = waiters.next(), if !waiters.is_empty() => {
                if let Some(viewer) = viewers.get_mut(slot).and_then(|entry| entry.as_mut()) {
                    viewer.waiting = false;
                    viewer.flush();
                }
                settle(&mut viewers, &mut free, &mut waiters, slot);
            }
        }
        // The tight loop: every viewer gets the same bytes (all frames queued since the
        // last pass, in one system call when there are several).
        if !frames.is_empty() {
            for viewer in viewers.iter_mut().flatten() {
                viewer.offer(&frames);
            }
        }
        if !frames.is_empty() {
            for slot in 0..viewers.len() {
                settle(&mut viewers, &mut free, &mut waiters, slot);
            }
        }
    }
}

/// After writing to `slot`: free it if dead, arm a waiter if bytes are left over.
fn settle(
    viewers: &mut [Option<Viewer>],
    free: &mut Vec<usize>,
    waiters: &mut FuturesUnordered<Waiter>,
    slot: usize,
) {
    let Some(entry) = viewers.get_mut(slot) else {
        return;
    };
    let Some(viewer) = entry.as_mut() else { return };
    if viewer.dead {
        *entry = None;
        free.push(slot);
    } else if !viewer.backlog.is_empty() && !viewer.waiting {
        viewer.waiting = true;
        waiters.push(Box::pin(writable(viewer.stream.clone(), slot)));
    }
}
