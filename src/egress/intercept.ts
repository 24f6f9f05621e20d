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
import { bodyContext, bodyPieces, checkTarget, framingOf, HttpError, parseHead, Reader, REASONS, serialise } from './http1.js';
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

const MAX_REQUESTS = 100_000;
const CLOSE_GRACE_MS = 5000;


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
