/** The secrets module: the age-encrypted store, its passphrase, and the sources the broker reads. */
export { SecretStore, MAX_SECRET_BYTES, type SecretEntry, type StoreOptions } from './store.js';
export { rotateKey, type RotateReport } from './rotate.js';
export { openSecretSource, openSecretStore, injectedEnv, injectWarning, EmptySecretSource } from './open.js';
export { resolvePassphrase, readPassphraseFile, MIN_PASSPHRASE_LENGTH, type PassphraseOptions, type PassphraseSource } from './passphrase.js';
export { askHidden, hasTerminal, readHidden } from './prompt.js';
export { readRecipient, requireNoStore, requireStore } from './files.js';
export { storePaths, storeState, type StorePaths, type StoreState } from './layout.js';
export { EnvSecretSource, assertSecretName, SECRET_NAME_RE, type SecretSource } from './source.js';
export type { InjectMode } from './document.js';
