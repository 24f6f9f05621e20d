/** The one truth of what a catalog file may contain: the shipped catalog and `intents.yaml` alike. */
import { z } from 'zod';
import { GROUPS } from './types.js';

export const ID_RE = /^[a-z][a-z0-9-]{0,39}$/;
/** One trigger word: letters and digits, inner ' . - allowed; `*` suffix for a prefix; `=` prefix for a literal. */
export const TRIGGER_WORD_RE = /^=?[\p{L}\p{N}]+(?:['.\-][\p{L}\p{N}]+)*\*?$/u;
const WORD_RE = /^[\p{L}\p{N}]+(?:['\-][\p{L}\p{N}]+)*$/u;

const oneLine = (max: number) => z.string().min(1).max(max)
  .refine((s) => !/[\r\n]/.test(s), { message: 'must be one line' });

const id = z.string().regex(ID_RE, 'must be lowercase letters, digits and -, starting with a letter (at most 40)');
const word = z.string().regex(WORD_RE, 'must be one word');

export const entrySchema = z.object({
  id,
  group: z.enum(GROUPS),
  title: oneLine(60),
  triggers: z.array(z.string().min(1).max(80)).min(1).max(80),
  reason: oneLine(200),
  grants: z.array(z.string().min(1).max(300)).max(20).optional(),
  host: oneLine(120).optional(),
  folder: z.string().min(1).max(300).optional(),
  paths: z.boolean().optional(),
  needs: oneLine(200).optional(),
  absorbedBy: z.array(id).max(40).optional(),
  networkMisses: z.enum(['deny', 'ask']).optional(),
  feature: z.boolean().optional(),
}).strict();

export const catalogFileSchema = z.object({
  version: z.literal(1),
  actions: z.array(word).max(2000).optional(),
  writeWords: z.array(word).max(500).optional(),
  notTypos: z.array(word).max(20000).optional(),
  /** intents.yaml only: shipped entries to drop. */
  remove: z.array(id).max(200).optional(),
  capabilities: z.array(entrySchema).max(1000).optional(),
}).strict();

export type EntryDocument = z.infer<typeof entrySchema>;
export type CatalogFileDocument = z.infer<typeof catalogFileSchema>;

export const ENTRY_KEYS = Object.keys(entrySchema.shape);
export const FILE_KEYS = Object.keys(catalogFileSchema.shape);
