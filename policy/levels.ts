import { ENVIRONMENTS, Environment } from "../stacks/model";

/**
 * The pack's policies, their default enforcement levels, and the per-stack setting that changes
 * them (`platform:policy: { advisory: [...], mandatory: [...] }` in `Pulumi.<stack>.yaml`): which
 * changes are allowed (production cannot lower a security policy) and the policy pack config file
 * a stack's `pulumi preview|up` gets (`--policy-pack-config`). Pure: the `npm run preview|up`
 * wrapper, the CI scripts, the stack config validation and the tests call these functions.
 */

/** The levels a stack may choose. (Pulumi also knows `disabled` and `remediate`: not offered.) */
export type EnforcementLevel = "mandatory" | "advisory";

/** What the pack knows about one policy besides its checks. */
export interface PolicyInfo {
  /** Whether it guards security: production can never make it advisory. */
  readonly security: boolean;
  /** Its level unless the stack's `platform:policy` says otherwise. */
  readonly defaultLevel: EnforcementLevel;
  /** One line for `pulumi preview` and for docs/policy.md. */
  readonly description: string;
}

/** Every policy of the pack, in the order they run and are documented. */
export const POLICIES = {
  "runner-not-privileged": {
    security: true,
    defaultLevel: "mandatory",
    description:
      "The GitLab Runner runs no privileged job containers in production (its config.toml).",
  },
  "runner-rbac-namespaced": {
    security: true,
    defaultLevel: "mandatory",
    description:
      "The runner's executor RBAC is a namespaced Role with explicit rules, and no ClusterRoleBinding grants anything to job pods.",
  },
  "credential-variables-masked-protected": {
    security: true,
    defaultLevel: "mandatory",
    description: "Credential CI/CD variables are masked and protected in staging and production.",
  },
  "no-plaintext-credentials": {
    security: true,
    defaultLevel: "mandatory",
    description:
      "No token, JWT or private key in plaintext inputs (Helm values, ConfigMaps, labels…); GitLab tokens and variable values are secret outputs.",
  },
  "containers-restricted": {
    security: true,
    defaultLevel: "mandatory",
    description:
      "Every container runs with the restricted security context: non-root, no privilege escalation, all capabilities dropped, seccomp RuntimeDefault.",
  },
  "containers-requests-limits": {
    security: false,
    defaultLevel: "mandatory",
    description: "Every container sets CPU and memory requests and limits.",
  },
  "no-cluster-admin-binding": {
    security: true,
    defaultLevel: "mandatory",
    description: "No RoleBinding or ClusterRoleBinding grants the cluster-admin ClusterRole.",
  },
  "no-wildcard-rbac": {
    security: true,
    defaultLevel: "mandatory",
    description: 'No Role or ClusterRole rule grants "*" verbs on "*" resources.',
  },
  "no-external-services": {
    security: true,
    defaultLevel: "mandatory",
    description:
      "No LoadBalancer or NodePort Service (nor externalIPs) unless the program marks it allowed.",
  },
  "helm-charts-pinned": {
    security: true,
    defaultLevel: "mandatory",
    description: "Every Helm chart is installed at an exact version.",
  },
  "flux-sources-pinned": {
    security: true,
    defaultLevel: "mandatory",
    description: "Every Flux source follows a tag, semver or digest (commit), never a default.",
  },
  "flux-production-digest": {
    security: true,
    // The program's production Flux apps must promote (stacks rule apps.productionFluxPromoted),
    // so their OCIRepositories follow a digest.
    defaultLevel: "mandatory",
    description: "Production Flux sources follow a digest (OCI) or commit (Git), not a tag.",
  },
  "flux-production-verified": {
    security: true,
    // The program's production Flux apps must verify (stacks rule apps.productionFluxVerified).
    defaultLevel: "mandatory",
    description: "Production OCIRepositories verify cosign signatures (keyless or public key).",
  },
  "namespaces-pod-security": {
    security: true,
    defaultLevel: "mandatory",
    description: "Every namespace enforces a Pod Security level (never privileged in production).",
  },
  "app-namespaces-default-deny": {
    security: true,
    defaultLevel: "mandatory",
    description:
      "Every app namespace has a default-deny NetworkPolicy (all pods, Ingress and Egress).",
  },
} as const satisfies Readonly<Record<string, PolicyInfo>>;

/** A policy's name. */
export type PolicyName = keyof typeof POLICIES;

/** Every policy name, in order. */
export const POLICY_NAMES = Object.keys(POLICIES) as readonly PolicyName[];

/** The policies production may make advisory. */
export const LOWERABLE_IN_PRODUCTION: readonly PolicyName[] = POLICY_NAMES.filter(
  (name) => !POLICIES[name].security,
);

/**
 * The stack config key `platform:policy`: policies this stack runs at another level than their
 * default. Only the two lists, each naming policies at most once, and no policy in both.
 */
