import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { defaultRegistryHost, ENVIRONMENT_DEFAULTS, PINNED } from "./defaults";
import { ConfigError, ConfigPath, formatIssue } from "./errors";
import {
  AgentSettings,
  AppSettings,
  CiVariableSettings,
  ContainerResources,
  EnvironmentConfig,
  GitLabSettings,
  ProtectionSettings,
  RunnerSettings,
} from "./model";
import { RULES, RuleEntry, runRules } from "./rules";
import { RawConfig, rawConfigSchema } from "./schema";

/**
 * What job pods may not reach by default: every private, shared (CGNAT) and unique-local range,
 * wherever a cluster may put its pods and Services. A stack whose GitLab, registry or mirrors
 * live on such addresses names its pod and Service CIDRs instead.
 */
const PRIVATE_CIDRS = [
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "100.64.0.0/10",
  "fc00::/7",
];

/** The managed namespace's default name. */
const MANAGED_NAMESPACE = "gitlab-managed-apps";

/** Everything the config model is computed from: the stack's config, already read. */
export interface ConfigSource {
  /** Pulumi project name (the config namespace). */
  readonly project: string;
  /** Stack name. */
  readonly stack: string;
  /** Project-namespace values keyed without the namespace, YAML/JSON structure decoded. */
  readonly values: Readonly<Record<string, unknown>>;
  /** `gitlab:baseUrl`, else `GITLAB_BASE_URL`. */
  readonly gitlabBaseUrl: string | undefined;
  /** Where the GitLab token comes from; its value is never needed here. */
  readonly gitlabToken: "secret-config" | "plaintext-config" | "environment" | "missing";
}

/**
 * Validates a stack's config and applies per-environment defaults. Pure: it reads nothing but its
 * argument and registers no resources. Shape problems (the schema) are reported first; given a
 * well-formed config, defaults are applied and the cross-field rules (`rules/`) run. Every problem
 * found is reported in one `ConfigError`. `rules` are all of them but in tests of single rules.
 */
export function parseEnvironmentConfig(
  source: ConfigSource,
  rules: readonly RuleEntry[] = RULES,
): EnvironmentConfig {
  const problems: string[] = [];
  const values = source.values;

  const url = parseGitLabUrl(source.gitlabBaseUrl, problems);
  checkToken(source.gitlabToken, problems);

  const parsed = rawConfigSchema.safeParse(values);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(...formatIssue(issue, values, knownKeysAt));
    }
    // Semantic checks need well-formed input; report shape problems first, all at once.
    throw new ConfigError(source.stack, problems);
  }
  const raw = parsed.data;
  const config = resolve(source, raw, url);
  problems.push(...runRules(rules, config, raw));
  if (problems.length > 0 || url === undefined) {
    throw new ConfigError(source.stack, problems);
  }
  return deepFreeze(config);
}

function parseGitLabUrl(value: string | undefined, problems: string[]): URL | undefined {
  const expected =
    'expected the GitLab URL such as "https://gitlab.example.com" (pulumi config set gitlab:baseUrl …, or GITLAB_BASE_URL)';
  if (value === undefined || value === "") {
    problems.push(`gitlab:baseUrl: ${expected}, got nothing`);
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(value.replace(/\/api\/v4\/?$/, ""));
  } catch {
    problems.push(`gitlab:baseUrl: ${expected}, got ${JSON.stringify(value)}`);
    return undefined;
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.search || url.hash) {
    problems.push(`gitlab:baseUrl: ${expected}, got ${JSON.stringify(value)}`);
    return undefined;
  }
  return url;
}

function checkToken(source: ConfigSource["gitlabToken"], problems: string[]): void {
  const expected =
    "expected a secret GitLab access token (pulumi config set --secret gitlab:token …, or GITLAB_TOKEN)";
  if (source === "missing") {
    problems.push(`gitlab:token: ${expected}, got nothing`);
  } else if (source === "plaintext-config") {
    problems.push(`gitlab:token: ${expected}, got a plaintext value`);
  }
}

/** The keys a strict object accepts at `path`, for "did you mean" hints. */
function knownKeysAt(path: ConfigPath): readonly string[] {
  let schema: z.ZodType = rawConfigSchema;
  for (const part of path) {
    schema = unwrap(schema);
    if (schema instanceof z.ZodArray && typeof part === "number") {
      schema = schema.element as z.ZodType;
    } else if (schema instanceof z.ZodObject && typeof part === "string") {
      const next = (schema.shape as Record<string, z.ZodType>)[part];
      if (next === undefined) {
        return [];
      }
      schema = next;
    } else {
      return [];
    }
  }
  schema = unwrap(schema);
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  return schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType) : schema;
}

