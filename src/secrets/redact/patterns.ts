/**
 * Token patterns of the common providers. Each is anchored on a fixed prefix (its trigger) so
 * that look-alikes (UUIDs, hashes, public keys, certificates, base64 data) stay untouched, and
 * each says how long a match can grow, so the streaming redactor knows how much to hold back.
 *
 * Triggers are found with `indexOf` on a short anchor ("_", "-", "://"...) rather than a
 * character-by-character scan: native search runs at several GB/s, and each hit is checked
 * only against the triggers that have the same two characters next to that anchor.
 */

export interface Pattern {
  /** Shown as `[REDACTED:<label>]`. */
  label: string;
  /** Literal prefixes where a match starts. */
  triggers: readonly string[];
  /** A substring of every trigger, searched for with indexOf (unless `locate` is given). */
  anchor: string;
  /**
   * For an anchor that lies past the trigger (a JWT's ".eyJ"): the trigger's start for an anchor
   * found at `p`, or -1. The triggers are then also searched for in the held-back window.
   */
  locate?: (text: string, p: number) => number;
  /** Sticky; tried at a trigger's start. With the `d` flag and `group`, only that group is redacted. */
  re: RegExp;
  group?: number;
  /** Sticky, ends in `$`: matches from a trigger to the end of the text while a match may still come. */
  partial: RegExp;
  /** Upper bound on a match's length; also the most this pattern makes the redactor hold back. */
  maxLen: number;
  /** No match right after such a character ("task-list" is not an `sk-` key). */
  notAfter?: RegExp;
  /** The match's last character ends it; no right-context is needed ("user:pass@"). */
  delimited?: boolean;
  /** Sticky, ends in `$`: the text after a match that may still extend it (a key line being written). */
  openAfter?: RegExp;
  /** A match containing this is finished (a private key's END line). */
  closedBy?: RegExp;
  /** Sticky; the rest of a match cut off at maxLen, applied at the start of the next text. */
  tail?: RegExp;
}

const ALNUM = /[A-Za-z0-9]/;
const isBase64Url = (c: number): boolean =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 95;
const WORDISH = /[A-Za-z0-9_-]/;

// A private key block: header, lines of base64 (or a few PEM/PGP header lines), END line.
// Line breaks may be real, JSON-escaped ("\n" as two characters) or spaces (a key pasted on
// one line); a truncated block (no END) is still redacted as far as its key lines go.
const PK_KIND = '(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?';
const PK_SEP = String.raw`(?:[ \t]*(?:\r?\n|\\r\\n|\\n)|[ \t]+(?=[A-Za-z0-9+/=]{16}))`;
// Header lines first: "Proc-Type: ..." must not be read as the base64 line "Proc".
const PK_LINE = String.raw`(?:(?:Proc-Type|DEK-Info|Version|Comment|Hash|Charset):[^\r\n\\]*|[A-Za-z0-9+/=]+)`;
const PK_END = String.raw`(?:${PK_SEP})*-----END ${PK_KIND}-----`;
// A line break counts only when a key line or the END line follows it: the break after a cut-off
// block is not the key's.
const PK_BODY = `(?:(?:${PK_SEP})+${PK_LINE})*(?:${PK_END})?`;

/** A regex source matching any non-empty proper prefix of `lit`, e.g. "a(?:b(?:c)?)?" for "abcd". */
function prefixesOf(lit: string): string {
  const esc = (c: string) => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  let src = '';
  for (let i = lit.length - 2; i >= 0; i--) src = `${esc(lit[i]!)}${src ? `(?:${src})?` : ''}`;
  return src;
}

const SLACK_HOOK = '://hooks.slack.com/services/';

