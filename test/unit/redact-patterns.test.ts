import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { Redactor, redactString, type RedactorOptions } from '../../src/secrets/redact/index.js';

// Fake tokens are assembled at run time so that secret scanners do not flag this file.
/** Deterministic pseudo-random bytes (tests must not flake on a chance look-alike). */
function pseudo(n: number, seed: string): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; out.length * 32 < n; i++) out.push(createHash('sha256').update(`${seed}/${i}`).digest());
  return Buffer.concat(out).subarray(0, n);
}
const alnum = (n: number, seed: string) => pseudo(n * 2, seed).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, n).padEnd(n, 'x');
const upper = (n: number, seed: string) => alnum(n, seed).toUpperCase();
const b64url = (x: unknown) => Buffer.from(JSON.stringify(x)).toString('base64url');

const pkcs1 = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString().trim();
const ed = generateKeyPairSync('ed25519');
const pkcs8 = ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString().trim();
const spki = ed.publicKey.export({ type: 'spki', format: 'pem' }).toString().trim();
const edRaw = ed.publicKey.export({ type: 'spki', format: 'der' }).subarray(-32);
const sshString = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
const sshPub = `ssh-ed25519 ${Buffer.concat([sshString(Buffer.from('ssh-ed25519')), sshString(edRaw)]).toString('base64')} me@laptop`;
const certBody = pseudo(700, 'cert').toString('base64').replace(/.{64}/g, '$&\n');
const certificate = `-----BEGIN CERTIFICATE-----\n${certBody}\n-----END CERTIFICATE-----`;
const openssh = ['-----BEGIN OPENSSH', 'PRIVATE KEY-----'].join(' ') + '\n' +
  pseudo(400, 'openssh').toString('base64').replace(/.{70}/g, '$&\n') + '\n-----END OPENSSH PRIVATE KEY-----';

/** [family label, text around the token, the token itself] */
const FAMILIES: [string, string][] = [
  ['aws-access-key-id', ['AK', 'IA', upper(16, 'aws')].join('')],
  ['aws-access-key-id', ['AS', 'IA', upper(16, 'aws-sts')].join('')],
  ['github-token', ['gh', 'p_', alnum(36, 'ghp')].join('')],
  ['github-token', ['gh', 's_', alnum(36, 'ghs')].join('')],
  ['github-token', ['github', '_pat_', alnum(22, 'pat1'), '_', alnum(59, 'pat2')].join('')],
  ['gitlab-token', ['gl', 'pat-', alnum(20, 'glpat')].join('')],
  ['openai-key', ['sk', '-proj-', alnum(74, 'oa1'), '-', alnum(80, 'oa2')].join('')],
  ['openai-key', ['sk', '-', alnum(20, 'oa3'), 'T3Blbk', 'FJ', alnum(20, 'oa4')].join('')],
  ['openai-key', ['sk', '-', alnum(48, 'oa5')].join('')],
  ['anthropic-key', ['sk', '-ant-api03-', alnum(93, 'ant'), 'AA'].join('')],
  ['slack-token', ['xo', 'xb-', '123456789012-1234567890123-', alnum(24, 'slack')].join('')],
  ['stripe-key', ['sk', '_live_', alnum(24, 'stripe')].join('')],
  ['stripe-key', ['rk', '_test_', alnum(32, 'stripe2')].join('')],
  ['google-api-key', ['AI', 'za', alnum(35, 'google')].join('')],
  ['npm-token', ['np', 'm_', alnum(36, 'npm')].join('')],
  ['huggingface-token', ['h', 'f_', alnum(34, 'hf')].join('')],
  ['private-key', pkcs1],
  ['private-key', pkcs8],
  ['private-key', openssh],
  ['jwt', `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ sub: '1234567890', iat: 1516239022 })}.${pseudo(32, 'sig').toString('base64url')}`],
];
const opts: RedactorOptions = { secrets: [] };

