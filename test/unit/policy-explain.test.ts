import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  defaultPolicy, explainLimits, explainPolicy, formatExplanation, parsePolicy, type ScopeContext,
} from '../../src/policy/index.js';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'armorer-explain-')));
after(() => rmSync(root, { recursive: true, force: true }));
const ctx: ScopeContext = { home: join(root, 'home'), workspace: join(root, 'ws') };

const policy = parsePolicy([
  'version: 1',
  'name: notes',
  'grants:',
  '  - scope: files.read:~/notes',
  '    because: the intent said "read my notes"',
  '  - files.write:${workspace}/out',
  '  - net.outbound:*.example.com:443',
  '  - shell.exec',
  '  - secrets.access:OPENAI_API_KEY@api.openai.com',
  '  - env.pass:PATH',
  'limits: {memory: 1GiB, timeout: 300}',
  'sandbox: {unixSockets: false, protect: [.envrc]}',
].join('\n'), join(root, 'notes.yaml'), ctx);

describe('explainPolicy', () => {
  test('says a read grant can read but not write, and why', () => {
    const [g] = explainPolicy(policy);
    assert.equal(g!.scope, `files.read:${ctx.home}/notes`);
    assert.equal(g!.written, 'files.read:~/notes');
    assert.equal(g!.allows, `can read (not write) ${ctx.home}/notes and everything under it`);
    assert.equal(g!.because, 'the intent said "read my notes"');
    assert.equal(g!.line, 4);
    assert.equal(g!.effective, true);
  });

  test('says what a network grant lets through, and that a bound secret never enters the sandbox', () => {
    const [, , net, , secret] = explainPolicy(policy);
    assert.match(net!.allows, /any subdomain of example\.com \(not example\.com itself\) on port 443/);
    assert.match(net!.allows, /through the egress proxy/);
    assert.equal(net!.effective, true);
    assert.match(secret!.allows, /without ever holding it/);
    assert.equal(secret!.effective, true);
  });

  test('says shell.exec governs the agent\'s tool, not what the OS can execute', () => {
    const shell = explainPolicy(policy)[3]!;
    assert.match(shell.allows, /at the OS level the sandbox can always execute the binaries it can see/);
  });

  test('says env.pass of a variable Armorer sets replaces Armorer\'s value', () => {
    assert.match(explainPolicy(policy)[5]!.allows, /host's PATH .* instead of the value Armorer sets/);
  });
});

describe('explainLimits', () => {
  test('marks each limit as from the policy or a default', () => {
    assert.deepEqual(explainLimits(policy.limits).map((l) => [l.name, l.value, l.origin]), [
      ['memory', '1GiB', 'policy'],
      ['pids', '512 processes and threads', 'default'],
      ['cpus', '2 cores', 'default'],
      ['fileSize', '1GiB largest file written', 'default'],
      ['openFiles', '4096 open files', 'default'],
      ['timeout', '300s wall clock', 'policy'],
    ]);
  });
});

describe('formatExplanation', () => {
  test('writes each grant with its reason, the limits and the sandbox options', () => {
    const text = formatExplanation(policy);
    assert.ok(text.includes(`files.read:${ctx.home}/notes (written files.read:~/notes)  -> can read (not write)`));
    assert.ok(text.includes('\u2014 because: the intent said "read my notes"'));
    assert.ok(text.includes('\u2014 because: listed in notes.yaml'));
    assert.match(text, /pids +512 processes and threads {2}\(default\)/);
    assert.match(text, /timeout +300s wall clock\n/);
    assert.match(text, /unix sockets: denied/);
    assert.match(text, /read-only inside every writable grant: \.envrc/);
  });

  test('says what an agent sees when the policy grants nothing', () => {
    const text = formatExplanation(defaultPolicy());
    assert.match(text, /\(none\) the agent sees only system directories/);
    assert.match(text, /timeout +none {2}\(default\)/);
  });
});