export const PATTERNS: readonly Pattern[] = [
  {
    label: 'aws-access-key-id', triggers: ['AKIA', 'ASIA'], anchor: 'A',
    re: /A[KS]IA[A-Z0-9]{16}(?![A-Za-z0-9])/y, partial: /A[KS]IA[A-Z0-9]{0,16}$/y,
    maxLen: 64, notAfter: ALNUM,
  },
  {
    label: 'aws-secret-access-key',
    triggers: ['aws_secret_access_key', 'AWS_SECRET_ACCESS_KEY', 'aws_secret_key', 'AWS_SECRET_KEY'], anchor: '_',
    re: /aws_secret(?:_access)?_key["'\]]{0,2}[ \t]{0,8}[:=][ \t]{0,8}["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/idy, group: 1,
    partial: /aws_secret(?:_access)?_key["'\]]{0,2}[ \t]{0,8}(?:[:=][ \t]{0,8}["']?[A-Za-z0-9/+]{0,40})?$/iy,
    maxLen: 128,
  },
  {
    label: 'aws-secret-access-key', triggers: ['SecretAccessKey', 'secretAccessKey'], anchor: 'A',
    re: /secretAccessKey["']?[ \t]{0,8}[:=][ \t]{0,8}["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/idy, group: 1,
    partial: /secretAccessKey["']?[ \t]{0,8}(?:[:=][ \t]{0,8}["']?[A-Za-z0-9/+]{0,40})?$/iy,
    maxLen: 128,
  },
  {
    label: 'github-token', triggers: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'], anchor: '_',
    re: /gh[pousr]_[A-Za-z0-9]{36,251}(?![A-Za-z0-9])/y, partial: /gh[pousr]_[A-Za-z0-9]{0,251}$/y,
    maxLen: 256, notAfter: ALNUM,
  },
  {
    label: 'github-token', triggers: ['github_pat_'], anchor: '_',
    re: /github_pat_[A-Za-z0-9_]{22,244}(?![A-Za-z0-9_])/y, partial: /github_pat_[A-Za-z0-9_]{0,244}$/y,
    maxLen: 256, notAfter: ALNUM,
  },
  {
    label: 'gitlab-token', triggers: ['glpat-', 'gldt-', 'glrt-', 'glptt-'], anchor: '-',
    re: /gl(?:pat|dt|rt|ptt)-[A-Za-z0-9_-]{20,250}(?:\.[A-Za-z0-9_-]{2,250}){0,3}(?![A-Za-z0-9_-])/y,
    partial: /gl(?:pat|dt|rt|ptt)-[A-Za-z0-9_.-]{0,500}$/y,
    maxLen: 512, notAfter: ALNUM,
  },
  {
    label: 'anthropic-key', triggers: ['sk-ant-'], anchor: '-',
    re: /sk-ant-[a-z]{2,8}[0-9]{0,3}-[A-Za-z0-9_-]{32,300}(?![A-Za-z0-9_-])/y,
    partial: /sk-ant-[A-Za-z0-9_-]{0,320}$/y,
    maxLen: 330, notAfter: WORDISH,
  },
  {
    label: 'openai-key', triggers: ['sk-'], anchor: '-',
    re: /sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,300}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}|[A-Za-z0-9]{48})(?![A-Za-z0-9_-])/y,
    partial: /sk-[A-Za-z0-9_-]{0,310}$/y,
    maxLen: 320, notAfter: WORDISH,
  },
  {
    label: 'slack-token', triggers: ['xoxa-', 'xoxb-', 'xoxe-', 'xoxp-', 'xoxr-', 'xoxs-', 'xapp-'], anchor: '-',
    re: /(?:xox[abeprs]|xapp)-[A-Za-z0-9-]{10,250}(?![A-Za-z0-9-])/y, partial: /(?:xox[abeprs]|xapp)-[A-Za-z0-9-]{0,250}$/y,
    maxLen: 256, notAfter: ALNUM,
  },
  {
    // Found after "://": a webhook URL written without its scheme is not caught.
    label: 'slack-webhook', triggers: [SLACK_HOOK], anchor: '://',
    re: /:\/\/hooks\.slack\.com\/services\/(T[A-Z0-9]{6,12}\/B[A-Z0-9]{6,12}\/[A-Za-z0-9]{20,32})(?![A-Za-z0-9])/dy, group: 1,
    partial: new RegExp(`(?:${prefixesOf(SLACK_HOOK)}|:\\/\\/hooks\\.slack\\.com\\/services\\/[A-Za-z0-9/]{0,80})$`, 'y'),
    maxLen: 128,
  },
  {
    label: 'stripe-key', triggers: ['sk_live_', 'sk_test_', 'rk_live_', 'rk_test_'], anchor: '_',
    re: /[sr]k_(?:live|test)_[A-Za-z0-9]{24,247}(?![A-Za-z0-9])/y, partial: /[sr]k_(?:live|test)_[A-Za-z0-9]{0,247}$/y,
    maxLen: 256, notAfter: ALNUM,
  },
  {
    label: 'google-api-key', triggers: ['AIza'], anchor: 'A',
    re: /AIza[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])/y, partial: /AIza[A-Za-z0-9_-]{0,35}$/y,
    maxLen: 64, notAfter: ALNUM,
  },
  {
    label: 'npm-token', triggers: ['npm_'], anchor: '_',
    re: /npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/y, partial: /npm_[A-Za-z0-9]{0,36}$/y,
    maxLen: 64, notAfter: ALNUM,
  },
  {
    label: 'huggingface-token', triggers: ['hf_'], anchor: '_',
    re: /hf_[A-Za-z0-9]{34,40}(?![A-Za-z0-9])/y, partial: /hf_[A-Za-z0-9]{0,40}$/y,
    maxLen: 64, notAfter: ALNUM,
  },
  {
    // Held from "-----BEGIN " until the END line, for at most 16 KiB; past that the part held so far
    // is redacted and the key lines that follow are redacted as they arrive (`tail`).
    label: 'private-key', triggers: ['-----BEGIN '], anchor: '-',
    re: new RegExp(`-----BEGIN ${PK_KIND}-----${PK_BODY}`, 'y'),
    partial: /-----BEGIN [A-Z0-9 ]{0,40}-{0,5}$/y,
    // Text after the match that could still be key lines, a header line or the END line being written.
    openAfter: /[A-Za-z0-9+/=:, \t\r\n\\-]{0,128}$/y,
    closedBy: /-----END /,
    tail: new RegExp(`${PK_LINE}?${PK_BODY}`, 'y'),
    maxLen: 16 * 1024,
  },
  {
    // Three base64url parts, the first two JSON objects ("eyJ" is base64 of '{"').
    label: 'jwt', triggers: ['eyJ'], anchor: '.eyJ',
    locate: (text, p) => {
      let s = p;
      while (s > 0 && p - s < 8192 && isBase64Url(text.charCodeAt(s - 1))) s--;
      const t = text.indexOf('eyJ', s);
      return t >= 0 && t < p ? t : -1;
    },
    re: /eyJ[A-Za-z0-9_-]{8,8192}\.eyJ[A-Za-z0-9_-]{8,8192}\.[A-Za-z0-9_-]{8,8192}(?![A-Za-z0-9_-])/y,
    partial: /eyJ[A-Za-z0-9_-]{0,8192}(?:\.(?:eyJ[A-Za-z0-9_-]{0,8192}(?:\.[A-Za-z0-9_-]{0,8192})?|e(?:y)?)?)?$/y,
    tail: /[A-Za-z0-9_.-]*/y,
    maxLen: 8192,
  },
  {
    // Only the password is redacted: scheme://user:[REDACTED:url-password]@host.
    label: 'url-password', triggers: ['://'], anchor: '://',
    re: /:\/\/([^\s:@/?#"'<>`\\]{0,256}):([^\s@/?#"'<>`\\]{1,256})@/dy, group: 2,
    partial: /:\/\/[^\s@/?#"'<>`\\]{0,520}$/y,
    maxLen: 520, delimited: true,
  },
];