export interface PolicySettings {
  /** Policies that only warn in this stack. */
  readonly advisory?: readonly string[];
  /** Policies that fail this stack's preview and deploy (e.g. an advisory-by-default one). */
  readonly mandatory?: readonly string[];
}

function isPolicyName(name: unknown): name is PolicyName {
  return typeof name === "string" && Object.prototype.hasOwnProperty.call(POLICIES, name);
}

const LISTS = ["advisory", "mandatory"] as const;

/**
 * What is wrong with `settings` (the value of `platform:policy`, as written) for a stack of
 * `environment`, one `policy.<path>: expected X, got Y` line each; empty when it is fine. The
 * stack config validation and the `npm run preview|up` wrapper both run this.
 */
export function policySettingsProblems(environment: Environment, settings: unknown): string[] {
  if (settings === undefined || settings === null) {
    return [];
  }
  if (typeof settings !== "object" || Array.isArray(settings)) {
    return [
      `policy: expected an object with "advisory" and/or "mandatory" lists of policy names, got ${JSON.stringify(settings)}`,
    ];
  }
  const problems: string[] = [];
  const raw = settings as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!(LISTS as readonly string[]).includes(key)) {
      problems.push(`policy.${key}: expected "advisory" or "mandatory", got an unknown key`);
    }
  }
  const seen = new Map<string, string>();
  for (const list of LISTS) {
    const names = raw[list];
    if (names === undefined) {
      continue;
    }
    if (!Array.isArray(names)) {
      problems.push(
        `policy.${list}: expected a list of policy names, got ${JSON.stringify(names)}`,
      );
      continue;
    }
    names.forEach((name: unknown, i) => {
      const at = `policy.${list}[${i}]`;
      if (!isPolicyName(name)) {
        problems.push(
          `${at}: expected a policy name (${POLICY_NAMES.join(", ")}), got ${JSON.stringify(name)}`,
        );
        return;
      }
      const earlier = seen.get(name);
      if (earlier !== undefined) {
        problems.push(
          `${at}: expected each policy once, got ${JSON.stringify(name)} (also in ${earlier})`,
        );
        return;
      }
      seen.set(name, at);
      if (list === "advisory" && environment === "production" && POLICIES[name].security) {
        problems.push(
          `${at}: expected a policy production may make advisory (${LOWERABLE_IN_PRODUCTION.join(", ")}), got the security policy ${JSON.stringify(name)}`,
        );
      }
    });
  }
  return problems;
}

/** Thrown for a `platform:policy` setting that {@link policySettingsProblems} refuses. */
export class PolicySettingsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
    this.name = "PolicySettingsError";
  }
}

/** Each policy's level in a stack of `environment` with `settings`; throws on invalid settings. */
export function enforcementLevels(
  environment: Environment,
  settings: unknown,
): Record<PolicyName, EnforcementLevel> {
  const problems = policySettingsProblems(environment, settings);
  if (problems.length > 0) {
    throw new PolicySettingsError(problems);
  }
  const s = (settings ?? {}) as PolicySettings;
  const levels = Object.fromEntries(
    POLICY_NAMES.map((name) => [name, POLICIES[name].defaultLevel]),
  ) as Record<PolicyName, EnforcementLevel>;
  for (const list of LISTS) {
    for (const name of s[list] ?? []) {
      levels[name as PolicyName] = list;
    }
  }
  return levels;
}

/** One policy's entry in the policy pack config file. */
export interface PolicyConfigEntry {
  readonly enforcementLevel: EnforcementLevel;
  /** The stack's `platform:environment`, which several policies depend on. */
  readonly environment: Environment;
}

/**
 * The JSON document `pulumi preview|up --policy-pack-config <file>` reads for a stack: every
 * policy with its level and the stack's environment. Throws {@link PolicySettingsError} for
 * settings production may not have.
 */
export function policyPackConfig(
  environment: Environment,
  settings: unknown,
): Record<PolicyName, PolicyConfigEntry> {
  const levels = enforcementLevels(environment, settings);
  return Object.fromEntries(
    POLICY_NAMES.map((name) => [name, { enforcementLevel: levels[name], environment }]),
  ) as Record<PolicyName, PolicyConfigEntry>;
}

/** Whether `value` is an environment name. */
export function isEnvironment(value: unknown): value is Environment {
  return typeof value === "string" && (ENVIRONMENTS as readonly string[]).includes(value);
}

/**
 * The environment a policy holds a stack to: the one its config names (the wrapper always passes
 * it); else, for a stack named `dev`, `staging` or `production` (which must be that environment),
 * the stack's name from a resource URN; else production, the strictest, so that a pack run
 * without its config never lets through what production would refuse.
 */
export function policyEnvironment(configured: unknown, urn?: string): Environment {
  if (isEnvironment(configured)) {
    return configured;
  }
  const stack = urn?.startsWith("urn:pulumi:")
    ? urn.slice("urn:pulumi:".length).split("::")[0]
    : "";
  return stack === "dev" || stack === "staging" || stack === "production" ? stack : "production";
}
