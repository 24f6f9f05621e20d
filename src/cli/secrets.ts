import { Option, type Command } from 'commander';
// Already loaded by program.ts; importing it here costs nothing at startup.
import { ArmorerError } from '../core/errors.js';

/** `armorer secrets ...`: parsing and printing only; the store is src/secrets/. */
export function registerSecrets(program: Command): void {
  const secrets = program.command('secrets')
    .description('the age-encrypted secret store ($ARMORER_HOME/secrets); values are never printed without --reveal');

  secrets.command('init')
    .description('create the store: a new age identity, encrypted with a passphrase you choose')
    .action(async () => {
      const s = await import('../secrets/index.js');
      const home = await armorerHomeDir();
      s.requireNoStore(s.storePaths(home)); // before asking for a passphrase twice
      const { passphrase } = await s.resolvePassphrase({ confirm: true });
      const store = await s.SecretStore.init(home, passphrase);
      const p = s.storePaths(home);
      process.stdout.write(`Created the secrets store in ${p.dir}\n  recipient: ${store.recipient}\n` +
        'Keep the passphrase safe: without it the secrets cannot be recovered.\n' +
        'Next: "armorer secrets set NAME" (the value is asked for without echo).\n');
    });

  secrets.command('set')
    .description('add or replace a secret; the value is asked for without echo, or read from stdin')
    .argument('<name>', 'e.g. OPENAI_API_KEY')
    .option('--from-stdin', 'read the value from stdin (one trailing newline is dropped)')
    .addOption(new Option('--inject <mode>', 'env: also allow the REAL value into sandbox environments (visible to the agent); none: never').choices(['env', 'none']))
    .action(async (name: string, opts: { fromStdin?: boolean; inject?: 'env' | 'none' }) => {
      const s = await import('../secrets/index.js');
      s.assertSecretName(name);
      if (opts.fromStdin && process.stdin.isTTY) {
        throw usage('--from-stdin reads a pipe, but stdin is a terminal (the value would be echoed)',
          `leave out --from-stdin to be asked without echo, or pipe the value: ... | armorer secrets set ${name} --from-stdin`);
      }
      const pipeIt = `pipe the value in: ... | armorer secrets set ${name} --from-stdin`;
      if (!opts.fromStdin && !s.hasTerminal()) throw usage(`there is no terminal to ask for the value of ${name} on`, pipeIt);
      // Unlock first: a wrong passphrase fails before the value is typed or read.
      const store = await s.openSecretStore(await armorerHomeDir());
      const value = opts.fromStdin ? await readStdin(s.MAX_SECRET_BYTES) : await s.readHidden(`Value of ${name} (typing is hidden): `, pipeIt);
      const e = await store.set(name, value, opts.inject ? { inject: opts.inject } : {});
      process.stdout.write(`${e.replaced ? 'replaced' : 'set'} ${name}${e.inject === 'env' ? ' (inject: env)' : ''}\n`);
      if (e.inject === 'env') {
        process.stderr.write(`WARNING: ${name} is marked "inject: env": a policy that asks for it gets its REAL value in the ` +
          'sandbox environment, where the agent can read it and send it anywhere its egress allows. ' +
          `Prefer secrets.access:${name}@host (the value stays on the host). Undo: armorer secrets set ${name} --inject none\n`);
      }
    });

  secrets.command('list')
    .description('names, last change and injection mode; never values')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const s = await import('../secrets/index.js');
      const entries = (await s.openSecretStore(await armorerHomeDir())).list();
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
      } else if (entries.length === 0) {
        process.stdout.write('no secrets set; add one with "armorer secrets set NAME"\n');
      } else {
        const width = Math.max(4, ...entries.map((e) => e.name.length));
        process.stdout.write(`${'NAME'.padEnd(width)}  ${'UPDATED'.padEnd(24)}  INJECT\n`);
        for (const e of entries) process.stdout.write(`${e.name.padEnd(width)}  ${e.updated.padEnd(24)}  ${e.inject === 'env' ? 'env' : '-'}\n`);
      }
    });

  secrets.command('get')
    .description('print one value; refuses without --reveal')
    .argument('<name>')
    .option('--reveal', 'really print the value (it ends up on the terminal and in its scrollback)')
    .action(async (name: string, opts: { reveal?: boolean }) => {
      const s = await import('../secrets/index.js');
      s.assertSecretName(name);
      if (!opts.reveal) {
        throw usage(`the value of ${name} is printed only with --reveal`, `armorer secrets get ${name} --reveal`);
      }
      const value = await (await s.openSecretStore(await armorerHomeDir())).get(name);
      if (value === undefined) {
        throw new ArmorerError('ARMORER_E_SECRET', `the secret ${name} is not set`, '"armorer secrets list" shows the names');
      }
      process.stdout.write(`${value}\n`);
    });

  secrets.command('rm')
    .description('remove a secret')
    .argument('<name>')
    .action(async (name: string) => {
      const s = await import('../secrets/index.js');
      s.assertSecretName(name);
      await (await s.openSecretStore(await armorerHomeDir())).remove(name);
      process.stdout.write(`removed ${name}\n`);
    });

  secrets.command('rotate-key')
    .description('replace the age identity and re-encrypt every secret to it (same passphrase)')
    .action(async () => {
      const s = await import('../secrets/index.js');
      const home = await armorerHomeDir();
      s.requireStore(s.storePaths(home));
      const { passphrase } = await s.resolvePassphrase();
      const r = await s.rotateKey(home, passphrase);
      process.stdout.write(`rotated: ${r.secrets} secret${r.secrets === 1 ? '' : 's'} re-encrypted\n  new recipient: ${r.recipient}\n  old recipient: ${r.previous} (no longer opens the store)\n`);
    });

  secrets.command('export-recipient')
    .description('print the store\'s age recipient (public), e.g. for "age -r"')
    .action(async () => {
      const s = await import('../secrets/index.js');
      process.stdout.write(`${s.readRecipient(s.storePaths(await armorerHomeDir()))}\n`);
    });
}

async function armorerHomeDir(): Promise<string> {
  const { armorerHome } = await import('../core/paths.js');
  return armorerHome();
}

function usage(message: string, fix: string): ArmorerError {
  return new ArmorerError('ARMORER_E_USAGE', message, fix);
}

/** All of stdin, bounded; one trailing newline (as `echo` and here-strings add) is dropped. */
async function readStdin(max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max + 2) {
      process.stdin.destroy();
      throw new ArmorerError('ARMORER_E_SECRET', `the value on stdin is larger than ${max} bytes`, 'store a smaller value (a key, a token), not a file');
    }
    chunks.push(chunk);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new ArmorerError('ARMORER_E_SECRET', 'the value on stdin is not UTF-8 text', 'store text (base64-encode binary values)');
  }
  return text.replace(/\r?\n$/, '');
}
