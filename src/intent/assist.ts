/**
 * Optional LLM help (`--assist`): an OpenAI-compatible endpoint is shown the catalog and the words
 * the matcher did not understand, and may only answer with catalog ids, each tied to a phrase
 * copied from the intent. The answer is checked strictly and then derived exactly like a trigger
 * match: negations apply, `because` is the phrase as typed. Anything else refuses the whole answer.
 */
import { z } from 'zod';
import { ArmorerError } from '../core/index.js';
import { deriveIntent, deriveWith, type DeriveOptions } from './derive.js';
import type { Catalog, Choice, IntentResult } from './types.js';

/** The part of `fetch` used here, so the lead can route the call through the credential broker. */
export type FetchLike = (url: string, init: {
  method: 'POST'; headers: Record<string, string>; body: string; signal?: AbortSignal;
}) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

export interface AssistOptions {
  /** Base URL of an OpenAI-compatible API, e.g. http://127.0.0.1:8080/v1 (from config). */
  endpoint: string;
  model: string;
  /** Sent as a bearer token; through the broker this is a surrogate or absent. */
  apiKey?: string;
  fetch?: FetchLike;
  timeoutMs?: number;
  derive?: DeriveOptions;
}

const MAX_ANSWER_BYTES = 256 * 1024;
const MAX_CHOICES = 50;

const answerSchema = z.object({
  choices: z.array(z.object({
    capability: z.string().min(1).max(60),
    phrase: z.string().min(1).max(200),
  }).strict()).max(MAX_CHOICES),
}).strict();

/**
 * Derives the intent, and only if some words were not understood asks the assistant about them.
 * Its choices are added to the deterministic matches; the result has the same shape.
 */
export async function assistIntent(text: string, catalog: Catalog, opts: AssistOptions): Promise<IntentResult> {
  const plain = deriveIntent(text, catalog, opts.derive);
  if (plain.notUnderstood.length === 0) return plain;
  const answer = await askAssistant(text, plain.notUnderstood, catalog, opts);
  return deriveWith(text, catalog, opts.derive ?? {}, validateAssistAnswer(answer, catalog));
}

/** Checks an answer's shape and that every id is in the catalog; phrases are checked when derived. */
export function validateAssistAnswer(answer: unknown, catalog: Catalog): Choice[] {
  const parsed = answerSchema.safeParse(answer);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw refused(`its answer does not have the expected shape (${i.path.join('.') || 'answer'}: ${i.message})`);
  }
  for (const c of parsed.data.choices) {
    if (!catalog.byId.has(c.capability)) throw refused(`it chose "${c.capability}", which is not in the intent catalog`);
  }
  return parsed.data.choices;
}

/** The prompt: the catalog as a list, the intent, and the words to place. */
export function assistMessages(text: string, notUnderstood: string[], catalog: Catalog): { role: string; content: string }[] {
  const list = catalog.entries.map((e) => `${e.id}: ${e.title} (${e.reason})`).join('\n');
  return [
    {
      role: 'system',
      content: 'You map a description of what an AI agent is for to capability ids from a fixed catalog.\n'
        + 'Answer with JSON only: {"choices":[{"capability":"<id>","phrase":"<words copied exactly from the text>"}]}.\n'
        + 'Use only ids from the catalog below. Choose only for the words listed as not understood, and only '
        + 'when the text clearly asks for that capability; otherwise answer {"choices":[]}.\n\nCatalog:\n' + list,
    },
    { role: 'user', content: `Text: ${text}\nNot understood: ${notUnderstood.join(', ')}` },
  ];
}

/** POSTs the prompt to `<endpoint>/chat/completions` and returns the JSON the model wrote. */
export async function askAssistant(text: string, notUnderstood: string[], catalog: Catalog, opts: AssistOptions): Promise<unknown> {
  let url: URL;
  try {
    url = new URL(`${opts.endpoint.replace(/\/+$/, '')}/chat/completions`);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new ArmorerError('ARMORER_E_INTENT_ASSIST', `the assistant endpoint "${opts.endpoint}" is not an http(s) URL`,
      'set the endpoint to the base URL of an OpenAI-compatible API, e.g. https://api.openai.com/v1');
  }
  const doFetch: FetchLike = opts.fetch ?? ((u, init) => fetch(u, init));
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (opts.apiKey !== undefined) headers['authorization'] = `Bearer ${opts.apiKey}`;
  const body = JSON.stringify({
    model: opts.model, temperature: 0, response_format: { type: 'json_object' },
    messages: assistMessages(text, notUnderstood, catalog),
  });
  let status: number;
  let raw: string;
  try {
    const res = await doFetch(url.href, { method: 'POST', headers, body, signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000) });
    status = res.status;
    raw = await res.text();
    if (!res.ok) throw refused(`${url.origin} answered HTTP ${status}`, 'check the endpoint, the model name and the key in config');
  } catch (e) {
    if (e instanceof ArmorerError) throw e;
    const why = e instanceof Error && e.name === 'TimeoutError' ? 'did not answer in time' : `could not be reached (${(e as Error).message})`;
    throw refused(`${url.origin} ${why}`, 'check the endpoint in config, or run without --assist');
  }
  if (Buffer.byteLength(raw) > MAX_ANSWER_BYTES) throw refused('its answer is larger than 256 KiB');
  let content: unknown;
  try {
    const completion = JSON.parse(raw) as { choices?: { message?: { content?: unknown } }[] };
    content = completion.choices?.[0]?.message?.content;
  } catch {
    throw refused(`${url.origin} did not answer with JSON`, 'check that the endpoint is OpenAI-compatible (…/v1)');
  }
  if (typeof content !== 'string') throw refused('its answer has no message content', 'check that the endpoint is OpenAI-compatible (…/v1)');
  try {
    return JSON.parse(content);
  } catch {
    throw refused('the model did not write JSON');
  }
}

function refused(why: string, fix = 'run without --assist, or rephrase the intent with words from the catalog (docs/intents.md)'): ArmorerError {
  return new ArmorerError('ARMORER_E_INTENT_ASSIST', `the intent assistant was refused: ${why}`, fix);
}