describe('token patterns', () => {
  for (const [label, token] of FAMILIES) {
    test(`redacts a ${label} (${token.slice(0, 10)}...)`, () => {
      for (const [pre, post] of [['token: ', '\n'], ['"', '"'], ['', ''], ['x=', ' and more']]) {
        assert.equal(redactString(`${pre}${token}${post}`, opts), `${pre}[REDACTED:${label}]${post}`);
      }
    });
  }

  test('redacts an AWS secret access key in its usual settings, and only the value', () => {
    const secret = ['wJalrXUtnFEMI/K7MDENG', '/bPxRfiCYEXAMPLEKEY'].join('');
    for (const [before, after] of [
      ['aws_secret_access_key = ', '\n'], ['export AWS_SECRET_ACCESS_KEY=', ''], ['"SecretAccessKey": "', '",'],
      ['os.environ["AWS_SECRET_ACCESS_KEY"] = "', '"'],
    ]) {
      assert.equal(redactString(`${before}${secret}${after}`, opts), `${before}[REDACTED:aws-secret-access-key]${after}`);
    }
  });

  test('redacts a Slack webhook path, keeping the host', () => {
    const hook = ['https://hooks.slack.com/services/', 'T0000ABCD/B0000EFGH/', alnum(24, 'hook')].join('');
    assert.equal(redactString(`POST ${hook} ok`, opts), 'POST https://hooks.slack.com/services/[REDACTED:slack-webhook] ok');
  });

  test('redacts only the password of a URL', () => {
    for (const [url, expected] of [
      ['postgres://app:s3cr3t-pw@db.internal:5432/app', 'postgres://app:[REDACTED:url-password]@db.internal:5432/app'],
      ['redis://:only-a-password@cache:6379', 'redis://:[REDACTED:url-password]@cache:6379'],
      ['https://user:p%40ss:word@example.com/x', 'https://user:[REDACTED:url-password]@example.com/x'],
    ]) assert.equal(redactString(`url=${url} ok`, opts), `url=${expected} ok`);
  });

  test('redacts a private key block written as a JSON string (escaped line breaks)', () => {
    const json = JSON.stringify({ type: 'service_account', private_key: `${pkcs8}\n`, client_email: 'a@b.iam' });
    assert.equal(redactString(json, opts),
      '{"type":"service_account","private_key":"[REDACTED:private-key]\\n","client_email":"a@b.iam"}');
  });

  test('redacts a private key block cut off before its END line, as far as its key lines go', () => {
    const cut = pkcs1.split('\n').slice(0, 6).join('\n');
    assert.equal(redactString(`${cut}\n$ next command`, opts), '[REDACTED:private-key]\n$ next command');
  });

  test('leaves tokens alone when patterns are off', () => {
    const token = FAMILIES[2]![1];
    assert.equal(redactString(token, { secrets: [], patterns: false }), token);
  });

  test('counts one redaction per token', () => {
    const r = new Redactor(opts);
    r.push(FAMILIES.map(([, t]) => t).join('\n'));
    r.flush();
    assert.equal(r.count, FAMILIES.length);
  });
});

describe('look-alikes that are not secrets', () => {
  const LOOKALIKES: [string, string][] = [
    ['UUIDs', '550e8400-e29b-41d4-a716-446655440000 and 123e4567-e89b-12d3-a456-426614174000'],
    ['git SHAs and sha256 digests', `commit ${pseudo(20, 'sha1').toString('hex')}\nsha256:${pseudo(32, 'sha256').toString('hex')}`],
    ['an ssh-ed25519 public key', sshPub],
    ['a PEM public key', spki],
    ['a PEM certificate', certificate],
    ['base64 of random data', pseudo(3000, 'blob').toString('base64')],
    ['base64url of random data', pseudo(3000, 'blob-url').toString('base64url')],
    ['"sk-" inside ordinary words', 'the task-list, a risk-free desk-top, sk-learn and flask-login; ask-me'],
    ['prefixes on their own', 'ghp_ tokens, AKIA ids, xoxb- tokens, eyJ headers, npm_ and hf_ prefixes, -----BEGIN nothing'],
    ['URLs without passwords', 'https://example.com:8443/path?q=1#top http://user@host.example/ ssh://git@github.com/x.git'],
    ['e-mail addresses and scp-style remotes', 'alice@example.com wrote to bob.smith+tag@mail.example.org; git@github.com:org/repo.git'],
    ['a JWT-like string with too-short parts', 'eyJhbGci.eyJzdWIi.c2ln'],
    ['an identifier longer than a token', ['gh', 'p_', alnum(300, 'long')].join('')],
    ['a lower-case AKIA run', 'akia' + 'a'.repeat(16)],
  ];
  for (const [what, text] of LOOKALIKES) {
    test(`leaves ${what} untouched`, () => {
      const r = new Redactor(opts);
      assert.equal(r.push(text) + r.flush(), text);
      assert.equal(r.count, 0);
    });
  }
});

describe('tokens split across writes', () => {
  test('catches every family split at every offset over two pushes', () => {
    for (const [label, token] of FAMILIES) {
      const text = `a ${token} b`;
      for (let i = 0; i <= text.length; i++) {
        const r = new Redactor(opts);
        assert.equal(r.push(text.slice(0, i)) + r.push(text.slice(i)) + r.flush(), `a [REDACTED:${label}] b`, `${label} split at ${i}`);
      }
    }
  });

  test('catches every family over three or more pushes', () => {
    for (const [label, token] of FAMILIES) {
      const text = `start ${token}\n`;
      for (const cuts of [[1, 3], [5, 9, 20], [7, 8, 9, 10, 40]]) {
        const r = new Redactor(opts);
        let out = '';
        let from = 0;
        for (const cut of [...cuts, text.length]) {
          out += r.push(text.slice(from, Math.max(from, cut)));
          from = Math.max(from, cut);
        }
        assert.equal(out + r.flush(), `start [REDACTED:${label}]\n`, `${label} cut at ${cuts}`);
      }
    }
  });

  test('respects the left boundary across a write ("task-" then a key-like tail)', () => {
    const r = new Redactor(opts);
    const tail = alnum(48, 'tail');
    assert.equal(r.push('task') + r.push(`-${tail}`) + r.flush(), `task-${tail}`);
  });
});
