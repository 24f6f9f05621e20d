import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AuditSink, openAuditStore, verifyStore } from '../../src/audit/index.js';
import type { EgressEvent } from '../../src/egress/types.js';
import { allow, deny } from '../../src/policy/decision.js';
import { backends, withStore } from './helpers.js';

const event = (host: string, ok: boolean, address?: string): EgressEvent => ({
  kind: ok ? 'egress.connection' : 'egress.denied', time: new Date().toISOString(), host, port: 443, method: 'CONNECT',
  ...(address && { address }),
  decision: ok ? allow('net.outbound:api.example.com', 'granted for "post to Slack"') : deny('egress.unlisted', `${host} is not in the policy`),
  bytesUp: ok ? 812 : 0, bytesDown: ok ? 5123 : 0, durationMs: 12,
});

for (const backend of backends()) {
  describe(`AuditSink on ${backend.name}`, () => {
    test('records each egress event with its decision, rule, reason and connection data; close waits for all', () =>
      withStore(backend, async ({ home, url }) => {
        const store = await openAuditStore(home, { url });
        const sink = new AuditSink(store, 'slackbot');
        sink.write(event('api.example.com', true, '198.51.100.7'));
        sink.write(event('evil.test', false));
        await sink.close();
        const events = await store.query({});
        await store.close();
        assert.deepEqual(events.map(({ actor, agent, kind, decision, rule, reason, data }) => ({ actor, agent, kind, decision, rule, reason, data })), [
          {
            actor: 'armorer', agent: 'slackbot', kind: 'egress.connection', decision: 'allow', rule: 'net.outbound:api.example.com',
            reason: 'granted for "post to Slack"',
            data: { host: 'api.example.com', port: 443, address: '198.51.100.7', method: 'CONNECT', bytesUp: 812, bytesDown: 5123, durationMs: 12 },
          },
          {
            actor: 'armorer', agent: 'slackbot', kind: 'egress.denied', decision: 'deny', rule: 'egress.unlisted',
            reason: 'evil.test is not in the policy',
            data: { host: 'evil.test', port: 443, method: 'CONNECT', bytesUp: 0, bytesDown: 0, durationMs: 12 },
          },
        ]);
        assert.equal((await verifyStore(home, { url })).ok, true);
      }));

    test('an event that cannot be recorded makes close() fail; it is never dropped in silence', () =>
      withStore(backend, async ({ home, url }) => {
        const store = await openAuditStore(home, { url });
        const sink = new AuditSink(store, 'slackbot');
        sink.write(event('api.example.com', true));
        await store.close();
        sink.write(event('late.example.com', true));
        await assert.rejects(sink.close(), { code: 'ARMORER_E_AUDIT', message: /1 audit event\(s\) of this run could not be recorded: .*closed/ });
      }));
  });
}
