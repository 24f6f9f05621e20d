/**
 * The policy's net.outbound rules as the sandbox meets them: what a refusal looks like (403, the
 * x-armorer-* headers, a body naming the rule and the reason), exact hosts vs `*.` wildcards, and
 * ports (a grant without a port means 443 and 80; a grant with one means that port only).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  b64, because, cleanup, closeAll, dials, httpUpstream, RAW_CLIENT, rawResponses, runEgress, sh, TestApprover, type Upstream,
} from './helpers.js';

let up: Upstream;
before(async () => { up = await httpUpstream(); });
after(() => {
  closeAll(up);
  cleanup();
});

describe('refusals', () => {
  test('a host outside the policy gets 403 with x-armorer-decision, x-armorer-rule and the rule and reason in the body', async () => {
    const H = up.port;
    const r = await runEgress({
      grants: [`net.outbound:api.test:${H}`],
      command: sh(`curl -sS -i http://other.test:${H}/denied-http; echo; curl -sS -o /dev/null -w '%{http_connect}' --max-time 10 ` +
        `-p http://other.test:${H}/denied-connect; echo " rc=$?"`),
    });
    const [head = '', body = ''] = r.stdout.split('\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.match(head, /\r\nx-armorer-decision: deny\r\n/);
    assert.match(head, /\r\nx-armorer-rule: approval\.denied\r\n/);
    assert.match(head, /\r\ncontent-type: text\/plain; charset=utf-8\r\n/);
    assert.equal(body.split('\n')[0], `armorer: blocked by approval.denied: other.test:${H} is not in the policy, ` +
      'and no one approved it (denied, timed out, or no terminal to ask)');
    // curl -p: the CONNECT itself is refused, and curl says so.
    assert.match(r.stdout, /\n403 rc=56\n$/, r.stdout + r.stderr);
    assert.match(r.stderr, /CONNECT tunnel failed, response 403/);
    assert.deepEqual(up.requests.filter((q) => q.includes('/denied')), []);
    assert.deepEqual(r.resolved, [], 'a refused name is never even resolved');
    assert.ok(!dials.includes(`127.0.0.1:${H}`), 'nothing was dialled');
    assert.deepEqual(r.events.map((e) => [e.kind, e.method, e.host, e.decision.rule]),
      [['egress.denied', 'HTTP', 'other.test', 'approval.denied'], ['egress.denied', 'CONNECT', 'other.test', 'approval.denied']]);
    assert.ok(r.notices.some((n) => n.startsWith(`blocked HTTP other.test:${H}: `) && n.endsWith('[approval.denied]')), r.notices.join('\n'));
  });

  test('a CONNECT refusal carries the same headers and body', async () => {
    const H = up.port;
    const r = await runEgress({ grants: [`net.outbound:api.test:${H}`], command: ['node', '-e', RAW_CLIENT, b64(`CONNECT api.test:443 HTTP/1.1\r\nHost: api.test:443\r\n\r\n`)] });
    const [res] = rawResponses(r.stdout);
    assert.equal(res?.status, 403, r.stdout + r.stderr);
    assert.equal(res?.headers['x-armorer-decision'], 'deny');
    assert.equal(res?.headers['x-armorer-rule'], `net.outbound:api.test:${H}`);
    assert.equal(res?.headers['connection'], 'close');
    assert.equal(res?.body, `armorer: blocked by net.outbound:api.test:${H}: net.outbound:api.test:${H} ` +
      `(${because(`net.outbound:api.test:${H}`)}) allows api.test only on port ${H}, not 443\n`);
    assert.equal(Number(res?.headers['content-length']), Buffer.byteLength(res!.body));
  });
});

describe('hosts', () => {
  test('*.wild.test allows a.wild.test and deeper names, never wild.test or evilwild.test', async () => {
    const H = up.port;
    const approver = new TestApprover('deny');
    const url = (h: string) => `http://${h}:${H}/wild-${h}`;
    const r = await runEgress({
      grants: [`net.outbound:*.wild.test:${H}`], approver,
      command: sh(['a.wild.test', 'deep.a.wild.test', 'wild.test', 'evilwild.test']
        .map((h) => `curl -sS -o /dev/null -w '${h} %{http_code}\\n' ${url(h)}`).join('; ')),
    });
    assert.equal(r.stdout, 'a.wild.test 200\ndeep.a.wild.test 200\nwild.test 403\nevilwild.test 403\n', r.stderr);
    assert.deepEqual(up.requests.filter((q) => q.includes('/wild-')).map((q) => q.split(' host=')[1]),
      [`a.wild.test:${H}`, `deep.a.wild.test:${H}`]);
    // Outside the wildcard is outside the policy: a person is asked, nobody approves.
    assert.deepEqual(approver.asked.map((a) => a.req.scope), [`net.outbound:wild.test:${H}`, `net.outbound:evilwild.test:${H}`]);
    assert.deepEqual(r.events.map((e) => [e.host, e.decision.effect, e.decision.rule]), [
      ['a.wild.test', 'allow', `net.outbound:*.wild.test:${H}`], ['deep.a.wild.test', 'allow', `net.outbound:*.wild.test:${H}`],
      ['wild.test', 'deny', 'approval.denied'], ['evilwild.test', 'deny', 'approval.denied'],
    ]);
    assert.deepEqual(r.resolved, ['a.wild.test', 'deep.a.wild.test']);
  });

  test('an exact grant does not cover its subdomains', async () => {
    const H = up.port;
    const approver = new TestApprover('deny');
    const r = await runEgress({
      grants: [`net.outbound:wild.test:${H}`], approver,
      command: sh(`curl -sS -o /dev/null -w '%{http_code} ' http://wild.test:${H}/exact; curl -sS -o /dev/null -w '%{http_code}' http://a.wild.test:${H}/sub`),
    });
    assert.equal(r.stdout, '200 403');
    assert.deepEqual(approver.asked.map((a) => a.req.scope), [`net.outbound:a.wild.test:${H}`]);
  });
});

describe('ports', () => {
  test('a grant without a port allows 443 and 80 only', async () => {
    const H = up.port;
    const connect = (port: number) => b64(`CONNECT ports.test:${port} HTTP/1.1\r\nHost: ports.test:${port}\r\n\r\n`);
    const r = await runEgress({
      grants: ['net.outbound:ports.test'],
      command: ['node', '-e', RAW_CLIENT, connect(443), connect(80), connect(H), connect(8443),
        b64(`GET http://ports.test:${H}/port-http HTTP/1.1\r\nHost: ports.test:${H}\r\n\r\n`)],
    });
    const res = rawResponses(r.stdout);
    assert.equal(res.length, 5, r.stdout + r.stderr);
    // 443 and 80 are allowed: whatever listens (or not) on this machine's loopback answers, never a 403.
    for (const [i, port] of [[0, 443], [1, 80]] as const) {
      assert.notEqual(res[i]?.status, 403, `port ${port}: ${res[i]?.raw}`);
      const ev = r.events.find((e) => e.port === port);
      assert.equal(ev?.decision.effect, 'allow', `port ${port}`);
      assert.equal(ev?.decision.rule, 'net.outbound:ports.test');
      assert.ok(dials.includes(`127.0.0.1:${port}`), `the proxy connected to port ${port}`);
    }
    for (const [i, port] of [[2, H], [3, 8443], [4, H]] as const) {
      assert.equal(res[i]?.status, 403, `port ${port}`);
      assert.equal(res[i]?.headers['x-armorer-rule'], 'net.outbound:ports.test');
      assert.match(res[i]!.body, new RegExp(`allows ports\\.test only on ports 443, 80, not ${port}\\n$`));
    }
    assert.deepEqual(up.requests.filter((q) => q.includes('port-http')), []);
    assert.deepEqual(r.events.filter((e) => e.port === H).map((e) => e.kind), ['egress.denied', 'egress.denied']);
  });

  test('a grant with a port allows that port only', async () => {
    const H = up.port;
    const r = await runEgress({
      grants: [`net.outbound:api.test:${H}`],
      command: sh(`for p in ${H} 80 443 ${H + 1}; do curl -sS -o /dev/null -w "$p %{http_code}\\n" http://api.test:$p/p$p; done`),
    });
    assert.equal(r.stdout, `${H} 200\n80 403\n443 403\n${H + 1} 403\n`, r.stderr);
    assert.deepEqual(r.events.map((e) => e.decision.rule), Array(4).fill(`net.outbound:api.test:${H}`));
    assert.deepEqual(r.resolved, ['api.test'], 'only the allowed connection was resolved');
  });
});
