// The redaction benchmark's input: deterministic, realistic mixed output of an agent run (logs,
// JSON, code, base64 blobs, hashes, certificates, prose) with secrets and provider tokens planted
// at known places. Tokens are assembled from parts so that scanners do not flag this file.
import { generateKeyPairSync } from 'node:crypto';

/** mulberry32: a small seeded PRNG, so every run measures the same bytes. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const HEX = '0123456789abcdef';
const B64 = `${ALNUM}+/`;
const WORDS = ('the a of to and in is it that for on with as was be by this are from at or an have not ' +
  'build test module request response cache user session token config value error warning file path ' +
  'install package dependency compile bundle deploy server client worker queue retry timeout task-list ' +
  'risk-free sk-learn flask-login desk-top api key secret password handler router schema migration').split(' ');

export interface Corpus {
  text: string;
  secrets: { name: string; value: string }[];
  /** Every planted secret form and token: what must not survive redaction. */
  planted: { kind: string; value: string }[];
}

export function buildCorpus(bytes: number, nSecrets: number, seed = 42): Corpus {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const str = (alphabet: string, n: number) => Array.from({ length: n }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const uuid = () => `${str(HEX, 8)}-${str(HEX, 4)}-4${str(HEX, 3)}-a${str(HEX, 3)}-${str(HEX, 12)}`;
  const words = (n: number) => Array.from({ length: n }, () => pick(WORDS)).join(' ');
  const b64 = (n: number) => Buffer.from(str(B64, n)).toString('base64');
  const b64url = (x: unknown) => Buffer.from(JSON.stringify(x)).toString('base64url');

  // Secrets of the shapes users hold: API-key-like, hex, passwords with punctuation.
  const secrets = Array.from({ length: nSecrets }, (_, i) => {
    const kind = i % 3;
    const value = kind === 0 ? str(ALNUM, int(24, 64)) : kind === 1 ? str(HEX, 40) : `${str(ALNUM, 10)}!${str(ALNUM, 6)}/+ ${str(ALNUM, 8)}`;
    return { name: `APP_SECRET_${i}`, value };
  });

  // Real private keys (small RSA for speed), a certificate-like block and public keys as look-alikes.
  const rsaKeys = Array.from({ length: 4 }, () =>
    generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString().trim());
  const ed = generateKeyPairSync('ed25519');
  const spki = ed.publicKey.export({ type: 'spki', format: 'pem' }).toString().trim();
  const certificate = () => `-----BEGIN CERTIFICATE-----\n${b64(900).replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----`;

  const tokens: [string, () => string][] = [
    ['aws-access-key-id', () => ['AK', 'IA', str(UPPER, 16)].join('')],
    ['aws-secret-access-key', () => `aws_secret_access_key = ${str(`${ALNUM}/+`, 40)}`],
    ['github-token', () => ['gh', 'p_', str(ALNUM, 36)].join('')],
    ['gitlab-token', () => ['gl', 'pat-', str(ALNUM, 20)].join('')],
    ['openai-key', () => ['sk', '-proj-', str(ALNUM, 74), 'T3Blbk', 'FJ', str(ALNUM, 74)].join('')],
    ['anthropic-key', () => ['sk', '-ant-api03-', str(`${ALNUM}_-`, 93), 'AA'].join('')],
    ['slack-token', () => ['xo', 'xb-', str('0123456789', 12), '-', str('0123456789', 13), '-', str(ALNUM, 24)].join('')],
    ['slack-webhook', () => ['https://hooks.slack.com/services/', 'T', str(UPPER, 8), '/B', str(UPPER, 8), '/', str(ALNUM, 24)].join('')],
    ['stripe-key', () => ['sk', '_live_', str(ALNUM, 24)].join('')],
    ['google-api-key', () => ['AI', 'za', str(`${ALNUM}_-`, 35)].join('')],
    ['npm-token', () => ['np', 'm_', str(ALNUM, 36)].join('')],
    ['huggingface-token', () => ['h', 'f_', str(ALNUM, 34)].join('')],
    ['private-key', () => pick(rsaKeys)],
    ['jwt', () => `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ sub: uuid(), iat: int(1.6e9, 1.8e9) })}.${Buffer.from(str(ALNUM, 32)).toString('base64url')}`],
    ['url-password', () => `postgres://app:${str(ALNUM, 16)}@db.internal:5432/app`],
  ];

  const filler: (() => string)[] = [
    () => `2025-06-${int(10, 28)}T${int(10, 23)}:${int(10, 59)}:${int(10, 59)}.${int(100, 999)}Z ${pick(['INFO', 'WARN', 'DEBUG'])} ` +
      `req=${uuid()} ${pick(['GET', 'POST'])} /api/v1/${pick(WORDS)}/${int(1, 99999)} ${pick([200, 201, 304, 404, 500])} ${int(1, 900)}ms ` +
      `ip=10.${int(0, 255)}.${int(0, 255)}.${int(1, 254)} user=${pick(WORDS)}@example.com\n`,
    () => JSON.stringify({ id: uuid(), sha: str(HEX, 64), name: words(3), tags: [pick(WORDS), pick(WORDS)],
      url: `https://cdn.example.com/${pick(WORDS)}/${str(HEX, 8)}.js`, nested: { ok: rnd() > 0.5, n: int(0, 1e6), note: words(8) } }) + '\n',
    () => `export function ${pick(WORDS).replace('-', '_')}_${int(1, 999)}(task_list: string[], risk_free = ${int(0, 9)}): number {\n` +
      `  const api_key_name = process.env.API_KEY_NAME ?? '${pick(WORDS)}'; // ${words(6)}\n  return task_list.length * ${int(2, 99)};\n}\n`,
    () => `def handle_${pick(WORDS).replace('-', '_')}(self, request_id, retry_count=${int(1, 5)}):\n    """${words(10)}"""\n` +
      `    return self.session.get(f"https://api.example.com/v2/items/{request_id}", timeout=${int(1, 30)})\n`,
    () => `commit ${str(HEX, 40)}\nAuthor: Dev ${pick(WORDS)} <dev@example.org>\n\n    ${words(9)}\n\n`,
    () => `${b64(int(600, 3000)).replace(/.{76}/g, '$&\n')}\n`,
    () => `data: ${Buffer.from(str(ALNUM, int(200, 900))).toString('base64url')}\n`,
    () => `${words(int(10, 30))}.\n\n`,
    () => `${pick([spki, certificate()])}\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${str(B64, 43)} dev@laptop\n`,
  ];

  const planted: Corpus['planted'] = [];
  const wrap = (v: string): string => pick([`token: ${v}\n`, `{"credential":"${v}","ok":true}\n`, `export KEY=${v}\n`, `  auth ${v} (expires soon)\n`]);
  const parts: string[] = [];
  let len = 0;
  let secretTurn = 0;
  let tokenTurn = 0;
  for (let i = 0; len < bytes; i++) {
    let part = pick(filler)();
    // One planted item every ~90 filler blocks: secrets (raw or encoded) and tokens in turn.
    if (i % 90 === 45) {
      if (secretTurn <= tokenTurn) {
        const s = secrets[secretTurn % secrets.length]!;
        const form = pick(['raw', 'base64', 'url', 'hex', 'json']);
        const v = form === 'raw' ? s.value : form === 'base64' ? Buffer.from(s.value).toString('base64')
          : form === 'url' ? encodeURIComponent(s.value) : form === 'hex' ? Buffer.from(s.value).toString('hex')
            : JSON.stringify(s.value).slice(1, -1);
        planted.push({ kind: `secret:${form}`, value: v });
        part += wrap(v);
        secretTurn++;
      } else {
        const [kind, make] = tokens[tokenTurn % tokens.length]!;
        const v = make();
        // What must disappear: for these three only a part of the text is secret.
        const secretPart = kind === 'aws-secret-access-key' ? v.split(' = ')[1]!
          : kind === 'url-password' ? v.split(':')[2]!.split('@')[0]! : kind === 'slack-webhook' ? v.split('/services/')[1]! : v;
        planted.push({ kind, value: secretPart });
        part += kind === 'private-key' ? `${v}\n` : wrap(v);
        tokenTurn++;
      }
    }
    parts.push(part);
    len += part.length;
  }
  return { text: parts.join(''), secrets, planted };
}
