/**
 * TLS interception of one CONNECT tunnel to a host with secret bindings: the sandbox's TLS ends
 * here with a leaf from the local CA, each HTTP/1.1 request has its surrogates replaced by the
 * real values bound to this host, and goes on over verified TLS to the pinned address. A request
 * carrying the surrogate of a secret bound elsewhere is answered 403 and never forwarded.
 *
 * Responses are piped back as they come, not parsed; only a real value echoed back by the host is
 * turned into its surrogate (same length, so framing is untouched): secrets never enter the sandbox.
 */
import type { Duplex } from 'node:stream';
import type net from 'node:net';
import tls from 'node:tls';
import { leafFor, type LocalCa } from './ca.js';
import {
  SURROGATE_RULE, type SubstitutionContext, type SurrogateScanner, type SurrogateTable,
} from './surrogates.js';

export interface InterceptTarget { host: string; port: number; address: string }
export interface InterceptEvent {
  /** Names whose surrogates were replaced on this tunnel. */
  replaced: string[];
  /** Names whose surrogates were sent here though bound elsewhere: the request was blocked. */
  foreign: string[];
  /** Bytes sent to the upstream, and received from it. */
  bytesUp: number;
  bytesDown: number;
  /** Why the tunnel ended early: upstream TLS failure, malformed request, timeout. */
  error?: string;
}
export interface InterceptOptions {
  /** Extra trust for the upstream, added to the system roots (tests). */
  upstreamCa?: string;
  /** Called once, when the tunnel is over. */
  onEvent(e: InterceptEvent): void;
  /** Bodies up to this size are read whole before anything is forwarded (default 1 MiB). */
  maxBufferedBody?: number;
  /** A tunnel idle this long is closed (default 120 s). */
  idleTimeoutMs?: number;
}

const MAX_HEAD = 64 * 1024;
const MAX_HEADERS = 200;
const MAX_LINE = 4096;
const PIECE = 64 * 1024;
const MAX_REQUESTS = 100_000;
const CLOSE_GRACE_MS = 5000;
const TOKEN_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const REASONS: Record<number, string> = {
  400: 'Bad Request', 403: 'Forbidden', 405: 'Method Not Allowed', 421: 'Misdirected Request',
  431: 'Request Header Fields Too Large', 501: 'Not Implemented', 502: 'Bad Gateway',
};

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly rule = 'broker.bad-request') {
    super(message);
  }
}

/**
 * Runs the tunnel until either side closes. `clientSocket` is past the CONNECT 200; bytes read
 * beyond the CONNECT head must have been unshifted back. Resolves when the tunnel is over.
 */
export async function interceptTunnel(
  clientSocket: net.Socket, target: InterceptTarget, ca: LocalCa, table: SurrogateTable,
  opts: InterceptOptions,
): Promise<void> {
  let leaf;
  try {
    leaf = await leafFor(ca, target.host);
  } catch (e) {
    clientSocket.destroy();
    throw e;
  }
  clientSocket.on('error', () => clientSocket.destroy());
  const client = new tls.TLSSocket(clientSocket, {
    isServer: true, key: leaf.keyPem, cert: leaf.certPem, ALPNProtocols: ['http/1.1'], minVersion: 'TLSv1.2',
  });
  await new Tunnel(client, target, table, opts).run();
}

type Next = 'more' | 'done' | 'after-response';

class Tunnel {
  private readonly reader: Reader;
  private readonly replaced = new Set<string>();
  private readonly foreign = new Set<string>();
  private bytesUp = 0;
  private bytesDown = 0;
  private error: string | undefined;
  private upstream: tls.TLSSocket | undefined;
  private readonly host: string;

  constructor(
    private readonly client: tls.TLSSocket, private readonly target: InterceptTarget,
    private readonly table: SurrogateTable, private readonly opts: InterceptOptions,
  ) {
    this.host = target.host.toLowerCase();
    this.reader = new Reader(client);
    client.setTimeout(opts.idleTimeoutMs ?? 120_000, () => this.fail('idle timeout'));
  }

  async run(): Promise<void> {
    let grace: number | undefined = CLOSE_GRACE_MS;
    try {
      await secure(this.client);
      let next: Next = 'more';
      for (let n = 0; n < MAX_REQUESTS && next === 'more'; n++) next = await this.exchange();
      // After `Connection: close` the upstream ends the tunnel once its response is through.
      if (next === 'after-response') grace = undefined;
      else this.close();
    } catch (e) {
      if (e instanceof HttpError) this.respond(e.status, { error: e.message, rule: e.rule });
      else this.fail((e as Error).message);
    } finally {
      await closed(grace, this.client, this.upstream);
      this.opts.onEvent({
        replaced: [...this.replaced], foreign: [...this.foreign], bytesUp: this.bytesUp,
        bytesDown: this.bytesDown, ...(this.error === undefined ? {} : { error: this.error }),
      });
    }
  }

