import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openAuditStore, verifyStore, type AuditEvent } from '../../src/audit/index.js';
import { backends, finished, lines, printed, spawnFixture, withStore } from './helpers.js';

for (const backend of backends()) {
  describe(`several processes on one ${backend.name} log`, () => {
    test('4 processes x 500 appends at once make 2000 events on one valid chain, signed with one key', () =>
      withStore(backend, async ({ home, url }) => {
        // A fresh home: the four race to create the signing key too. Then, all open, they are
        // told to start together.
        const children = [1, 2, 3, 4].map((w) => spawnFixture('writer.ts', [home, url, String(w), '500']));
        const results = children.map((c) => finished(c));
        await Promise.all(children.map((c) => printed(c, 'ready')));
        for (const c of children) c.stdin!.end('go\n');
        for (const r of await Promise.all(results)) assert.equal(r.code, 0, r.err);
        const report = await verifyStore(home, { url });
        assert.equal(report.ok, true, report.problem?.detail);
        assert.equal(report.events, 2000);
        assert.equal(report.keys.length, 1, 'one key, made once');
        assert.ok(report.checkpoints >= 2000 / 100, `a checkpoint at least every 100 events (${report.checkpoints})`);
        const reader = await openAuditStore(home, { url, readOnly: true });
        const events: AuditEvent[] = [];
        for (let after = 0; ;) {
          const page = await reader.query({ afterSeq: after, limit: 1000 });
          if (page.length === 0) break;
          events.push(...page);
          after = page[page.length - 1]!.seq;
        }
        await reader.close();
        for (const w of [1, 2, 3, 4]) {
          const mine = events.filter((e) => e.data['writer'] === w).map((e) => e.data['i']);
          assert.deepEqual(mine, Array.from({ length: 500 }, (_, i) => i), `writer ${w}: all 500, in its own order`);
        }
        // They really interleaved: the writers' events are not four solid blocks.
        const switches = events.filter((e, i) => i > 0 && e.agent !== events[i - 1]!.agent).length;
        assert.ok(switches > 3, `batches of different processes interleave (${switches} switches)`);
      }));

    test('kill -9 mid-stream: every acknowledged event survives, with its content, on a valid chain', () =>
      withStore(backend, async ({ home, url }) => {
        const child = spawnFixture('crash-writer.ts', [home, url]);
        const done = finished(child);
        const acked = new Map<number, number>();
        for await (const line of lines(child)) {
          const m = /^ack (\d+) (\d+)$/.exec(line);
          if (!m) continue;
          acked.set(Number(m[1]), Number(m[2]));
          if (acked.size === 200) child.kill('SIGKILL');
        }
        const r = await done;
        assert.equal(r.signal, 'SIGKILL', `the writer was killed, not finished: ${r.err}`);
        assert.ok(acked.size >= 200);

        const report = await verifyStore(home, { url });
        assert.equal(report.ok, true, report.problem?.detail);
        const reader = await openAuditStore(home, { url, readOnly: true });
        const stored = new Map((await reader.query({})).map((e) => [e.seq, e]));
        await reader.close();
        for (const [seq, i] of acked) {
          assert.equal(stored.get(seq)?.data['i'], i, `acknowledged seq ${seq} (append ${i}) is in the log with its content`);
        }
        assert.ok(report.events >= acked.size);
        // The writer never closed: events after its last every-50 checkpoint are unsigned, and said to be.
        assert.ok(report.lastCheckpoint === null || report.lastCheckpoint.seq % 50 === 0);
      }));
  });
}
