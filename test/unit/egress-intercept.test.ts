import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { after, before, beforeEach, describe, test } from 'node:test';
import { ensureCa, leafFor, type LocalCa } from '../../src/egress/ca.js';
import { interceptTunnel, type InterceptEvent, type InterceptOptions } from '../../src/egress/intercept.js';
import { SurrogateTable } from '../../src/egress/surrogates.js';

const HOST = 'api.example.test';
const KEY = 'sk-ant-api03-Real0Secret1Value2For3The4Upstream5Only6';
const TOKEN = 'ghp_RealGithubToken0123456789abcdefABCDEF';
const PLAIN = 'real/plain+secret=value';
const table = SurrogateTable.create([
  { name: 'ANTHROPIC_API_KEY', host: HOST, value: KEY },
  { name: 'PLAIN_KEY', host: HOST, value: PLAIN },
  { name: 'GITHUB_TOKEN', host: 'github.example.test', value: TOKEN },
]);
const S = table.surrogates();

interface Seen { method: string; url: string; headers: Record<string, string | string[] | undefined>; body: string }
const root = mkdtempSync(join(tmpdir(), 'armorer-intercept-'));
let armorerCa: LocalCa;
let upstreamCa: LocalCa;
let upstreamPort: number;
const seen: Seen[] = [];
const servers: net.Server[] = [];

/** An HTTPS server on loopback that records each request and echoes it back as JSON. */
async function echoServer(cert: { certPem: string; keyPem: string }, log: Seen[]): Promise<number> {
  const server = https.createServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() };
      log.push(entry);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(entry));
    });
  });
  return listen(server);
}