  /** One request, forwarded; what the tunnel does next. */
  private async exchange(): Promise<Next> {
    const head = await this.reader.head();
    if (head === null) return 'done';
    const req = parseHead(head);
    checkTarget(req, this.target);
    const line = this.substitute(Buffer.from(req.line, 'latin1'), 'url');
    const headers: [string, string][] = [];
    let expectContinue = false;
    for (const [name, value] of req.headers) {
      const lower = name.toLowerCase();
      if (lower === 'transfer-encoding' || lower === 'content-length') continue;
      if (lower === 'expect' && value.toLowerCase() === '100-continue') { expectContinue = true; continue; }
      const sub = this.table.substituteHeader(name, Buffer.from(value, 'latin1'), this.host);
      this.note(sub);
      headers.push([name, sub.out.toString('latin1')]);
    }
    this.blockIfForeign();
    const framing = framingOf(req.headers);
    if (expectContinue && framing.kind !== 'none') this.client.write('HTTP/1.1 100 Continue\r\n\r\n');
    const pieces = bodyPieces(this.reader, framing);
    const buffered: Buffer[] = [];
    let size = 0;
    let step = await pieces.next();
    for (; !step.done && size <= (this.opts.maxBufferedBody ?? 1 << 20); step = await pieces.next()) {
      buffered.push(step.value);
      size += step.value.length;
    }
    if (step.done) {
      const body = this.substitute(Buffer.concat(buffered), bodyContext(req.headers));
      const length = framing.kind === 'none' ? [] : [['Content-Length', String(body.length)] as [string, string]];
      const upstream = this.upstream ?? (await this.connect());
      await this.send(upstream, Buffer.concat([serialise(line, [...headers, ...length]), body]));
    } else {
      // Too large to hold: checked as it streams, sent chunked; a foreign surrogate cuts it off.
      const scanner = this.table.scanner(this.host, bodyContext(req.headers));
      const first = Buffer.concat(buffered.map((piece) => scanner.push(piece)));
      this.note(scanner);
      this.blockIfForeign();
      const upstream = this.upstream ?? (await this.connect());
      await this.send(upstream, serialise(line, [...headers, ['Transfer-Encoding', 'chunked']]));
      await this.sendChunk(upstream, scanner, first);
      for (; !step.done; step = await pieces.next()) await this.sendChunk(upstream, scanner, scanner.push(step.value));
      await this.sendChunk(upstream, scanner, scanner.end());
      await this.send(upstream, Buffer.from('0\r\n\r\n'));
    }
    const close = req.headers.some(([n, v]) => n.toLowerCase() === 'connection' && /(^|,)\s*close\s*(,|$)/i.test(v));
    return close ? 'after-response' : 'more';
  }

  private substitute(data: Buffer, context: SubstitutionContext): Buffer {
    const sub = this.table.substitute(data, this.host, context);
    this.note(sub);
    this.blockIfForeign();
    return sub.out;
  }

  private note(sub: { replaced: Iterable<string>; foreign: Iterable<string> }): void {
    for (const n of sub.replaced) this.replaced.add(n);
    for (const n of sub.foreign) this.foreign.add(n);
  }

  private blockIfForeign(): void {
    if (this.foreign.size === 0) return;
    throw new HttpError(403,
      `the surrogate of ${[...this.foreign].join(', ')} is bound to another host; this request was not forwarded`,
      SURROGATE_RULE);
  }

