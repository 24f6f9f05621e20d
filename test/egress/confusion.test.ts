/**
 * Request confusion, sent as raw bytes from inside the sandbox straight to the proxy at
 * 127.0.0.1:3128 (`node -e` with net.connect): anything a resolver, a URL parser and the policy
 * could read differently is refused before any lookup or connect; IP literals in every notation are
 * refused as addresses; case and a trailing dot are normalised, not refused. One sandbox run sends
 * every case; each test reads its own answer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { EgressRun, RawResponse, Upstream } from './helpers.js';
import { b64, cleanup, closeAll, dials, httpUpstream, RAW_CLIENT, rawResponses, runEgress } from './helpers.js';

interface Case { name: string; raw: (h: number) => string; status: number; rule: string; host?: string }
const get = (target: string, headers = '') => `GET ${target} HTTP/1.1\r\n${headers}\r\n`;
const connect = (target: string) => `CONNECT ${target} HTTP/1.1\r\n\r\n`;

const CONFUSIONS: Case[] = [
  { name: 'userinfo in an absolute URL', raw: (h) => get(`http://user:pw@api.test:${h}/u`), status: 403, rule: 'request.userinfo' },
  { name: 'userinfo in a CONNECT target', raw: (h) => connect(`user@api.test:${h}`), status: 403, rule: 'request.userinfo' },
  { name: 'a fragment in the URL', raw: (h) => get(`http://api.test:${h}/f#frag`), status: 403, rule: 'request.fragment' },
  // Node's HTTP parser refuses these bytes itself: the proxy answers 400 request.malformed.
  { name: 'a fragment hiding an @ in the authority', raw: (h) => get(`http://api.test:${h}#@evil.test/`), status: 400, rule: 'request.malformed' },
  { name: 'a backslash in the authority', raw: (h) => get(`http://api.test:${h}\\@evil.test/`), status: 400, rule: 'request.malformed' },
  { name: 'a backslash in a CONNECT target', raw: (h) => connect(`api.test\\evil.test:${h}`), status: 400, rule: 'request.malformed' },
  { name: 'a NUL in the URL', raw: (h) => get(`http://api.test:${h}/\0.evil.test`), status: 400, rule: 'request.malformed' },
  { name: 'a NUL in a CONNECT target', raw: (h) => connect(`api.test:${h}\0.evil.test:443`), status: 400, rule: 'request.malformed' },
  // Node reads a version-less request line as HTTP/0.9 and the injected line as a Host header: still refused.
  { name: 'CRLF injected into the request target', raw: (h) => `GET http://api.test:${h}/x\r\nHost: evil.test HTTP/1.1\r\n\r\n`, status: 403, rule: 'request.whitespace' },
  { name: 'a bare CR splitting a header', raw: (h) => get(`http://api.test:${h}/cr`, `Host: api.test:${h}\rHost: evil.test\r\n`), status: 400, rule: 'request.malformed' },
  { name: 'a tab in the URL', raw: (h) => get(`http://api.test:${h}/\ttab`), status: 400, rule: 'request.malformed' },
  { name: 'a percent-encoded host (CONNECT)', raw: (h) => connect(`api%2etest:${h}`), status: 403, rule: 'request.percent-encoding' },
  { name: 'a percent-encoded host (absolute URL)', raw: (h) => get(`http://api%2Etest:${h}/pct`), status: 403, rule: 'request.percent-encoding' },
  { name: 'a Host header naming another host', raw: (h) => get(`http://api.test:${h}/hm`, 'Host: evil.test\r\n'), status: 403, rule: 'request.host-mismatch' },
  { name: 'a Host header naming another port', raw: (h) => get(`http://api.test:${h}/hp`, 'Host: api.test:1\r\n'), status: 403, rule: 'request.host-mismatch' },
  { name: 'two Host headers', raw: (h) => get(`http://api.test:${h}/two`, `Host: api.test:${h}\r\nHost: evil.test\r\n`), status: 403, rule: 'request.host-mismatch' },
  { name: 'an empty Host header', raw: (h) => get(`http://api.test:${h}/empty`, 'Host:\r\n'), status: 403, rule: 'request.host-mismatch' },
  { name: 'https:// in absolute form', raw: (h) => get(`https://api.test:${h}/s`), status: 403, rule: 'request.scheme' },
  { name: 'a CONNECT without a port', raw: () => connect('api.test'), status: 403, rule: 'request.bad-port' },
  { name: 'a CONNECT port with a leading zero', raw: (h) => connect(`api.test:0${h}`), status: 403, rule: 'request.bad-port' },
  { name: 'an IPv6 address without brackets', raw: (h) => connect(`::1:${h}`), status: 403, rule: 'request.bad-host' },
  { name: 'a number that is no IPv4 address', raw: (h) => connect(`999.0.0.1:${h}`), status: 403, rule: 'request.bad-host' },
  { name: 'a label with an underscore', raw: (h) => connect(`api_x.test:${h}`), status: 403, rule: 'request.bad-host' },
];

const IP = 'egress.ip-literal';
const LITERALS: Case[] = [
  { name: 'dotted IPv4', raw: (h) => connect(`127.0.0.1:${h}`), status: 403, rule: IP, host: '127.0.0.1' },
  { name: 'decimal IPv4', raw: (h) => connect(`2130706433:${h}`), status: 403, rule: IP, host: '127.0.0.1' },
  { name: 'hex IPv4', raw: (h) => connect(`0x7f000001:${h}`), status: 403, rule: IP, host: '127.0.0.1' },
  { name: 'octal IPv4', raw: (h) => connect(`0177.0.0.1:${h}`), status: 403, rule: IP, host: '127.0.0.1' },
  { name: 'short IPv4', raw: (h) => connect(`127.1:${h}`), status: 403, rule: IP, host: '127.0.0.1' },
  { name: 'mixed hex short IPv4', raw: (h) => connect(`0x7f.1:${h}`), status: 403, rule: IP, host: '127.0.0.1' },
  { name: 'IPv6', raw: (h) => connect(`[::1]:${h}`), status: 403, rule: IP, host: '::1' },
  { name: 'IPv4-mapped IPv6', raw: (h) => connect(`[::ffff:127.0.0.1]:${h}`), status: 403, rule: IP, host: '::ffff:7f00:1' },
  { name: 'a private address', raw: () => connect('10.0.0.1:443'), status: 403, rule: IP, host: '10.0.0.1' },
  { name: 'the metadata address', raw: () => connect('169.254.169.254:80'), status: 403, rule: IP, host: '169.254.169.254' },
  { name: 'decimal IPv4 in an absolute URL', raw: (h) => get(`http://2130706433:${h}/dec`, `Host: 2130706433:${h}\r\n`), status: 403, rule: IP, host: '127.0.0.1' },
  { name: 'IPv6 in an absolute URL', raw: (h) => get(`http://[::1]:${h}/v6`), status: 403, rule: IP, host: '::1' },
];

const NORMALISED = [
  (h: number) => `CONNECT API.TEST.:${h} HTTP/1.1\r\n\r\nGET /case-connect HTTP/1.1\r\nHost: api.test:${h}\r\nConnection: close\r\n\r\n`,
  (h: number) => get(`http://API.Test.:${h}/case-get`, `Host: API.TEST.:${h}\r\n`),
];
// Plain-HTTP forwarding is a proxy's hop: the client's framing and Connection header apply, not the upstream's.
const HOP = [
  (h: number) => `GET http://api.test:${h}/http10 HTTP/1.0\r\nHost: api.test:${h}\r\n\r\n`,
  (h: number) => get(`http://api.test:${h}/close`, `Host: api.test:${h}\r\nConnection: close\r\n`),
];

let up: Upstream;
let run: EgressRun;
let answers: RawResponse[];
before(async () => {
  up = await httpUpstream();
  const all = [...CONFUSIONS.map((c) => c.raw), ...LITERALS.map((c) => c.raw), ...NORMALISED, ...HOP];
  run = await runEgress({ grants: [`net.outbound:api.test:${up.port}`], command: ['node', '-e', RAW_CLIENT, ...all.map((r) => b64(r(up.port)))] });
  answers = rawResponses(run.stdout);
  assert.equal(answers.length, all.length, run.stdout + run.stderr);
});
after(() => {
  closeAll(up);
  cleanup();
});

function refused(c: Case, res: RawResponse | undefined): void {
  assert.equal(res?.status, c.status, res?.raw);
  assert.equal(res?.headers['x-armorer-decision'], 'deny');
  assert.equal(res?.headers['x-armorer-rule'], c.rule);
  assert.ok(res?.body.startsWith(`armorer: blocked by ${c.rule}: `), res?.body);
  assert.equal(res?.err, null, 'the proxy closed the connection after refusing');
}

describe('request confusion is refused before any lookup', () => {
  CONFUSIONS.forEach((c, i) => test(c.name, () => refused(c, answers[i])));
});

describe('IP literals are addresses, whatever the notation', () => {
  LITERALS.forEach((c, i) => test(c.name, () => {
    refused(c, answers[CONFUSIONS.length + i]);
    const ev = run.events.filter((e) => e.decision.rule === IP)[i];
    assert.equal(ev?.host, c.host, 'the event names the canonical address');
    assert.match(answers[CONFUSIONS.length + i]!.body, /names an address, not a host name/);
  }));

  test('nothing refused was resolved or dialled; only the normalised requests reached the upstream', () => {
    assert.deepEqual(run.resolved, Array(2 + HOP.length).fill('api.test'));
    assert.deepEqual([...new Set(dials.filter((d) => !d.endsWith(`:${up.port}`)))], [], dials.join(' '));
    assert.deepEqual(up.requests.filter((q) => !/\/(http10|close)/.test(q)),
      [`GET /case-connect host=api.test:${up.port}`, `GET /case-get host=api.test:${up.port}`]);
  });
});

describe('case and a trailing dot are normalised', () => {
  const base = CONFUSIONS.length + LITERALS.length;
  test('CONNECT API.TEST.:port is api.test:port', () => {
    const res = answers[base]!;
    assert.equal(res.status, 200, res.raw);
    assert.match(res.raw, /^HTTP\/1\.1 200 Connection Established\r\n\r\nHTTP\/1\.1 200 OK\r\n[^]*upstream saw GET \/case-connect\n/);
  });
  test('GET http://API.Test.:port/ with Host API.TEST.:port reaches api.test with a canonical Host', () => {
    const res = answers[base + 1]!;
    assert.equal(res.status, 200, res.raw);
    assert.match(res.body, /upstream saw GET \/case-get\n/);
    assert.deepEqual(run.events.filter((e) => e.kind === 'egress.connection').slice(0, 2).map((e) => [e.method, e.host]),
      [['CONNECT', 'api.test'], ['HTTP', 'api.test']]);
  });
});

describe('plain-HTTP forwarding', () => {
  const base = CONFUSIONS.length + LITERALS.length + NORMALISED.length;
  test('an HTTP/1.0 client gets a body it can read: no chunked framing, closed at the end', () => {
    const res = answers[base]!;
    assert.equal(res.status, 200, res.raw);
    assert.equal(res.headers['transfer-encoding'], undefined, `chunked sent to an HTTP/1.0 client:\n${res.raw}`);
    assert.equal(res.body, 'upstream saw GET /http10\n');
    assert.equal(res.err, null, 'the proxy closed the HTTP/1.0 connection');
  });
  test('Connection: close from the client is honoured, not replaced by the upstream\'s keep-alive', () => {
    const res = answers[base + 1]!;
    assert.equal(res.status, 200, res.raw);
    assert.notEqual(res.headers['connection'], 'keep-alive', res.raw);
    assert.equal(res.headers['keep-alive'], undefined, 'the upstream\'s Keep-Alive is hop-by-hop');
    assert.equal(res.err, null, 'the proxy closed the connection after the response');
  });
});
