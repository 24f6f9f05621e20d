/**
 * The policy file's schema: the single truth of what a policy YAML may contain. Scope strings are
 * checked here only as strings; their grammar lives in scope.ts and is applied by load.ts.
 */
import { z } from 'zod';
import { parseSize } from '../core/index.js';

export const POLICY_VERSION = 1;

/** A size: `1GiB`, `512M` or a positive integer number of bytes. */
const sizeSchema = z.union([z.string(), z.number()]).transform((v, ctx) => {
  try {
    return parseSize(v, 'size');
  } catch {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: `"${v}" is not a positive size`,
      params: { fix: 'write a number of bytes or a number with a unit: 512M, 1GiB, 2GB' },
    });
    return z.NEVER;
  }
});

export const grantSchema = z.union([
  z.string(),
  z.object({ scope: z.string(), because: z.string().trim().min(1).optional() }).strict(),
]);

export const limitsSchema = z.object({
  memory: sizeSchema.optional(),
  pids: z.number().int().min(1).optional(),
  cpus: z.number().gt(0).max(1024).optional(),
  fileSize: sizeSchema.optional(),
  openFiles: z.number().int().min(16).optional(),
  timeout: z.number().int().min(0).optional(),
}).strict();

const protectEntry = z.string().min(1).superRefine((p, ctx) => {
  const why = p.includes('\0') ? 'contains a NUL byte'
    : p.startsWith('/') ? 'is absolute'
    : p.split('/').includes('..') ? 'contains ".."'
    : p.split('/').every((c) => c === '' || c === '.') ? 'names the writable root itself'
    : undefined;
  if (why) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: `protected path "${p}" ${why}`,
      params: { fix: 'write a path relative to each writable root, e.g. .envrc or .git/hooks' },
    });
  }
});

export const sandboxSchema = z.object({
  unixSockets: z.boolean().optional(),
  writableGit: z.boolean().optional(),
  protect: z.array(protectEntry).optional(),
}).strict();

export const policySchema = z.object({
  version: z.literal(POLICY_VERSION),
  name: z.string().trim().min(1).max(128).optional(),
  grants: z.array(grantSchema).optional(),
  limits: limitsSchema.optional(),
  sandbox: sandboxSchema.optional(),
}).strict();

export type PolicyDocument = z.infer<typeof policySchema>;

/** The keys each mapping may hold, by its path in the document (array indices as `*`). */
export const KNOWN_KEYS: Record<string, readonly string[]> = {
  '': Object.keys(policySchema.shape),
  limits: Object.keys(limitsSchema.shape),
  sandbox: Object.keys(sandboxSchema.shape),
  'grants.*': ['scope', 'because'],
};

export { DEFAULT_LIMITS, defaultPolicy, type Grant, type Policy, type PolicyLimits } from './types.js';
