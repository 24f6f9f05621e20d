/**
 * Runs a command on a real pseudo-terminal (util-linux `script`), answering prompts as they
 * appear: how `age -p` and Armorer's own no-echo prompts are driven without a person. Each answer
 * is typed only after its prompt is on the screen, so the terminal is already in no-echo mode
 * and anything echoed would be a real leak, not type-ahead.
 */
import { spawn, spawnSync } from 'node:child_process';

export const HAVE_SCRIPT = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

export interface Answer { after: RegExp; type: string }

export function quote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function onPty(argv: string[], answers: Answer[], o: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<{ code: number | null; screen: string }> {
  const child = spawn('script', ['-qec', argv.map(quote).join(' '), '/dev/null'], {
    env: o.env ?? process.env, cwd: o.cwd, stdio: ['pipe', 'pipe', 'pipe'],
  });
  let screen = '';
  let next = 0;
  let searchFrom = 0;
  const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
  const onOutput = (chunk: Buffer) => {
    screen += chunk.toString('utf8');
    // Answer each prompt once, in order, looking only at output after the previous answer.
    while (next < answers.length) {
      const m = answers[next]!.after.exec(screen.slice(searchFrom));
      if (!m) break;
      searchFrom += m.index + m[0].length;
      child.stdin.write(answers[next]!.type);
      next++;
    }
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      if (next < answers.length) reject(new Error(`prompt ${answers[next]!.after} never appeared; screen:\n${screen}`));
      else resolve({ code, screen });
    });
  });
}
