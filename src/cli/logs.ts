import type { Command } from 'commander';
import { collect } from './options.js';

interface ListOptions { follow?: boolean; agent?: string; kind?: string; since?: string; json?: boolean }
interface VerifyOptions { json?: boolean; file?: string; publicKey?: string[]; checkpoint?: string[] }

/** How often `logs -f` looks for new events. */
const FOLLOW_INTERVAL_MS = 500;
const PAGE = 1000;

export function registerLogs(program: Command): void {
  const logs = program.command('logs')
    .description('show the audit log: every decision, with its rule and reason (hash-chained, signed checkpoints)')
    .option('-f, --follow', 'keep printing new events until Ctrl-C')
    .option('--agent <name>', 'only this agent')
    .option('--kind <kind>', 'only this kind of event (e.g. egress.denied)')
    .option('--since <time>', 'only events at or after an ISO time, or within a duration: 10m, 2h, 1d')
    .option('--json', 'one JSON object per line')
    .action(async (opts: ListOptions) => {
      const { armorerHome } = await import('../core/paths.js');
      const audit = await import('../audit/index.js');
      const since = opts.since === undefined ? undefined : audit.parseSince(opts.since);
      const store = await audit.openAuditStore(armorerHome(), { readOnly: true });
      const print = (e: import('../audit/index.js').AuditEvent) =>
        process.stdout.write(`${opts.json ? JSON.stringify(e) : audit.formatEvent(e)}\n`);
      const filter = { agent: opts.agent, kind: opts.kind, since };
      try {
        let after = 0;
        // Everything so far, a page at a time (each page bounded; the loop ends at the head).
        for (;;) {
          const page = await store.query({ ...filter, afterSeq: after, limit: PAGE });
          page.forEach(print);
          if (page.length > 0) after = page[page.length - 1]!.seq;
          if (page.length < PAGE) break;
        }
        if (opts.follow) await follow(store, filter, after, print);
      } finally {
        await store.close();
      }
    });

  logs.command('verify')
    .description('recompute every hash, link and checkpoint signature; exit 1 and name the first bad event if any')
    .option('--json', 'print the report as JSON')
    .option('--file <export.jsonl>', 'verify an exported copy instead of the configured log')
    .option('--public-key <file>', 'also trust this Ed25519 public key (PEM); repeatable', collect)
    .option('--checkpoint <file>', 'checkpoints kept elsewhere (from "logs checkpoint --json" or an export); repeatable', collect)
    .action(async (opts: VerifyOptions) => {
      const { armorerHome } = await import('../core/paths.js');
      const audit = await import('../audit/index.js');
      const home = armorerHome();
      const checkpoints = [];
      for (const f of opts.checkpoint ?? []) checkpoints.push(...(await audit.readCheckpointFile(f)));
      const report = opts.file
        ? await audit.verifyExportFile(opts.file, { home, publicKeys: opts.publicKey ?? [], checkpoints })
        : await audit.verifyStore(home, { publicKeys: opts.publicKey ?? [], checkpoints });
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${audit.formatReport(report, opts.file ?? 'audit log')}\n`);
      process.exitCode = report.ok ? 0 : 1;
    });

  logs.command('export')
    .description('write the audit log as JSONL (verifiable with "logs verify --file") or RFC 5424 syslog lines')
    .requiredOption('--format <format>', 'jsonl or syslog')
    .option('--output <file>', 'write to this new file (0600) instead of standard output')
    .action(async (opts: { format: string; output?: string }) => {
      const { ArmorerError } = await import('../core/errors.js');
      if (opts.format !== 'jsonl' && opts.format !== 'syslog') {
        throw new ArmorerError('ARMORER_E_USAGE', `--format must be jsonl or syslog, not "${opts.format}"`, 'armorer logs export --format jsonl');
      }
      const { armorerHome } = await import('../core/paths.js');
      const { exportStore } = await import('../audit/index.js');
      if (!opts.output) {
        await exportStore(armorerHome(), opts.format, process.stdout);
        return;
      }
      const { createWriteStream } = await import('node:fs');
      const out = createWriteStream(opts.output, { flags: 'wx', mode: 0o600 });
      await new Promise<void>((resolve, reject) => {
        out.once('open', () => resolve());
        out.once('error', (e: NodeJS.ErrnoException) => reject(new ArmorerError('ARMORER_E_USAGE',
          `cannot create ${opts.output}: ${e.code === 'EEXIST' ? 'it already exists' : e.message}`, 'name a new file')));
      });
      const counts = await exportStore(armorerHome(), opts.format, out);
      await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
      process.stderr.write(`exported ${counts.events} event(s) and ${counts.checkpoints} checkpoint(s) to ${opts.output}\n`);
    });

  logs.command('checkpoint')
    .description('sign a checkpoint over the newest event (if it has none) and print it, to keep somewhere the log is not')
    .option('--json', 'print it as one JSON line (what "logs verify --checkpoint FILE" reads)')
    .action(async (opts: { json?: boolean }) => {
      const { armorerHome } = await import('../core/paths.js');
      const { headCheckpoint } = await import('../audit/index.js');
      const c = await headCheckpoint(armorerHome());
      if (!c) {
        process.stderr.write('the audit log is empty: nothing to sign\n');
        return;
      }
      process.stdout.write(opts.json ? `${JSON.stringify({ type: 'checkpoint', ...c })}\n`
        : `checkpoint: seq ${c.seq}, hash ${c.hash}, signed ${c.time} by key ${c.key_id}\n`);
    });
}

async function follow(
  store: import('../audit/index.js').AuditStore,
  filter: { agent?: string; kind?: string; since?: string },
  after: number,
  print: (e: import('../audit/index.js').AuditEvent) => void,
): Promise<void> {
  const { setTimeout: sleep } = await import('node:timers/promises');
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    // Each round reads at most a page past the last seq printed; the loop ends on Ctrl-C.
    while (!stop.signal.aborted) {
      const page = await store.query({ ...filter, afterSeq: after, limit: PAGE });
      page.forEach(print);
      if (page.length > 0) after = page[page.length - 1]!.seq;
      if (page.length < PAGE) await sleep(FOLLOW_INTERVAL_MS, undefined, { signal: stop.signal }).catch(() => {});
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
