import {
  AppNamespacesSettings,
  AgentSettings,
  ContainerResources,
  DeployMethod,
  Environment,
  EnvironmentsSettings,
  Features,
  NamespaceSettings,
  ProtectionSettings,
  RunnerSettings,
} from "./model";

/**
 * Per-environment defaults: the one place that says how dev, staging, production and review
 * stacks differ when their config is silent. Values a user sets always win, except where a rule
 * (production minimums, `rules` below) says a value is not acceptable at all.
 */

/** Pinned versions of what the platform installs. Bump deliberately, with the chart's values checked. */
export const PINNED = {
  /** gitlab-runner chart (appVersion 19.0.0), https://charts.gitlab.io. */
  runnerChart: "0.89.0",
  /** gitlab-agent chart (appVersion v17.3.3), https://charts.gitlab.io. */
  agentChart: "2.6.2",
  /** flux2 chart (Flux v2.8.5), https://fluxcd-community.github.io/helm-charts. */
  fluxChart: "2.18.3",
  /**
   * The images of that chart the platform runs, at the chart's own tags (charts/flux2/values.yaml
   * of 2.18.3), pinned by their multi-arch index digests. Only with `fluxChart`: another chart
   * version runs its own images unless `flux.images` names them. Each digest was found for
   * exactly that tag in two independent places:
   * - the controllers: controlplaneio-fluxcd/distribution, images/v2.8.5/upstream-alpine.yaml at
   *   fc47835c54616516a2e0f7f64dc446962a0d5424 (written by its update-images workflow from
   *   `docker buildx imagetools inspect`), and windsorcli/core, terraform/gitops/flux/main.tf,
   *   Renovate commits 7ff5481f19582bbc93b5a50655cf8b3774a899e7 (source-controller v1.8.2) and
   *   6a21c33f55227c10085f19cad0ce0d25104306d3 (kustomize-controller v1.8.3);
   * - flux-cli v2.8.5: windsorcli/core, kustomize/telemetry/resources/flux/helm-release.yaml,
   *   Renovate commit e451a5aa52a916f3f9fe5d3ed660873a6045ff5e, and
   *   controlplaneio-fluxcd/terraform-kubernetes-flux-operator-bootstrap, Dockerfile, Dependabot
   *   change in a9ed6a287cdb7ca683a8ecb461bdfdcc9dc85fba.
   */
  fluxImages: {
    sourceController:
      "ghcr.io/fluxcd/source-controller:v1.8.2@sha256:f2f6fd483b9a8b8c69f8ebe9f2277be23093a2b552b3578a6db15710d736bb0e",
    kustomizeController:
      "ghcr.io/fluxcd/kustomize-controller:v1.8.3@sha256:c59e81059330a55203bf60806229a052617134d8b557c1bd83cdc69a8ece7ea2",
    cli: "ghcr.io/fluxcd/flux-cli:v2.8.5@sha256:f1947272d998247ce959adf8ffe13626f153e8b373ccd0322a18b4f7aad132f1",
  },
  /**
   * Default image for CI jobs that don't name one, pinned by its multi-arch index digest, found for
   * exactly this tag in two independent Dependabot pins: envoyproxy/ratelimit, Dockerfile,
   * ecb5da356bbe1b5b19be609e44ebc8eabac2595f, and kubereboot/kured, Dockerfile,
   * 709f2df695e3fc6136ce29df936cdc34cebab283.
   */
  jobImage: "alpine:3.22.2@sha256:4b7ce07002c69e8f3d704a9c5d6fd3053be500b7f1c69fc0d80990c2ad8dd412",
} as const;

