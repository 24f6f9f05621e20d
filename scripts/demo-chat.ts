/** One chat turn through an installed OpenClaw agent's gateway (used by scripts/demo.sh). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chatTurn } from '../src/agents/openclaw/chat.js';

const [home, name, message] = process.argv.slice(2) as [string, string, string];
const dir = join(home, 'agents', name);
const token = (JSON.parse(readFileSync(join(dir, 'home/.openclaw/openclaw.json'), 'utf8')) as { gateway: { auth: { token: string } } }).gateway.auth.token;
const port = (JSON.parse(readFileSync(join(dir, 'agent.json'), 'utf8')) as { ports: { host: number } }).ports.host;
const turn = await chatTurn(port, token, message, 120_000);
process.stdout.write(`you:   ${message}\nagent: ${turn.reply}\n(${turn.ms} ms, run ${turn.runId})\n`);
