/**
 * Streaming redaction of secrets on every path out of a run (terminal, audit, logs, dashboard).
 * What it catches and what it cannot: docs/threat-model.md, "Redaction".
 */
export { Redactor, createRedactStream, redactString, type RedactorOptions } from './stream.js';
export { MAX_SECRET_LENGTH, MIN_SECRET_LENGTH, encodedForms } from './encodings.js';
export { PATTERNS, type Pattern } from './patterns.js';
