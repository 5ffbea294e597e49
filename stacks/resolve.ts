import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { defaultRegistryHost, ENVIRONMENT_DEFAULTS, PINNED } from "./defaults";
import { ConfigError, ConfigPath, formatIssue, problem } from "./errors";
import { DNS_LABEL, IMAGE_REPOSITORY, parseQuantity } from "../components/formats";
import {
  AppSettings,
  CiVariableSettings,
  ContainerResources,
  EnvironmentConfig,
  RunnerSettings,
} from "./model";
import { RawConfig, rawConfigSchema } from "./schema";
import { validateEnvironmentScope, validateMaskedValue } from "../components/gitlab/variables";
import { validateEnvironmentName } from "../components/gitlab/project-environment";

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
 * argument and registers no resources. Every problem found is reported in one `ConfigError`.
 */
export function parseEnvironmentConfig(source: ConfigSource): EnvironmentConfig {
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
  checkStackName(source.stack, raw, problems);
  const config = resolve(source, raw, url);
  problems.push(...semanticProblems(config, raw));
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

function checkStackName(stack: string, raw: RawConfig, problems: string[]): void {
  const named = ["dev", "staging", "production"].find((env) => env === stack);
  if (named !== undefined && raw.environment !== named) {
    problems.push(
      `environment: expected "${named}" for stack "${stack}", got "${raw.environment}"`,
    );
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

function resolve(source: ConfigSource, raw: RawConfig, url: URL | undefined): EnvironmentConfig {
  const env = raw.environment;
  const d = ENVIRONMENT_DEFAULTS[env];
  const host = url?.host ?? "gitlab.invalid";
  // Image references are lowercase; host names are case-insensitive.
  const registryHost = (raw.gitlab.registryHost ?? defaultRegistryHost(host)).toLowerCase();
  const namespaceName = raw.namespace?.name ?? "gitlab-managed-apps";

  const r = raw.runner ?? {};
  const runner: RunnerSettings = {
    scope: r.scope ?? "project",
    description: r.description ?? `${source.project}-${source.stack}`,
    tags: r.tags ?? ["kubernetes", env],
    runUntagged: r.runUntagged ?? false,
    locked: r.locked ?? true,
    accessLevel: r.accessLevel ?? d.runnerAccessLevel,
    maximumTimeout: r.maximumTimeout ?? 3600,
    paused: r.paused ?? false,
    chartVersion: r.chartVersion ?? PINNED.runnerChart,
    concurrent: r.concurrent ?? d.runnerConcurrent,
    checkInterval: r.checkInterval ?? 3,
    pollTimeout: r.pollTimeout ?? 180,
    jobImage: r.jobImage ?? PINNED.jobImage,
    privileged: r.privileged ?? false,
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
  };

  const ciVariables: CiVariableSettings[] = (raw.ciVariables ?? []).map((v) => {
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

  const apps: AppSettings[] = (raw.apps ?? []).map((a) => ({
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
    resources: resolveResources(a.resources, d.appResources),
    method: a.method ?? d.appMethod,
    ingress:
      a.ingress === undefined
        ? undefined
        : { host: a.ingress.host, className: a.ingress.className },
    podDisruptionBudget: a.podDisruptionBudget ?? d.podDisruptionBudget,
  }));

  const ag = raw.agent ?? {};
  return {
    project: source.project,
    stack: source.stack,
    environment: env,
    kubeContext: raw.kubeContext,
    kubeApiServer: raw.kubeApiServer,
    gitlab: {
      url: url === undefined ? "" : url.href.replace(/\/+$/, ""),
      host,
      projectPath: raw.gitlab.projectPath,
      projectId: raw.gitlab.projectId,
      groupPath: raw.gitlab.groupPath,
      groupId: raw.gitlab.groupId,
      registryHost,
      defaultBranch: raw.gitlab.defaultBranch ?? "main",
      environmentScope: raw.gitlab.environmentScope ?? d.environmentScope,
      protectPublishedCredentials: raw.gitlab.protectPublishedCredentials ?? d.protectCredentials,
      adoptExisting: raw.gitlab.adoptExisting ?? [],
    },
    features: { ...d.features, ...stripUndefined(raw.features ?? {}) },
    namespace: {
      name: namespaceName,
      quota: { ...d.quota, ...stripUndefined(raw.namespace?.quota ?? {}) },
      limitRange: { ...d.limitRange, ...stripUndefined(raw.namespace?.limitRange ?? {}) },
    },
    runner,
    registryAuth: {
      secretName: raw.registryAuth?.secretName ?? "gitlab-registry-auth",
      // A project deploy token pulls only its own project's images; apps live in other projects.
      scope: raw.registryAuth?.scope ?? (raw.gitlab.groupPath === undefined ? "project" : "group"),
      expiresAt: raw.registryAuth?.expiresAt,
      lifetimeDays: raw.registryAuth?.lifetimeDays ?? 365,
    },
    ciVariables,
    agent: {
      name: ag.name ?? env,
      namespace: ag.namespace ?? "gitlab-agent",
      imageTag: ag.imageTag,
      chartVersion: ag.chartVersion ?? PINNED.agentChart,
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
    },
    flux: {
      chartVersion: raw.flux?.chartVersion ?? PINNED.fluxChart,
      namespace: raw.flux?.namespace ?? "flux-system",
      interval: raw.flux?.interval ?? "1m",
    },
    environments: {
      name: raw.environments?.name ?? raw.gitlab.environmentScope ?? d.environmentScope,
      tier: raw.environments?.tier ?? d.environmentTier,
      protected: raw.environments?.protected ?? d.protectEnvironments,
      deployAccessLevel: raw.environments?.deployAccessLevel ?? "maintainer",
      requiredApprovals: raw.environments?.requiredApprovals ?? 0,
    },
    apps,
  };
}

/** The variables CiVariables publishes to every app project (components/ci-variables.ts). */
const PUBLISHED_KEYS: readonly string[] = [
  "KUBE_NAMESPACE",
  "IMAGE_REPOSITORY",
  "KUBE_CONTEXT",
  "KUBECONFIG",
  "KUBE_TOKEN",
];

/** Rules that span several keys or depend on the environment. */
function semanticProblems(config: EnvironmentConfig, raw: RawConfig): string[] {
  const problems: string[] = [];
  const env = config.environment;
  const rules = ENVIRONMENT_DEFAULTS[env].rules;
  const needsGroup = (path: string, what: string) =>
    problems.push(`${path}: expected gitlab.groupPath to be set when ${what}, got nothing`);

  // GitLab scopes that need a group.
  if (config.gitlab.groupPath === undefined) {
    if (config.features.runner && config.runner.scope === "group") {
      needsGroup("gitlab.groupPath", 'runner.scope is "group"');
    }
    if (config.features.registryAuth && config.registryAuth.scope === "group") {
      needsGroup("gitlab.groupPath", 'registryAuth.scope is "group"');
    }
    config.ciVariables.forEach((v, i) => {
      if (v.target === "group") {
        needsGroup("gitlab.groupPath", `ciVariables[${i}].target is "group"`);
      }
    });
  }

  // The runner API takes numeric ids; they are looked up from the paths (stacks/instance.ts).
  if (config.gitlab.groupId !== undefined && config.gitlab.groupPath === undefined) {
    needsGroup("gitlab.groupPath", "gitlab.groupId is set");
  }
  const scopeProblem = validateEnvironmentScope(config.gitlab.environmentScope);
  if (scopeProblem !== undefined) {
    problems.push(`gitlab.environmentScope: ${scopeProblem}`);
  }

  // GitLab environments: one concrete environment per app project.
  // A name derived from an invalid scope is reported once, at gitlab.environmentScope.
  const derivedFromBadScope = raw.environments?.name === undefined && scopeProblem !== undefined;
  const environmentName =
    config.features.environments && !derivedFromBadScope
      ? validateEnvironmentName(config.environments.name)
      : undefined;
  if (environmentName !== undefined) {
    // A wildcard scope (review/*) is no environment name: review pipelines create their own.
    problems.push(`environments.name: ${environmentName}`);
  }
  if (config.environments.requiredApprovals > 0 && !config.environments.protected) {
    problems.push(
      problem(
        ["environments", "requiredApprovals"],
        "expected 0 unless environments.protected is true",
        raw,
      ),
    );
  }

  // Namespaces this stack creates must be distinct, or two objects claim one name.
  const claimed = new Map<string, string>();
  const claim = (name: string, path: string) => {
    const other = claimed.get(name);
    if (other !== undefined) {
      problems.push(
        `${path}: expected a namespace no other part of the stack uses (${other} is "${name}" too), got "${name}"`,
      );
    } else {
      claimed.set(name, path);
    }
  };
  if (config.features.runner) {
    claim(config.namespace.name, "namespace.name");
  }
  if (config.features.agent) {
    claim(config.agent.namespace, "agent.namespace");
  }
  if (config.features.flux) {
    claim(config.flux.namespace, "flux.namespace");
  }
  if (config.features.apps) {
    // Two apps in one namespace are reported below, with the app index.
    const appNamespaces = new Set<string>();
    config.apps.forEach((a, i) => {
      if (!appNamespaces.has(a.namespace)) {
        appNamespaces.add(a.namespace);
        claim(a.namespace, `apps[${i}].namespace`);
      }
    });
  }

  // Agent.
  if (config.features.agent) {
    if (config.agent.accessAs === "ci_job" && !rules.allowCiJobAccess) {
      problems.push(
        problem(
          ["agent", "accessAs"],
          `expected "impersonate" or "agent" in ${env} ("ci_job" needs the agent to impersonate any user and group)`,
          raw,
        ),
      );
    }
    // GitLab authorizes only projects and groups under the agent project's top-level group.
    const top = (path: string) => path.split("/")[0]?.toLowerCase();
    const home = top(config.gitlab.projectPath);
    const outside = (path: string) => top(path) !== home;
    config.agent.projects.forEach((path, i) => {
      if (outside(path)) {
        problems.push(
          `agent.projects[${i}]: expected a project under "${home}" (the agent project's top-level group), got "${path}"`,
        );
      }
    });
    config.agent.groups.forEach((path, i) => {
      if (outside(path)) {
        problems.push(
          `agent.groups[${i}]: expected a group under "${home}" (the agent project's top-level group), got "${path}"`,
        );
      }
    });
    config.apps.forEach((a, i) => {
      if (a.method === "agent" && outside(a.project)) {
        problems.push(
          `apps[${i}].project: expected a project under "${home}" to deploy through the agent (the agent project's top-level group), got "${a.project}"`,
        );
      }
    });
  }

  // Registry: a project deploy token reads only its own project's registry.
  if (config.features.registryAuth && config.registryAuth.scope === "project") {
    const own = `${config.gitlab.registryHost}/${config.gitlab.projectPath.toLowerCase()}`;
    config.apps.forEach((a, i) => {
      const repo = a.image.repository;
      if (repo !== own && !repo.startsWith(`${own}/`)) {
        problems.push(
          `registryAuth.scope: expected "group" (a project deploy token of ${config.gitlab.projectPath} cannot pull apps[${i}]'s image "${repo}"), got "project"`,
        );
      }
    });
  }
  if (rules.credentialsMaskedAndProtected && !config.gitlab.protectPublishedCredentials) {
    problems.push(
      problem(
        ["gitlab", "protectPublishedCredentials"],
        `expected true in ${env} (deployer credentials only for protected branches and tags)`,
        raw,
      ),
    );
  }

  // Runner.
  if (rules.privilegedNeedsReason && config.runner.privileged && !config.runner.privilegedReason) {
    problems.push(
      `runner.privilegedReason: expected a reason when runner.privileged is true in ${env}, got nothing`,
    );
  }
  if (config.runner.privilegedReason !== undefined && !config.runner.privileged) {
    problems.push(
      `runner.privilegedReason: expected only with runner.privileged: true, got ${JSON.stringify(config.runner.privilegedReason)}`,
    );
  }
  // The runner chart renders its config.toml as a Helm template: "{{" would be executed.
  const templated = [
    ["runner.jobImage", config.runner.jobImage],
    ...Object.entries(config.runner.nodeSelector).flatMap(([k, v]) => [
      [`runner.nodeSelector`, k],
      [`runner.nodeSelector.${k}`, v],
    ]),
    ...config.runner.tolerations.flatMap((t, i) => [
      [`runner.tolerations[${i}].key`, t.key ?? ""],
      [`runner.tolerations[${i}].value`, t.value ?? ""],
    ]),
  ].filter(([, v]) => v?.includes("{{"));
  for (const [path, value] of templated) {
    problems.push(
      `${path}: expected no "{{" (the runner chart evaluates its config as a Helm template), got ${JSON.stringify(value)}`,
    );
  }
  for (const [name, res] of Object.entries(config.runner.resources)) {
    problems.push(...requestsWithinLimits(`runner.resources.${name}`, res));
  }
  config.runner.tolerations.forEach((t, i) => {
    if (t.operator === "Exists" && t.value !== undefined) {
      problems.push(
        problem(
          ["runner", "tolerations", i, "value"],
          'expected no value with operator "Exists"',
          raw,
        ),
      );
    }
    if (t.operator === "Equal" && t.key === undefined) {
      problems.push(
        problem(["runner", "tolerations", i, "key"], 'expected a key with operator "Equal"', raw),
      );
    }
  });
  problems.push(
    ...requestsWithinLimits(
      "namespace.limitRange",
      {
        cpuRequest: config.namespace.limitRange.defaultRequestCpu,
        cpuLimit: config.namespace.limitRange.defaultLimitCpu,
        memoryRequest: config.namespace.limitRange.defaultRequestMemory,
        memoryLimit: config.namespace.limitRange.defaultLimitMemory,
      },
      {
        cpuRequest: "defaultRequestCpu",
        cpuLimit: "defaultLimitCpu",
        memoryRequest: "defaultRequestMemory",
        memoryLimit: "defaultLimitMemory",
      },
    ),
  );

  // Registry auth.
  if (config.registryAuth.expiresAt !== undefined && config.registryAuth.expiresAt <= today()) {
    problems.push(problem(["registryAuth", "expiresAt"], "expected a date in the future", raw));
  }

  // CI variables.
  const seenVariables = new Map<string, number>();
  config.ciVariables.forEach((v, i) => {
    const id = `${v.target}:${v.key}:${v.environmentScope}`;
    const first = seenVariables.get(id);
    if (first !== undefined) {
      problems.push(
        problem(
          ["ciVariables", i, "key"],
          `expected a key unique per target and environmentScope (ciVariables[${first}] has it too)`,
          raw,
        ),
      );
    } else {
      seenVariables.set(id, i);
    }
    const scope = validateEnvironmentScope(v.environmentScope);
    if (scope !== undefined) {
      problems.push(`ciVariables[${i}].environmentScope: ${scope}`);
    }
    const rawValue = raw.ciVariables?.[i]?.value;
    const unmaskable =
      v.masked && rawValue !== undefined ? validateMaskedValue(rawValue, v.raw) : undefined;
    if (unmaskable !== undefined) {
      // The value is a secret: say why GitLab would refuse it, never what it is.
      problems.push(
        `ciVariables[${i}].value: expected a value GitLab can mask (${unmaskable}), got a secret value that cannot be masked`,
      );
    }
    if (rules.credentialsMaskedAndProtected && v.credential) {
      if (!v.masked) {
        problems.push(
          problem(["ciVariables", i, "masked"], `expected true for a credential in ${env}`, raw),
        );
      }
      if (!v.protected) {
        problems.push(
          problem(["ciVariables", i, "protected"], `expected true for a credential in ${env}`, raw),
        );
      }
    }
  });

  // Variables the platform publishes to app projects must not be set by hand in the same place.
  const platformApp = config.apps.find(
    (a) => a.project.toLowerCase() === config.gitlab.projectPath.toLowerCase(),
  );
  if (config.features.apps && config.features.ciVariables && platformApp !== undefined) {
    config.ciVariables.forEach((v, i) => {
      if (
        v.target === "project" &&
        PUBLISHED_KEYS.includes(v.key) &&
        v.environmentScope === config.gitlab.environmentScope
      ) {
        problems.push(
          problem(
            ["ciVariables", i, "key"],
            `expected a key the platform does not publish to ${config.gitlab.projectPath} in scope "${v.environmentScope}" (app ${platformApp.name} lives there)`,
            raw,
          ),
        );
      }
    });
  }

  // Apps.
  const seenProjects = new Map<string, number>();
  const seenNamespaces = new Map<string, number>();
  config.apps.forEach((a, i) => {
    // The platform publishes one KUBE_NAMESPACE/KUBE_CONTEXT per project and environment scope.
    const project = a.project.toLowerCase();
    const otherProject = seenProjects.get(project);
    if (otherProject !== undefined) {
      problems.push(
        problem(
          ["apps", i, "project"],
          `expected a project no other app uses (apps[${otherProject}] has it too)`,
          raw,
        ),
      );
    } else {
      seenProjects.set(project, i);
    }
    const otherNamespace = seenNamespaces.get(a.namespace);
    if (otherNamespace !== undefined) {
      problems.push(
        `apps[${i}].namespace: expected a namespace no other app uses (apps[${otherNamespace}] has it too), got "${a.namespace}"`,
      );
    } else {
      seenNamespaces.set(a.namespace, i);
    }
    if (a.method === "agent" && !config.features.agent) {
      problems.push(
        problem(["apps", i, "method"], 'expected "direct" or "flux" when features.agent is false', {
          apps: config.apps,
        }),
      );
    }
    if (a.method === "flux" && !config.features.flux) {
      problems.push(
        problem(["apps", i, "method"], 'expected "agent" or "direct" when features.flux is false', {
          apps: config.apps,
        }),
      );
    }
    if (a.method === "direct" && config.kubeApiServer === undefined) {
      problems.push(
        `kubeApiServer: expected the API server URL CI jobs reach when apps[${i}].method is "direct", got nothing`,
      );
    }
  });
  const seenApps = new Map<string, number>();
  const seenHosts = new Map<string, number>();
  config.apps.forEach((a, i) => {
    const first = seenApps.get(a.name);
    if (first !== undefined) {
      problems.push(
        problem(["apps", i, "name"], `expected a unique app name (apps[${first}] has it too)`, raw),
      );
    } else {
      seenApps.set(a.name, i);
    }
    if ((a.image.tag === undefined) === (a.image.digest === undefined)) {
      problems.push(
        `apps[${i}].image: expected exactly one of tag or digest, got ${a.image.tag === undefined ? "neither" : "both"}`,
      );
    }
    if (a.replicas < rules.minAppReplicas) {
      problems.push(
        problem(
          ["apps", i, "replicas"],
          `expected at least ${rules.minAppReplicas} in ${env}`,
          raw,
        ),
      );
    }
    problems.push(...requestsWithinLimits(`apps[${i}].resources`, a.resources));
    if (a.ingress !== undefined) {
      const host = a.ingress.host.toLowerCase();
      const other = seenHosts.get(host);
      if (other !== undefined) {
        problems.push(
          problem(
            ["apps", i, "ingress", "host"],
            `expected a host no other app uses (apps[${other}] has it too)`,
            raw,
          ),
        );
      } else {
        seenHosts.set(host, i);
      }
    }
    if (
      raw.apps?.[i]?.image?.repository === undefined &&
      !IMAGE_REPOSITORY.test(a.image.repository)
    ) {
      problems.push(
        `apps[${i}].image.repository: expected an image repository, got "${a.image.repository}" (derived from gitlab.registryHost and the project path; set it explicitly)`,
      );
    }
    if (
      config.features.environments &&
      a.ingress !== undefined &&
      `https://${a.ingress.host}`.length > 255
    ) {
      problems.push(
        problem(
          ["apps", i, "ingress", "host"],
          "expected at most 247 characters (GitLab keeps environment URLs to 255)",
          raw,
        ),
      );
    }
    if (!DNS_LABEL.test(a.namespace)) {
      problems.push(
        `apps[${i}].namespace: expected a DNS-1123 label (lowercase letters, digits and '-', at most 63), got "${a.namespace}" (derived from the app and stack names; set it explicitly)`,
      );
    }
    if (a.namespace === config.namespace.name) {
      problems.push(
        problem(
          ["apps", i, "namespace"],
          `expected a namespace other than the managed namespace "${config.namespace.name}"`,
          { apps: config.apps },
        ),
      );
    }
  });
  return problems;
}

function requestsWithinLimits(
  path: string,
  r: ContainerResources,
  names: Record<keyof ContainerResources, string> = {
    cpuRequest: "cpuRequest",
    cpuLimit: "cpuLimit",
    memoryRequest: "memoryRequest",
    memoryLimit: "memoryLimit",
  },
): string[] {
  const out: string[] = [];
  if (parseQuantity(r.cpuRequest) > parseQuantity(r.cpuLimit)) {
    out.push(
      `${path}.${names.cpuRequest}: expected at most ${names.cpuLimit} "${r.cpuLimit}", got "${r.cpuRequest}"`,
    );
  }
  if (parseQuantity(r.memoryRequest) > parseQuantity(r.memoryLimit)) {
    out.push(
      `${path}.${names.memoryRequest}: expected at most ${names.memoryLimit} "${r.memoryLimit}", got "${r.memoryRequest}"`,
    );
  }
  return out;
}

function today(): string {
  return new Date().toISOString().slice(0, 10);
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
