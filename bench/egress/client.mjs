// The HTTPS client of the egress benchmark: the same script runs on the host (direct) and inside a
// sandbox (through its proxy), so the two differ only in the path. Plain JavaScript with node: built-ins
// only (the sandbox sees neither tsx nor node_modules); it is copied into the workspace.
//   node client.mjs MODE port=P ca=FILE via=direct|proxy [n=N] [warmup=N] [host=localhost] [timeout=S]
// via=proxy: HTTP CONNECT through $https_proxy / $HTTPS_PROXY (credentials in the URL become
// Proxy-Authorization, as srt needs); via=direct: TCP to 127.0.0.1:P. TLS is verified against ca=.
// Modes (each prints one JSON line):
//   keepalive   one connection (one tunnel), warmup + n sequential GET /small; n samples in ms
//   fresh       n requests, each on a new connection (new tunnel + TLS handshake); samples in ms
//   concurrent  n connections opened at once, one GET /small each; all are held open until every
//               one has finished, so n tunnels are open together at the peak; errors by kind
// Every socket has a timeout (timeout=S, default 60: no data for S seconds); the process exits when done.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

const [mode, ...rest] = process.argv.slice(2);
const o = Object.fromEntries(rest.map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]));
const N = Number(o.n ?? 1);
const WARMUP = Number(o.warmup ?? 0);
const PORT = Number(o.port);
const HOST = o.host ?? 'localhost';
const CA = readFileSync(o.ca);
const TIMEOUT_MS = Number(o.timeout ?? 60) * 1000;
const proxy = o.via === 'proxy' ? parseProxy(process.env.https_proxy || process.env.HTTPS_PROXY || '') : null;
const REQUEST = Buffer.from(`GET /small HTTP/1.1\r\nHost: ${HOST}:${PORT}\r\n\r\n`);

function parseProxy(text) {
  if (!text) throw new Error('via=proxy but neither https_proxy nor HTTPS_PROXY is set');
  const u = new URL(text);
  const auth = u.username
    ? `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`
    : null;
  return { host: u.hostname === 'localhost' ? '127.0.0.1' : u.hostname, port: Number(u.port || 80), auth };
}

const now = () => Number(process.hrtime.bigint()) / 1e6;

/** One HTTP/1.1 response head (+ Content-Length body) from `sock`; a CONNECT answer has no body. */
function readResponse(sock, isConnect) {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = (err, value) => {
      sock.removeListener('data', onData);
      sock.removeListener('error', onError);
      sock.removeListener('close', onClose);
      if (err) reject(err); else resolve(value);
    };
    const onError = (e) => done(e);
    const onClose = () => done(new Error('closed by peer'));
    const onData = (d) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      const length = isConnect ? 0 : Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      if (buf.length < end + 4 + length) return;
      if (isConnect) sock.pause(); // TLS takes the socket over from here
      done(null, { status, head });
    };
    sock.on('data', onData);
    sock.once('error', onError);
    sock.once('close', onClose);
  });
}

/** A TLS connection to HOST:PORT, through a CONNECT tunnel when via=proxy. */
async function open(hooks = {}) {
  let raw;
  if (proxy) {
    raw = net.connect({ host: proxy.host, port: proxy.port, noDelay: true });
    raw.setTimeout(TIMEOUT_MS, () => raw.destroy(new Error('timeout')));
    await connected(raw);
    raw.write(`CONNECT ${HOST}:${PORT} HTTP/1.1\r\nHost: ${HOST}:${PORT}\r\n` +
      (proxy.auth ? `Proxy-Authorization: ${proxy.auth}\r\n` : '') + '\r\n');
    const r = await readResponse(raw, true).catch((e) => { throw tagged('CONNECT', e); });
    if (r.status !== 200) {
      raw.destroy();
      throw new Error(`CONNECT answered ${r.status}`);
    }
    hooks.onTunnel?.();
  } else {
    raw = net.connect({ host: '127.0.0.1', port: PORT, noDelay: true });
    raw.setTimeout(TIMEOUT_MS, () => raw.destroy(new Error('timeout')));
    await connected(raw);
    hooks.onTunnel?.();
  }
  const sock = tls.connect({ socket: raw, servername: HOST, ca: CA });
  sock.setNoDelay(true);
  await new Promise((resolve, reject) => {
    sock.once('secureConnect', resolve);
    sock.once('error', (e) => reject(tagged('TLS', e)));
  });
  // From here a failure shows up as a rejected readResponse (its own listeners); nothing may crash.
  sock.on('error', () => {});
  return sock;
}

/** TCP connect; afterwards errors on the raw socket surface through whoever reads it. */
async function connected(raw) {
  await new Promise((resolve, reject) => {
    raw.once('connect', resolve);
    raw.once('error', (e) => reject(tagged('connect', e)));
  });
  raw.on('error', () => {});
}

function tagged(where, e) {
  return new Error(`${where}: ${e.code ?? e.message}`);
}

async function get(sock) {
  sock.write(REQUEST);
  const r = await readResponse(sock, false);
  if (r.status !== 200) throw new Error(`GET answered ${r.status}`);
}

async function keepalive() {
  const t0 = now();
  const sock = await open();
  const setupMs = now() - t0;
  const samples = [];
  for (let i = 0; i < WARMUP + N; i++) {
    const t = now();
    await get(sock);
    if (i >= WARMUP) samples.push(now() - t);
  }
  sock.destroy();
  return { mode, via: o.via, setupMs, samples };
}

async function fresh() {
  const samples = [];
  for (let i = 0; i < WARMUP + N; i++) {
    const t = now();
    const sock = await open();
    await get(sock);
    if (i >= WARMUP) samples.push(now() - t);
    sock.destroy();
  }
  return { mode, via: o.via, samples };
}

async function concurrent() {
  let open_ = 0;
  let peak = 0;
  const errors = {};
  let settled = 0;
  let release;
  const allSettled = new Promise((r) => { release = r; });
  const t0 = now();
  const one = async () => {
    let sock;
    let counted = false;
    try {
      sock = await open({ onTunnel: () => { counted = true; open_++; peak = Math.max(peak, open_); } });
      await get(sock);
      return true;
    } catch (e) {
      const kind = String(e.code ? `${e.code}` : e.message).replace(/\d{4,}/g, 'N');
      errors[kind] = (errors[kind] ?? 0) + 1;
      return false;
    } finally {
      if (++settled === N) release();
      await allSettled; // hold every tunnel until all of them have answered
      sock?.destroy();
      if (counted) open_--;
    }
  };
  const results = await Promise.all(Array.from({ length: N }, one));
  return { mode, via: o.via, n: N, ok: results.filter(Boolean).length, errors, peak, ms: now() - t0 };
}

const run = { keepalive, fresh, concurrent }[mode];
if (!run) {
  console.error(`unknown mode ${mode}: keepalive, fresh or concurrent`);
  process.exit(2);
}
run().then(
  (r) => { process.stdout.write(`${JSON.stringify(r)}\n`); process.exit(0); },
  (e) => { process.stdout.write(`${JSON.stringify({ mode, via: o.via, error: String(e.message ?? e) })}\n`); process.exit(1); },
);
