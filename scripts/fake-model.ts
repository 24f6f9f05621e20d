/**
 * A FAKE OpenAI-compatible model server, for the demo and the end-to-end test when no real API key
 * is configured. It listens on 127.0.0.1 with HTTPS, its certificate for api.openai.com issued by a
 * throwaway CA made in --dir; `armorer run --dangerously-redirect api.openai.com=127.0.0.1:PORT
 * --dangerously-trust-ca DIR/ca/ca-cert.pem` sends the broker there instead of the real API.
 * Every request is appended to DIR/requests.jsonl (method, path, the Authorization header it got,
 * the body), so a test can show that the real key arrived here and nowhere else.
 * Prints one JSON line {"port", "ca"} on stdout when ready. Answers every prompt with a fixed text.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { ensureCa, leafFor } from '../src/egress/ca.js';

export const FAKE_REPLY = 'Hello from the FAKE model server (no real model was called).';

export async function startFakeModel(dir: string, host = 'api.openai.com') {
  mkdirSync(dir, { recursive: true });
  const ca = await ensureCa(join(dir, 'ca'));
  const leaf = await leafFor(ca, host);
  const log = join(dir, 'requests.jsonl');
  const server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      let body: Record<string, unknown> = {};
      try { body = text ? JSON.parse(text) as Record<string, unknown> : {}; } catch { /* logged raw */ }
      appendFileSync(log, `${JSON.stringify({ time: new Date().toISOString(), method: req.method, path: req.url, authorization: req.headers.authorization ?? null, headers: req.headers, body: text.slice(0, 1_000_000) })}\n`);
      answer(req.method ?? 'GET', (req.url ?? '/').split('?')[0]!, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port, caFile: join(dir, 'ca', 'ca-cert.pem'), log };
}

function answer(method: string, path: string, body: Record<string, unknown>, res: ServerResponse): void {
  const model = typeof body['model'] === 'string' ? body['model'] : 'fake-model';
  const json = (code: number, v: unknown) => { res.writeHead(code, { 'content-type': 'application/json' }); res.end(JSON.stringify(v)); };
  if (method === 'GET' && path.endsWith('/models')) {
    return json(200, { object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model', owned_by: 'fake' }] });
  }
  if (method === 'POST' && path.endsWith('/chat/completions')) {
    const id = `chatcmpl-fake${Date.now()}`;
    if (body['stream'] === true) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const chunk = (delta: unknown, finish: string | null) => `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      res.write(chunk({ role: 'assistant', content: '' }, null));
      res.write(chunk({ content: FAKE_REPLY }, null));
      res.write(chunk({}, 'stop'));
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model, choices: [], usage: { prompt_tokens: 5, completion_tokens: 12, total_tokens: 17 } })}\n\n`);
      res.end('data: [DONE]\n\n');
      return;
    }
    return json(200, { id, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model,
      choices: [{ index: 0, message: { role: 'assistant', content: FAKE_REPLY }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 5, completion_tokens: 12, total_tokens: 17 } });
  }
  if (method === 'POST' && path.endsWith('/responses')) {
    const id = `resp_fake${Date.now()}`;
    const item = { id: `msg_fake${Date.now()}`, type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: FAKE_REPLY, annotations: [] }] };
    const done = { id, object: 'response', created_at: Math.floor(Date.now() / 1000), status: 'completed', model, output: [item], usage: { input_tokens: 5, output_tokens: 12, total_tokens: 17 } };
    if (body['stream'] === true) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      let seq = 0;
      const ev = (type: string, data: Record<string, unknown>) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...data })}\n\n`);
      ev('response.created', { response: { ...done, status: 'in_progress', output: [] } });
      ev('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', content: [] } });
      ev('response.content_part.added', { item_id: item.id, output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
      ev('response.output_text.delta', { item_id: item.id, output_index: 0, content_index: 0, delta: FAKE_REPLY });
      ev('response.output_text.done', { item_id: item.id, output_index: 0, content_index: 0, text: FAKE_REPLY });
      ev('response.content_part.done', { item_id: item.id, output_index: 0, content_index: 0, part: item.content[0] });
      ev('response.output_item.done', { output_index: 0, item });
      ev('response.completed', { response: done });
      res.end();
      return;
    }
    return json(200, done);
  }
  json(404, { error: { message: `the fake model server does not serve ${method} ${path}`, type: 'invalid_request_error' } });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--dir');
  const dir = i > 0 ? process.argv[i + 1]! : '/tmp/armorer-fake-model';
  const { port, caFile } = await startFakeModel(dir);
  process.stdout.write(`${JSON.stringify({ port, ca: caFile, log: join(dir, 'requests.jsonl') })}\n`);
}