function resolveResources(
  given: Partial<ContainerResources> | undefined,
  fallback: ContainerResources,
): ContainerResources {
  return { ...fallback, ...stripUndefined(given ?? {}) };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The config with every default applied; problems are found by the rules afterwards. */
function resolve(source: ConfigSource, raw: RawConfig, url: URL | undefined): EnvironmentConfig {
  const env = raw.environment;
  const d = ENVIRONMENT_DEFAULTS[env];
  const gitlab = resolveGitLab(raw, url);
  const apps = resolveApps(source, raw, gitlab.registryHost);
  return {
    project: source.project,
    stack: source.stack,
    environment: env,
    kubeContext: raw.kubeContext,
    kubeApiServer: raw.kubeApiServer,
    gitlab,
    features: { ...d.features, ...stripUndefined(raw.features ?? {}) },
    namespace: {
      name: raw.namespace?.name ?? MANAGED_NAMESPACE,
      quota: { ...d.quota, ...stripUndefined(raw.namespace?.quota ?? {}) },
      limitRange: { ...d.limitRange, ...stripUndefined(raw.namespace?.limitRange ?? {}) },
      network: { clusterCidrs: raw.namespace?.network?.clusterCidrs ?? [...PRIVATE_CIDRS] },
    },
    appNamespaces: {
      quota: { ...d.appQuota, ...stripUndefined(raw.appNamespaces?.quota ?? {}) },
      limitRange: {
        ...d.appLimitRange,
        ...stripUndefined(raw.appNamespaces?.limitRange ?? {}),
      },
      network: {
        ingressNamespaces: raw.appNamespaces?.network?.ingressNamespaces ?? ["ingress-nginx"],
        dns: {
          namespace: raw.appNamespaces?.network?.dnsNamespace ?? "kube-system",
          podLabels: raw.appNamespaces?.network?.dnsPodLabels ?? { "k8s-app": "kube-dns" },
        },
      },
    },
    runner: resolveRunner(source, raw),
    registryAuth: {
      secretName: raw.registryAuth?.secretName ?? "gitlab-registry-auth",
      // One token per app project, in that app's namespace only: least privilege by default.
      scope: raw.registryAuth?.scope ?? "app",
      expiresAt: raw.registryAuth?.expiresAt,
      lifetimeDays: raw.registryAuth?.lifetimeDays ?? 365,
    },
    ciVariables: resolveCiVariables(raw),
    agent: resolveAgent(raw, apps),
    flux: {
      chartVersion: raw.flux?.chartVersion ?? PINNED.fluxChart,
      // The pinned images belong to the pinned chart: another version runs its own by default.
      images: {
        ...((raw.flux?.chartVersion ?? PINNED.fluxChart) === PINNED.fluxChart
          ? PINNED.fluxImages
          : {}),
        ...stripUndefined(raw.flux?.images ?? {}),
      },
      chartRepository: raw.flux?.chartRepository,
      namespace: raw.flux?.namespace ?? "flux-system",
      interval: raw.flux?.interval ?? "1m",
      unpinnedImagesReason: raw.flux?.unpinnedImagesReason,
      verify:
        raw.flux?.verify === undefined
          ? undefined
          : raw.flux.verify.keyless !== undefined && raw.flux.verify.publicKey === undefined
            ? { keyless: { issuer: raw.flux.verify.keyless.issuer ?? gitlabUrl(url) } }
            : raw.flux.verify.publicKey !== undefined && raw.flux.verify.keyless === undefined
              ? { publicKey: raw.flux.verify.publicKey }
              : // Neither or both: refused by the rule flux.verifyOneWay.
                {},
    },
    environments: {
      name: raw.environments?.name ?? raw.gitlab.environmentScope ?? d.environmentScope,
      tier: raw.environments?.tier ?? d.environmentTier,
      protected: raw.environments?.protected ?? d.protectEnvironments,
      deployAccessLevel: raw.environments?.deployAccessLevel ?? "maintainer",
      requiredApprovals: raw.environments?.requiredApprovals ?? 0,
    },
    apps,
    promotion:
      raw.promotion === undefined
        ? undefined
        : { username: raw.promotion.username, token: pulumi.secret(raw.promotion.token) },
    protection: {
      manage: raw.protection?.manage ?? d.protection.manage,
      defaultBranch: resolveDefaultBranch(raw, d.protection.defaultBranch),
      releaseTags: {
        ...d.protection.releaseTags,
        ...stripUndefined(raw.protection?.releaseTags ?? {}),
      },
      environmentTags: raw.protection?.environmentTags ?? d.protection.environmentTags,
    },
  };
}

/** GitLab's URL without trailing slash (its relative root kept): `CI_SERVER_URL`. */
function gitlabUrl(url: URL | undefined): string {
  return url === undefined ? "" : url.href.replace(/\/+$/, "");
}

function resolveGitLab(raw: RawConfig, url: URL | undefined): GitLabSettings {
  const d = ENVIRONMENT_DEFAULTS[raw.environment];
  const host = url?.host ?? "gitlab.invalid";
  return {
    url: gitlabUrl(url),
    host,
    projectPath: raw.gitlab.projectPath,
    projectId: raw.gitlab.projectId,
    groupPath: raw.gitlab.groupPath,
    groupId: raw.gitlab.groupId,
    // Image references are lowercase; host names are case-insensitive.
    registryHost: (raw.gitlab.registryHost ?? defaultRegistryHost(host)).toLowerCase(),
    defaultBranch: raw.gitlab.defaultBranch ?? "main",
    environmentScope: raw.gitlab.environmentScope ?? d.environmentScope,
    protectPublishedCredentials: raw.gitlab.protectPublishedCredentials ?? d.protectCredentials,
    adoptExisting: raw.gitlab.adoptExisting ?? [],
  };
}

function resolveDefaultBranch(
  raw: RawConfig,
  defaults: ProtectionSettings["defaultBranch"],
): ProtectionSettings["defaultBranch"] {
  const given = raw.protection?.defaultBranch ?? {};
  const pushAccessLevel = given.pushAccessLevel ?? defaults.pushAccessLevel;
  return {
    ...defaults,
    // Code owners of the agents' files bind merge requests only with code-owner approval.
    ...((raw.agent?.codeOwners ?? []).length > 0 ? { codeOwnerApprovalRequired: true } : {}),
    ...stripUndefined(given),
    // Where no one may push, the program still commits the agents' files.
    programPush: given.programPush ?? pushAccessLevel === "no one",
  };
}

function resolveRunner(source: ConfigSource, raw: RawConfig): RunnerSettings {
  const env = raw.environment;
  const d = ENVIRONMENT_DEFAULTS[env];
  const r = raw.runner ?? {};
  const privileged = r.privileged ?? false;
  return {
    // Privileged jobs never share the manager's namespace (and its token's).
    jobNamespace:
      r.jobs?.namespace ??
      (privileged ? `${raw.namespace?.name ?? MANAGED_NAMESPACE}-jobs` : undefined),
    scope: r.scope ?? "project",
    description: r.description ?? `${source.project}-${source.stack}`,
    tags: r.tags ?? ["kubernetes", env],
    runUntagged: r.runUntagged ?? false,
    locked: r.locked ?? true,
    accessLevel: r.accessLevel ?? d.runnerAccessLevel,
    maximumTimeout: r.maximumTimeout ?? 3600,
    paused: r.paused ?? false,
    chartVersion: r.chartVersion ?? PINNED.runnerChart,
    chartRepository: r.chartRepository,
    concurrent: r.concurrent ?? d.runnerConcurrent,
    checkInterval: r.checkInterval ?? 3,
    pollTimeout: r.pollTimeout ?? 180,
    jobImage: r.jobImage ?? PINNED.jobImage,
    image: r.image,
    privileged,
    privilegedReason: r.privilegedReason,
    resources: {
      manager: resolveResources(r.resources?.manager, d.runnerResources.manager),
      build: resolveResources(r.resources?.build, d.runnerResources.build),
      helper: resolveResources(r.resources?.helper, d.runnerResources.helper),
      service: resolveResources(r.resources?.service, d.runnerResources.service),
    },
    nodeSelector: r.nodeSelector ?? {},
    tolerations: (r.tolerations ?? []).map((t) => ({
      key: t.key,
      operator: t.operator ?? "Equal",
      value: t.value,
      effect: t.effect,
    })),
    cache:
      r.cache === undefined
        ? undefined
        : {
            serverAddress: r.cache.serverAddress,
            bucketName: r.cache.bucketName,
            bucketLocation: r.cache.bucketLocation,
            insecure: r.cache.insecure ?? false,
            accessKey: pulumi.secret(r.cache.accessKey),
            secretKey: pulumi.secret(r.cache.secretKey),
          },
    rotation: r.rotation ?? "1",
    metrics: r.metrics ?? true,
    jobs: {
      automountServiceAccountToken: r.jobs?.automountServiceAccountToken ?? false,
      allowedImages: r.jobs?.allowedImages ?? [],
      pullPolicy: r.jobs?.pullPolicy ?? d.runnerPullPolicy,
      allowedPullPolicies: r.jobs?.allowedPullPolicies ?? d.runnerAllowedPullPolicies,
      ...(r.jobs?.helperImage === undefined ? {} : { helperImage: r.jobs.helperImage }),
    },
    unpinnedImagesReason: r.jobs?.unpinnedImagesReason,
  };
}

function resolveCiVariables(raw: RawConfig): CiVariableSettings[] {
  const d = ENVIRONMENT_DEFAULTS[raw.environment];
  return (raw.ciVariables ?? []).map((v) => {
    const credential = v.credential ?? true;
    return {
      key: v.key,
      value: pulumi.secret(v.value),
      target: v.target ?? "project",
      variableType: v.variableType ?? "env_var",
      protected: v.protected ?? (credential && d.protectCredentials),
      masked: v.masked ?? credential,
      raw: v.raw ?? false,
      environmentScope: v.environmentScope ?? "*",
      description: v.description,
      credential,
    };
  });
}

function resolveApps(source: ConfigSource, raw: RawConfig, registryHost: string): AppSettings[] {
  const env = raw.environment;
  const d = ENVIRONMENT_DEFAULTS[env];
  return (raw.apps ?? []).map((a) => ({
    name: a.name,
    // Review stacks share a cluster with others: their namespaces carry the stack's name.
    namespace: a.namespace ?? (env === "review" ? `${a.name}-${source.stack}` : a.name),
    project: a.project,
    image: {
      repository: a.image?.repository ?? `${registryHost}/${a.project.toLowerCase()}`,
      tag: a.image?.tag,
      digest: a.image?.digest,
    },
    port: a.port ?? 8080,
    replicas: a.replicas ?? d.appReplicas,
    autoscaling:
      a.autoscaling === undefined
        ? undefined
        : {
            maxReplicas: a.autoscaling.maxReplicas,
            targetCpuUtilization: a.autoscaling.targetCpuUtilization ?? 70,
          },
    resources: resolveResources(a.resources, d.appResources),
    method: a.method ?? d.appMethod,
    ingress:
      a.ingress === undefined
        ? undefined
        : {
            host: a.ingress.host,
            className: a.ingress.className,
            tls:
              a.ingress.tls === undefined
                ? undefined
                : {
                    secretName: a.ingress.tls.secretName ?? `${a.name}-tls`,
                    clusterIssuer: a.ingress.tls.clusterIssuer,
                  },
          },
    podDisruptionBudget: a.podDisruptionBudget ?? d.podDisruptionBudget,
    tokenRotation: a.tokenRotation ?? "1",
    promote: a.image?.promote,
    allowedHosts: a.allowedHosts ?? [],
    allowExternalServices: a.allowExternalServices ?? false,
    egress: (a.egress ?? []).map((e) => ({
      ...(e.cidr === undefined ? {} : { cidr: e.cidr }),
      ...(e.namespace === undefined ? {} : { namespace: e.namespace }),
      ports: e.ports.map((p) => ({ port: p.port, protocol: p.protocol ?? "TCP" })),
    })),
    quota: {
      ...d.appQuota,
      ...stripUndefined(raw.appNamespaces?.quota ?? {}),
      ...stripUndefined(a.quota ?? {}),
    },
  }));
}

function resolveAgent(raw: RawConfig, apps: readonly AppSettings[]): AgentSettings {
  const env = raw.environment;
  const d = ENVIRONMENT_DEFAULTS[env];
  const ag = raw.agent ?? {};
  return {
    name: ag.name ?? env,
    namespace: ag.namespace ?? "gitlab-agent",
    imageTag: ag.imageTag,
    unpinnedImageReason: ag.unpinnedImageReason,
    chartVersion: ag.chartVersion ?? PINNED.agentChart,
    chartRepository: ag.chartRepository,
    // Undefined: the instance's (GET /metadata), filled in by stacks/instance.ts.
    kasAddress: ag.kasAddress,
    accessAs: ag.accessAs ?? d.agentAccessAs,
    // Only projects that deploy through the agent get access to it.
    projects: ag.projects ?? [
      ...new Set(apps.filter((a) => a.method === "agent").map((a) => a.project)),
    ],
    groups: ag.groups ?? [],
    replicas: ag.replicas ?? d.agentReplicas,
    rotation: ag.rotation ?? "1",
    protectedBranchesOnly: ag.protectedBranchesOnly ?? d.agentProtectedBranchesOnly,
    restrictToEnvironment: ag.restrictToEnvironment ?? true,
    codeOwners: ag.codeOwners ?? [],
  };
}

/** Freezes plain data recursively; Pulumi Outputs are left as they are. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !pulumi.Output.isInstance(value)) {
    for (const child of Object.values(value)) {
      deepFreeze(child);
    }
    Object.freeze(value);
  }
  return value;
}
