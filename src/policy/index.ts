export {
  canonicalPath, ENV_ALWAYS_SET, formatScope, parseScope, pathContains, SCOPE_KINDS,
  type Scope, type ScopeContext, type ScopeKind,
} from './scope.js';
export {
  DEFAULT_LIMITS, defaultPolicy, POLICY_VERSION,
  type Grant, type Policy, type PolicyLimits,
} from './schema.js';
export { loadPolicyFile, parsePolicy } from './load.js';
export {
  explainGrant, explainLimits, explainPolicy, formatExplanation,
  type ExplainedGrant, type ExplainedLimit,
} from './explain.js';
// export { compilePolicy } from './compile.js';
