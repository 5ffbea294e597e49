import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import {
  type DeployTokenScope,
  GroupDeployToken,
  ProjectDeployToken,
  validateDeployTokenUsername,
} from "./gitlab";
import { dockerConfig } from "./docker-config";
import { PART_OF, standardLabels } from "./labels";
import { DNS_LABEL, DNS_SUBDOMAIN } from "./formats";

/** The Kubernetes name of the pull secrets unless `secretName` says otherwise. */
export const DEFAULT_SECRET_NAME = "gitlab-registry-auth";

/** The longest `lifetimeDays` accepted (ten years): a typo such as `36500` fails loudly. */
export const MAX_LIFETIME_DAYS = 3650;

/** Pulling images is all the pull secrets are for: the least privilege a deploy token has. */
const SCOPES: DeployTokenScope[] = ["read_registry"];

/** Arguments of {@link RegistryAuth}. */
export interface RegistryAuthArgs {
  /** Whether the deploy token belongs to `project` (pulls that project's images) or `group` (every project of the group). */
  readonly scope: "project" | "group";
  /** Full path (or id) of the project owning the token. Required when `scope` is `project`, ignored otherwise. */
  readonly project?: string;
  /** Full path (or id) of the group owning the token. Required when `scope` is `group`, ignored otherwise. */
  readonly group?: string;
  /** Container registry host, with a port if it has one: `registry.gitlab.example.com`, `registry.example.com:5050`. */
  readonly registryHost: string;
  /** `metadata.name` of every pull secret (fixed, so pods and Flux can refer to it). Default `gitlab-registry-auth`. */
  readonly secretName?: string;
  /**
   * Namespaces that get a pull secret: stable key (part of the Secret's resource name, so keep it
   * when reordering) → namespace name. Pass the namespace resource's `metadata.name` Output so each
   * Secret waits for its namespace. Empty: only the deploy token is created.
   */
  readonly namespaces: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * The deploy token's name in GitLab. Default `gitlab-cd-platform/<stack>/<component name>`, so
   * an administrator can tell which platform stack owns a token. Changing it replaces the token.
   */
  readonly tokenName?: string;
  /** The token's username. Default: GitLab's `gitlab+deploy-token-<n>`. Changing it replaces the token. */
  readonly username?: string;
  /**
   * Explicit expiry date (`YYYY-MM-DD`, the token expires at 00:00 UTC that day). Changing it
   * rotates the token: a new token is created, every pull secret is updated, then the old token
   * is revoked. Default: computed from `lifetimeDays`.
   */
  readonly expiresAt?: string;
  /**
   * Days until expiry when `expiresAt` is unset, 1 to 3650. The date is computed once, when the
   * token is created, and then kept (later runs do not move it, and Pulumi keeps the stored date
   * even when another change replaces the token): to rotate, set `expiresAt`.
   */
  readonly lifetimeDays: number;
  /** Today's date (`YYYY-MM-DD`) for the expiry computation and checks. Default: the current UTC date. */
  readonly today?: string;
}

/**
 * A GitLab deploy token with the `read_registry` scope and, in each namespace given, a
 * `kubernetes.io/dockerconfigjson` Secret with a fixed name holding it, so pods
 * (`imagePullSecrets`) and Flux (`secretRef`) can pull from the GitLab registry. The token stays a
 * secret end to end.
 */
export class RegistryAuth extends pulumi.ComponentResource {
  /**
   * The pull secrets' name. Resolves only once every pull secret exists, so a workload or Flux
   * source that uses it waits for them.
   */
  public readonly secretName: pulumi.Output<string>;
  /** The deploy token's username. */
  public readonly username: pulumi.Output<string>;
  /** The token's expiry date (`YYYY-MM-DD`) as GitLab holds it. */
  public readonly expiresAt: pulumi.Output<string>;
  /** GitLab's id of the deploy token. */
  public readonly deployTokenId: pulumi.Output<number>;
  /** The pull secrets by namespace key, for `dependsOn`. */
  public readonly secrets: Readonly<Record<string, k8s.core.v1.Secret>>;

