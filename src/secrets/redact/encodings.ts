/**
 * The forms in which a secret's value can leave a run: as itself, and as the common encodings a
 * program applies on the way out (a header, a URL, a JSON document, a hex dump, a base64 blob).
 * Each form becomes a literal the redactor looks for.
 *
 * Not covered, and said so in docs/threat-model.md: base64 wrapped across lines (MIME, PEM),
 * base32, double encodings (base64 of the URL-encoded value...), compression or encryption,
 * and any other transformation the agent chooses to apply.
 */
import { ArmorerError } from '../../core/errors.js';

/**
 * Shorter values are refused: a 3-character literal would redact ordinary words everywhere.
 * Values of 4 characters or more are all registered, even where that over-redacts: a user would
 * rather see their own short secret hidden in a few innocent places than see it leak once.
 */
export const MIN_SECRET_LENGTH = 4;
/** Longer values are refused: the redactor holds back up to the longest form's length. */
export const MAX_SECRET_LENGTH = 16 * 1024;

const NAME_RE = /^[A-Za-z0-9_.-]{1,128}$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Throws ARMORER_E_SECRET when a secret cannot be redacted reliably. */
export function checkSecret(name: string, value: string): void {
  if (!NAME_RE.test(name)) {
    throw new ArmorerError('ARMORER_E_SECRET', `"${name.slice(0, 40)}" is not a usable secret name for redaction`,
      'use 1-128 letters, digits, "_", "." or "-", e.g. OPENAI_API_KEY');
  }
  if (value.length < MIN_SECRET_LENGTH) {
    throw new ArmorerError('ARMORER_E_SECRET',
      `secret ${name} is ${value.length} characters long: too short to redact without hiding ordinary text`,
      `use a value of at least ${MIN_SECRET_LENGTH} characters (real credentials are far longer)`);
  }
  if (value.length > MAX_SECRET_LENGTH) {
    throw new ArmorerError('ARMORER_E_SECRET',
      `secret ${name} is ${value.length} characters long: longer than the redactor holds back (${MAX_SECRET_LENGTH})`,
      'store a key file path rather than the file itself, or split the value');
  }
  if (LONE_SURROGATE.test(value)) {
    throw new ArmorerError('ARMORER_E_SECRET', `secret ${name} is not well-formed Unicode (a lone surrogate)`,
      'set the value again from its source; it was damaged on the way in');
  }
}

/**
 * The characters of `base64(filler + bytes)` that depend on `bytes` alone, where `filler` is
 * `shift` unknown bytes (0, 1 or 2). A value inside a larger base64 blob starts at some offset
 * mod 3; these three "cores" are what every such blob contains, whatever surrounds the value.
 */
export function base64Core(bytes: Buffer, shift: 0 | 1 | 2, url: boolean): string {
  const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString(url ? 'base64url' : 'base64');
  const firstBit = 8 * shift;
  const endBit = 8 * (shift + bytes.length);
  // Character j covers bits [6j, 6j + 6): keep those wholly inside the value's bits.
  return encoded.slice(Math.ceil(firstBit / 6), Math.floor(endBit / 6));
}

/** Every form of `value` to redact, deduplicated, each at least MIN_SECRET_LENGTH long. */
export function encodedForms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const forms = new Set<string>([value]);
  // A terminal (a pty with ONLCR) turns "\n" into "\r\n" on the way out.
  if (value.includes('\n')) forms.add(value.replace(/\r?\n/g, '\r\n'));

  const b64 = bytes.toString('base64');
  forms.add(b64);
  forms.add(b64.replace(/=+$/, ''));
  const b64url = bytes.toString('base64url');
  forms.add(b64url);
  for (const shift of [0, 1, 2] as const) {
    forms.add(base64Core(bytes, shift, false));
    forms.add(base64Core(bytes, shift, true));
  }

  const component = encodeURIComponent(value);
  const form = component.replace(/%20/g, '+');
  for (const u of [component, form, encodeURI(value)]) {
    forms.add(u);
    forms.add(u.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()));
  }

  const hex = bytes.toString('hex');
  forms.add(hex);
  forms.add(hex.toUpperCase());

  const json = JSON.stringify(value).slice(1, -1);
  forms.add(json);
  forms.add(json.replace(/\//g, '\\/')); // PHP and some Java encoders escape "/"
  // Encoders that keep JSON ASCII-only (Python's json.dumps by default) write \uXXXX.
  forms.add(json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));

  return [...forms].filter((f) => f.length >= MIN_SECRET_LENGTH);
}