async function listen(server: net.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A loopback "proxy" whose every connection is a CONNECT tunnel already answered with 200. */
async function interceptor(upstream: number, extra: Partial<InterceptOptions> = {}): Promise<{ port: number; events: InterceptEvent[] }> {
  const events: InterceptEvent[] = [];
  const server = net.createServer((socket) => {
    void interceptTunnel(socket, { host: HOST, port: upstream, address: '127.0.0.1' }, armorerCa, table, {
      upstreamCa: upstreamCa.certPem, onEvent: (e) => events.push(e), ...extra,
    });
  });
  return { port: await listen(server), events };
}

function agentFor(proxyPort: number): https.Agent {
  return new https.Agent({ keepAlive: true, maxSockets: 1, ca: armorerCa.certPem, servername: HOST, port: proxyPort } as https.AgentOptions);
}

async function request(proxyPort: number, path: string, init: { method?: string; headers?: Record<string, string>; body?: string; agent?: https.Agent } = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port: proxyPort, servername: HOST, ca: armorerCa.certPem, path,
      method: init.method ?? 'GET', headers: { host: HOST, ...init.headers }, agent: init.agent ?? false,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

async function eventually(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await sleep(10);
  assert.ok(check(), `timed out waiting for ${what}`);
}

before(async () => {
  armorerCa = await ensureCa(join(root, 'armorer'));
  upstreamCa = await ensureCa(join(root, 'upstream'));
  upstreamPort = await echoServer(await leafFor(upstreamCa, HOST), seen);
});
beforeEach(() => { seen.length = 0; });
after(() => {
  for (const s of servers) s.close();
  rmSync(root, { recursive: true, force: true });
});

describe('interceptTunnel', () => {
  test('serves the sandbox a leaf whose only SAN is the bound host', async () => {
    const { port } = await interceptor(upstreamPort);
    const socket = tls.connect({ host: '127.0.0.1', port, servername: HOST, ca: armorerCa.certPem });
    await new Promise<void>((resolve, reject) => { socket.once('secureConnect', resolve); socket.once('error', reject); });
    assert.equal(socket.getPeerCertificate().subjectaltname, `DNS:${HOST}`);
    assert.equal(socket.alpnProtocol, false);
    socket.destroy();
  });

  test('the upstream gets the real key in Authorization, x-api-key, a query and a JSON body; the client only surrogates', async () => {
    const { port, events } = await interceptor(upstreamPort);
    const body = JSON.stringify({ key: S.PLAIN_KEY, note: 'x' });
    const res = await request(port, `/v1/messages?key=${S.PLAIN_KEY}`, {
      method: 'POST', body,
      headers: { authorization: `Bearer ${S.ANTHROPIC_API_KEY}`, 'x-api-key': S.ANTHROPIC_API_KEY!, 'content-type': 'application/json' },
    });
    assert.equal(res.status, 200);
    const got = seen[0]!;
    assert.equal(got.headers.authorization, `Bearer ${KEY}`);
    assert.equal(got.headers['x-api-key'], KEY);
    assert.equal(new URL(got.url, 'https://x').searchParams.get('key'), PLAIN);
    assert.equal(JSON.parse(got.body).key, PLAIN);
    assert.equal(got.headers['content-length'], String(Buffer.byteLength(got.body)));
    assert.ok(!res.text.includes(KEY), 'a real value echoed back reaches the sandbox only as its surrogate');
    assert.ok(res.text.includes(S.ANTHROPIC_API_KEY!));
    await eventually(() => events.length === 1, 'the tunnel event');
    assert.deepEqual(events[0]!.replaced.sort(), ['ANTHROPIC_API_KEY', 'PLAIN_KEY']);
    assert.deepEqual(events[0]!.foreign, []);
    assert.ok(events[0]!.bytesUp > 0 && events[0]!.bytesDown > 0);
  });

  test('substitutes in a chunked body with a surrogate split across writes', async () => {
    const { port } = await interceptor(upstreamPort);
    const socket = tls.connect({ host: '127.0.0.1', port, servername: HOST, ca: armorerCa.certPem });
    await new Promise<void>((resolve) => socket.once('secureConnect', resolve));
    const s = S.ANTHROPIC_API_KEY!;
    const payload = `token=${s};`;
    const cut = 6 + Math.floor(s.length / 2);
    socket.write(`POST /upload HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`);
    for (const part of [payload.slice(0, cut), payload.slice(cut)]) {
      socket.write(`${Buffer.byteLength(part).toString(16)}\r\n${part}\r\n`);
      await sleep(20);
    }
    socket.write('0\r\n\r\n');
    const chunks: Buffer[] = [];
    for await (const c of socket) chunks.push(c as Buffer);
    assert.match(Buffer.concat(chunks).toString(), /^HTTP\/1\.1 200/);
    assert.equal(seen[0]!.body, `token=${KEY};`);
    assert.equal(seen[0]!.headers['transfer-encoding'], undefined);
    assert.equal(seen[0]!.headers['content-length'], String(payload.length));
  });

  test('streams a body larger than the buffer limit, chunked, still substituted', async () => {
    const { port } = await interceptor(upstreamPort, { maxBufferedBody: 1024 });
    const body = `${'a'.repeat(200_000)}${S.ANTHROPIC_API_KEY}${'b'.repeat(1000)}`;
    const res = await request(port, '/big', { method: 'PUT', body, headers: { 'content-type': 'text/plain' } });
    assert.equal(res.status, 200);
    assert.ok(seen[0]!.body === `${'a'.repeat(200_000)}${KEY}${'b'.repeat(1000)}`, 'the body arrives whole, substituted');
    assert.equal(seen[0]!.headers['transfer-encoding'], 'chunked');
  });

  test('keeps one tunnel alive across several requests', async () => {
    const { port, events } = await interceptor(upstreamPort);
    const agent = agentFor(port);
    for (let i = 0; i < 3; i++) {
      const res = await request(port, `/r${i}`, { agent, headers: { 'x-api-key': S.ANTHROPIC_API_KEY! } });
      assert.equal(res.status, 200);
    }
    agent.destroy();
    assert.deepEqual(seen.map((r) => r.url), ['/r0', '/r1', '/r2']);
    assert.ok(seen.every((r) => r.headers['x-api-key'] === KEY));
    await eventually(() => events.length === 1, 'one event for the one tunnel');
  });

  test('blocks with 403 a surrogate bound to another host, forwards nothing and reports it', async () => {
    const { port, events } = await interceptor(upstreamPort);
    const res = await request(port, '/exfil', { method: 'POST', body: `{"t":"${S.GITHUB_TOKEN}"}` });
    assert.equal(res.status, 403);
    assert.equal(JSON.parse(res.text).rule, 'broker.surrogate-wrong-host');
    await eventually(() => events.length === 1, 'the alert event');
    assert.deepEqual(events[0]!.foreign, ['GITHUB_TOKEN']);
    assert.equal(events[0]!.bytesUp, 0);
    assert.equal(seen.length, 0);
  });

  test('cuts off a streamed body at a foreign surrogate: the upstream never gets a whole request', async () => {
    const { port, events } = await interceptor(upstreamPort, { maxBufferedBody: 1024 });
    const body = `${'a'.repeat(100_000)}${S.GITHUB_TOKEN}`;
    // The 403 comes while the client may still be sending, so it can see a reset instead.
    const res = await request(port, '/big', { method: 'PUT', body }).catch(() => ({ status: 0, text: '' }));
    assert.ok(res.status === 403 || res.status === 0, `status ${res.status}`);
    await eventually(() => events.length === 1, 'the alert event');
    assert.deepEqual(events[0]!.foreign, ['GITHUB_TOKEN']);
    await sleep(50);
    assert.equal(seen.length, 0);
  });

  test('refuses a Host other than the bound host (421), so the real key cannot be routed elsewhere', async () => {
    const { port } = await interceptor(upstreamPort);
    const res = await request(port, '/', { headers: { host: 'evil.example.test', 'x-api-key': S.ANTHROPIC_API_KEY! } });
    assert.equal(res.status, 421);
    assert.equal(seen.length, 0);
  });

  test('fails closed on a wrong upstream certificate: untrusted issuer or another name', async () => {
    const stranger = await ensureCa(join(root, 'stranger'));
    const wrongSeen: Seen[] = [];
    const untrusted = await echoServer(await leafFor(stranger, HOST), wrongSeen);
    const wrongName = await echoServer(await leafFor(upstreamCa, 'other.example.test'), wrongSeen);
    for (const upstream of [untrusted, wrongName]) {
      const { port, events } = await interceptor(upstream);
      const res = await request(port, '/', { headers: { 'x-api-key': S.ANTHROPIC_API_KEY! } });
      assert.equal(res.status, 502);
      assert.equal(JSON.parse(res.text).rule, 'broker.upstream-tls');
      await eventually(() => events.length === 1, 'the failure event');
      assert.match(events[0]!.error ?? '', /upstream/);
    }
    assert.equal(wrongSeen.length, 0);
  });
});
