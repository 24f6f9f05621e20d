import { ArmorerError } from '../../core/errors.js';
import type { Recipe } from './types.js';

/** `--command "..."`: an existing program (a coding agent, a script) run as is in the sandbox. */
export const commandRecipe: Recipe = {
  id: 'command', packageName: null, pinnedVersion: null, allowScripts: [], sandboxPort: null,
  configure: async () => {},
  launch: (ctx, args) => {
    if (!ctx.record.command?.length) {
      throw new ArmorerError('ARMORER_E_RECIPE', `agent "${ctx.record.name}" has no command recorded`, 'reinstall it with --command');
    }
    return { command: [...ctx.record.command, ...args], env: {} };
  },
};

/**
 * Splits a command line the way a shell would for plain words and quotes, without running a shell:
 * no variables, globs or substitutions, so what is recorded is exactly what runs.
 */
export function splitCommand(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: '"' | "'" | null = null;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) cur += text[++i];
      else cur += c;
    } else if (c === '"' || c === "'") { quote = c; inWord = true; }
    else if (c === '\\' && i + 1 < text.length) { cur += text[++i]; inWord = true; }
    else if (/\s/.test(c)) { if (inWord) out.push(cur); cur = ''; inWord = false; }
    else if ('|&;<>()$`*?[]{}~'.includes(c)) {
      throw new ArmorerError('ARMORER_E_RECIPE', `the command uses the shell character ${JSON.stringify(c)}`,
        'give a plain command line (program and arguments); for shell syntax use --command "sh -c \'...\'" and grant shell.exec');
    } else { cur += c; inWord = true; }
  }
  if (quote) throw new ArmorerError('ARMORER_E_RECIPE', 'the command has an unclosed quote', 'close the quote');
  if (inWord) out.push(cur);
  // `""` is one empty word: no program either.
  if (out.length === 0 || out[0] === '') throw new ArmorerError('ARMORER_E_RECIPE', 'the command is empty', 'give --command "program args"');
  return out;
}
