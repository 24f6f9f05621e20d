/**
 * The main job end to end, with the real OpenClaw from the npm registry: `armorer install openclaw`
 * (npm inside the sandbox, registry egress only), then `armorer run openclaw` (the gateway in the
 * sandbox, its model provider pointed through the credential broker at a FAKE OpenAI-compatible
 * server on 127.0.0.1). The npm registry is the only non-loopback host contacted; the fake server
 * stands in for api.openai.com through `--dangerously-redirect`.
 * Slow (about 1-3 minutes with a warm download cache): its own suite, run as root in CI.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chatTurn } from '../../src/agents/openclaw/chat.js';
import { FAKE_REPLY, startFakeModel } from '../../scripts/fake-model.js';
import { writeRegistryConfig } from '../lib/registry.js';
import { tempDirs } from '../lib/temp.js';

const MAIN = join(import.meta.dirname, '../../dist/cli/main.js');
const { tempDir, cleanup } = tempDirs('armorer-e2e');
const CACHE = process.env['ARMORER_E2E_CACHE_DIR'] ?? '/var/tmp/armorer-e2e-npm-cache';
/** The "real" key: the fake server must receive it, the sandbox must never hold it. */
const REAL_KEY = `sk-proj-E2E${randomBytes(18).toString('hex')}`;

let home = '';
let env: NodeJS.ProcessEnv = {};
let fake: Awaited<ReturnType<typeof startFakeModel>>;
let gateway: ChildProcess | null = null;
let gatewayErr = '';

function armorer(args: string[], input?: string, timeout = 120_000) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { env, encoding: 'utf8', timeout, ...(input !== undefined && { input }) });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

before(async () => {
  home = join(tempDir('home'), 'armorer');
  mkdirSync(CACHE, { recursive: true, mode: 0o700 });
  env = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: process.env['HOME'] ?? '/root', LANG: 'C.UTF-8', ARMORER_HOME: home,
    ARMORER_PASSPHRASE: 'e2e passphrase that is long enough', ARMORER_CACHE_DIR: CACHE,
    ...(process.env['NODE_EXTRA_CA_CERTS'] && { NODE_EXTRA_CA_CERTS: process.env['NODE_EXTRA_CA_CERTS'] }) };
  assert.equal(armorer(['init']).code, 0);
  await writeRegistryConfig(home);
  assert.equal(armorer(['secrets', 'init']).code, 0);
  const set = armorer(['secrets', 'set', 'OPENAI_API_KEY', '--from-stdin'], REAL_KEY);
  assert.equal(set.code, 0, set.err);
  fake = await startFakeModel(tempDir('fake-model'));
});

after(async () => {
  if (gateway && gateway.exitCode === null) {
    gateway.kill('SIGTERM');
    await new Promise((r) => { gateway!.once('exit', r); setTimeout(r, 15_000).unref(); });
  }
  fake?.server.close();
  cleanup();
});

