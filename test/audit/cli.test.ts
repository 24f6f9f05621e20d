import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { openAuditStore } from '../../src/audit/index.js';
import { backends, withStore, type StoreContext } from './helpers.js';

// The bundled CLI, as users run it (better-sqlite3 and pg are loaded from node_modules at run time).
const MAIN = join(import.meta.dirname, '../../dist/cli/main.js');

function armorer(home: string, args: string[]) {
  assert.ok(existsSync(MAIN), `${MAIN} is missing: run "npm run build" first`);
  const r = spawnSync(process.execPath, [MAIN, ...args], { env: { ...process.env, ARMORER_HOME: home }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The store named in config.yaml, as `armorer logs` finds it, with a few events. */
async function seed(ctx: StoreContext): Promise<void> {
  if (ctx.url !== 'sqlite') writeFileSync(join(ctx.home, 'config.yaml'), `version: 1\naudit:\n  store: ${ctx.url}\n`);
  const store = await openAuditStore(ctx.home, { checkpointEvery: 5 });
  for (let i = 1; i <= 12; i++) {
    await store.append({
      agent: i % 2 ? 'notes' : 'mail', kind: i % 3 ? 'egress.connection' : 'egress.denied', decision: i % 3 ? 'allow' : 'deny',
      rule: i % 3 ? 'net.outbound:api.example.com' : 'egress.unlisted', reason: i === 3 ? 'evil.test\u001b[2J is not in the policy' : `event ${i}`,
      data: { i },
    });
  }
  await store.close();
}

for (const backend of backends()) {
  describe(`armorer logs (${backend.name})`, () => {
    test('lists events one readable line each, filters them, and prints JSON lines', () =>
      withStore(backend, async (ctx) => {
        await seed(ctx);
        const all = armorer(ctx.home, ['logs']);
        assert.equal(all.code, 0, all.err);
        const lines = all.out.trim().split('\n');
        assert.equal(lines.length, 12);
        assert.match(lines[2]!, /^\S+Z {2}#3 {2}notes {2}egress\.denied {2}deny {2}egress\.unlisted {2}evil\.test\\u001b\[2J is not in the policy$/);
        assert.doesNotMatch(all.out, /\u001b/, 'no raw escape sequence reaches the terminal');
        const denied = armorer(ctx.home, ['logs', '--kind', 'egress.denied', '--agent', 'mail', '--json']);
        assert.deepEqual(denied.out.trim().split('\n').map((l) => (JSON.parse(l) as { seq: number }).seq), [6, 12]);
        assert.equal(armorer(ctx.home, ['logs', '--since', '1h']).out.trim().split('\n').length, 12);
        assert.equal(armorer(ctx.home, ['logs', '--since', '2999-01-01']).out, '');
      }));

    test('verify exits 0 on an intact log, and 1 naming the first bad event after an edit', () =>
      withStore(backend, async (ctx) => {
        await seed(ctx);
        const good = armorer(ctx.home, ['logs', 'verify']);
        assert.equal(good.code, 0, good.out + good.err);
        assert.match(good.out, /^audit log: OK: 12 event\(s\) \(seq 1\.\.12\), every hash and link recomputed; 3 checkpoint signature\(s\) valid/);
        await ctx.sql("UPDATE audit_events SET decision = 'allow' WHERE seq = 6");
        const bad = armorer(ctx.home, ['logs', 'verify']);
        assert.equal(bad.code, 1);
        assert.match(bad.out, /^audit log: FAILED at seq 6: edited\n {2}seq 6 does not match its hash/);
        const json = JSON.parse(armorer(ctx.home, ['logs', 'verify', '--json']).out) as { ok: boolean; problem: { seq: number; reason: string } };
        assert.deepEqual([json.ok, json.problem.seq, json.problem.reason], [false, 6, 'edited']);
      }));
  });
}

describe('armorer logs export, checkpoint and follow', () => {
  const sqlite = backends()[0]!;

  test('exports to a new private file that verifies; a changed copy fails; an existing file is not overwritten', () =>
    withStore(sqlite, async (ctx) => {
      await seed(ctx);
      const file = join(ctx.home, 'export.jsonl');
      const r = armorer(ctx.home, ['logs', 'export', '--format', 'jsonl', '--output', file]);
      assert.equal(r.code, 0, r.err);
      assert.match(r.err, /exported 12 event\(s\) and 3 checkpoint\(s\)/);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(armorer(ctx.home, ['logs', 'verify', '--file', file, '--public-key', join(ctx.home, 'keys/audit-ed25519.pub')]).code, 0);
      const again = armorer(ctx.home, ['logs', 'export', '--format', 'jsonl', '--output', file]);
      assert.equal(again.code, 2);
      assert.match(again.err, /already exists \[ARMORER_E_USAGE\]/);
      writeFileSync(file, readFileSync(file, 'utf8').replace('"event 4"', '"event four"'));
      const bad = armorer(ctx.home, ['logs', 'verify', '--file', file]);
      assert.equal(bad.code, 1);
      assert.match(bad.out, /FAILED at seq 4: edited/);
      const unknown = armorer(ctx.home, ['logs', 'export', '--format', 'csv']);
      assert.equal(unknown.code, 2);
      assert.match(unknown.err, /--format must be jsonl or syslog/);
    }));

  test('a checkpoint kept elsewhere catches a tail cut together with its checkpoints', () =>
    withStore(sqlite, async (ctx) => {
      await seed(ctx);
      const kept = join(ctx.home, 'kept-checkpoint.json');
      const cp = armorer(ctx.home, ['logs', 'checkpoint', '--json']);
      assert.equal(cp.code, 0, cp.err);
      writeFileSync(kept, cp.out);
      assert.equal((JSON.parse(cp.out) as { seq: number }).seq, 12);
      await ctx.sql('DELETE FROM audit_events WHERE seq > 10; DELETE FROM audit_checkpoints WHERE seq > 10');
      assert.equal(armorer(ctx.home, ['logs', 'verify']).code, 0, 'the log alone cannot show it');
      const r = armorer(ctx.home, ['logs', 'verify', '--checkpoint', kept]);
      assert.equal(r.code, 1);
      assert.match(r.out, /FAILED at seq 11: truncated\n {2}the log ends at seq 10, but a checkpoint .* covers seq 12: events 11\.\.12/);
    }));

  test('--since that is neither a time nor a duration is a usage error with a fix', () =>
    withStore(sqlite, async (ctx) => {
      await seed(ctx);
      const r = armorer(ctx.home, ['logs', '--since', 'last tuesday']);
      assert.equal(r.code, 2);
      assert.match(r.err, /--since "last tuesday" is neither a time nor a duration \[ARMORER_E_USAGE\]\n {2}fix: .*10m, 2h, 1d/);
    }));

  test('-f prints new events as they are committed and stops on SIGINT', () =>
    withStore(sqlite, async (ctx) => {
      await seed(ctx);
      const child = spawn(process.execPath, [MAIN, 'logs', '-f', '--json', '--agent', 'live'], {
        env: { ...process.env, ARMORER_HOME: ctx.home }, stdio: ['ignore', 'pipe', 'pipe'],
      });
      const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
      const store = await openAuditStore(ctx.home);
      const seen: number[] = [];
      const deadline = setTimeout(() => child.kill('SIGKILL'), 30_000);
      // One event to start; each line read triggers the next, three in all, then Ctrl-C.
      await store.append({ agent: 'live', kind: 'test.follow', data: { n: 0 } });
      for await (const line of createInterface({ input: child.stdout })) {
        seen.push((JSON.parse(line) as { data: { n: number } }).data.n);
        if (seen.length === 3) break;
        await store.append({ agent: 'other', kind: 'test.follow' });
        await store.append({ agent: 'live', kind: 'test.follow', data: { n: seen.length } });
      }
      child.kill('SIGINT');
      assert.equal(await exited, 0);
      clearTimeout(deadline);
      await store.close();
      assert.deepEqual(seen, [0, 1, 2]);
    }));
});
