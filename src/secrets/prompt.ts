/**
 * Reads answers from the controlling terminal with echo off. Always /dev/tty, not stdin: stdin
 * may be a pipe carrying a secret's value (`--from-stdin`) while the passphrase is typed.
 */
import { closeSync, openSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import tty from 'node:tty';
import { ArmorerError } from '../core/errors.js';

const MAX_LINE = 64 * 1024;

/** Undefined when this process has no controlling terminal (a service, CI, `setsid`). */
export function openTerminal(): { input: tty.ReadStream; output: tty.WriteStream } | undefined {
  let rfd: number | undefined;
  try {
    rfd = openSync('/dev/tty', 'r');
    const wfd = openSync('/dev/tty', 'w');
    return { input: new tty.ReadStream(rfd), output: new tty.WriteStream(wfd) };
  } catch {
    if (rfd !== undefined) closeSync(rfd);
    return undefined;
  }
}

export function hasTerminal(): boolean {
  const term = openTerminal();
  term?.input.destroy();
  term?.output.destroy();
  return term !== undefined;
}

/** `fix` says what to do instead when there is no terminal. */
export async function readHidden(question: string, fix: string): Promise<string> {
  const answers = askHidden([question]);
  if (!answers) throw new ArmorerError('ARMORER_E_USAGE', 'there is no terminal to ask on', fix);
  return (await answers)[0]!;
}

/**
 * Asks each question in turn on the terminal, in raw mode so nothing typed is echoed; Enter
 * ends an answer, Ctrl-C (or Ctrl-D on an empty line) cancels. One terminal session for all
 * the questions, so text typed (or pasted) ahead for the next answer is kept, not dropped.
 * Undefined when there is no terminal.
 */
export function askHidden(questions: readonly string[]): Promise<string[]> | undefined {
  const term = openTerminal();
  if (!term) return undefined;
  const { input, output } = term;
  input.setRawMode(true);
  output.write(questions[0] ?? '');
  const decoder = new StringDecoder('utf8');
  const answers: string[] = [];
  let value = '';
  return new Promise((resolve, reject) => {
    const finish = (error?: ArmorerError) => {
      input.off('data', onData);
      input.setRawMode(false);
      input.destroy();
      output.end();
      if (error) reject(error);
      else resolve(answers);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of decoder.write(chunk)) {
        if (ch === '\r' || ch === '\n') {
          output.write('\n');
          answers.push(value);
          value = '';
          if (answers.length === questions.length) return finish();
          output.write(questions[answers.length]!);
        } else if (ch === '\u0003' || (ch === '\u0004' && value === '')) {
          output.write('\n');
          return finish(new ArmorerError('ARMORER_E_USAGE', 'cancelled at the prompt', 'run the command again'));
        } else if (ch === '\u007f' || ch === '\b') {
          value = Array.from(value).slice(0, -1).join('');
        } else if (ch === '\u0015') {
          value = '';
        } else if (ch >= ' ') {
          value += ch;
          if (value.length > MAX_LINE) {
            return finish(new ArmorerError('ARMORER_E_USAGE', `the input is longer than ${MAX_LINE} characters`, 'use --from-stdin for long values'));
          }
        }
      }
    };
    input.on('data', onData);
  });
}
