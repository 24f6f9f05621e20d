import { randomUUID } from 'node:crypto';
import { WebSocket } from 'undici';
import { ArmorerError } from '../../core/errors.js';

export interface ChatTurn { reply: string; runId: string | null; frames: number; ms: number }

/**
 * One chat turn through a published OpenClaw gateway, at the protocol level: answer the
 * `connect.challenge` with the gateway token (as a loopback backend client, which keeps the
 * scopes it asks for), send an `agent` request, and wait for its final response.
 */
export function chatTurn(port: number, token: string, message: string, timeoutMs = 120_000): Promise<ChatTurn> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    const key = randomUUID();
    let frames = 0;
    let runId: string | null = null;
    let finished = false;
    const fail = (why: string) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      try { ws.close(); } catch { /* closed */ }
      reject(new ArmorerError('ARMORER_E_AGENT', `chat turn through the gateway failed: ${why}`, 'armorer status NAME shows the gateway\'s health'));
    };
    const timer = setTimeout(() => fail(`no final answer within ${timeoutMs} ms`), timeoutMs);
    ws.addEventListener('error', () => fail('the WebSocket connection failed'));
    ws.addEventListener('message', (ev) => {
      frames++;
      let f: { type?: string; event?: string; id?: string; ok?: boolean; error?: { message?: string }; payload?: Record<string, unknown> };
      try { f = JSON.parse(String(ev.data)) as typeof f; } catch { return fail('a frame that is not JSON'); }
      if (f.type === 'event' && f.event === 'connect.challenge') {
        ws.send(JSON.stringify({ type: 'req', id: 'connect', method: 'connect', params: {
          minProtocol: 4, maxProtocol: 4, role: 'operator', scopes: ['operator.read', 'operator.write'], auth: { token },
          client: { id: 'gateway-client', version: '1', platform: process.platform, mode: 'backend' },
        } }));
      } else if (f.type === 'res' && f.id === 'connect') {
        if (!f.ok) return fail(`connect refused: ${f.error?.message ?? 'no reason'}`);
        ws.send(JSON.stringify({ type: 'req', id: 'turn', method: 'agent', params: {
          message, agentId: 'main', deliver: false, idempotencyKey: key, timeout: Math.ceil(timeoutMs / 1000),
        } }));
      } else if (f.type === 'res' && f.id === 'turn') {
        if (!f.ok) return fail(`agent request refused: ${f.error?.message ?? 'no reason'}`);
        const p = f.payload ?? {};
        if (typeof p['runId'] === 'string') runId = p['runId'];
        if (p['status'] === 'accepted' || p['status'] === 'queued' || p['status'] === 'running') return;
        finished = true;
        clearTimeout(timer);
        ws.close();
        resolve({ reply: replyText(p), runId, frames, ms: Date.now() - started });
      }
    });
  });
}

/** The assistant's visible text in a final `agent` payload (its shape varies by version: search it). */
function replyText(p: unknown): string {
  const found: string[] = [];
  let visible: string | null = null;
  const walk = (v: unknown, key: string) => {
    if (key === 'finalAssistantVisibleText' && typeof v === 'string') visible ??= v;
    else if (typeof v === 'string' && /text|reply|content/i.test(key) && v.trim()) found.push(v);
    else if (Array.isArray(v)) v.forEach((x) => walk(x, key));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  walk(p, '');
  return visible ?? found[0] ?? '';
}
