/**
 * Shared pieces of the egress suite. Everything runs in-process against the source: a policy is
 * compiled, `startEgress` runs the proxy with an injected resolver and approver, and `runInBwrap`
 * runs the real sandbox, whose only network is the proxy at 127.0.0.1:3128 inside.
 *
 * Nothing here ever connects to a non-loopback address: the resolver maps test names to 127.0.0.1
 * or returns private/metadata addresses that the proxy must refuse before connecting, and a guard
 * on Socket#connect records every dial this process makes and refuses anything not loopback.
 */
import { egressEventsOf } from '../lib/audit-events.js';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttp, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { tempDirs } from '../lib/temp.js';
import { startEgress, type EgressSession } from '../../src/egress/session.js';
import type { PublishMapping } from '../../src/egress/publish.js';
import type { ApprovalAnswer, ApprovalRequest, Approver, EgressEvent, ResolvedAddress, Resolver } from '../../src/egress/types.js';
import { compilePolicy } from '../../src/policy/compile.js';
import { parsePolicy } from '../../src/policy/load.js';
import { runInBwrap, type RunResult } from '../../src/sandbox/bwrap/run.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Fresh 0755 directories under /tmp (the sandbox user root drops to must reach them), removed by `cleanup()`. */
export const { tempDir, cleanup } = tempDirs('armorer-eg');

// --- Dial guard: every outgoing TCP connection this process makes (the proxy's upstreams included).
// All of net.connect, http.request and tls.connect end in Socket#connect, whatever module system
// the proxy was loaded with: recording there sees every dial, and refuses any that is not loopback.
export const dials: string[] = [];
const isLoopback = (h: string) => /^127\./.test(h) || h === '::1' || h === 'localhost';
const socketConnect = net.Socket.prototype.connect as (...a: unknown[]) => net.Socket;
net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
  const first = args[0];
  const o = (Array.isArray(first) ? first[0] : typeof first === 'object' && first !== null ? first : { port: first, host: args[1] }) as
    { host?: string; port?: unknown; path?: string };
  if (typeof o.path !== 'string') { // http.request's options carry path: null
    const host = o.host ?? 'localhost';
    dials.push(`${host}:${String(o.port)}`);
    if (!isLoopback(host)) throw new Error(`egress test guard: refusing to dial non-loopback ${host}:${String(o.port)}`);
  }
  return socketConnect.apply(this, args);
} as typeof net.Socket.prototype.connect;

// --- Names the injected resolver knows. Private answers are never connected to (the proxy must refuse first).
export const NAMES: Record<string, string[]> = {
  'api.test': ['127.0.0.1'], 'a.wild.test': ['127.0.0.1'], 'deep.a.wild.test': ['127.0.0.1'],
  'wild.test': ['127.0.0.1'], 'evilwild.test': ['127.0.0.1'], 'other.test': ['127.0.0.1'], 'ports.test': ['127.0.0.1'],
  'private.test': ['10.0.0.1'], 'metadata.test': ['169.254.169.254'], 'lan.test': ['192.168.1.1'],
  'mapped.test': ['::ffff:10.0.0.1'], 'ula.test': ['fd00::1'], 'mixed.test': ['10.0.0.1', '192.168.1.1'],
};
export function testResolver(map = NAMES): { resolver: Resolver; asked: string[] } {
  const asked: string[] = [];
  const resolver: Resolver = async (host) => {
    asked.push(host);
    const a = map[host];
    if (!a) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return a.map((address): ResolvedAddress => ({ address, family: net.isIPv6(address) ? 6 : 4 }));
  };
  return { resolver, asked };
}

/** Records each question; answers it, never answers, honours the timeout with 'deny', or fails. */
export class TestApprover implements Approver {
  readonly asked: { req: ApprovalRequest; timeoutMs: number }[] = [];
  constructor(private readonly answer: ApprovalAnswer | 'never' | 'deny-on-timeout' | 'throw') {}
  ask(req: ApprovalRequest, timeoutMs: number): Promise<ApprovalAnswer> {
    this.asked.push({ req, timeoutMs });
    if (this.answer === 'never') return new Promise(() => {});
    if (this.answer === 'throw') return Promise.reject(new Error('approver crashed'));
    if (this.answer === 'deny-on-timeout') return new Promise((r) => setTimeout(() => r('deny'), timeoutMs));
    return Promise.resolve(this.answer);
  }
}

