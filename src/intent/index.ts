/** Intent -> policy: the catalog of capabilities, the deterministic matcher and the optional assistant. */
export { loadCatalog, parseCatalog, shippedCatalogPath } from './catalog.js';
export { deriveIntent, type DeriveOptions } from './derive.js';
export { assistIntent, askAssistant, validateAssistAnswer, type AssistOptions, type FetchLike } from './assist.js';
export { catalogTable } from './catalog-doc.js';
export { GROUPS, type Catalog, type CatalogEntry, type Choice, type Group, type IntentGrant, type IntentResult } from './types.js';
