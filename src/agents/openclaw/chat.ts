import { randomUUID } from 'node:crypto';
import { ArmorerError } from '../../core/errors.js';
import { gatewayRequest } from './gateway.js';

export interface ChatTurn { reply: string; runId: string | null; frames: number; ms: number }

/** Statuses of an `agent` request that are not its final answer. */
const PENDING = ['accepted', 'queued', 'running'];

/**
 * One chat turn through a published OpenClaw gateway: connect as a loopback backend client (which
 * keeps the scopes it asks for), send an `agent` request, and wait for its final response.
 */
export async function chatTurn(port: number, token: string, message: string, timeoutMs = 120_000): Promise<ChatTurn> {
  let answer;
  try {
    answer = await gatewayRequest(port, token, { id: 'gateway-client', mode: 'backend', scopes: ['operator.read', 'operator.write'] }, {
      method: 'agent',
      params: { message, agentId: 'main', deliver: false, idempotencyKey: randomUUID(), timeout: Math.ceil(timeoutMs / 1000) },
      final: (f) => !PENDING.includes(String(f.payload?.['status'])),
    }, timeoutMs);
  } catch (e) {
    throw failed((e as Error).message);
  }
  const { frame, frames, ms } = answer;
  if (!frame.ok) throw failed(`agent request refused: ${frame.error?.message ?? 'no reason'}`);
  const p = frame.payload ?? {};
  return { reply: replyText(p), runId: typeof p['runId'] === 'string' ? p['runId'] : null, frames, ms };
}

function failed(why: string): ArmorerError {
  return new ArmorerError('ARMORER_E_AGENT', `chat turn through the gateway failed: ${why}`, 'armorer status NAME shows the gateway\'s health');
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
