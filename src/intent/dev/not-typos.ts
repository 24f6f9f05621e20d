/**
 * Development tool, not part of the bundle: prints the real words (from a word list such as
 * /usr/share/dict/words, Debian package wamerican or wbritish) that the matcher would read as a typo
 * of a trigger word, as a YAML flow list for `notTypos:` in src/intent/catalog.yaml.
 *
 *   node --import tsx src/intent/dev/not-typos.ts /usr/share/dict/american-english /usr/share/dict/british-english
 *
 * Run it again after adding triggers; it keeps the words already listed.
 */
import { readFileSync } from 'node:fs';
import { loadCatalog } from '../catalog.js';
import { typoReading } from '../match.js';

const catalog = await loadCatalog('/nonexistent-armorer-home');
const words = new Set<string>(catalog.notTypos);
for (const file of process.argv.slice(2)) {
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const w = line.trim().toLowerCase();
    if (/^[a-z]+$/.test(w) && typoReading(w, catalog) !== undefined) words.add(w);
  }
}
const sorted = [...words].sort();
const lines: string[] = [];
let cur = '';
for (const w of sorted) {
  if (cur.length + w.length + 2 > 96) { lines.push(cur.trimEnd()); cur = ''; }
  cur += `${w}, `;
}
if (cur) lines.push(cur.trimEnd());
process.stdout.write(`notTypos: [\n${lines.map((l) => `  ${l}`).join('\n')}\n]\n`);