  private async sendChunk(upstream: tls.TLSSocket, scanner: SurrogateScanner, data: Buffer): Promise<void> {
    this.note(scanner);
    if (scanner.foreign.size > 0) {
      upstream.destroy(); // the upstream never sees a complete request
      this.blockIfForeign();
    }
    if (data.length === 0) return;
    await this.send(upstream, Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]));
  }

  private async send(upstream: tls.TLSSocket, data: Buffer): Promise<void> {
    this.bytesUp += data.length;
    await write(upstream, data);
  }

  /** Verified TLS to the pinned address, SNI and certificate name = the bound host. */
  private async connect(): Promise<tls.TLSSocket> {
    const { host, port, address } = this.target;
    const upstream = tls.connect({
      host: address, port, servername: host, ALPNProtocols: ['http/1.1'], minVersion: 'TLSv1.2',
      rejectUnauthorized: true,
      checkServerIdentity: (_name, cert) => tls.checkServerIdentity(host, cert),
      ...(this.opts.upstreamCa === undefined ? {} : { ca: [...tls.rootCertificates, this.opts.upstreamCa] }),
    });
    this.upstream = upstream;
    upstream.setTimeout(this.opts.idleTimeoutMs ?? 120_000, () => this.fail('upstream idle timeout'));
    try {
      await new Promise<void>((resolve, reject) => {
        upstream.once('secureConnect', resolve);
        upstream.once('error', reject);
        upstream.once('close', () => reject(new Error('closed during the TLS handshake')));
      });
    } catch (e) {
      upstream.destroy();
      this.error = `upstream ${host}:${port} (${address}): ${(e as Error).message}`;
      throw new HttpError(502, `cannot reach ${host} securely: ${(e as Error).message}`, 'broker.upstream-tls');
    }
    const restore = this.table.responseScanner(this.host);
    upstream.on('data', (d: Buffer) => {
      this.bytesDown += d.length;
      if (!this.client.write(restore.push(d))) upstream.pause();
    });
    this.client.on('drain', () => upstream.resume());
    upstream.on('end', () => this.client.end(restore.end()));
    upstream.on('error', (e) => this.fail(`upstream: ${e.message}`));
    upstream.on('close', () => this.reader.abort());
    return upstream;
  }

  private fail(why: string): void {
    this.error ??= why;
    this.upstream?.destroy();
    this.client.destroy();
    this.reader.abort();
  }

  private close(): void {
    this.upstream?.destroy();
    this.client.end();
  }

  /** Our own answer (an error); the tunnel closes after it. */
  private respond(status: number, body: Record<string, string>): void {
    this.upstream?.destroy();
    const text = JSON.stringify(body) + '\n';
    this.client.end(`HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
  }
}

interface RequestHead { line: string; method: string; target: string; headers: [string, string][] }
type Framing = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' };

function parseHead(head: Buffer): RequestHead {
  const lines = head.toString('latin1').split('\r\n');
  const line = lines[0]!;
  const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([\x21-\x7e]+) HTTP\/1\.[01]$/.exec(line);
  if (!m) throw new HttpError(400, 'not an HTTP/1.1 request line');
  if (lines.length - 1 > MAX_HEADERS) throw new HttpError(431, 'too many header fields');
  const headers: [string, string][] = [];
  for (const l of lines.slice(1)) {
    const colon = l.indexOf(':');
    const name = l.slice(0, colon);
    const value = l.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (colon <= 0 || !TOKEN_RE.test(name) || /[\0\r\n]/.test(value)) throw new HttpError(400, 'a malformed header field');
    headers.push([name, value]);
  }
  return { line, method: m[1]!, target: m[2]!, headers };
}

/** Only requests for the bound host itself: another Host could route the real secret elsewhere. */
function checkTarget(req: RequestHead, target: InterceptTarget): void {
  if (req.method === 'CONNECT') throw new HttpError(405, 'CONNECT inside an intercepted tunnel');
  if (req.headers.some(([n]) => n.toLowerCase() === 'upgrade')) {
    throw new HttpError(501, 'protocol upgrades (WebSocket) are not supported on hosts with bound secrets');
  }
  if (!req.target.startsWith('/') && !(req.method === 'OPTIONS' && req.target === '*')) {
    throw new HttpError(400, 'the request target must be a path');
  }
  const hosts = req.headers.filter(([n]) => n.toLowerCase() === 'host').map(([, v]) => v.toLowerCase());
  const ok = [target.host.toLowerCase(), `${target.host.toLowerCase()}:${target.port}`];
  if (hosts.length !== 1 || !ok.includes(hosts[0]!)) {
    throw new HttpError(421, `Host must be ${target.host} on this tunnel`, 'broker.host-mismatch');
  }
}

/** Strict framing: both headers, conflicting lengths or a coding other than chunked are refused. */
function framingOf(headers: [string, string][]): Framing {
  const values = (name: string): string[] => headers.filter(([n]) => n.toLowerCase() === name)
    .flatMap(([, v]) => v.split(',')).map((v) => v.trim().toLowerCase()).filter((v) => v !== '');
  const te = values('transfer-encoding');
  const cl = values('content-length');
  if (te.length > 0 && cl.length > 0) throw new HttpError(400, 'both Transfer-Encoding and Content-Length');
  if (te.length > 0) {
    if (te.length !== 1 || te[0] !== 'chunked') throw new HttpError(501, 'a transfer coding other than chunked');
    return { kind: 'chunked' };
  }
  if (cl.length === 0) return { kind: 'none' };
  if (!cl.every((v) => v === cl[0]) || !/^[0-9]{1,15}$/.test(cl[0]!)) throw new HttpError(400, 'an invalid Content-Length');
  return { kind: 'length', length: Number(cl[0]) };
}

/** The raw body in pieces of at most 64 KiB; chunk extensions and trailers are dropped. */
async function* bodyPieces(reader: Reader, framing: Framing): AsyncGenerator<Buffer> {
  if (framing.kind === 'length') {
    for (let left = framing.length; left > 0;) {
      const piece = await reader.take(Math.min(left, PIECE));
      left -= piece.length;
      yield piece;
    }
  } else if (framing.kind === 'chunked') {
    for (;;) {
      const m = /^([0-9a-fA-F]{1,12})[ \t]*(;.*)?$/.exec(await reader.line());
      if (!m) throw new HttpError(400, 'a malformed chunk size');
      const size = parseInt(m[1]!, 16);
      if (size === 0) break;
      for (let left = size; left > 0;) {
        const piece = await reader.take(Math.min(left, PIECE));
        left -= piece.length;
        yield piece;
      }
      if ((await reader.line()) !== '') throw new HttpError(400, 'a chunk without its CRLF');
    }
    for (let i = 0; (await reader.line()) !== ''; i++) {
      if (i >= MAX_HEADERS) throw new HttpError(431, 'too many trailer fields');
    }
  }
}

/** How a real value is written into the body: JSON-escaped, form-encoded, or as it is. */
function bodyContext(headers: [string, string][]): SubstitutionContext {
  const type = headers.find(([n]) => n.toLowerCase() === 'content-type')?.[1].toLowerCase() ?? '';
  if (/^application\/([\w.+-]+\+)?json\b/.test(type)) return 'json';
  return type.startsWith('application/x-www-form-urlencoded') ? 'url' : 'raw';
}

function serialise(line: Buffer, headers: [string, string][]): Buffer {
  return Buffer.concat([line, Buffer.from(`\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`, 'latin1')]);
}

/** Pull-style reading of the client's bytes, pausing the socket past 64 KiB unread. */
class Reader {
  private buf: Buffer = Buffer.alloc(0);
  private done = false;
  private wake: (() => void) | undefined;

  constructor(private readonly socket: Duplex) {
    socket.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      if (this.buf.length >= MAX_HEAD) socket.pause();
      this.wake?.();
    });
    for (const ev of ['end', 'close', 'error']) socket.on(ev, () => this.abort());
  }

  abort(): void {
    this.done = true;
    this.wake?.();
  }

  /** The next request head without its final CRLFCRLF; null at a clean end between requests. */
  async head(): Promise<Buffer | null> {
    for (;;) {
      while (this.buf[0] === 0x0d && this.buf[1] === 0x0a) this.buf = this.buf.subarray(2);
      const end = this.buf.indexOf('\r\n\r\n');
      if (end !== -1 && end <= MAX_HEAD) return this.consume(end + 4).subarray(0, end);
      if (this.buf.length > MAX_HEAD) throw new HttpError(431, 'the request head is larger than 64 KiB');
      if (!(await this.more())) {
        if (this.buf.length === 0) return null;
        throw new Error('the client closed in the middle of a request');
      }
    }
  }

  async line(): Promise<string> {
    for (;;) {
      const end = this.buf.indexOf('\r\n');
      if (end !== -1 && end <= MAX_LINE) return this.consume(end + 2).subarray(0, end).toString('latin1');
      if (this.buf.length > MAX_LINE) throw new HttpError(400, 'a line longer than 4 KiB in the body framing');
      if (!(await this.more())) throw new Error('the client closed in the middle of a request body');
    }
  }

  /** Between 1 and n bytes. */
  async take(n: number): Promise<Buffer> {
    while (this.buf.length === 0) {
      if (!(await this.more())) throw new Error('the client closed in the middle of a request body');
    }
    return this.consume(Math.min(n, this.buf.length));
  }

  private consume(n: number): Buffer {
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  private async more(): Promise<boolean> {
    if (this.done) return false;
    const wait = new Promise<void>((resolve) => { this.wake = resolve; });
    this.socket.resume();
    await wait;
    this.wake = undefined;
    return true;
  }
}

function secure(socket: tls.TLSSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('secure', resolve);
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('the client closed before the TLS handshake finished')));
  });
}

function write(socket: Duplex, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed) { reject(new Error('the upstream connection is closed')); return; }
    if (socket.write(data)) { resolve(); return; }
    const onClose = (): void => reject(new Error('the upstream connection closed'));
    socket.once('close', onClose);
    socket.once('drain', () => { socket.off('close', onClose); resolve(); });
  });
}

/** Waits for the sockets to close, destroying what is still open after `grace` ms if given. */
async function closed(grace: number | undefined, ...sockets: (Duplex | undefined)[]): Promise<void> {
  await Promise.all(sockets.map((s) => {
    if (s === undefined || s.destroyed) return undefined;
    return new Promise<void>((resolve) => {
      const timer = grace === undefined ? undefined : setTimeout(() => s.destroy(), grace);
      s.once('close', () => { clearTimeout(timer); resolve(); });
    });
  }));
}
