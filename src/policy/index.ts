export {
  canonicalPath, ENV_ALWAYS_SET, formatScope, parseScope, pathContains, SCOPE_KINDS,
  type Scope, type ScopeContext, type ScopeKind,
} from './scope.js';
export { POLICY_VERSION } from './schema.js';
export { DEFAULT_LIMITS, defaultPolicy, type Grant, type Policy, type PolicyLimits } from './types.js';
export { loadPolicyFile, parsePolicy } from './load.js';
export {
  explainGrant, explainLimits, explainPolicy, formatExplanation,
  type ExplainedGrant, type ExplainedLimit,
} from './explain.js';
export { compilePolicy, DEFAULT_PROTECTED, type CompileOptions } from './compile.js';
export { allow, ask, deny, type Decision, type Effect } from './decision.js';