  constructor(name: string, args: RegistryAuthArgs, opts?: pulumi.ComponentResourceOptions) {
    // Everything is checked before the component registers: bad config leaves no trace.
    const today = args.today ?? new Date().toISOString().slice(0, 10);
    const problems = registryAuthProblems(args, today);
    if (problems.length > 0) {
      throw new Error(problems.map((p) => `RegistryAuth "${name}": ${p}`).join("\n"));
    }
    super("platform:registry:RegistryAuth", name, {}, opts);

    const secretName = args.secretName ?? DEFAULT_SECRET_NAME;
    const expiry = resolveExpiry(args.expiresAt, args.lifetimeDays, today);
    const tokenArgs = {
      name: args.tokenName ?? defaultTokenName(pulumi.getStack(), name),
      username: args.username,
      scopes: SCOPES,
      expiresAt: expiryTimestamp(expiry.date),
    };
    // A computed date would move every day and replace the token on every run; ignoring changes
    // keeps the date from creation. An explicit date is compared normally, so changing it rotates.
    const tokenOpts: pulumi.CustomResourceOptions = expiry.fixedAtCreation
      ? { parent: this, ignoreChanges: ["expiresAt"] }
      : { parent: this };
    const token =
      args.scope === "project"
        ? new ProjectDeployToken(
            `${name}-deploy-token`,
            { ...tokenArgs, project: args.project as string },
            tokenOpts,
          )
        : new GroupDeployToken(
            `${name}-deploy-token`,
            { ...tokenArgs, group: args.group as string },
            tokenOpts,
          );

    // One encoded config for every namespace: a rotated token updates all Secrets in one run.
    const encoded = encodedDockerConfig(args.registryHost, token.username, token.token);
    const labels = standardLabels("registry-auth");
    const secrets: Record<string, k8s.core.v1.Secret> = {};
    for (const [key, namespace] of Object.entries(args.namespaces)) {
      const secretArgs: k8s.core.v1.SecretArgs = {
        metadata: { name: secretName, namespace, labels },
        type: "kubernetes.io/dockerconfigjson",
        data: { ".dockerconfigjson": encoded },
      };
      secrets[key] = new k8s.core.v1.Secret(`${name}-${key}`, secretArgs, { parent: this });
    }
    this.secrets = secrets;

    this.secretName = pulumi
      .all(Object.values(secrets).map((s) => s.metadata.name))
      .apply(() => secretName);
    this.username = token.username;
    this.expiresAt = token.expiresAt.apply((at) =>
      at === undefined ? expiry.date : new Date(at).toISOString().slice(0, 10),
    );
    this.deployTokenId = token.deployTokenId;
    this.registerOutputs({
      secretName: this.secretName,
      username: this.username,
      expiresAt: this.expiresAt,
      deployTokenId: this.deployTokenId,
    });
  }
}

/**
 * The base64 `.dockerconfigjson` of a Secret's `data` for `registryHost`, always a secret Output:
 * the password is a credential even when a caller hands it over as a plain value.
 */
export function encodedDockerConfig(
  registryHost: pulumi.Input<string>,
  username: pulumi.Input<string>,
  password: pulumi.Input<string>,
): pulumi.Output<string> {
  const config = pulumi
    .all([registryHost, username, password])
    .apply(([host, user, pass]) => dockerConfig(host, user, pass));
  return pulumi.secret(
    pulumi.jsonStringify(config).apply((json) => Buffer.from(json, "utf8").toString("base64")),
  );
}

/** The default deploy token name: which platform, stack and component own the token. */
export function defaultTokenName(stack: string, componentName: string): string {
  return `${PART_OF}/${stack}/${componentName}`;
}

/**
 * The expiry date of the token: `expiresAt` when given, else `today + lifetimeDays`, which is
 * only meaningful at creation (`fixedAtCreation`).
 */
export function resolveExpiry(
  expiresAt: string | undefined,
  lifetimeDays: number,
  today: string,
): { readonly date: string; readonly fixedAtCreation: boolean } {
  return expiresAt !== undefined
    ? { date: expiresAt, fixedAtCreation: false }
    : { date: addDays(today, lifetimeDays), fixedAtCreation: true };
}

/** `date` (`YYYY-MM-DD`) plus `days`, in UTC. */
export function addDays(date: string, days: number): string {
  const at = new Date(`${date}T00:00:00.000Z`);
  at.setUTCDate(at.getUTCDate() + days);
  return at.toISOString().slice(0, 10);
}

/**
 * The timestamp sent to GitLab for an expiry date: 00:00 UTC, in the exact form the deploy token
 * provider normalises to and GitLab returns (`2027-03-14T00:00:00.000Z`), so state and program
 * agree and a date-only value is never read in the server's time zone.
 */
