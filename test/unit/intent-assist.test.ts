/**
 * The assistant is a real HTTP server on 127.0.0.1 answering with canned chat completions: the
 * request, the response parsing and the validation all run for real; only the model is canned.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { ArmorerError } from '../../src/core/index.js';
import { assistIntent, loadCatalog, validateAssistAnswer, type Catalog } from '../../src/intent/index.js';

let catalog: Catalog;
let server: Server;
let endpoint: string;
/** What the server answers next: a status and the body (a completion, or raw text). */
let reply: { status: number; body: string };
let requests: { url: string; auth: string | undefined; body: { model: string; messages: { role: string; content: string }[] } }[] = [];

const completion = (content: unknown): { status: number; body: string } => ({
  status: 200,
  body: JSON.stringify({ choices: [{ message: { role: 'assistant', content: typeof content === 'string' ? content : JSON.stringify(content) } }] }),
});

before(async () => {
  catalog = await loadCatalog('/nonexistent-armorer-home');
  server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => { data += c.toString(); });
    req.on('end', () => {
      requests.push({ url: req.url ?? '', auth: req.headers.authorization, body: JSON.parse(data) });
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  requests = [];
});

async function refused(text: string, message: RegExp): Promise<void> {
  await assert.rejects(assistIntent(text, catalog, { endpoint, model: 'm' }), (e: unknown) => {
    assert.ok(e instanceof ArmorerError);
    assert.equal(e.code, 'ARMORER_E_INTENT_ASSIST', e.message);
    assert.match(e.message, message);
    return true;
  });
}

describe('intent assistance', () => {
  test('adds a catalog entry for words the matcher did not understand, shown with the phrase as typed', async () => {
    reply = completion({ choices: [{ capability: 'teams', phrase: 'office messenger' }] });
    const r = await assistIntent('ping me on the Office Messenger', catalog, { endpoint, model: 'small-model', apiKey: 'k-123' });
    assert.deepEqual(r.grants.map((g) => [g.scope, g.because, g.capability]), [
      ['net.outbound:login.microsoftonline.com:443', 'Office Messenger', 'teams'],
      ['net.outbound:smba.trafficmanager.net:443', 'Office Messenger', 'teams'],
      ['net.outbound:api.botframework.com:443', 'Office Messenger', 'teams'],
      ['secrets.access:MSTEAMS_APP_PASSWORD@login.microsoftonline.com', 'Office Messenger', 'teams'],
    ]);
    assert.deepEqual(r.notUnderstood, []);
    assert.equal(requests.length, 1);
    const [req] = requests;
    assert.equal(req!.url, '/v1/chat/completions');
    assert.equal(req!.auth, 'Bearer k-123');
    assert.equal(req!.body.model, 'small-model');
    assert.match(req!.body.messages[1]!.content, /Not understood: ping, Office, Messenger$/);
    assert.match(req!.body.messages[0]!.content, /^teams: Microsoft Teams/m);
  });

  test('does not call the assistant when every word was understood', async () => {
    reply = completion({ choices: [{ capability: 'shell', phrase: 'Slack' }] });
    const r = await assistIntent('post to Slack', catalog, { endpoint, model: 'm' });
    assert.equal(requests.length, 0);
    assert.deepEqual([...new Set(r.grants.map((g) => g.capability))], ['slack']);
  });

  test('negations apply to the assistant\'s choices like to any match', async () => {
    reply = completion({ choices: [{ capability: 'teams', phrase: 'office messenger' }] });
    const r = await assistIntent('post to slack but never the office messenger', catalog, { endpoint, model: 'm' });
    assert.deepEqual([...new Set(r.grants.map((g) => g.capability))], ['slack']);
    assert.deepEqual(r.negated, [{ capability: 'teams', phrase: 'never the office messenger' }]);
  });

  test('repeating a trigger\'s own match is dropped, not refused', async () => {
    reply = completion({ choices: [{ capability: 'slack', phrase: 'slack' }, { capability: 'teams', phrase: 'office chat' }] });
    const r = await assistIntent('post to slack and the office chat', catalog, { endpoint, model: 'm' });
    assert.deepEqual([...new Set(r.grants.map((g) => [g.capability, g.because].join(':')))], ['slack:slack', 'teams:office chat']);
  });

  test('refuses a capability that is not in the catalog', async () => {
    reply = completion({ choices: [{ capability: 'root-access', phrase: 'office messenger' }] });
    await refused('ping me on the office messenger', /"root-access", which is not in the intent catalog/);
  });

  test('refuses a phrase that is not in the text', async () => {
    reply = completion({ choices: [{ capability: 'shell', phrase: 'run any command' }] });
    await refused('ping me on the office messenger', /"run any command", which is not a phrase of the intent/);
  });

  test('refuses a phrase a trigger already matched for another capability', async () => {
    reply = completion({ choices: [{ capability: 'shell', phrase: 'slack' }] });
    await refused('post to slack via the office messenger', /chose "shell" for the phrase "slack"/);
  });

  test('refuses answers of another shape, extra keys, non-JSON content and HTTP errors', async () => {
    reply = completion({ choices: [{ capability: 'teams', phrase: 'office messenger', scope: 'shell.exec' }] });
    await refused('ping me on the office messenger', /expected shape/);
    reply = completion({ choices: [], grants: ['shell.exec'] });
    await refused('ping me on the office messenger', /expected shape/);
    reply = completion('Sure! Teams seems right.');
    await refused('ping me on the office messenger', /did not write JSON/);
    reply = { status: 500, body: '{"error":"boom"}' };
    await refused('ping me on the office messenger', /answered HTTP 500/);
    reply = { status: 200, body: '<html>' };
    await refused('ping me on the office messenger', /did not answer with JSON/);
  });

  test('validates a bare answer against the catalog without a server', () => {
    assert.deepEqual(validateAssistAnswer({ choices: [{ capability: 'notion', phrase: 'wiki' }] }, catalog),
      [{ capability: 'notion', phrase: 'wiki' }]);
    assert.throws(() => validateAssistAnswer({ choices: [{ capability: 'nope', phrase: 'x' }] }, catalog), /not in the intent catalog/);
    assert.throws(() => validateAssistAnswer([], catalog), /expected shape/);
  });

  test('refuses an endpoint that is not http(s), and an unreachable one', async () => {
    await assert.rejects(assistIntent('ping the office messenger', catalog, { endpoint: 'file:///etc', model: 'm' }), /not an http\(s\) URL/);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await assert.rejects(assistIntent('ping the office messenger', catalog, { endpoint: `http://127.0.0.1:${port}/v1`, model: 'm' }),
      /could not be reached/);
  });
});