/** What differs between environments when config is silent, and which rules are enforced. */
export interface EnvironmentDefaults {
  readonly features: Features;
  readonly quota: NamespaceSettings["quota"];
  readonly limitRange: NamespaceSettings["limitRange"];
  /** ResourceQuota of each app namespace. */
  readonly appQuota: AppNamespacesSettings["quota"];
  /** LimitRange of each app namespace, with the largest container allowed. */
  readonly appLimitRange: AppNamespacesSettings["limitRange"];
  readonly runnerConcurrent: number;
  readonly runnerAccessLevel: RunnerSettings["accessLevel"];
  readonly runnerResources: RunnerSettings["resources"];
  /** Pull policy of job images a job does not choose (`runner.jobs.pullPolicy`). */
  readonly runnerPullPolicy: RunnerSettings["jobs"]["pullPolicy"];
  /** Pull policies jobs may choose (`runner.jobs.allowedPullPolicies`). */
  readonly runnerAllowedPullPolicies: RunnerSettings["jobs"]["allowedPullPolicies"];
  readonly agentAccessAs: AgentSettings["accessAs"];
  /** Whether only protected branches and tags may use the agent (`protected_branches_only`). */
  readonly agentProtectedBranchesOnly: boolean;
  /** GitLab environment scope of the variables published to app projects. */
  readonly environmentScope: string;
  /** GitLab environment tier of this stack's environments. */
  readonly environmentTier: EnvironmentsSettings["tier"];
  /** Branch, release-tag and environment-tag protection. */
  readonly protection: ProtectionSettings;
  /** Whether the environments are protected (GitLab Premium). */
  readonly protectEnvironments: boolean;
  /** How apps deploy when `apps[].method` is unset. */
  readonly appMethod: DeployMethod;
  readonly agentReplicas: number;
  readonly appReplicas: number;
  readonly appResources: ContainerResources;
  readonly podDisruptionBudget: boolean;
  /** Credential variables default to protected (only protected branches and tags see them). */
  readonly protectCredentials: boolean;
  readonly rules: {
    /** Apps must run at least this many replicas. */
    readonly minAppReplicas: number;
    /** Credential variables must be masked and protected. */
    readonly credentialsMaskedAndProtected: boolean;
    /** A privileged runner needs `runner.privilegedReason`. */
    readonly privilegedNeedsReason: boolean;
    /**
     * `runner.privileged` is allowed. Production refuses it, as the policy pack's security
     * policies `runner-not-privileged` and `namespaces-pod-security` (which production cannot
     * lower) would anyway.
     */
    readonly privilegedAllowed: boolean;
    /**
     * The platform's own images name a digest: `runner.jobImage` and `runner.jobs.helperImage`
     * (unset: the runner's own helper, by tag) unless `runner.jobs.unpinnedImagesReason` says why
     * not yet; with the agent `agent.imageTag`, unless `agent.unpinnedImageReason`; with Flux
     * `flux.images`, unless `flux.unpinnedImagesReason`.
     */
    readonly imagesPinned: boolean;
    /**
     * `agent.accessAs: ci_job` is allowed. It needs the agent to impersonate any user and group,
     * which amounts to cluster-admin for whoever holds the agent's identity.
     */
    readonly allowCiJobAccess: boolean;
    /**
     * `agent.accessAs: agent` is allowed (for a single agent app). Every app namespace binds the
     * agent's one ServiceAccount in that mode, so it cannot keep apps apart.
     */
    readonly allowAgentAccess: boolean;
    /**
     * The agent serves only protected refs (`agent.protectedBranchesOnly`) and jobs that declare
     * the stack's environment (`agent.restrictToEnvironment`); config cannot turn either off.
     */
    readonly agentRefRulesEnforced: boolean;
    /**
     * `registryAuth.scope` `project` or `group` is allowed: one token copied into every app
     * namespace, so one compromised namespace could pull every image it reaches.
     */
    readonly sharedRegistryTokenAllowed: boolean;
  };
}

/** What the `rules` of {@link EnvironmentDefaults} enforce, one line each, for docs/configuration.md. */
export const RULE_DOCS: readonly {
  readonly rule: keyof EnvironmentDefaults["rules"];
  readonly text: string;
}[] = [
  { rule: "minAppReplicas", text: "minimum `apps[].replicas`" },
  { rule: "credentialsMaskedAndProtected", text: "credential variables masked and protected" },
  { rule: "credentialsMaskedAndProtected", text: "`gitlab.protectPublishedCredentials: true`" },
  { rule: "privilegedNeedsReason", text: "a privileged runner needs `runner.privilegedReason`" },
  { rule: "privilegedAllowed", text: "`runner.privileged` allowed" },
  {
    rule: "imagesPinned",
    text: "runner job and helper images by digest (or `runner.jobs.unpinnedImagesReason`)",
  },
  { rule: "imagesPinned", text: "agentk by digest (or `agent.unpinnedImageReason`)" },
  { rule: "imagesPinned", text: "Flux images by digest (or `flux.unpinnedImagesReason`)" },
  { rule: "allowCiJobAccess", text: "`agent.accessAs: ci_job` allowed" },
];

const small = (cpu: [string, string], memory: [string, string]): ContainerResources => ({
  cpuRequest: cpu[0],
  cpuLimit: cpu[1],
  memoryRequest: memory[0],
  memoryLimit: memory[1],
});

const runnerResources = {
  manager: small(["50m", "200m"], ["64Mi", "256Mi"]),
  build: small(["250m", "1"], ["256Mi", "1Gi"]),
  helper: small(["50m", "200m"], ["64Mi", "256Mi"]),
  service: small(["100m", "500m"], ["128Mi", "512Mi"]),
};

const allFeatures: Features = {
  runner: true,
  registryAuth: true,
  ciVariables: true,
  agent: true,
  flux: false,
  apps: true,
  environments: true,
};