export function expiryTimestamp(date: string): string {
  return `${date}T00:00:00.000Z`;
}

/** A host name with an optional port, as docker config `auths` keys name registries. */
const REGISTRY_HOST =
  /^(?=[^:]{1,253}(:|$))[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*(:[0-9]{1,5})?$/;

/** True when `date` is `YYYY-MM-DD` and names a real calendar day. */
export function isCalendarDate(date: unknown): date is string {
  if (typeof date !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(date)) {
    return false;
  }
  const parsed = new Date(`${date}T00:00:00.000Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(date);
}

function shown(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}

function ownerProblem(
  field: "project" | "group",
  value: string | undefined,
  scope: string,
): string | undefined {
  return scope === field && (typeof value !== "string" || value.trim() === "")
    ? `${field}: expected a GitLab ${field} path when scope is "${field}", got ${shown(value)}`
    : undefined;
}

function namespaceProblems(namespaces: RegistryAuthArgs["namespaces"]): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const [key, namespace] of Object.entries(namespaces)) {
    if (key === "") {
      problems.push(`namespaces: expected non-empty keys (they name the Secrets' resources)`);
      continue;
    }
    // Outputs are checked by the API server; plain names can be checked now.
    if (typeof namespace !== "string") {
      continue;
    }
    const earlier = seen.get(namespace);
    if (!DNS_LABEL.test(namespace)) {
      problems.push(
        `namespaces.${key}: expected a namespace name (DNS-1123 label), got ${shown(namespace)}`,
      );
    } else if (earlier !== undefined) {
      problems.push(
        `namespaces.${key}: namespace ${shown(namespace)} is already listed as namespaces.${earlier}`,
      );
    } else {
      seen.set(namespace, key);
    }
  }
  return problems;
}

function expiryProblems(args: RegistryAuthArgs, today: string): string[] {
  const problems: string[] = [];
  const days = args.lifetimeDays;
  if (!Number.isInteger(days) || days < 1 || days > MAX_LIFETIME_DAYS) {
    problems.push(
      `lifetimeDays: expected a whole number of days from 1 to ${MAX_LIFETIME_DAYS}, got ${shown(days)}`,
    );
  }
  const todayValid = isCalendarDate(today);
  if (!todayValid) {
    problems.push(`today: expected a date YYYY-MM-DD, got ${shown(today)}`);
  }
  if (args.expiresAt !== undefined) {
    if (!isCalendarDate(args.expiresAt)) {
      problems.push(`expiresAt: expected a date YYYY-MM-DD, got ${shown(args.expiresAt)}`);
    } else if (todayValid && args.expiresAt <= today) {
      // A token that is already expired would break every pull at once.
      problems.push(
        `expiresAt: expected a date after today (${today}), got ${shown(args.expiresAt)}`,
      );
    }
  }
  return problems;
}

/**
 * Every problem with `args` (`field: expected …, got …`), given today's date; empty when they are
 * valid.
 */
export function registryAuthProblems(args: RegistryAuthArgs, today: string): string[] {
  const problems: string[] = [];
  if (args.scope !== "project" && args.scope !== "group") {
    problems.push(`scope: expected "project" or "group", got ${shown(args.scope)}`);
  }
  for (const problem of [
    ownerProblem("project", args.project, args.scope),
    ownerProblem("group", args.group, args.scope),
  ]) {
    if (problem !== undefined) {
      problems.push(problem);
    }
  }
  if (typeof args.registryHost !== "string" || !REGISTRY_HOST.test(args.registryHost)) {
    problems.push(
      `registryHost: expected a host name with an optional port and no scheme or path (registry.example.com, registry.example.com:5050), got ${shown(args.registryHost)}`,
    );
  }
  if (args.secretName !== undefined && !DNS_SUBDOMAIN.test(args.secretName)) {
    problems.push(`secretName: expected a DNS-1123 subdomain, got ${shown(args.secretName)}`);
  }
  problems.push(...namespaceProblems(args.namespaces));
  if (args.tokenName !== undefined && args.tokenName.trim() === "") {
    problems.push(`tokenName: expected a non-empty name, got ${shown(args.tokenName)}`);
  }
  const badUsername =
    args.username === undefined ? undefined : validateDeployTokenUsername(args.username);
  if (badUsername !== undefined) {
    problems.push(`username: ${badUsername}`);
  }
  problems.push(...expiryProblems(args, today));
  return problems;
}
