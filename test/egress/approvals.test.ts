/**
 * Hosts outside the policy go to a person (an injected Approver here): "once" allows that one
 * connection, "always" allows the host:port for the rest of the run without asking again, "deny",
 * silence past the timeout, or an approver that fails all end in 403 approval.denied, decided
 * before any lookup or connect.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { cleanup, closeAll, dials, httpUpstream, runEgress, sh, TestApprover, type Upstream } from './helpers.js';

let up: Upstream;
let up2: Upstream;
before(async () => {
  up = await httpUpstream();
  up2 = await httpUpstream();
});
after(() => {
  closeAll(up, up2);
  cleanup();
});

/** One line per request: the status (of the CONNECT with -p) and the seconds it took. */
const curl = (url: string, maxTime = 5) => `curl -sS -o /dev/null --max-time ${maxTime} ` +
  `-w '${url.startsWith('-p') ? '%{http_connect}' : '%{http_code}'} %{time_total}\\n' ${url}`;
const codes = (stdout: string) => stdout.trim().split('\n').map((l) => l.split(' ')[0]);
const seconds = (stdout: string) => stdout.trim().split('\n').map((l) => Number(l.split(' ')[1]));

describe('approvals', () => {
  test('"once" allows one connection: each new connection is asked again', async () => {
    const approver = new TestApprover('once');
    const H = up.port;
    const r = await runEgress({ approver, command: sh(`${curl(`http://other.test:${H}/once-1`)}; ${curl(`-p http://other.test:${H}/once-2`)}`) });
    assert.deepEqual(codes(r.stdout), ['200', '200'], r.stderr);
    assert.equal(approver.asked.length, 2);
    for (const { req, timeoutMs } of approver.asked) {
      assert.deepEqual(req, { agent: 'egress-suite', scope: `net.outbound:other.test:${H}`,
        summary: `connect to other.test:${H} (other.test:${H} is not in the policy)` });
      assert.equal(timeoutMs, 300, 'the approver is given the run\'s approval timeout');
    }
    assert.deepEqual(up.requests.filter((q) => q.includes('/once-')).map((q) => q.split(' ')[1]), ['/once-1', '/once-2']);
    assert.deepEqual(r.events.map((e) => [e.method, e.decision.effect, e.decision.rule, e.decision.reason]), [
      ['HTTP', 'allow', `net.outbound:other.test:${H}`, 'approved once by a person'],
      ['CONNECT', 'allow', `net.outbound:other.test:${H}`, 'approved once by a person'],
    ]);
    assert.deepEqual(r.session.proxy.grantedAlways, []);
  });

  test('"always" is asked once; later connections to that host:port are allowed without asking', async () => {
    const approver = new TestApprover('always');
    const H = up.port;
    const r = await runEgress({
      approver,
      command: sh([curl(`http://other.test:${H}/always-1`), curl(`http://other.test:${H}/always-2`), curl(`-p http://other.test:${H}/always-3`)].join('; ')),
    });
    assert.deepEqual(codes(r.stdout), ['200', '200', '200'], r.stderr);
    assert.deepEqual(approver.asked.map((a) => a.req.scope), [`net.outbound:other.test:${H}`]);
    assert.deepEqual(r.session.proxy.grantedAlways.map((g) => [g.host, g.wildcard, g.ports, g.scope]),
      [['other.test', false, [H], `net.outbound:other.test:${H}`]], 'exactly the host and port approved');
    const later = `other.test:${H} is allowed by net.outbound:other.test:${H} (approved "always" during the run)`;
    assert.deepEqual(r.events.map((e) => e.decision.reason), ['approved "always" by a person during the run', later, later]);
    assert.deepEqual(up.requests.filter((q) => q.includes('/always-')).length, 3);
  });

  test('"always" for one port does not turn the host\'s other ports into silent denials', async () => {
    // Before the approval, other.test:H2 would be asked; after "always" for other.test:H it must still be.
    const approver = new TestApprover('always');
    const [H, H2] = [up.port, up2.port];
    const r = await runEgress({ approver, command: sh(`${curl(`http://other.test:${H}/a1`)}; ${curl(`http://other.test:${H2}/a2`)}`) });
    assert.deepEqual(approver.asked.map((a) => a.req.scope), [`net.outbound:other.test:${H}`, `net.outbound:other.test:${H2}`],
      `${r.events.at(-1)?.decision.rule}: ${r.events.at(-1)?.decision.reason}`);
    assert.deepEqual(codes(r.stdout), ['200', '200']);
  });

  test('"deny" refuses with 403 approval.denied, before any lookup or connect', async () => {
    const approver = new TestApprover('deny');
    const H = up.port;
    const dialsBefore = dials.length;
    const r = await runEgress({ approver, command: sh(`${curl(`http://other.test:${H}/denied`)}; curl -sS http://other.test:${H}/denied-body`) });
    assert.equal(codes(r.stdout)[0], '403');
    assert.match(r.stdout, new RegExp(`\narmorer: blocked by approval\\.denied: other\\.test:${H} is not in the policy, and no one approved it`));
    assert.equal(approver.asked.length, 2);
    assert.deepEqual(r.resolved, []);
    assert.deepEqual(dials.slice(dialsBefore), []);
    assert.deepEqual(up.requests.filter((q) => q.includes('/denied')), []);
  });

  test('an approver that honours the timeout denies after it', async () => {
    const approver = new TestApprover('deny-on-timeout');
    const r = await runEgress({ approver, approvalTimeoutMs: 300, command: sh(curl(`http://other.test:${up.port}/slow-deny`)) });
    assert.deepEqual(codes(r.stdout), ['403'], r.stdout + r.stderr);
    const [t = 0] = seconds(r.stdout);
    assert.ok(t >= 0.25 && t < 3, `answered after ${t}s`);
    assert.equal(r.events[0]?.decision.rule, 'approval.denied');
  });

  test('an approver that never answers: the proxy denies once the approval timeout passes', async () => {
    // The Approver contract asks approvers to time out themselves; the proxy must not depend on it:
    // an unanswered question must not hold the connection (and the agent) forever.
    const approver = new TestApprover('never');
    const H = up.port;
    const r = await runEgress({ approver, approvalTimeoutMs: 300,
      command: sh(`${curl(`http://other.test:${H}/never`, 3)}; ${curl(`-p http://other.test:${H}/never-connect`, 3)}`) });
    assert.equal(approver.asked.length, 2);
    assert.deepEqual(codes(r.stdout), ['403', '403'], `expected 403s after ~0.3 s; curl said: ${r.stdout}${r.stderr}`);
    for (const t of seconds(r.stdout)) assert.ok(t >= 0.25 && t < 3, `answered after ${t}s`);
    assert.deepEqual(r.events.map((e) => e.decision.rule), ['approval.denied', 'approval.denied']);
    assert.deepEqual(up.requests.filter((q) => q.includes('/never')), []);
  });

  test('an approver that fails counts as a deny, and the proxy keeps serving', async () => {
    // A rejection that escapes the proxy would be an unhandled rejection: fatal to a real supervisor
    // (Node's default), and reported by node:test against whichever test is running. Catch it here
    // for the length of this run, so the test can say what happened and finish its own run.
    const escaped: unknown[] = [];
    const theirs = process.listeners('unhandledRejection');
    process.removeAllListeners('unhandledRejection');
    const mine = (e: unknown) => { escaped.push(e); };
    process.on('unhandledRejection', mine);
    const approver = new TestApprover('throw');
    const H = up.port;
    let r;
    try {
      r = await runEgress({ approver, grants: [`net.outbound:api.test:${H}`],
        command: sh(`${curl(`http://other.test:${H}/crash`, 3)}; ${curl(`http://api.test:${H}/after-crash`, 3)}`) });
    } finally {
      process.off('unhandledRejection', mine);
      for (const l of theirs) process.on('unhandledRejection', l);
    }
    assert.deepEqual(escaped.map(String), [], 'the approver\'s failure escaped the proxy as an unhandled rejection');
    assert.deepEqual(codes(r.stdout), ['403', '200'], r.stdout + r.stderr);
    assert.equal(r.events[0]?.decision.rule, 'approval.denied');
    assert.deepEqual(up.requests.filter((q) => q.includes('crash')).map((q) => q.split(' ')[1]), ['/after-crash']);
  });
});
