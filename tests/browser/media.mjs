// Test media made at test time (no binary asset in the repository): a short WebM recorded
// in the browser by MediaRecorder over a canvas that paints its frame number, given the
// duration MediaRecorder leaves out (so the browser can seek in it), and served from an
// HTTP server of its own on port 0 with range requests, like a CDN would.

import { createServer } from 'node:http';

/**
 * Records `seconds` of 160×90 video in `page` (any page of the browser) and returns the
 * WebM bytes. Takes `seconds` of real time: MediaRecorder records as the canvas plays.
 */
export async function recordClip(page, seconds) {
  const { base64, durationMs } = await page.evaluate(async (ms) => {
    const canvas = document.createElement('canvas');
    canvas.width = 160;
    canvas.height = 90;
    const paint = canvas.getContext('2d');
    const started = performance.now();
    const draw = () => {
      const t = (performance.now() - started) / 1000;
      paint.fillStyle = `hsl(${(t * 40) % 360} 70% 40%)`;
      paint.fillRect(0, 0, 160, 90);
      paint.fillStyle = '#fff';
      paint.font = '28px sans-serif';
      paint.fillText(t.toFixed(1), 40, 55);
    };
    draw();
    const stream = canvas.captureStream(25);
    const recorder = new MediaRecorder(stream, { mimeType: 'video/webm;codecs=vp8' });
    const chunks = [];
    recorder.ondataavailable = (event) => chunks.push(event.data);
    const timer = setInterval(draw, 40);
    const stopped = new Promise((done) => { recorder.onstop = done; });
    const begin = performance.now();
    recorder.start(1000);
    await new Promise((done) => setTimeout(done, ms));
    recorder.stop();
    await stopped;
    clearInterval(timer);
    const bytes = new Uint8Array(await new Blob(chunks, { type: 'video/webm' }).arrayBuffer());
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return { base64: btoa(binary), durationMs: performance.now() - begin };
  }, seconds * 1000);
  return withDuration(Buffer.from(base64, 'base64'), durationMs);
}

/** The length and value of the EBML variable-size integer at `at`. */
function readVint(bytes, at) {
  const first = bytes[at];
  let length = 1;
  while (length <= 8 && !(first & (0x80 >> (length - 1)))) length += 1;
  let value = first & (0xff >> length);
  for (let i = 1; i < length; i += 1) value = value * 256 + bytes[at + i];
  return { length, value };
}

/** An element id's length (ids keep their marker bit). */
function idLength(bytes, at) {
  return readVint(bytes, at).length;
}

/**
 * Adds `Duration` (milliseconds, at the default timecode scale) to the segment's `Info`:
 * MediaRecorder streams its WebM and never goes back to write it, and without it a
 * browser cannot seek. Only `Info`'s size changes (the segment's size is "unknown").
 */
export function withDuration(webm, durationMs) {
  const INFO = [0x15, 0x49, 0xa9, 0x66];
  let at = 0;
  // EBML header, then the Segment's id and size.
  at += idLength(webm, at);
  const header = readVint(webm, at);
  at += header.length + header.value;
  at += idLength(webm, at);
  at += readVint(webm, at).length;
  for (;;) {
    if (at >= webm.length) throw new Error('no Info element in the WebM');
    const id = idLength(webm, at);
    const size = readVint(webm, at + id);
    if (INFO.every((byte, i) => webm[at + i] === byte)) {
      const bodyStart = at + id + size.length;
      const body = webm.subarray(bodyStart, bodyStart + size.value);
      const duration = Buffer.alloc(11);
      duration.set([0x44, 0x89, 0x88]);
      duration.writeDoubleBE(durationMs, 3);
      const newSize = size.value + duration.length;
      const sizeBytes = Buffer.alloc(8);
      sizeBytes[0] = 0x01;
      sizeBytes.writeUIntBE(newSize, 2, 6);
      return Buffer.concat([webm.subarray(0, at + id), sizeBytes, body, duration, webm.subarray(bodyStart + size.value)]);
    }
    at += id + size.length + size.value;
  }
}

/** Serves `bytes` as `/clip.webm` (with ranges) on 127.0.0.1:0; `{url, close}`. */
export async function serveClip(bytes) {
  const server = createServer((request, response) => {
    if (!request.url.startsWith('/clip.webm')) {
      response.writeHead(404).end();
      return;
    }
    const range = /bytes=(\d*)-(\d*)/.exec(request.headers.range || '');
    const headers = { 'Content-Type': 'video/webm', 'Accept-Ranges': 'bytes' };
    if (range) {
      const start = range[1] ? Number(range[1]) : 0;
      const end = range[2] ? Math.min(Number(range[2]), bytes.length - 1) : bytes.length - 1;
      response.writeHead(206, { ...headers, 'Content-Range': `bytes ${start}-${end}/${bytes.length}`, 'Content-Length': end - start + 1 });
      response.end(bytes.subarray(start, end + 1));
      return;
    }
    response.writeHead(200, { ...headers, 'Content-Length': bytes.length });
    response.end(bytes);
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/clip.webm`,
    close: () => new Promise((done) => server.close(done)),
  };
}