describe('OpenClaw under Armorer', () => {
  let installSeconds = 0;
  test('installs from the registry inside the sandbox, with a policy from the intent', () => {
    const t0 = Date.now();
    const r = armorer(['install', 'openclaw', '--intent', 'chat with me using OpenAI; never run shell commands', '--yes', '--json'], undefined, 600_000);
    installSeconds = (Date.now() - t0) / 1000;
    assert.equal(r.code, 0, r.err.slice(-3000));
    const plan = JSON.parse(r.out) as { agent: string; grants: { scope: string; because: string }[] };
    assert.equal(plan.agent, 'openclaw');
    assert.deepEqual(plan.grants.map((g) => g.scope).sort(),
      ['net.outbound:api.openai.com:443', 'secrets.access:OPENAI_API_KEY@api.openai.com']);
    assert.ok(plan.grants.every((g) => g.because === 'OpenAI'), JSON.stringify(plan.grants));
    const rec = JSON.parse(readFileSync(join(home, 'agents/openclaw/agent.json'), 'utf8')) as { node: { source: string; version: string }; package: { version: string } };
    assert.equal(rec.node.source, process.versions.node.startsWith('20.') ? 'registry' : rec.node.source);
    assert.match(rec.node.version, /^24\./);
    process.stderr.write(`# install under Armorer: ${installSeconds.toFixed(1)} s (openclaw@${rec.package.version}, Node ${rec.node.version})\n`);
  });

  test('the hardened config denies exec and binds the gateway to loopback', () => {
    const cfg = JSON.parse(readFileSync(join(home, 'agents/openclaw/home/.openclaw/openclaw.json'), 'utf8')) as Record<string, any>;
    assert.equal(cfg['gateway'].bind, 'loopback');
    assert.equal(cfg['gateway'].auth.mode, 'token');
    assert.equal(statSync(join(home, 'agents/openclaw/home/.openclaw/openclaw.json')).mode & 0o077, 0);
    assert.ok(!JSON.stringify(cfg).includes(REAL_KEY), 'the real key is not in the agent config');
  });

  test('runs the gateway in the sandbox; /health and the WebSocket handshake answer on the published port', async () => {
    gateway = spawn(process.execPath, [MAIN, 'run', 'openclaw',
      '--dangerously-redirect', `api.openai.com=127.0.0.1:${fake.port}`, '--dangerously-trust-ca', fake.caFile], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    gateway.stderr!.on('data', (b: Buffer) => { gatewayErr += b.toString(); });
    gateway.stdout!.resume();
    type Status = { running: boolean; health: { ok: boolean; checks: { name: string; ok: boolean; detail: string }[] } | null; url: string };
    let status = null as Status | null;
    for (let i = 0; i < 90; i++) {
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal(gateway.exitCode, null, `armorer run exited early:\n${gatewayErr.slice(-3000)}`);
      const s = armorer(['status', 'openclaw', '--json']);
      if (s.code === 0 || s.code === 1) {
        status = JSON.parse(s.out) as Status;
        if (status?.health?.ok) break;
      }
    }
    assert.ok(status?.health?.ok, `gateway not healthy: ${JSON.stringify(status)}\n${gatewayErr.slice(-3000)}`);
    const res = await fetch(`${status!.url}health`);
    assert.deepEqual(await res.json(), { ok: true, status: 'live' });
    assert.deepEqual(status!.health!.checks.map((c) => c.name), ['GET /health', 'WebSocket connect + health']);
  });

  test('the real API key is nowhere inside the sandbox: not in any process env or cmdline, not in its files', () => {
    const sandboxPids = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try { return readFileSync(`/proc/${p}/cgroup`, 'utf8').includes('armorer'); } catch { return false; }
    });
    assert.ok(sandboxPids.length > 0, 'found the sandbox processes by their cgroup');
    for (const p of sandboxPids) {
      for (const f of ['environ', 'cmdline']) {
        let text = '';
        try { text = readFileSync(`/proc/${p}/${f}`, 'latin1'); } catch { continue; }
        assert.ok(!text.includes(REAL_KEY), `/proc/${p}/${f} holds the real key`);
      }
    }
    const grep = spawnSync('grep', ['-rlF', REAL_KEY, join(home, 'agents/openclaw')], { encoding: 'utf8' });
    assert.equal(grep.stdout, '', `files holding the key: ${grep.stdout}`);
  });

  test('one chat turn through the gateway reaches the fake model with the real key, added on the host', async () => {
    const cfg = JSON.parse(readFileSync(join(home, 'agents/openclaw/home/.openclaw/openclaw.json'), 'utf8')) as { gateway: { auth: { token: string } } };
    const rec = JSON.parse(readFileSync(join(home, 'agents/openclaw/agent.json'), 'utf8')) as { ports: { host: number } };
    const turn = await chatTurn(rec.ports.host, cfg.gateway.auth.token, 'Hello from the end-to-end test', 120_000);
    assert.equal(turn.reply, FAKE_REPLY);
    const requests = readFileSync(fake.log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { path: string; authorization: string | null; body: string });
    const chat = requests.filter((r) => r.path === '/v1/chat/completions' && r.body.includes('Hello from the end-to-end test'));
    assert.ok(chat.length >= 1, `the fake model saw the turn: ${requests.map((r) => r.path).join(', ')}`);
    assert.equal(chat[0]!.authorization, `Bearer ${REAL_KEY}`, 'the broker put the real key on the request');
    assert.ok(!chat[0]!.body.includes(REAL_KEY));
  });

  test('the gateway cannot reach a host outside its policy, and the denial is in the audit log', async () => {
    // OpenClaw asks the hosted plugin catalog (clawhub.ai) some seconds after it starts, with no
    // setting to stop it: wait for that attempt (bounded), then look at what was recorded.
    type Event = { kind: string; decision: string; data: { host: string } };
    let events: Event[] = [];
    for (let i = 0; i < 45; i++) {
      const r = armorer(['logs', '--agent', 'openclaw', '--json']);
      assert.equal(r.code, 0, r.err);
      events = r.out.trim().split('\n').map((l) => JSON.parse(l) as Event);
      if (events.some((e) => e.kind === 'egress.denied')) break;
      await new Promise((done) => setTimeout(done, 1000));
    }
    const denied = events.filter((e) => e.kind === 'egress.denied');
    assert.ok(denied.length >= 1, 'a denied connection was audited');
    assert.ok(denied.every((e) => e.decision === 'deny' && e.data.host !== 'api.openai.com'));
    assert.ok(events.some((e) => e.kind === 'egress.connection' && e.data.host === 'api.openai.com'), 'the granted host was reached');
  });

  test('stop ends the sandbox; the audit log verifies', async () => {
    const stop = armorer(['stop', 'openclaw']);
    assert.equal(stop.code, 0, stop.err);
    await new Promise((r) => { if (gateway!.exitCode !== null) r(null); else gateway!.once('exit', r); });
    assert.notEqual(gateway!.exitCode, null);
    const leftovers = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(join(home, 'agents/openclaw')); } catch { return false; }
    });
    assert.deepEqual(leftovers, [], 'no process of the agent is left');
    const verify = armorer(['logs', 'verify']);
    assert.equal(verify.code, 0, verify.out + verify.err);
    assert.match(verify.out + verify.err, /OK/);
  });
});
