import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { allow, deny, type Decision } from '../policy/decision.js';
import { guardResolved, type PrivateUpstream } from './address.js';
import { denialParts, denialResponse, egressEvent } from './respond.js';
import { decideTarget, targetScope } from './rules.js';
import { hostPort, parseAbsoluteTarget, parseConnectTarget } from './target.js';
import { EgressRequestError, type ApprovalAnswer, type Approver, type EgressEvent, type EgressRule, type EgressTarget, type EventSink,
  type ResolvedAddress, type Resolver } from './types.js';

export interface ProxyOptions {
  agent: string;
  rules: EgressRule[];
  resolver: Resolver;
  approver: Approver;
  approvalTimeoutMs: number;
  sink: EventSink;
  /** `--dangerously-allow-loopback-upstream`: lets upstreams on 127.0.0.0/8 and ::1 through (tests, benchmarks). */
  allowLoopbackUpstream: boolean;
  privateUpstreams?: readonly PrivateUpstream[];
  maxConnections: number;
  idleTimeoutMs: number;
  /** Requests to the proxy itself (origin-form, `/<binding>/...`): the credential broker. */
  broker?: { handle(req: IncomingMessage, res: ServerResponse): void };
  /** Tunnels to hosts with secret bindings are handed here instead of piped blind. */
  interceptor?: { wants(host: string): boolean; tunnel(client: Socket, target: EgressTarget, pinned: ResolvedAddress, done: (up: number, down: number) => void): void };
}

/**
 * The per-run egress proxy: HTTP CONNECT and plain-HTTP forwarding for sockets the bridge hands
 * over from inside the sandbox. Every connection gets one Decision, made before any connect
 * (rules, then an approval for an unlisted host, then the resolved address), and one event.
 */