// --- Upstreams on 127.0.0.1 that record what reaches them.
export interface Upstream {
  port: number;
  server: HttpServer;
  /** `METHOD URL host=HOST` for each request. */
  requests: string[];
  connections(): number;
}
function handler(requests: string[]) {
  return (req: IncomingMessage, res: ServerResponse) => {
    requests.push(`${req.method} ${req.url} host=${req.headers.host}`);
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end(`upstream saw ${req.method} ${req.url}\n`));
  };
}
async function listen(server: HttpServer, requests: string[], event: string): Promise<Upstream> {
  let n = 0;
  server.on(event, () => { n++; });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, server, requests, connections: () => n };
}
export function httpUpstream(): Promise<Upstream> {
  const requests: string[] = [];
  return listen(createHttp(handler(requests)), requests, 'connection');
}
export function httpsUpstream(t: TestTls): Promise<Upstream> {
  const requests: string[] = [];
  return listen(createHttps({ key: readFileSync(t.key), cert: readFileSync(t.cert) }, handler(requests)), requests, 'connection');
}
export function closeAll(...ups: Upstream[]): void {
  for (const u of ups) {
    u.server.closeAllConnections();
    u.server.close();
  }
}

/** A throwaway CA (alone in `caDir`, which the sandbox may read) and a server certificate for `names`. */
export interface TestTls { caDir: string; caFile: string; key: string; cert: string }
export function makeTls(names: string[]): TestTls {
  const caDir = tempDir('ca');
  const priv = tempDir('tls-key');
  const caFile = join(caDir, 'ca.pem');
  const ossl = (...a: string[]) => execFileSync('openssl', a, { cwd: priv, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ossl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', caFile, '-days', '2', '-subj', '/CN=Armorer egress test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  ossl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${names[0]}`);
  writeFileSync(join(priv, 'ext.cnf'), `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\n` +
    'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  ossl('x509', '-req', '-in', 'server.csr', '-CA', caFile, '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem',
    '-days', '2', '-extfile', 'ext.cnf');
  chmodSync(caFile, 0o644);
  return { caDir, caFile, key: join(priv, 'server.key'), cert: join(priv, 'server.pem') };
}

// --- One sandboxed run behind the egress proxy.
export interface EgressRunOptions {
  /** net.outbound (or other) scopes; each gets a `because`. */
  grants?: string[];
  command: string[];
  approver?: Approver;
  approvalTimeoutMs?: number;
  publish?: PublishMapping[];
  env?: Record<string, string>;
  /** Start the proxy even with no net.outbound grant (default true). */
  egress?: boolean;
  resolver?: Resolver;
  /** Runs alongside the sandbox (kill the bridge, talk to a published port...). */
  during?: (ctx: { ws: string; home: string; session: EgressSession; stdout: () => string }) => Promise<void>;
}
export interface EgressRun {
  result: RunResult;
  stdout: string;
  stderr: string;
  events: EgressEvent[];
  /** Names the proxy asked the resolver about. */
  resolved: string[];
  approver: TestApprover | Approver;
  home: string;
  ws: string;
  session: EgressSession;
  notices: string[];
}

export const because = (scope: string) => `the egress suite grants ${scope}`;

export async function runEgress(o: EgressRunOptions): Promise<EgressRun> {
  const ws = tempDir('ws');
  const home = tempDir('home');
  const doc = { version: 1, grants: (o.grants ?? []).map((scope) => ({ scope, because: because(scope) })) };
  const policy = parsePolicy(JSON.stringify(doc), 'egress-suite.yaml', { home: '/nonexistent', workspace: ws });
  const spec = compilePolicy(policy, {
    command: o.command, workspace: ws, armorerHome: home, egress: o.egress ?? true, hostEnv: {},
    limitFlags: { timeoutSeconds: 30 }, // every run is killed after 30 s at the latest
  });
  const { resolver, asked } = o.resolver ? { resolver: o.resolver, asked: [] as string[] } : testResolver();
  const approver = o.approver ?? new TestApprover('deny');
  const notices: string[] = [];
  const session = await startEgress({
    agent: 'egress-suite', grants: policy.grants, armorerHome: home, publish: o.publish ?? [], allowLoopbackUpstream: true,
    approvalTimeoutMs: o.approvalTimeoutMs ?? 300, approver, resolver, notice: (l) => notices.push(l),
    proxyPort: spec.network.proxyPort,
  });
  spec.env = { ...spec.env, ...session.env, ...o.env };
  spec.mounts.push(...session.mounts);
  let out = '';
  let err = '';
  const stdout = new Writable({ write(c: Buffer, _e, cb) { out += c.toString(); cb(); } });
  const stderr = new Writable({ write(c: Buffer, _e, cb) { err += c.toString(); cb(); } });
  let result: RunResult;
  let during: Promise<unknown> | undefined;
  try {
    const run = runInBwrap(spec, {
      stateDir: join(home, 'run'), stdin: 'ignore', stdout, stderr, notice: (l) => notices.push(l),
      egress: {
        onConnection: session.runOptions.onConnection,
        onBridge: async (b) => {
          await session.runOptions.onBridge?.(b);
          during = o.during?.({ ws, home, session, stdout: () => out }).then(() => null, (e: unknown) => e);
        },
      },
    });
    result = await run;
    const failed = await during;
    if (failed) throw failed;
    // Events are written when each connection closes: let the proxy see every close first.
    for (let i = 0; i < 40 && session.proxy.connections > 0; i++) await sleep(50);
  } finally {
    await Promise.race([session.close(), new Promise((r) => setTimeout(r, 5000).unref())]);
  }
  const events = await egressEventsOf(home);
  return { result, stdout: out, stderr: err, events, resolved: asked, approver, home, ws, session, notices };
}

/** `sh -c SCRIPT` inside the sandbox. */
export const sh = (script: string) => ['/bin/sh', '-c', script];

/**
 * Inside the sandbox: sends each base64 argument as raw bytes on a fresh connection to the proxy
 * at 127.0.0.1:3128 and prints one JSON line per request with the whole response (base64).
 */
export const RAW_CLIENT = `
const net = require('net');
(async () => {
  for (const b64 of process.argv.slice(1)) {
    const r = await new Promise((resolve) => {
      const chunks = [];
      const s = net.connect(3128, '127.0.0.1');
      let idle;
      const done = (err) => { clearTimeout(t); clearTimeout(idle); s.destroy(); resolve({ data: Buffer.concat(chunks).toString('base64'), err }); };
      const t = setTimeout(() => done('timeout'), 4000);
      s.on('connect', () => s.write(Buffer.from(b64, 'base64')));
      // A kept-alive connection never ends: 400 ms without data after a response means it is complete.
      s.on('data', (c) => { chunks.push(c); clearTimeout(idle); idle = setTimeout(() => done('open'), 400); });
      s.on('end', () => done(null));
      s.on('error', (e) => done(e.code));
    });
    process.stdout.write(JSON.stringify(r) + '\\n');
  }
})();
`;

export interface RawResponse { status: number; headers: Record<string, string>; body: string; raw: string; err: string | null }
export function parseResponse(raw: string, err: string | null = null): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  const head = end === -1 ? raw : raw.slice(0, end);
  const [statusLine, ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0), headers,
    body: end === -1 ? '' : raw.slice(end + 4), raw, err };
}
/** The RAW_CLIENT output of a run, one response per request sent. */
export function rawResponses(stdout: string): RawResponse[] {
  return stdout.split('\n').filter(Boolean).map((l) => {
    const { data, err } = JSON.parse(l) as { data: string; err: string | null };
    return parseResponse(Buffer.from(data, 'base64').toString('latin1'), err);
  });
}
export const b64 = (s: string) => Buffer.from(s, 'latin1').toString('base64');

/** A port nothing listens on right now (for --publish). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** Polls until `file` exists (written by the sandbox into its workspace) or `ms` passes. */
export async function waitForFile(file: string, ms = 10_000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(25)) if (existsSync(file)) return true;
  return false;
}
