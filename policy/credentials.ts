import { ResourceValidation } from "@pulumi/policy";
import { TYPES, VARIABLE_TYPES, isUnknownValueError, resourceEnvironment } from "./kinds";

/**
 * Credentials: CI/CD variables that hold one are masked and protected where it matters, and no
 * credential sits in an input in plaintext.
 *
 * What a policy can and cannot see: @pulumi/policy hands policies every input unwrapped, so a
 * secret value looks exactly like a plain one. The pack therefore checks what it can observe: the
 * `additionalSecretOutputs` option of the resources that carry credentials (their outputs are
 * encrypted in the state), and the text of every input outside the places meant for credentials
 * (a Secret's `data`/`stringData`, which @pulumi/kubernetes marks secret itself, pulumi-kubernetes
 * #803 and #1577; a CI/CD variable's `value`). The variables' CiVariables component wraps every
 * value in `pulumi.secret` too, which the state shows but a policy cannot.
 */

/** Keys that name a credential: `*_TOKEN`, `*_PASSWORD`, `*_SECRET`, `DOCKER_AUTH_CONFIG`, … */
export const CREDENTIAL_KEY =
  /(^|_)(TOKEN|PASSWORD|PASSWD|SECRET|PASSPHRASE|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|SSH_KEY|CREDENTIALS?|AUTH)(_|$)/i;

/** The variable the platform publishes with each direct app's deployer token. */
export const PUBLISHED_TOKEN_KEY = "KUBE_TOKEN";

/**
 * Why a variable counts as a credential, from its inputs alone (the config's `credential` flag
 * does not reach the resource), or undefined:
 * - `KUBE_TOKEN`, the deployer token the platform publishes;
 * - a hidden or masked variable: the platform masks exactly what the config marks `credential`
 *   (the default), and nobody masks what is not secret;
 * - a key that names a credential ({@link CREDENTIAL_KEY}), which catches a credential whose
 *   config turned masking off.
 * A credential with `masked: false` and an innocent key (`credential: true` on `LOG_LEVEL`)
 * cannot be told apart: stack config validation requires masking in production.
 */
export function credentialReason(props: Record<string, unknown>): string | undefined {
  const key = typeof props["key"] === "string" ? props["key"] : "";
  if (key === PUBLISHED_TOKEN_KEY) {
    return "the deployer token the platform publishes";
  }
  if (props["hidden"] === true) {
    return "its value is hidden";
  }
  if (props["masked"] === true) {
    return "its value is masked";
  }
  if (CREDENTIAL_KEY.test(key)) {
    return "its key names a credential";
  }
  return undefined;
}

function got(value: unknown): string {
  return value === undefined || value === null ? "nothing" : JSON.stringify(value);
}

/** Credential variables are masked and protected in staging and production. */
export const credentialVariablesMaskedProtected: ResourceValidation = (args, report) => {
  const environment = resourceEnvironment(args);
  if (!VARIABLE_TYPES.includes(args.type) || !["staging", "production"].includes(environment)) {
    return;
  }
  const reason = credentialReason(args.props);
  if (reason === undefined) {
    return;
  }
  const key = String(args.props["key"]);
  const scope = args.props["environmentScope"] ?? "*";
  for (const field of ["masked", "protected"] as const) {
    const value = args.props[field];
    if (value !== true) {
      report(
        `${key} (environment scope ${JSON.stringify(scope)}): ${field}: expected true for a credential in ${environment} (${reason}), got ${got(value)}`,
      );
    }
  }
};

/** Credential shapes looked for in plaintext inputs, with how messages name them. */
export const CREDENTIAL_PATTERNS: readonly { readonly kind: string; readonly pattern: RegExp }[] = [
  {
    // GitLab's token prefixes (runner, personal/project/group access, deploy, agent, OAuth,
    // CI job, trigger, feed, incoming mail, SCIM, feature flags, runner registration), each
    // followed by at least 8 token characters so that prose ("glrt-…") does not count.
    kind: "a GitLab token",
    pattern:
      /\b(glrt|glrtr|glpat|gldt|glagent|gloas|glcbt|glptt|glft|glimt|glsoat|glffct)-[0-9A-Za-z_-]{8,}|\bGR1348941[0-9A-Za-z_-]{8,}/,
  },
  {
    // Header and payload are base64url JSON objects (`{"` is `eyJ`); the signature may be empty.
    kind: "a JSON Web Token",
    pattern: /\beyJ[0-9A-Za-z_-]{8,}\.eyJ[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]*/,
  },
  { kind: "a PEM private key", pattern: /-----BEGIN ([A-Z]+ )?PRIVATE KEY-----/ },
];

