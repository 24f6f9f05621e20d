/**
 * The tamper-evident audit log: hash-chained events in SQLite ($ARMORER_HOME/audit.db) or
 * PostgreSQL, Ed25519-signed checkpoints, verification, export. See docs/architecture.md.
 */
export type {
  AuditDecision, AuditEvent, AuditInput, AuditQuery, AuditStore, Checkpoint, ProblemReason, StoredEvent, VerifyProblem, VerifyReport,
} from './types.js';
export {
  exportStore, headCheckpoint, openAuditStore, verifyExportFile, verifyStore,
  type OpenOptions, type StoreOptions, type VerifyOptions,
} from './open.js';
export { arraySource, verifyChain } from './verify.js';
export { hashEvent, preimage, ZERO_HASH } from './hash.js';
export { checkpointMessage, keyIdOf, loadTrustedKeys, PRIVATE_KEY, PUBLIC_KEY, TRUSTED_DIR } from './keys.js';
export { readCheckpointFile, type ExportFormat } from './export.js';
export { formatEvent, formatReport, parseSince, printable } from './format.js';
export { AuditSink } from './sink.js';
export { verifyEvents } from './verify-events.js';