export class EgressProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly always: EgressRule[] = [];

  constructor(private readonly opts: ProxyOptions) {
    // Node's parser is strict: CR/LF injection, NUL and malformed requests never reach us.
    // A failure inside a handler ends that connection, never the run.
    this.server = createServer({ requireHostHeader: false }, (req, res) => {
      this.onRequest(req, res).catch(() => res.destroy());
    });
    this.server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.onConnect(req, socket as Socket, head).catch(() => socket.destroy());
    });
    this.server.on('clientError', (_e, socket) => {
      if (socket.writable) socket.end(denialResponse(400, deny('request.malformed', 'the proxy could not parse this request')));
    });
  }

  /** A client connection from inside the sandbox. */
  handle(socket: Socket): void {
    if (this.sockets.size >= this.opts.maxConnections) {
      socket.end(denialResponse(503, deny('egress.too-many-connections',
        `more than ${this.opts.maxConnections} connections at once; wait for some to finish`)));
      return;
    }
    this.sockets.add(socket);
    // A client may reset at any moment (after a 403, mid-tunnel): that ends its connection, not the run.
    socket.on('error', () => socket.destroy());
    socket.once('close', () => { this.sockets.delete(socket); });
    socket.setTimeout(this.opts.idleTimeoutMs, () => socket.destroy());
    socket.resume();
    this.server.emit('connection', socket);
  }

  get connections(): number {
    return this.sockets.size;
  }

  /** Rules granted with "always" during this run (the caller persists them). */
  get grantedAlways(): readonly EgressRule[] {
    return this.always;
  }

  private async onConnect(req: IncomingMessage, client: Socket, head: Buffer): Promise<void> {
    const started = Date.now();
    let target: EgressTarget;
    try {
      target = parseConnectTarget(req.url ?? '');
    } catch (e) {
      return this.refuse(client, started, { host: req.url ?? '', port: 0 }, 'CONNECT', requestDecision(e));
    }
    const verdict = await this.decide(target);
    if (!('pinned' in verdict)) return this.refuse(client, started, target, 'CONNECT', verdict.decision);
    const { pinned, decision } = verdict;
    if (this.opts.interceptor?.wants(target.host)) {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) client.unshift(head);
      this.opts.interceptor.tunnel(client, target, pinned, (up, down) =>
        this.emit('egress.connection', target, 'CONNECT', decision, started, pinned.address, up, down));
      return;
    }
    // Downloads dominate: relay them through one reused buffer per tunnel instead of a fresh
    // allocation per read (which keeps the garbage collector busy), pausing reads until each
    // write is done so the buffer is never overwritten while queued.
    const upstream = connect({
      host: pinned.address, port: target.port,
      onread: {
        buffer: Buffer.allocUnsafe(RELAY_BUFFER),
        callback: (n: number, buf: Uint8Array) => {
          client.write(buf.subarray(0, n), () => upstream.resume());
          return false;
        },
      },
    });
    upstream.setTimeout(this.opts.idleTimeoutMs, () => upstream.destroy());
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      client.pipe(upstream);
    });
    upstream.once('end', () => client.end());
    const finish = once(() => {
      client.destroy();
      upstream.destroy();
      this.emit('egress.connection', target, 'CONNECT', decision, started, pinned.address, upstream.bytesWritten, upstream.bytesRead);
    });
    upstream.once('error', (e) => {
      if (client.writable && upstream.bytesRead === 0) client.end(denialResponse(502, deny('egress.upstream', `upstream ${target.host}:${target.port} failed: ${e.message}`)));
      finish();
    });
    upstream.once('close', finish);
    client.once('close', finish);
    client.once('error', finish);
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const url = req.url ?? '';
    if (url.startsWith('/')) {
      if (this.opts.broker) return this.opts.broker.handle(req, res);
      return void res.writeHead(404, { 'content-type': 'text/plain' }).end('armorer egress proxy: no credential broker bindings in this run\n');
    }
    let target: EgressTarget & { path: string };
    try {
      // Node keeps one of several Host headers; two of them is an ambiguity we refuse, not resolve.
      if ((req.headersDistinct.host?.length ?? 0) > 1) throw new EgressRequestError('request.host-mismatch', 'more than one Host header');
      target = parseAbsoluteTarget(url, req.headers.host);
    } catch (e) {
      return this.refuseHttp(res, started, { host: url, port: 0 }, requestDecision(e));
    }
    const verdict = await this.decide(target);
    if (!('pinned' in verdict)) return this.refuseHttp(res, started, target, verdict.decision);
    const headers = { ...req.headers };
    for (const h of ['proxy-authorization', 'proxy-connection', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer']) delete headers[h];
    headers.host = hostPort(target);
    const up = httpRequest({ host: verdict.pinned.address, port: target.port, method: req.method, path: target.path, headers, setHost: false });
    let bytesDown = 0;
    up.on('response', (r) => {
      // Hop-by-hop headers describe the upstream connection, not the client's: Node frames the
      // body for the client's own HTTP version and Connection header.
      res.writeHead(r.statusCode ?? 502, endToEnd(r.headers));
      r.on('data', (c: Buffer) => { bytesDown += c.length; });
      r.pipe(res);
      r.once('end', () => this.emit('egress.connection', target, 'HTTP', verdict.decision, started, verdict.pinned.address,
        up.socket?.bytesWritten ?? 0, bytesDown));
    });
    up.once('error', (e) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(`armorer: upstream failed: ${e.message}\n`);
      this.emit('egress.connection', target, 'HTTP', verdict.decision, started, verdict.pinned.address, 0, 0);
    });
    req.pipe(up);
  }

  /** Rules, then a person for unlisted hosts, then the resolved address: all before any connect. */
  private async decide(target: EgressTarget): Promise<{ pinned: ResolvedAddress; decision: Decision } | { decision: Decision }> {
    let decision = decideTarget(target, this.opts.rules);
    if (decision.effect !== 'allow') {
      // "always" answers cover exactly the host and port approved, and only what the policy did
      // not already decide: they never turn another port of that host from a question into a deny.
      const approved = this.always.find((r) => r.host === target.host && r.ports.includes(target.port));
      if (approved) decision = decideTarget(target, [approved]);
    }
    if (decision.effect === 'ask') decision = await this.askPerson(target, decision);
    if (decision.effect !== 'allow') return { decision };
    let addresses: ResolvedAddress[];
    try {
      addresses = await this.opts.resolver(target.host);
    } catch (e) {
      return { decision: deny('egress.dns', `${target.host} did not resolve: ${(e as Error).message}`) };
    }
    const guarded = guardResolved(target.host, addresses, this.opts.allowLoopbackUpstream, this.opts.privateUpstreams);
    if ('decision' in guarded) return { decision: guarded.decision };
    return { pinned: guarded.address, decision };
  }

  private async askPerson(target: EgressTarget, asked: Decision): Promise<Decision> {
    const scope = targetScope(target);
    // The proxy enforces the timeout itself: an approver that never answers, or fails, is a deny.
    let timer: NodeJS.Timeout | undefined;
    const answer = await Promise.race([
      this.opts.approver.ask({ agent: this.opts.agent, scope, summary: `connect to ${target.host}:${target.port} (${asked.reason})` },
        this.opts.approvalTimeoutMs).catch((): ApprovalAnswer => 'deny'),
      new Promise<ApprovalAnswer>((r) => { timer = setTimeout(() => r('deny'), this.opts.approvalTimeoutMs); }),
    ]).finally(() => clearTimeout(timer));
    if (answer === 'deny') return deny('approval.denied', `${asked.reason}, and no one approved it (denied, timed out, or no terminal to ask)`);
    if (answer === 'always') {
      this.always.push({ host: target.host, wildcard: false, ports: [target.port], scope, because: 'approved "always" during the run' });
      return allow(scope, 'approved "always" by a person during the run');
    }
    return allow(scope, 'approved once by a person');
  }

  private refuse(client: Socket, started: number, t: Pick<EgressTarget, 'host' | 'port'>, method: EgressEvent['method'], d: Decision): void {
    if (client.writable) client.end(denialResponse(403, d));
    this.emit('egress.denied', t, method, d, started);
  }

  private refuseHttp(res: ServerResponse, started: number, t: Pick<EgressTarget, 'host' | 'port'>, d: Decision): void {
    const { headers, body } = denialParts(d);
    res.writeHead(403, headers).end(body);
    this.emit('egress.denied', t, 'HTTP', d, started);
  }

  private emit(kind: EgressEvent['kind'], t: Pick<EgressTarget, 'host' | 'port'>, method: EgressEvent['method'], decision: Decision,
    started: number, address?: string, bytesUp = 0, bytesDown = 0): void {
    this.opts.sink.write(egressEvent(kind, t, method, decision, started, { address, bytesUp, bytesDown }));
  }

  /** Ends every open connection and returns once their last events are written. */
  async close(): Promise<void> {
    const open = [...this.sockets].map((s) => new Promise<void>((r) => {
      s.once('close', () => setImmediate(r));
      s.destroy();
    }));
    await Promise.race([Promise.all(open), new Promise((r) => setTimeout(r, 2000))]);
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

const RELAY_BUFFER = 128 * 1024;

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authenticate'];

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const listed = String(headers.connection ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
  const out: IncomingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.includes(k) && !listed.includes(k)) out[k] = v;
  return out;
}

function requestDecision(e: unknown): Decision {
  if (e instanceof EgressRequestError) return deny(e.rule, e.message);
  return deny('request.malformed', (e as Error).message);
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (!done) {
      done = true;
      fn();
    }
  };
}
