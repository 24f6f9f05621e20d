/**
 * Every error a user can meet carries a stable code, a one-line cause and a fix.
 * The codes are listed, with longer explanations, in docs/errors.md.
 */
export const ERROR_CODES = {
  ARMORER_E_USAGE: 'the command line is not valid',
  ARMORER_E_HOME: 'the Armorer state directory cannot be used',
  ARMORER_E_CONFIG: 'config.yaml is not valid',
  ARMORER_E_POLICY_READ: 'the policy file cannot be read',
  ARMORER_E_POLICY_SYNTAX: 'the policy file is not valid YAML',
  ARMORER_E_POLICY_SCHEMA: 'the policy does not match the schema',
  ARMORER_E_SCOPE: 'a scope is not valid',
  ARMORER_E_PATH: 'a path is not acceptable',
  ARMORER_E_SIZE: 'a size or number is not valid',
  ARMORER_E_BWRAP_MISSING: 'bubblewrap is not installed',
  ARMORER_E_USERNS: 'unprivileged user namespaces are not available',
  ARMORER_E_SANDBOX_USER: 'the dedicated sandbox user cannot be used',
  ARMORER_E_ACL: 'the sandbox user cannot be given access to a path',
  ARMORER_E_CGROUP: 'a cgroup for the requested limits cannot be made',
  ARMORER_E_LIMIT_UNENFORCEABLE: 'a requested limit cannot be enforced here',
  ARMORER_E_SECCOMP: 'the seccomp filter cannot be built',
  ARMORER_E_ARCH: 'this CPU architecture is not supported',
  ARMORER_E_SPAWN: 'the sandbox could not be started',
  ARMORER_E_WORKSPACE: 'the workspace cannot be used',
  ARMORER_E_TIMEOUT: 'the command ran past its time limit',
  ARMORER_E_BACKEND: 'the sandbox backend is not available',
  ARMORER_E_CA: 'the local certificate authority cannot be used',
  ARMORER_E_SECRET: 'a secret cannot be used',
  ARMORER_E_SECRETS_STORE: 'the secrets store is missing, incomplete, damaged or cannot be written',
  ARMORER_E_PASSPHRASE: 'the secrets passphrase is wrong or cannot be obtained',
  ARMORER_E_SURROGATE_HOST: "a secret's surrogate was sent to a host the secret is not bound to",
  ARMORER_E_BRIDGE: 'the network bridge into the sandbox could not start',
  ARMORER_E_PUBLISH: 'a --publish port mapping is not valid',
  ARMORER_E_INTENT_CATALOG: 'the intent catalog (shipped or intents.yaml) is not valid',
  ARMORER_E_INTENT_TEXT: 'the intent text cannot be read',
  ARMORER_E_INTENT_MODEL: 'the --model choice does not fit the catalog or the intent',
  ARMORER_E_INTENT_ASSIST: "the intent assistant's answer was refused",
  ARMORER_E_AGENT: 'the agent does not exist, already exists, or its name is not valid',
  ARMORER_E_INSTALL: 'installing the agent failed',
  ARMORER_E_INTEGRITY: "the agent's installed files differ from what was installed",
  ARMORER_E_RECIPE: 'the recipe or its options are not valid',
  ARMORER_E_AGENT_RUNNING: 'the agent is (or is not) running',
  ARMORER_E_AUDIT: 'the audit log cannot be opened, written or read',
  ARMORER_E_AUDIT_KEY: 'the audit signing key cannot be used',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class ArmorerError extends Error {
  readonly code: ErrorCode;
  readonly fix: string;
  /** Where in an input file the problem is, when it comes from one. */
  readonly location?: { file: string; line: number; column: number };

  constructor(
    code: ErrorCode,
    message: string,
    fix: string,
    location?: { file: string; line: number; column: number },
  ) {
    super(message);
    this.name = 'ArmorerError';
    this.code = code;
    this.fix = fix;
    if (location) this.location = location;
  }

  /** The text a person sees: where, what, code, and what to do. */
  format(): string {
    const where = this.location
      ? `${this.location.file}:${this.location.line}:${this.location.column}: `
      : '';
    return `armorer: ${where}${this.message} [${this.code}]\n  fix: ${this.fix}`;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, fix: this.fix, location: this.location };
  }
}

export function isArmorerError(e: unknown): e is ArmorerError {
  return e instanceof ArmorerError;
}
