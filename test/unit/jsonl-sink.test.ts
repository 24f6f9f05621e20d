import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { JsonlSink } from '../../src/audit/jsonl-sink.js';
import { deny } from '../../src/policy/decision.js';
import type { EgressEvent } from '../../src/egress/types.js';

const event = (host: string): EgressEvent => ({ kind: 'egress.denied', time: new Date().toISOString(), host, port: 443,
  method: 'CONNECT', decision: deny('egress.unlisted', 'not in the policy'), bytesUp: 0, bytesDown: 0, durationMs: 1 });

test('writes one private JSON line per event, and drops events that arrive after close', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'armorer-sink-')), 'egress.jsonl');
  const sink = new JsonlSink(file);
  sink.write(event('a.test'));
  sink.close();
  // A tunnel that outlived its run must not write into whatever file reused the descriptor.
  assert.doesNotThrow(() => sink.write(event('late.test')));
  assert.doesNotThrow(() => sink.close());
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  assert.deepEqual(lines.map((l) => (JSON.parse(l) as EgressEvent).host), ['a.test']);
  assert.equal(statSync(file).mode & 0o777, 0o600);
});

test('makes its directory, private, when Armorer\'s home does not exist yet', () => {
  const home = join(mkdtempSync(join(tmpdir(), 'armorer-sink-')), 'not-yet');
  const sink = new JsonlSink(join(home, 'egress.jsonl'));
  sink.write(event('b.test'));
  sink.close();
  assert.equal(statSync(home).mode & 0o777, 0o700);
  assert.match(readFileSync(join(home, 'egress.jsonl'), 'utf8'), /"host":"b\.test"/);
});
