import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ArmorerError } from '../../src/core/index.js';
import { DEFAULT_LIMITS, defaultPolicy, loadPolicyFile, type ScopeContext } from '../../src/policy/index.js';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'armorer-policy-')));
after(() => rmSync(root, { recursive: true, force: true }));
const ctx: ScopeContext = { home: join(root, 'home'), workspace: join(root, 'ws') };
mkdirSync(ctx.home);
mkdirSync(ctx.workspace);

let n = 0;
function writePolicy(lines: string[]): string {
  const file = join(root, `policy-${++n}.yaml`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** Loads a policy expected to fail; checks code and exact line:column; returns the error. */
function failsAt(lines: string[], code: string, line: number, column: number): ArmorerError {
  const file = writePolicy(lines);
  let caught: unknown;
  try {
    loadPolicyFile(file, ctx);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ArmorerError, 'expected the policy to be refused');
  assert.equal(caught.code, code, caught.message);
  assert.deepEqual(caught.location, { file, line, column }, caught.format());
  return caught;
}

describe('a valid policy', () => {
  test('loads grants with their reasons, lines, limits and sandbox options', () => {
    const file = writePolicy([
      'version: 1',
      'name: notes-reader',
      'grants:',
      '  - scope: files.read:~/notes',
      '    because: "the intent said: read my notes"',
      '  - files.write:${workspace}/out',
      '  - net.outbound:*.example.com:443',
      'limits:',
      '  memory: 1GiB',
      '  pids: 256',
      '  cpus: 1.5',
      '  fileSize: 10485760',
      '  openFiles: 1024',
      '  timeout: 300',
      'sandbox:',
      '  unixSockets: false',
      '  protect: [".envrc", "config/secrets/"]',
    ]);
    const p = loadPolicyFile(file, ctx);
    assert.equal(p.version, 1);
    assert.equal(p.name, 'notes-reader');
    assert.equal(p.source, file);
    assert.deepEqual(p.grants.map((g) => [g.text, g.line, g.because, g.source]), [
      ['files.read:~/notes', 4, 'the intent said: read my notes', file],
      ['files.write:${workspace}/out', 6, `listed in policy-${n}.yaml`, file],
      ['net.outbound:*.example.com:443', 7, `listed in policy-${n}.yaml`, file],
    ]);
    assert.deepEqual(p.grants[0]!.scope, { kind: 'files.read', path: join(ctx.home, 'notes') });
    assert.deepEqual(p.grants[1]!.scope, { kind: 'files.write', path: join(ctx.workspace, 'out') });
    assert.deepEqual(p.limits, {
      memoryBytes: 1024 ** 3, pids: 256, cpus: 1.5, fileSizeBytes: 10485760, openFiles: 1024, timeoutSeconds: 300,
    });
    assert.deepEqual(p.sandbox, { unixSockets: false, writableGit: false, protect: ['.envrc', 'config/secrets/'] });
  });

  test('a minimal policy has no grants, no explicit limits and unix sockets on', () => {
    const p = loadPolicyFile(writePolicy(['version: 1']), ctx);
    assert.deepEqual(p.grants, []);
    assert.deepEqual(p.limits, {});
    assert.deepEqual(p.sandbox, { unixSockets: true, writableGit: false, protect: [] });
    assert.equal(p.name, undefined);
  });

  test('a grant mapping without because is explained by the file it is listed in', () => {
    const p = loadPolicyFile(writePolicy(['version: 1', 'grants:', '  - scope: shell.exec']), ctx);
    assert.equal(p.grants[0]!.because, `listed in policy-${n}.yaml`);
  });

  test('accepts sizes in several units and timeout 0 meaning none', () => {
    const p = loadPolicyFile(writePolicy(['version: 1', 'limits: {memory: 512M, fileSize: 2GB, timeout: 0}']), ctx);
    assert.deepEqual(p.limits, { memoryBytes: 512 * 1024 ** 2, fileSizeBytes: 2 * 1000 ** 3, timeoutSeconds: 0 });
  });
});

describe('defaults', () => {
  test('defaultPolicy grants nothing and leaves limits to the compiler', () => {
    assert.deepEqual(defaultPolicy(), {
      version: 1, source: 'default', grants: [], limits: {}, sandbox: { unixSockets: true, writableGit: false, protect: [] },
    });
  });

  test('DEFAULT_LIMITS are 2GiB memory, 512 pids, 2 cpus, 1GiB files, 4096 open files, no timeout', () => {
    assert.deepEqual(DEFAULT_LIMITS, {
      memoryBytes: 2 * 1024 ** 3, pids: 512, cpus: 2, fileSizeBytes: 1024 ** 3, openFiles: 4096, timeoutSeconds: 0,
    });
  });
});

describe('read errors', () => {
  test('a missing file is a read error that names the file', () => {
    assert.throws(() => loadPolicyFile(join(root, 'nope.yaml'), ctx),
      { code: 'ARMORER_E_POLICY_READ', message: /nope\.yaml.*ENOENT/ });
  });

  test('a directory is a read error', () => {
    assert.throws(() => loadPolicyFile(root, ctx), { code: 'ARMORER_E_POLICY_READ', message: /EISDIR/ });
  });
});

describe('syntax errors', () => {
  test('bad YAML is reported at the line and column where the parser found it', () => {
    const e = failsAt(['version: 1', 'name: a: b'], 'ARMORER_E_POLICY_SYNTAX', 2, 7);
    assert.match(e.message, /not valid YAML: Nested mappings/);
    failsAt(['version: 1', '\tlimits: {}'], 'ARMORER_E_POLICY_SYNTAX', 2, 1);
    // An unclosed bracket is noticed where the next line starts.
    failsAt(['version: 1', 'grants: [shell.exec', 'limits: {}'], 'ARMORER_E_POLICY_SYNTAX', 3, 1);
  });

  test('a duplicate key is a syntax error at the second key', () => {
    const e = failsAt(['version: 1', 'limits:', '  pids: 1', '  pids: 2'], 'ARMORER_E_POLICY_SYNTAX', 4, 3);
    assert.match(e.message, /unique/);
  });
});

describe('schema errors', () => {
  test('an empty file says the policy is empty', () => {
    const e = failsAt(['# nothing here'], 'ARMORER_E_POLICY_SCHEMA', 1, 1);
    assert.match(e.message, /empty/);
  });

  test('a missing version points at the top-level mapping', () => {
    const e = failsAt(['', 'grants: []'], 'ARMORER_E_POLICY_SCHEMA', 2, 1);
    assert.match(e.message, /missing required key "version"/);
  });

  test('another version points at its value and says only 1 is read', () => {
    const e = failsAt(['version: 2'], 'ARMORER_E_POLICY_SCHEMA', 1, 10);
    assert.match(e.message, /version 1 only/);
  });

  test('an unknown top-level key suggests the nearest known key', () => {
    const e = failsAt(['version: 1', 'limit:', '  pids: 5'], 'ARMORER_E_POLICY_SCHEMA', 2, 1);
    assert.match(e.message, /unknown key "limit" at the top level/);
    assert.equal(e.fix, 'did you mean "limits"?');
  });

  test('an unknown nested key suggests within its own mapping', () => {
    const e = failsAt(['version: 1', 'limits:', '  pids: 5', '  memroy: 1GiB'], 'ARMORER_E_POLICY_SCHEMA', 4, 3);
    assert.match(e.message, /unknown key "memroy" in limits/);
    assert.equal(e.fix, 'did you mean "memory"?');
  });

  test('an unknown key with nothing close lists the keys allowed there', () => {
    const e = failsAt(['version: 1', 'sandbox:', '  network: host'], 'ARMORER_E_POLICY_SCHEMA', 3, 3);
    assert.equal(e.fix, 'the keys allowed here are: unixSockets, writableGit, protect');
  });

  test('an unknown key in a grant mapping points at that key', () => {
    const e = failsAt(['version: 1', 'grants:', '  - scope: shell.exec', '    reason: x'], 'ARMORER_E_POLICY_SCHEMA', 4, 5);
    assert.match(e.message, /unknown key "reason" in grants\[0\]/);
  });

  test('a grant that is neither a string nor a mapping points at the item', () => {
    const e = failsAt(['version: 1', 'grants:', '  - shell.exec', '  - 42'], 'ARMORER_E_POLICY_SCHEMA', 4, 5);
    assert.match(e.message, /grants\[1\] must be a scope string or a mapping/);
  });

  test('a grant mapping with an empty because points at the because value', () => {
    const e = failsAt(['version: 1', 'grants:', '  - scope: shell.exec', '    because: "  "'],
      'ARMORER_E_POLICY_SCHEMA', 4, 14);
    assert.match(e.message, /grants\[0\]\.because must not be empty/);
  });

  test('limits out of range point at the value', () => {
    failsAt(['version: 1', 'limits:', '  openFiles: 8'], 'ARMORER_E_POLICY_SCHEMA', 3, 14);
    failsAt(['version: 1', 'limits:', '  pids: 0'], 'ARMORER_E_POLICY_SCHEMA', 3, 9);
    failsAt(['version: 1', 'limits:', '  cpus: 0'], 'ARMORER_E_POLICY_SCHEMA', 3, 9);
    failsAt(['version: 1', 'limits:', '  cpus: 2000'], 'ARMORER_E_POLICY_SCHEMA', 3, 9);
    failsAt(['version: 1', 'limits:', '  timeout: -1'], 'ARMORER_E_POLICY_SCHEMA', 3, 12);
    const e = failsAt(['version: 1', 'limits:', '  pids: 1.5'], 'ARMORER_E_POLICY_SCHEMA', 3, 9);
    assert.match(e.message, /limits\.pids must be a whole number/);
  });

  test('a bad size names the value and says how to write one', () => {
    const e = failsAt(['version: 1', 'limits:', '  memory: lots'], 'ARMORER_E_POLICY_SCHEMA', 3, 11);
    assert.match(e.message, /limits\.memory: "lots" is not a positive size/);
    assert.match(e.fix, /1GiB/);
  });

  test('an empty value points at its key', () => {
    const e = failsAt(['version: 1', 'limits:'], 'ARMORER_E_POLICY_SCHEMA', 2, 1);
    assert.match(e.message, /limits is empty; it must be a mapping/);
  });

  test('protected paths must be relative and without ".."', () => {
    failsAt(['version: 1', 'sandbox:', '  protect: ["/etc/passwd"]'], 'ARMORER_E_POLICY_SCHEMA', 3, 13);
    const e = failsAt(['version: 1', 'sandbox:', '  protect:', '    - ok', '    - a/../b'], 'ARMORER_E_POLICY_SCHEMA', 5, 7);
    assert.match(e.message, /contains "\.\."/);
  });

  test('of several errors, the first in the file is reported', () => {
    failsAt(['version: 1', 'sandbox: {unixSockets: 3}', 'limits: {pids: 0}'], 'ARMORER_E_POLICY_SCHEMA', 2, 24);
  });
});

describe('scope errors inside a policy', () => {
  test('carry the location of the scope string', () => {
    const e = failsAt(['version: 1', 'grants:', '  - shell.exec', '  - net.outbound:https://x.com'],
      'ARMORER_E_SCOPE', 4, 5);
    assert.match(e.message, /"net.outbound:https:\/\/x.com"/);
  });

  test('carry the location of the scope value in a grant mapping', () => {
    failsAt(['version: 1', 'grants:', '  - because: why', '    scope: files.read:/proc'], 'ARMORER_E_PATH', 4, 12);
  });
});