/** The defaults table, one row per environment. */
export const ENVIRONMENT_DEFAULTS: Readonly<Record<Environment, EnvironmentDefaults>> = {
  dev: {
    features: allFeatures,
    quota: {
      requestsCpu: "4",
      requestsMemory: "8Gi",
      limitsCpu: "8",
      limitsMemory: "16Gi",
      pods: 20,
    },
    limitRange: {
      defaultRequestCpu: "100m",
      defaultRequestMemory: "128Mi",
      defaultLimitCpu: "500m",
      defaultLimitMemory: "512Mi",
    },
    appQuota: {
      requestsCpu: "2",
      requestsMemory: "2Gi",
      limitsCpu: "4",
      limitsMemory: "4Gi",
      pods: 10,
    },
    appLimitRange: {
      defaultRequestCpu: "50m",
      defaultRequestMemory: "64Mi",
      defaultLimitCpu: "250m",
      defaultLimitMemory: "256Mi",
      maxCpu: "1",
      maxMemory: "1Gi",
    },
    runnerConcurrent: 4,
    runnerAccessLevel: "not_protected",
    runnerResources,
    runnerPullPolicy: ["if-not-present"],
    runnerAllowedPullPolicies: ["always", "if-not-present"],
    agentAccessAs: "impersonate",
    agentProtectedBranchesOnly: false,
    environmentScope: "dev",
    appMethod: "agent",
    environmentTier: "development",
    protection: {
      manage: false,
      defaultBranch: {
        pushAccessLevel: "maintainer",
        mergeAccessLevel: "developer",
        allowForcePush: false,
        codeOwnerApprovalRequired: false,
        programPush: false,
      },
      releaseTags: { patterns: ["v*"], createAccessLevel: "maintainer" },
      environmentTags: false,
    },
    protectEnvironments: false,
    agentReplicas: 1,
    appReplicas: 1,
    appResources: small(["50m", "250m"], ["64Mi", "256Mi"]),
    podDisruptionBudget: false,
    protectCredentials: false,
    rules: {
      minAppReplicas: 1,
      credentialsMaskedAndProtected: false,
      privilegedNeedsReason: false,
      privilegedAllowed: true,
      imagesPinned: false,
      allowCiJobAccess: true,
      allowAgentAccess: true,
      agentRefRulesEnforced: false,
      sharedRegistryTokenAllowed: true,
    },
  },
  staging: {
    features: allFeatures,
    quota: {
      requestsCpu: "8",
      requestsMemory: "16Gi",
      limitsCpu: "16",
      limitsMemory: "32Gi",
      pods: 40,
    },
    limitRange: {
      defaultRequestCpu: "100m",
      defaultRequestMemory: "128Mi",
      defaultLimitCpu: "1",
      defaultLimitMemory: "1Gi",
    },
    appQuota: {
      requestsCpu: "4",
      requestsMemory: "8Gi",
      limitsCpu: "8",
      limitsMemory: "16Gi",
      pods: 20,
    },
    appLimitRange: {
      defaultRequestCpu: "100m",
      defaultRequestMemory: "128Mi",
      defaultLimitCpu: "500m",
      defaultLimitMemory: "512Mi",
      maxCpu: "2",
      maxMemory: "2Gi",
    },
    runnerConcurrent: 8,
    runnerAccessLevel: "not_protected",
    runnerResources,
    runnerPullPolicy: ["always"],
    runnerAllowedPullPolicies: ["always"],
    agentAccessAs: "impersonate",
    agentProtectedBranchesOnly: true,
    environmentScope: "staging",
    appMethod: "agent",
    environmentTier: "staging",
    protection: {
      manage: false,
      defaultBranch: {
        pushAccessLevel: "maintainer",
        mergeAccessLevel: "developer",
        allowForcePush: false,
        codeOwnerApprovalRequired: false,
        programPush: false,
      },
      releaseTags: { patterns: ["v*"], createAccessLevel: "maintainer" },
      environmentTags: false,
    },
    protectEnvironments: false,
    agentReplicas: 2,
    appReplicas: 2,
    appResources: small(["100m", "500m"], ["128Mi", "512Mi"]),
    podDisruptionBudget: true,
    protectCredentials: true,
    rules: {
      minAppReplicas: 1,
      credentialsMaskedAndProtected: true,
      privilegedNeedsReason: true,
      privilegedAllowed: true,
      imagesPinned: false,
      allowCiJobAccess: true,
      allowAgentAccess: false,
      agentRefRulesEnforced: true,
      sharedRegistryTokenAllowed: false,
    },
  },
  production: {
    features: allFeatures,
    quota: {
      requestsCpu: "16",
      requestsMemory: "32Gi",
      limitsCpu: "32",
      limitsMemory: "64Gi",
      pods: 60,
    },
    limitRange: {
      defaultRequestCpu: "250m",
      defaultRequestMemory: "256Mi",
      defaultLimitCpu: "1",
      defaultLimitMemory: "1Gi",
    },
    appQuota: {
      requestsCpu: "8",
      requestsMemory: "16Gi",
      limitsCpu: "16",
      limitsMemory: "32Gi",
      pods: 40,
    },
    appLimitRange: {
      defaultRequestCpu: "250m",
      defaultRequestMemory: "256Mi",
      defaultLimitCpu: "1",
      defaultLimitMemory: "1Gi",
      maxCpu: "4",
      maxMemory: "8Gi",
    },
    runnerConcurrent: 10,
    runnerAccessLevel: "ref_protected",
    runnerResources,
    runnerPullPolicy: ["always"],
    runnerAllowedPullPolicies: ["always"],
    agentAccessAs: "impersonate",
    agentProtectedBranchesOnly: true,
    environmentScope: "production",
    appMethod: "agent",
    environmentTier: "production",
    protection: {
      manage: true,
      defaultBranch: {
        pushAccessLevel: "no one",
        mergeAccessLevel: "maintainer",
        allowForcePush: false,
        codeOwnerApprovalRequired: false,
        // The program still commits the agents' files there.
        programPush: true,
      },
      releaseTags: { patterns: ["v*"], createAccessLevel: "maintainer" },
      environmentTags: true,
    },
    protectEnvironments: true,
    agentReplicas: 2,
    appReplicas: 2,
    appResources: small(["250m", "1"], ["256Mi", "1Gi"]),
    podDisruptionBudget: true,
    protectCredentials: true,
    rules: {
      minAppReplicas: 2,
      credentialsMaskedAndProtected: true,
      privilegedNeedsReason: false,
      privilegedAllowed: false,
      imagesPinned: true,
      allowCiJobAccess: false,
      allowAgentAccess: false,
      agentRefRulesEnforced: true,
      sharedRegistryTokenAllowed: false,
    },
  },
  review: {
    // Review apps get their environments from the pipeline (`environment: review/$CI_COMMIT_REF_SLUG`).
    features: { ...allFeatures, runner: false, agent: false, flux: false, environments: false },
    quota: {
      requestsCpu: "2",
      requestsMemory: "4Gi",
      limitsCpu: "4",
      limitsMemory: "8Gi",
      pods: 10,
    },
    limitRange: {
      defaultRequestCpu: "50m",
      defaultRequestMemory: "64Mi",
      defaultLimitCpu: "250m",
      defaultLimitMemory: "256Mi",
    },
    appQuota: {
      requestsCpu: "1",
      requestsMemory: "1Gi",
      limitsCpu: "2",
      limitsMemory: "2Gi",
      pods: 6,
    },
    appLimitRange: {
      defaultRequestCpu: "50m",
      defaultRequestMemory: "64Mi",
      defaultLimitCpu: "250m",
      defaultLimitMemory: "256Mi",
      maxCpu: "500m",
      maxMemory: "512Mi",
    },
    runnerConcurrent: 2,
    runnerAccessLevel: "not_protected",
    runnerResources,
    runnerPullPolicy: ["if-not-present"],
    runnerAllowedPullPolicies: ["always", "if-not-present"],
    agentAccessAs: "impersonate",
    agentProtectedBranchesOnly: false,
    environmentScope: "review/*",
    appMethod: "direct",
    environmentTier: "testing",
    protection: {
      manage: false,
      defaultBranch: {
        pushAccessLevel: "maintainer",
        mergeAccessLevel: "developer",
        allowForcePush: false,
        codeOwnerApprovalRequired: false,
        programPush: false,
      },
      releaseTags: { patterns: ["v*"], createAccessLevel: "maintainer" },
      environmentTags: false,
    },
    protectEnvironments: false,
    agentReplicas: 1,
    appReplicas: 1,
    appResources: small(["50m", "250m"], ["64Mi", "256Mi"]),
    podDisruptionBudget: false,
    protectCredentials: false,
    rules: {
      minAppReplicas: 1,
      credentialsMaskedAndProtected: false,
      privilegedNeedsReason: false,
      privilegedAllowed: true,
      imagesPinned: false,
      allowCiJobAccess: true,
      allowAgentAccess: true,
      agentRefRulesEnforced: false,
      sharedRegistryTokenAllowed: true,
    },
  },
};

/** The registry host GitLab serves next to `gitlabHost` by default. */
export function defaultRegistryHost(gitlabHost: string): string {
  return `registry.${gitlabHost}`;
}