/** One credential found in an input. */
export interface CredentialFinding {
  /** Property path, e.g. `values.runners.config`, `metadata.annotations["x.io/y"]`. */
  readonly path: string;
  /** What it looks like, e.g. `a GitLab token`; never the value. */
  readonly kind: string;
}

function childPath(parent: string, key: string | number): string {
  if (typeof key === "number") {
    return `${parent}[${key}]`;
  }
  if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) {
    return parent === "" ? key : `${parent}.${key}`;
  }
  return `${parent}[${JSON.stringify(key)}]`;
}

/**
 * Every string in `value` that looks like a credential ({@link CREDENTIAL_PATTERNS}), skipping
 * paths `skip` accepts. Values not known yet (during a preview) are passed over; the first such
 * error comes back as `unknown` for the caller to rethrow after reporting the findings.
 */
export function findCredentials(
  value: unknown,
  skip: (path: string) => boolean = () => false,
): { findings: CredentialFinding[]; unknown?: unknown } {
  const findings: CredentialFinding[] = [];
  let unknown: unknown;
  const walk = (v: unknown, path: string): void => {
    if (skip(path)) {
      return;
    }
    if (typeof v === "string") {
      const match = CREDENTIAL_PATTERNS.find((p) => p.pattern.test(v));
      if (match !== undefined) {
        findings.push({ path, kind: match.kind });
      }
      return;
    }
    if (v === null || typeof v !== "object") {
      return;
    }
    const keys: (string | number)[] = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
    for (const key of keys) {
      let child: unknown;
      try {
        child = (v as Record<string | number, unknown>)[key];
      } catch (error) {
        if (!isUnknownValueError(error)) {
          throw error;
        }
        unknown ??= error;
        continue;
      }
      walk(child, childPath(path, key));
    }
  };
  walk(value, "");
  return unknown === undefined ? { findings } : { findings, unknown };
}

/** The resources that receive a GitLab token and the output that holds it. */
export const TOKEN_OUTPUTS: Readonly<Record<string, string>> = {
  [TYPES.userRunner]: "token",
  [TYPES.clusterAgentToken]: "token",
  [TYPES.projectDeployToken]: "token",
  [TYPES.groupDeployToken]: "token",
  [TYPES.projectVariable]: "value",
  [TYPES.groupVariable]: "value",
};

/** Inputs meant for credentials, per type: not scanned. */
export const CREDENTIAL_INPUTS: Readonly<Record<string, readonly string[]>> = {
  [TYPES.secret]: ["data", "stringData"],
  [TYPES.projectVariable]: ["value"],
  [TYPES.groupVariable]: ["value"],
};

/**
 * No credential in plaintext: the GitLab resources that return or hold one keep it in a secret
 * output, and no input outside a Secret's data or a variable's value contains one (Helm values
 * end up in the release's state and in the cluster's release Secret in plaintext, a ConfigMap or
 * an annotation is readable by anyone who may read the object).
 */
export const noPlaintextCredentials: ResourceValidation = (args, report) => {
  if (args.type === TYPES.dynamicProvider) {
    // Its inputs are the stack's whole config, which the engine hands dynamic providers (secret
    // values stay secret in the state: pulumi/pulumi's Target.GetPackageConfig); the policy sees
    // the secret gitlab:token unwrapped, like every secret. The program refuses a plaintext token.
    return;
  }
  const output = TOKEN_OUTPUTS[args.type];
  if (output !== undefined && !args.opts.additionalSecretOutputs.includes(output)) {
    report(
      `${output}: expected a secret output (additionalSecretOutputs: [${JSON.stringify(output)}]), got a plaintext one: the state would hold the credential unencrypted`,
    );
  }
  const exempt = CREDENTIAL_INPUTS[args.type] ?? [];
  const { findings, unknown } = findCredentials(args.props, (path) => exempt.includes(path));
  for (const finding of findings) {
    report(
      `${finding.path}: expected no credential in a plaintext input, got ${finding.kind}: keep it in a Secret and pass the Secret's name`,
    );
  }
  if (unknown !== undefined) {
    throw unknown;
  }
};
