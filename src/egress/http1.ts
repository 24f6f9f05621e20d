/**
 * A small, strict HTTP/1.1 request reader for intercepted tunnels: bounded heads, explicit
 * framing (Content-Length or chunked, never both), and a byte reader over a TLS socket.
 */
import type { Duplex } from 'node:stream';
import type { InterceptTarget } from './intercept.js';
import type { SubstitutionContext } from './surrogates.js';

const MAX_HEAD = 64 * 1024;
const MAX_HEADERS = 200;
const MAX_LINE = 4096;
const PIECE = 64 * 1024;
const TOKEN_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export const REASONS: Record<number, string> = {
  400: 'Bad Request', 403: 'Forbidden', 405: 'Method Not Allowed', 421: 'Misdirected Request',
  431: 'Request Header Fields Too Large', 501: 'Not Implemented', 502: 'Bad Gateway',
};

export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly rule = 'broker.bad-request') {
    super(message);
  }
}

export interface RequestHead { line: string; method: string; target: string; headers: [string, string][] }
export type Framing = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' };

export function parseHead(head: Buffer): RequestHead {
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
export function checkTarget(req: RequestHead, target: InterceptTarget): void {
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
export function framingOf(headers: [string, string][]): Framing {
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
export async function* bodyPieces(reader: Reader, framing: Framing): AsyncGenerator<Buffer> {
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
export function bodyContext(headers: [string, string][]): SubstitutionContext {
  const type = headers.find(([n]) => n.toLowerCase() === 'content-type')?.[1].toLowerCase() ?? '';
  if (/^application\/([\w.+-]+\+)?json\b/.test(type)) return 'json';
  return type.startsWith('application/x-www-form-urlencoded') ? 'url' : 'raw';
}

export function serialise(line: Buffer, headers: [string, string][]): Buffer {
  return Buffer.concat([line, Buffer.from(`\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`, 'latin1')]);
}

/** Pull-style reading of the client's bytes, pausing the socket past 64 KiB unread. */
export class Reader {
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
