/**
 * `armorer install --assist --dry-run` through the real CLI: the assistant is a real HTTP server on
 * 127.0.0.1 answering like an OpenAI-compatible endpoint; its key comes from the real age store.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tempDirs } from '../lib/temp.js';

const { tempDir, cleanup: cleanupTemp } = tempDirs('armorer-assist');
after(cleanupTemp);

const MAIN = join(import.meta.dirname, '../../dist/cli/main.js');

function armorer(args: string[], env: Record<string, string>, input = ''): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [MAIN, ...args], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env } });
    let out = '';
    let err = '';
    c.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    c.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    c.on('close', (code) => resolve({ code, out, err }));
    c.stdin.end(input);
  });
}

test('--assist maps words the catalog missed to catalog entries, shown with their phrase; the key goes to the assistant only', async () => {
  const seen: { auth: string | undefined; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      seen.push({ auth: req.headers.authorization, body });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ choices: [{ message: { role: 'assistant', content: JSON.stringify({ choices: [{ capability: 'teams', phrase: 'office messenger' }] }) } }] }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const home = join(tempDir('assist'), 'h');
    const env = { ARMORER_HOME: home, ARMORER_PASSPHRASE: 'assist test passphrase' };
    assert.equal((await armorer(['init'], env)).code, 0);
    writeFileSync(join(home, 'config.yaml'), `version: 1\nintent:\n  assist:\n    endpoint: http://127.0.0.1:${(server.address() as { port: number }).port}/v1\n    model: tiny\n    secret: ASSIST_KEY\n`);
    assert.equal((await armorer(['secrets', 'init'], env)).code, 0);
    assert.equal((await armorer(['secrets', 'set', 'ASSIST_KEY', '--from-stdin'], env, 'sk-assist-0123456789abcdef')).code, 0);
    const r = await armorer(['install', 'openclaw', '--intent', 'answer my office messenger using OpenAI', '--assist', '--dry-run', '--json'], env);
    assert.equal(r.code, 0, r.err);
    const plan = JSON.parse(r.out) as { grants: { scope: string; because: string }[]; not_understood: string[] };
    assert.ok(plan.grants.some((g) => g.because === 'office messenger'), JSON.stringify(plan.grants));
    assert.ok(!plan.not_understood.includes('messenger'), plan.not_understood.join(','));
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.auth, 'Bearer sk-assist-0123456789abcdef');
    const without = await armorer(['install', 'openclaw', '--intent', 'answer my office messenger using OpenAI', '--dry-run', '--json'], env);
    assert.ok((JSON.parse(without.out) as { not_understood: string[] }).not_understood.includes('messenger'), 'without --assist the words stay not understood');
    assert.equal(seen.length, 1, 'without --assist nothing is asked');
  } finally {
    server.close();
  }
});

test('--assist without an assistant in config.yaml is a coded error with the fix', async () => {
  const home = join(tempDir('assist'), 'h');
  const r = await armorer(['install', 'openclaw', '--intent', 'blorp using OpenAI', '--assist', '--dry-run'], { ARMORER_HOME: home });
  assert.equal(r.code, 125);
  assert.match(r.err, /ARMORER_E_CONFIG/);
  assert.match(r.err, /intent: \{ assist:/);
});
