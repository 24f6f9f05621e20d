/**
 * `inject: env`: the only way a real secret value enters a sandbox, per secret, with a warning.
 * Real age store, real egress session (its proxy and audit log); no sandbox is needed to see the
 * environment the sandbox would get.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startEgress } from '../../src/egress/session.js';
import { parseScope } from '../../src/policy/scope.js';
import type { Grant } from '../../src/policy/types.js';
import { SecretStore } from '../../src/secrets/index.js';
import { tempDirs } from '../lib/temp.js';

const { tempDir, cleanup: cleanupTemp } = tempDirs('armorer-inject');
after(cleanupTemp);

const grant = (text: string): Grant => ({ scope: parseScope(text, { home: '/nonexistent', workspace: '/nonexistent' }), text, because: 'test', source: 'test' });

test('a secret marked inject: env reaches the sandbox environment, loudly; an unmarked one stays a surrogate', async () => {
  const home = join(tempDir('inject'), 'h');
  const store = await SecretStore.init(home, 'a passphrase for this test', { scryptWorkFactor: 10 });
  await store.set('PLAIN_TOKEN', 'plain-REAL-value-0123456789abcdef', { inject: 'env' });
  await store.set('API_KEY', 'sk-proj-REALbrokered0123456789abcdefghij');
  const notices: string[] = [];
  const session = await startEgress({
    agent: 'test', armorerHome: home, publish: [], allowLoopbackUpstream: false, proxyPort: 3128, secrets: store,
    grants: [grant('secrets.access:PLAIN_TOKEN'), grant('secrets.access:API_KEY@api.example.com')],
    notice: (l) => notices.push(l),
  });
  try {
    assert.equal(session.env['PLAIN_TOKEN'], 'plain-REAL-value-0123456789abcdef');
    assert.ok(notices.some((n) => n.startsWith('WARNING: the real value of PLAIN_TOKEN')), notices.join('\n'));
    assert.notEqual(session.env['API_KEY'], 'sk-proj-REALbrokered0123456789abcdefghij', 'the bound key is a surrogate');
    assert.match(session.env['API_KEY'] ?? '', /^sk-proj-/);
    assert.ok(!notices.some((n) => n.includes('API_KEY') && n.startsWith('WARNING')));
    assert.deepEqual(session.secretValues.map((s) => s.name).sort(), ['API_KEY', 'PLAIN_TOKEN'], 'both are redacted from output');
  } finally {
    await session.close();
  }
});
