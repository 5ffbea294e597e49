import { ConfigSource, parseEnvironmentConfig } from "../../stacks";
import { RULES, RULES_BY_AREA, flattenRules, selectRules } from "../../stacks/rules";
import { PINNED_AGENTK_TAG, PINNED_HELPER_IMAGE, app, problemsOf, source } from "./fixtures";

/** 250 characters: a valid host name whose environment URL `https://<host>` exceeds 255. */
const LONG_HOST = ["a", "b", "c"].map((c) => c.repeat(63)).join(".") + "." + "d".repeat(58);

/**
 * One row per case: the rules it shows, a title, stack overrides, config values, and the exact
 * problems. Every rule appears in at least one row (checked below), so a new rule needs a test.
 */
const CASES: [string[], string, Partial<ConfigSource>, Record<string, unknown>, string[]][] = [
  [
    ["environments.environmentMatchesStack"],
    "a stack named after an environment must be that environment",
    { stack: "production" },
    { environment: "dev" },
    ['environment: expected "production" for stack "production", got "dev"'],
  ],
  [
    ["apps.uniqueName"],
    "duplicate app names",
    {},
    { apps: [app(), app({ namespace: "other", project: "acme/web2" })] },
    ['apps[1].name: expected a unique app name (apps[0] has it too), got "web"'],
  ],
  [
    ["apps.tagOrDigest"],
    "an image needs exactly one of tag, digest or promote",
    {},
    {
      promotion: { username: "promoter", token: "gldt-promoter" },
      apps: [
        app({ image: { tag: "1", digest: `sha256:${"b".repeat(64)}` } }),
        app({ name: "api", project: "acme/api", image: {} }),
        app({
          name: "docs",
          project: "acme/docs",
          image: { tag: "1", digest: `sha256:${"b".repeat(64)}`, promote: "abc" },
        }),
      ],
    },
    [
      "apps[0].image: expected exactly one of tag, digest or promote, got two",
      "apps[1].image: expected exactly one of tag, digest or promote, got none",
      "apps[2].image: expected exactly one of tag, digest or promote, got all three",
    ],
  ],
  [
    ["apps.productionFluxPromoted"],
    "a production flux app must follow a promoted digest",
    { stack: "production" },
    {
      environment: "production",
      features: { flux: true },
      flux: { verify: { keyless: {} } },
      apps: [app({ method: "flux", replicas: 2 })],
    },
    [
      "apps[0].image.promote: expected the tag to promote in production (a flux app follows its manifests artifact by digest there, so whoever can push to the registry cannot move what runs), got nothing",
    ],
  ],
  [
    ["apps.promotionHasCredentials"],
    "a promoted tag needs the stack's registry credentials, deploy tokens or not",
    {},
    { features: { registryAuth: true }, apps: [app({ image: { promote: "abc123" } })] },
    [
      "apps[0].image.promote: expected promotion.username and promotion.token (registry credentials that may read registry.gitlab.example.com/acme/web) to resolve the tag, got none",
    ],
  ],
  [
    ["apps.resourcesWithinLimits"],
    "requests above limits",
    {},
    {
      apps: [
        app({
          resources: {
            cpuRequest: "2",
            cpuLimit: "500m",
            memoryRequest: "2Gi",
            memoryLimit: "1Gi",
          },
        }),
      ],
    },
    [
      'apps[0].resources.cpuRequest: expected at most cpuLimit "500m", got "2"',
      'apps[0].resources.memoryRequest: expected at most memoryLimit "1Gi", got "2Gi"',
    ],
  ],
  [
    ["gitlab.groupPathForGroupRunner", "gitlab.groupPathForGroupVariables"],
    "group-scoped objects need a group",
    {},
    {
      gitlab: { projectPath: "acme/platform", projectId: 42 },
      features: { registryAuth: false },
      runner: { scope: "group" },
      ciVariables: [{ key: "A", value: "x", target: "group", credential: false }],
    },
    [
      'gitlab.groupPath: expected gitlab.groupPath to be set when runner.scope is "group", got nothing',
      'gitlab.groupPath: expected gitlab.groupPath to be set when ciVariables[0].target is "group", got nothing',
    ],
  ],
  [
    ["runner.privilegedNeedsReason"],
    "a privileged runner in staging needs a reason",
    { stack: "staging" },
    { environment: "staging", runner: { privileged: true } },
    [
      "runner.privilegedReason: expected a reason when runner.privileged is true in staging, got nothing",
    ],
  ],
  [
    ["runner.privilegedAllowed"],
    "production refuses a privileged runner, reason or not",
    { stack: "production" },
    {
      environment: "production",
      runner: { privileged: true, privilegedReason: "docker-in-docker builds" },
    },
    [
      "runner.privileged: expected false in production (privileged job pods can take over their node; the policy pack's runner-not-privileged and namespaces-pod-security refuse them there: build images with Jib or rootless BuildKit on a dev or staging runner), got true",
    ],
  ],
  [
    ["variables.credentialMasked", "variables.credentialProtected"],
    "production credentials must be masked and protected",
    { stack: "production" },
    {
      environment: "production",
      ciVariables: [
        { key: "API_TOKEN", value: "abcdefgh12345678", masked: false, protected: false },
      ],
    },
    [
      "ciVariables[0].masked: expected true for a credential in production, got false",
      "ciVariables[0].protected: expected true for a credential in production, got false",
    ],
  ],
  [
    ["variables.uniqueKey"],
    "duplicate variable key and scope",
    {},
    {
      ciVariables: [
        { key: "A", value: "x", credential: false },
        { key: "A", value: "y", credential: false },
      ],
    },
    [
      'ciVariables[1].key: expected a key unique per target and environmentScope (ciVariables[0] has it too), got "A"',
    ],
  ],
  [
    ["registry.expiryInFuture"],
    "a token expiry in the past",
    {},
    { registryAuth: { expiresAt: "2020-01-01" } },
    ['registryAuth.expiresAt: expected a date in the future, got "2020-01-01"'],
  ],
  [
    ["runner.existsTolerationWithoutValue"],
    "a toleration with operator Exists and a value",
    {},
    { runner: { tolerations: [{ key: "ci", operator: "Exists", value: "true" }] } },
    ['runner.tolerations[0].value: expected no value with operator "Exists", got "true"'],
  ],
  [
    ["gitlab.groupPathWithGroupId"],
    "a group id without a group path",
    {},
    { gitlab: { projectPath: "acme/platform", projectId: 42, groupId: 7 } },
    [
      "gitlab.groupPath: expected gitlab.groupPath to be set when gitlab.groupId is set, got nothing",
    ],
  ],
  [
    ["gitlab.environmentScopeValid", "variables.environmentScopeValid"],
    "an environment scope GitLab refuses",
    {},
    {
      gitlab: { projectPath: "acme/platform", projectId: 42, environmentScope: "dev|prod" },
      ciVariables: [{ key: "A", value: "x", credential: false, environmentScope: "a,b" }],
    },
    [
      "gitlab.environmentScope: expected 1 to 255 letters, digits, '-', '_', '/', '$', '{', '}', '.', '*' or spaces, got \"dev|prod\"",
      "ciVariables[0].environmentScope: expected 1 to 255 letters, digits, '-', '_', '/', '$', '{', '}', '.', '*' or spaces, got \"a,b\"",
    ],
  ],
  [
    ["variables.maskable"],
    "masked values GitLab would refuse, described but never echoed",
    {},
    {
      ciVariables: [
        { key: "SHORT", value: "s3cr3t" },
        { key: "SPACED", value: "has white space" },
        { key: "ODD", value: "p@ss#word!!" },
        { key: "RAW_ODD", value: "p@ss#word!!", raw: true },
        { key: "PLAIN", value: "x", masked: false },
      ],
    },
    [
      "ciVariables[0].value: expected a value GitLab can mask (a masked value needs at least 8 characters), got a secret value that cannot be masked",
      "ciVariables[1].value: expected a value GitLab can mask (a masked value cannot contain whitespace), got a secret value that cannot be masked",
      "ciVariables[2].value: expected a value GitLab can mask (a masked value that is not raw may only contain A-Z a-z 0-9 + / = - _ @ : . ~ (set raw: true to allow other characters)), got a secret value that cannot be masked",
    ],
  ],
  [
    ["apps.uniqueProject", "apps.uniqueNamespace"],
    "two apps from one project, or in one namespace",
    {},
    {
      apps: [
        app(),
        app({ name: "web2", namespace: "web" }),
        app({ name: "api", project: "ACME/Web", namespace: "api" }),
      ],
    },
    [
      'apps[1].project: expected a project no other app uses (apps[0] has it too), got "acme/web"',
      'apps[1].namespace: expected a namespace no other app uses (apps[0] has it too), got "web"',
      'apps[2].project: expected a project no other app uses (apps[0] has it too), got "ACME/Web"',
    ],
  ],
  [
    ["apps.agentMethodNeedsAgent", "apps.fluxMethodNeedsFlux", "apps.directMethodNeedsApiServer"],
    "a deploy method whose capability is off, and direct without an API server",
    {},
    {
      features: { agent: false },
      apps: [
        app(),
        app({ name: "api", project: "acme/api", method: "flux" }),
        app({ name: "jobs", project: "acme/jobs", method: "direct" }),
      ],
    },
    [
      'apps[0].method: expected "direct" or "flux" when features.agent is false, got "agent"',
      'apps[1].method: expected "agent" or "direct" when features.flux is false, got "flux"',
      'kubeApiServer: expected the API server URL CI jobs reach when apps[2].method is "direct", got nothing',
    ],
  ],
  [
    ["environments.environmentNameValid", "environments.approvalsNeedProtection"],
    "a wildcard environment name, approvals without protection",
    {},
    { environments: { name: "review/*", requiredApprovals: 1 } },
    [
      "environments.name: expected letters, digits, spaces and '-', '_', '/', '$', '{', '}', '.', not starting or ending with '/', at most 255 characters, got \"review/*\"",
      "environments.requiredApprovals: expected 0 unless environments.protected is true, got 1",
    ],
  ],
  [
    ["apps.derivedNamespaceValid"],
    "a review namespace derived from a stack name that is no DNS label",
    { stack: "Review_42" },
    { environment: "review", kubeApiServer: "https://k8s.example.com", apps: [app()] },
    [
      "apps[0].namespace: expected a DNS-1123 label (lowercase letters, digits and '-', at most 63), got \"web-Review_42\" (derived from the app and stack names; set it explicitly)",
    ],
  ],
  [
    ["registry.projectTokenReachesImages"],
    "a project deploy token cannot pull other projects' images",
    {},
    {
      gitlab: { projectPath: "acme/platform", projectId: 42 },
      registryAuth: { scope: "project" },
      apps: [app(), app({ name: "tools", project: "acme/platform" })],
    },
    [
      'registryAuth.scope: expected "app" or "group" (a project deploy token of acme/platform cannot pull apps[0]\'s image "registry.gitlab.example.com/acme/web"), got "project"',
    ],
  ],
  [
    ["namespaces.namespacesDistinct"],
    "namespaces claimed twice across runner, agent, Flux and apps",
    {},
    {
      features: { flux: true },
      agent: { namespace: "gitlab-managed-apps" },
      flux: { namespace: "web" },
      apps: [app({ method: "flux" })],
    },
    [
      'agent.namespace: expected a namespace no other part of the stack uses (namespace.name is "gitlab-managed-apps" too), got "gitlab-managed-apps"',
      'apps[0].namespace: expected a namespace no other part of the stack uses (flux.namespace is "web" too), got "web"',
    ],
  ],
  [
    ["agent.projectsUnderTopGroup", "agent.groupsUnderTopGroup", "agent.agentAppsUnderTopGroup"],
    "the agent only serves projects and groups under its project's top-level group",
    {},
    {
      agent: { projects: ["acme/tools", "other/tools"], groups: ["Acme/apps", "other"] },
      apps: [app({ project: "elsewhere/web" })],
    },
    [
      'agent.projects[1]: expected a project under "acme" (the agent project\'s top-level group), got "other/tools"',
      'agent.groups[1]: expected a group under "acme" (the agent project\'s top-level group), got "other"',
      'apps[0].project: expected a project under "acme" to deploy through the agent (the agent project\'s top-level group), got "elsewhere/web"',
    ],
  ],
  [
    ["agent.ciJobAccessAllowed", "gitlab.publishedCredentialsProtected"],
    "production refuses ci_job agent access and unprotected deployer credentials",
    { stack: "production" },
    {
      environment: "production",
      agent: { accessAs: "ci_job" },
      gitlab: {
        projectPath: "acme/platform",
        projectId: 42,
        groupPath: "acme",
        protectPublishedCredentials: false,
      },
    },
    [
      'agent.accessAs: expected "impersonate" in production ("ci_job" needs the agent to impersonate any user and group), got "ci_job"',
      "gitlab.protectPublishedCredentials: expected true in production (deployer credentials only for protected branches and tags), got false",
    ],
  ],
  [
    ["agent.agentAccessKeepsAppsApart"],
    "agent access cannot keep two agent apps apart",
    {},
    {
      agent: { accessAs: "agent" },
      apps: [app(), app({ name: "api", project: "acme/api" })],
    },
    [
      'agent.accessAs: expected "impersonate" or "ci_job" when more than one app deploys through the agent (with "agent" the pipelines of apps[0], apps[1] could each deploy the others), got "agent"',
    ],
  ],
  [
    ["agent.agentAccessKeepsAppsApart"],
    "staging refuses agent access even for one app",
    { stack: "staging" },
    { environment: "staging", agent: { accessAs: "agent" }, apps: [app({ replicas: 2 })] },
    [
      'agent.accessAs: expected "impersonate" or "ci_job" in staging ("agent" gives every app\'s pipeline the agent\'s one identity), got "agent"',
    ],
  ],
  [
    ["agent.refRulesEnforced"],
    "production keeps the agent to protected refs and the stack's environment",
    { stack: "production" },
    {
      environment: "production",
      agent: { protectedBranchesOnly: false, restrictToEnvironment: false },
    },
    [
      "agent.protectedBranchesOnly: expected true in production (otherwise a pipeline of any branch can deploy through the agent), got false",
      "agent.restrictToEnvironment: expected true in production (otherwise a job that declares no environment skips its protection), got false",
    ],
  ],
  [
    ["registry.appTokenReachesImage"],
    "an app's own deploy token cannot pull an image from another project's registry",
    {},
    {
      apps: [
        app({ image: { repository: "registry.gitlab.example.com/acme/shared/web", tag: "1" } }),
      ],
    },
    [
      'apps[0].image.repository: expected an image of acme/web\'s own registry ("registry.gitlab.example.com/acme/web" or below: with registryAuth.scope "app" each app pulls with its project\'s deploy token), got "registry.gitlab.example.com/acme/shared/web"',
    ],
  ],
  [
    ["registry.sharedTokenAllowed"],
    "production refuses one deploy token shared by every namespace",
    { stack: "production" },
    { environment: "production", registryAuth: { scope: "group" } },
    [
      'registryAuth.scope: expected "app" in production (a shared deploy token in every app namespace lets one compromised namespace pull every image), got "group"',
    ],
  ],
  [
    ["apps.fitsQuota"],
    "an app's rollout must fit its namespace's quota",
    {},
    {
      apps: [
        app({
          replicas: 3,
          resources: {
            cpuRequest: "500m",
            cpuLimit: "1",
            memoryRequest: "1Gi",
            memoryLimit: "1Gi",
          },
          quota: { pods: 3, requestsCpu: "1", limitsMemory: "2Gi" },
        }),
      ],
    },
    [
      "apps[0].quota.pods: expected at least 4 (3 replicas and one surge pod), got 3",
      'apps[0].quota.requestsCpu: expected at least 4 × cpuRequest "500m" (3 replicas and one surge pod), got "1"',
      'apps[0].quota.requestsMemory: expected at least 4 × memoryRequest "1Gi" (3 replicas and one surge pod), got "2Gi"',
      'apps[0].quota.limitsMemory: expected at least 4 × memoryLimit "1Gi" (3 replicas and one surge pod), got "2Gi"',
    ],
  ],
  [
    ["apps.fitsQuota"],
    "an autoscaled app's quota must fit its maximum, not its minimum",
    {},
    {
      apps: [
        app({
          replicas: 2,
          autoscaling: { maxReplicas: 9 },
          quota: { pods: 6 },
        }),
      ],
    },
    ["apps[0].quota.pods: expected at least 10 (9 autoscaled replicas and one surge pod), got 6"],
  ],
  [
    ["apps.autoscalingBounds"],
    "an autoscaler's maximum is at least replicas; flux apps bring their own",
    {},
    {
      features: { flux: true },
      apps: [
        app({ replicas: 3, autoscaling: { maxReplicas: 2 } }),
        app({
          name: "docs",
          project: "acme/docs",
          method: "flux",
          autoscaling: { maxReplicas: 4 },
        }),
      ],
    },
    [
      "apps[0].autoscaling.maxReplicas: expected at least replicas (3), got 2",
      "apps[1].autoscaling: expected no autoscaling for a flux app (its manifests own its objects: put the HorizontalPodAutoscaler there), got one",
    ],
  ],
  [
    ["apps.fluxVerifyOneWay"],
    "Flux verifies one way",
    {},
    {
      features: { flux: true },
      flux: {
        verify: {
          keyless: {},
          publicKey: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        },
      },
    },
    ["flux.verify: expected exactly one of keyless and publicKey, got both"],
  ],
  [
    ["apps.fluxVerifyOneWay"],
    "an empty verify is no verification",
    {},
    { features: { flux: true }, flux: { verify: {} } },
    ["flux.verify: expected exactly one of keyless and publicKey, got neither"],
  ],
  [
    ["apps.productionFluxVerified"],
    "production Flux apps need verified artifacts",
    { stack: "production" },
    {
      environment: "production",
      features: { flux: true },
      promotion: { username: "promoter", token: "gldt-promoter" },
      apps: [app({ method: "flux", replicas: 2, image: { promote: "abc" } })],
    },
    [
      "flux.verify: expected how Flux verifies the signed artifacts of web in production (keyless or publicKey; whoever can push to the registry could otherwise ship what Flux applies), got nothing",
    ],
  ],
  [
    ["apps.withinLimitRangeMax"],
    "an app's container above the namespace's LimitRange maximum",
    {},
    {
      appNamespaces: { limitRange: { maxCpu: "500m" } },
      apps: [app({ resources: { cpuLimit: "2", memoryLimit: "2Gi" } })],
    },
    [
      'apps[0].resources.cpuLimit: expected at most appNamespaces.limitRange.maxCpu "500m", got "2"',
      'apps[0].resources.memoryLimit: expected at most appNamespaces.limitRange.maxMemory "1Gi", got "2Gi"',
    ],
  ],
  [
    ["namespaces.appLimitRangeConsistent"],
    "app namespaces' LimitRange defaults above its maximum",
    {},
    {
      appNamespaces: {
        limitRange: {
          defaultRequestCpu: "1",
          defaultLimitCpu: "800m",
          maxCpu: "500m",
          maxMemory: "128Mi",
        },
      },
    },
    [
      'appNamespaces.limitRange.defaultRequestCpu: expected at most defaultLimitCpu "800m", got "1"',
      'appNamespaces.limitRange.defaultLimitCpu: expected at most maxCpu "500m", got "800m"',
      'appNamespaces.limitRange.defaultLimitMemory: expected at most maxMemory "128Mi", got "256Mi"',
    ],
  ],
  [
    ["protection.productionBranchLocked"],
    "production's default branch takes no force pushes and no Developer pushes",
    { stack: "production" },
    {
      environment: "production",
      protection: { defaultBranch: { allowForcePush: true, pushAccessLevel: "developer" } },
    },
    [
      "protection.defaultBranch.allowForcePush: expected false in production (a force push rewrites what was reviewed), got true",
      'protection.defaultBranch.pushAccessLevel: expected "no one" or "maintainer" in production (changes arrive through reviewed merge requests), got "developer"',
    ],
  ],
  [
    ["protection.programCanCommit"],
    "no one may push where the program commits the agents' files, and its own user is not let in",
    {},
    {
      protection: {
        manage: true,
        defaultBranch: { pushAccessLevel: "no one", programPush: false },
      },
    },
    [
      `protection.defaultBranch.programPush: expected true while pushAccessLevel is "no one" and this stack commits to the platform project's default branch (the agents' config.yaml, .gitlab/CODEOWNERS): GitLab would refuse those commits (or set pushAccessLevel "maintainer"), got false`,
    ],
  ],
  [
    ["protection.environmentTagsNeedMaintainerDeploys"],
    "protected environment tags with deploys Developers may run",
    {},
    {
      features: { flux: true },
      protection: { environmentTags: true },
      apps: [app({ method: "flux" })],
    },
    [
      'protection.environmentTags: expected false unless environments.protected is true with deployAccessLevel "maintainer" (only Maintainers may move a protected container tag, so deploy jobs run by Developers could not promote), got true',
    ],
  ],
  [
    ["codeOwners.needManagedProtection"],
    "code owners in a stack that does not manage protection (dev)",
    {},
    { agent: { codeOwners: ["@acme/platform-admins"] } },
    [
      "agent.codeOwners: expected only in the stack that manages protection (protection.manage: true): the platform project has one CODEOWNERS, which that stack commits, got an array of 1",
    ],
  ],
  [
    ["codeOwners.needApproval"],
    "code owners in the managing stack (so no needManagedProtection problem): approval cannot be turned off",
    {},
    {
      agent: { codeOwners: ["@acme/platform-admins"] },
      protection: { manage: true, defaultBranch: { codeOwnerApprovalRequired: false } },
    },
    [
      "protection.defaultBranch.codeOwnerApprovalRequired: expected true with agent.codeOwners (without it GitLab lists the owners but merges changes to .gitlab/agents/ without their approval), got false",
    ],
  ],
  [
    ["apps.egressTarget"],
    "an egress entry names exactly one destination",
    {},
    {
      apps: [
        app({
          egress: [
            { ports: [{ port: 5432 }] },
            { cidr: "10.0.0.0/16", namespace: "db", ports: [{ port: 5432 }] },
          ],
        }),
      ],
    },
    [
      "apps[0].egress[0]: expected exactly one of cidr and namespace, got neither",
      "apps[0].egress[1]: expected exactly one of cidr and namespace, got both",
    ],
  ],
  [
    ["policy.levels"],
    "production lowers no security policy of the pack",
    { stack: "production" },
    { environment: "production", policy: { advisory: ["containers-restricted"] } },
    [
      'policy.advisory[0]: expected a policy production may make advisory (containers-requests-limits), got the security policy "containers-restricted"',
    ],
  ],
  [
    ["runner.noHelmTemplates"],
    "runner values the chart would run as Helm template code",
    {},
    { runner: { jobImage: "{{ .Values.x }}", nodeSelector: { pool: "{{x}}" } } },
    [
      'runner.jobImage: expected no "{{" (the runner chart evaluates its config as a Helm template), got "{{ .Values.x }}"',
      'runner.nodeSelector.pool: expected no "{{" (the runner chart evaluates its config as a Helm template), got "{{x}}"',
    ],
  ],
  [
    ["apps.derivedRepositoryValid"],
    "a derived image repository that is no image reference",
    {},
    { apps: [app({ project: "acme/web..app" })] },
    [
      'apps[0].image.repository: expected an image repository, got "registry.gitlab.example.com/acme/web..app" (derived from gitlab.registryHost and the project path; set it explicitly)',
    ],
  ],
  [
    ["variables.notPublishedByPlatform"],
    "a hand-made variable where the platform publishes one",
    {},
    {
      apps: [app({ project: "acme/platform" })],
      ciVariables: [
        { key: "KUBE_NAMESPACE", value: "x", credential: false, environmentScope: "dev" },
      ],
    },
    [
      'ciVariables[0].key: expected a key the platform does not publish to acme/platform in scope "dev" (app web lives there), got "KUBE_NAMESPACE"',
    ],
  ],
  [
    ["gitlab.groupPathForGroupDeployToken"],
    "a group deploy token needs a group",
    {},
    {
      gitlab: { projectPath: "acme/platform", projectId: 42 },
      registryAuth: { scope: "group" },
    },
    [
      'gitlab.groupPath: expected gitlab.groupPath to be set when registryAuth.scope is "group", got nothing',
    ],
  ],
  [
    ["runner.jobImageAllowed"],
    "a default job image the allowed images refuse",
    {},
    { runner: { jobs: { allowedImages: ["registry.gitlab.example.com/**", "alpine/*:*"] } } },
    [
      'runner.jobImage: expected an image runner.jobs.allowedImages allows (registry.gitlab.example.com/**, alpine/*:*; jobs without an image run this one), got "alpine:3.22.2@sha256:4b7ce07002c69e8f3d704a9c5d6fd3053be500b7f1c69fc0d80990c2ad8dd412"',
    ],
  ],
  [
    ["runner.pullPolicyAllowed"],
    "a pull policy production does not allow",
    { stack: "production" },
    { environment: "production", runner: { jobs: { pullPolicy: ["if-not-present", "always"] } } },
    [
      'runner.jobs.pullPolicy[0]: expected one of runner.jobs.allowedPullPolicies (always in production), got "if-not-present"',
    ],
  ],
  [
    ["runner.imagesPinned"],
    "production job and helper images by tag",
    { stack: "production" },
    {
      environment: "production",
      runner: {
        jobImage: "alpine:3.22.2",
        jobs: {
          helperImage:
            "registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v19.0.0",
        },
      },
    },
    [
      'runner.jobImage: expected an image pinned by digest in production (<image>:<tag>@sha256:<64 hex>; or say why not yet in runner.jobs.unpinnedImagesReason), got "alpine:3.22.2"',
      'runner.jobs.helperImage: expected an image pinned by digest in production (<image>:<tag>@sha256:<64 hex>; or say why not yet in runner.jobs.unpinnedImagesReason), got "registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v19.0.0"',
    ],
  ],
  [
    ["runner.imagesPinned"],
    "production without a helper image: the runner's own, by tag",
    { stack: "production" },
    { environment: "production", runner: { jobs: { helperImage: undefined } } },
    [
      "runner.jobs.helperImage: expected an image pinned by digest in production (<image>:<tag>@sha256:<64 hex>; or say why not yet in runner.jobs.unpinnedImagesReason), got nothing (the runner's own helper image for its version, by tag)",
    ],
  ],
  [
    ["runner.imagesPinned"],
    "production's runner manager by tag, or the chart's own",
    { stack: "production" },
    {
      environment: "production",
      runner: { image: "registry.gitlab.com/gitlab-org/gitlab-runner:alpine-v19.0.0" },
    },
    [
      'runner.image: expected an image pinned by digest in production (<image>:<tag>@sha256:<64 hex>; or say why not yet in runner.jobs.unpinnedImagesReason), got "registry.gitlab.com/gitlab-org/gitlab-runner:alpine-v19.0.0"',
    ],
  ],
  [
    ["runner.imagesPinned"],
    "production without a manager image: the chart's own, by tag",
    { stack: "production" },
    { environment: "production", runner: { image: undefined } },
    [
      "runner.image: expected an image pinned by digest in production (<image>:<tag>@sha256:<64 hex>; or say why not yet in runner.jobs.unpinnedImagesReason), got nothing (the chart's gitlab-runner image for its version, by tag)",
    ],
  ],
  [
    ["runner.unpinnedReasonOnlyWhenUnpinned"],
    "a reason for unpinned images when every image is pinned",
    {},
    {
      runner: {
        image: `registry.example.com/mirror/gitlab-runner:alpine-v19.0.0@sha256:${"c".repeat(64)}`,
        jobImage:
          "alpine:3.22.2@sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
        jobs: {
          helperImage: `registry.example.com/mirror/gitlab-runner-helper:x86_64-v19.0.0@sha256:${"c".repeat(64)}`,
          unpinnedImagesReason: "no digest yet",
        },
      },
    },
    [
      'runner.jobs.unpinnedImagesReason: expected only while runner.image, runner.jobImage or runner.jobs.helperImage is not pinned by digest, got "no digest yet"',
    ],
  ],
  [
    ["agent.imagePinned"],
    "production agentk following the KAS version by tag",
    { stack: "production" },
    { environment: "production", agent: { imageTag: undefined } },
    [
      "agent.imageTag: expected a tag pinned by digest in production (v<version>@sha256:<64 hex>, agentk of a version within one minor of the instance's KAS; or say why not yet in agent.unpinnedImageReason), got nothing (agentk of the KAS version, by tag)",
    ],
  ],
  [
    ["agent.imagePinned"],
    "production agentk at a tag",
    { stack: "production" },
    { environment: "production", agent: { imageTag: "v18.6.1" } },
    [
      'agent.imageTag: expected a tag pinned by digest in production (v<version>@sha256:<64 hex>, agentk of a version within one minor of the instance\'s KAS; or say why not yet in agent.unpinnedImageReason), got "v18.6.1"',
    ],
  ],
  [
    ["agent.unpinnedReasonOnlyWhenUnpinned"],
    "a reason for an unpinned agentk when it is pinned",
    {},
    { agent: { imageTag: `v18.6.1@sha256:${"c".repeat(64)}`, unpinnedImageReason: "later" } },
    [
      'agent.unpinnedImageReason: expected only while agent.imageTag is not pinned by digest, got "later"',
    ],
  ],
  [
    ["flux.imagesPinned"],
    "a production Flux controller by tag",
    { stack: "production" },
    {
      environment: "production",
      features: { flux: true },
      flux: {
        images: { sourceController: "registry.example.com/mirror/source-controller:v1.8.2" },
      },
    },
    [
      'flux.images.sourceController: expected an image pinned by digest in production (<image>:<tag>@sha256:<64 hex>; or say why not yet in flux.unpinnedImagesReason), got "registry.example.com/mirror/source-controller:v1.8.2"',
    ],
  ],
  [
    ["flux.imagesPinned"],
    "production Flux from another chart version, whose images are its own by tag",
    { stack: "production" },
    {
      environment: "production",
      features: { flux: true },
      flux: {
        chartVersion: "2.19.0",
        images: { cli: `ghcr.io/fluxcd/flux-cli:v2.9.0@sha256:${"c".repeat(64)}` },
      },
    },
    [
      "flux.images.sourceController: expected an image pinned by digest in production (<image>:<tag>@sha256:<64 hex>; or say why not yet in flux.unpinnedImagesReason), got nothing (flux2 chart 2.19.0's own, by tag; the digests by default are chart 2.18.3's)",
      "flux.images.kustomizeController: expected an image pinned by digest in production (<image>:<tag>@sha256:<64 hex>; or say why not yet in flux.unpinnedImagesReason), got nothing (flux2 chart 2.19.0's own, by tag; the digests by default are chart 2.18.3's)",
    ],
  ],
  [
    ["flux.unpinnedReasonOnlyWhenUnpinned"],
    "a reason for unpinned Flux images when the defaults are pinned",
    {},
    { flux: { unpinnedImagesReason: "mirror pending" } },
    [
      'flux.unpinnedImagesReason: expected only while a flux.images image is not pinned by digest, got "mirror pending"',
    ],
  ],
  [
    ["namespaces.namespacesDistinct"],
    "a runner jobs namespace that is the managed one",
    {},
    { runner: { jobs: { namespace: "gitlab-managed-apps" } } },
    [
      'runner.jobs.namespace: expected a namespace no other part of the stack uses (namespace.name is "gitlab-managed-apps" too), got "gitlab-managed-apps"',
    ],
  ],
  [
    ["namespaces.namespacesDistinct"],
    "a privileged runner's default jobs namespace taken by an app",
    {},
    {
      runner: { privileged: true },
      apps: [app({ namespace: "gitlab-managed-apps-jobs" })],
    },
    [
      'apps[0].namespace: expected a namespace no other part of the stack uses (runner.jobs.namespace is "gitlab-managed-apps-jobs" too), got "gitlab-managed-apps-jobs"',
    ],
  ],
  [
    ["runner.jobNamespaceFits"],
    "a privileged runner whose default jobs namespace is too long a name",
    {},
    {
      namespace: { name: "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn" },
      runner: { privileged: true },
    },
    [
      'runner.jobs.namespace: expected a namespace name of at most 63 characters (the default <namespace.name>-jobs is longer: name one), got "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn-jobs"',
    ],
  ],
  [
    ["runner.reasonOnlyWhenPrivileged"],
    "a privileged reason without a privileged runner",
    {},
    { runner: { privilegedReason: "docker-in-docker builds" } },
    [
      'runner.privilegedReason: expected only with runner.privileged: true, got "docker-in-docker builds"',
    ],
  ],
  [
    ["runner.resourcesWithinLimits"],
    "runner requests above their limits",
    {},
    { runner: { resources: { build: { cpuRequest: "2" }, helper: { memoryRequest: "1Gi" } } } },
    [
      'runner.resources.build.cpuRequest: expected at most cpuLimit "1", got "2"',
      'runner.resources.helper.memoryRequest: expected at most memoryLimit "256Mi", got "1Gi"',
    ],
  ],
  [
    ["runner.existsTolerationWithoutValue", "runner.equalTolerationNeedsKey"],
    "tolerations without a key for Equal, with a value for Exists, reported toleration by toleration",
    {},
    {
      runner: {
        tolerations: [
          { value: "ci" },
          { key: "pool", operator: "Exists", value: "ci" },
          { operator: "Equal", value: "x" },
        ],
      },
    },
    [
      'runner.tolerations[0].key: expected a key with operator "Equal", got nothing',
      'runner.tolerations[1].value: expected no value with operator "Exists", got "ci"',
      'runner.tolerations[2].key: expected a key with operator "Equal", got nothing',
    ],
  ],
  [
    ["namespaces.limitRangeRequestsWithinLimits"],
    "LimitRange default requests above its default limits",
    {},
    { namespace: { limitRange: { defaultRequestCpu: "2", defaultRequestMemory: "1Gi" } } },
    [
      'namespace.limitRange.defaultRequestCpu: expected at most defaultLimitCpu "500m", got "2"',
      'namespace.limitRange.defaultRequestMemory: expected at most defaultLimitMemory "512Mi", got "1Gi"',
    ],
  ],
  [
    ["apps.minReplicas"],
    "fewer replicas than the environment's minimum",
    { stack: "production" },
    { environment: "production", apps: [app({ replicas: 1 })] },
    ["apps[0].replicas: expected at least 2 in production, got 1"],
  ],
  [
    ["apps.uniqueIngressHost"],
    "two apps on one host",
    {},
    {
      apps: [
        app({ ingress: { host: "web.example.com" } }),
        app({ name: "api", project: "acme/api" }),
        app({ name: "www", project: "acme/www", ingress: { host: "web.example.com" } }),
      ],
    },
    [
      'apps[2].ingress.host: expected a host no other app uses (apps[0] has it too), got "web.example.com"',
    ],
  ],
  [
    ["apps.allowedHostsNotShared"],
    "an allowed host another app routes (exactly, through a wildcard, or under its wildcard)",
    {},
    {
      apps: [
        app({ ingress: { host: "web.example.com" }, allowedHosts: ["*.review.example.com"] }),
        app({ name: "api", project: "acme/api", allowedHosts: ["api.example.com"] }),
        app({
          name: "www",
          project: "acme/www",
          allowedHosts: [
            "web.example.com",
            "mr-1.review.example.com",
            "*.example.com",
            "other.org",
          ],
        }),
      ],
    },
    [
      'apps[0].allowedHosts[0]: expected a host no other app may route (apps[2] may route it too, so either could take the other\'s traffic), got "*.review.example.com"',
      'apps[1].allowedHosts[0]: expected a host no other app may route (apps[2] may route it too, so either could take the other\'s traffic), got "api.example.com"',
      'apps[2].allowedHosts[0]: expected a host no other app may route (apps[0] may route it too, so either could take the other\'s traffic), got "web.example.com"',
      'apps[2].allowedHosts[1]: expected a host no other app may route (apps[0] may route it too, so either could take the other\'s traffic), got "mr-1.review.example.com"',
      'apps[2].allowedHosts[2]: expected a host no other app may route (apps[0] may route it too, so either could take the other\'s traffic), got "*.example.com"',
    ],
  ],
  [
    ["apps.ingressHostFitsEnvironmentUrl"],
    "a host too long for a GitLab environment URL",
    {},
    { apps: [app({ ingress: { host: LONG_HOST } })] },
    [
      `apps[0].ingress.host: expected at most 247 characters (GitLab keeps environment URLs to 255), got ${JSON.stringify(LONG_HOST).slice(0, 77)}...`,
    ],
  ],
  [
    ["apps.notManagedNamespace"],
    "an app in the managed namespace",
    {},
    { features: { runner: false }, apps: [app({ namespace: "gitlab-managed-apps" })] },
    [
      'apps[0].namespace: expected a namespace other than the managed namespace "gitlab-managed-apps", got "gitlab-managed-apps"',
    ],
  ],
];

/** A rule's declared key path as a message prefix: `[]` is any index, `*` any key. */
function pathPattern(path: string): RegExp {
  const escaped = path
    .split("[]")
    .map((part) => part.replace(/[.*]/g, (c) => (c === "*" ? ".+" : "\\.")))
    .join("\\[\\d+\\]");
  return new RegExp(`^${escaped}: `);
}

const names = (rules = RULES) => flattenRules(rules).map((rule) => rule.name);

describe("each cross-field rule reports its exact message", () => {
  test.each(CASES)("%s: %s", (rules, _title, overrides, values, expected) => {
    const s = source(values, overrides);
    // The whole config check reports exactly these problems ...
    expect(problemsOf(s)).toEqual(expected);
    // ... and they are the named rules' own messages.
    expect(
      problemsOf(
        s,
        selectRules(RULES, (name) => rules.includes(name)),
      ),
    ).toEqual(expected);
  });

  test("code owners turn code-owner approval on where protection is managed", () => {
    const config = parseEnvironmentConfig(
      source({ agent: { codeOwners: ["@acme/platform-admins"] }, protection: { manage: true } }),
    );
    expect(config.agent.codeOwners).toEqual(["@acme/platform-admins"]);
    expect(config.protection.defaultBranch.codeOwnerApprovalRequired).toBe(true);
    expect(
      parseEnvironmentConfig(source({ protection: { manage: true } })).protection.defaultBranch
        .codeOwnerApprovalRequired,
    ).toBe(false);
  });

  test("the program's own push follows the push level unless set", () => {
    const push = (values: Record<string, unknown>, overrides = {}) =>
      parseEnvironmentConfig(source(values, overrides)).protection.defaultBranch.programPush;
    expect(push({})).toBe(false);
    expect(push({ protection: { defaultBranch: { pushAccessLevel: "no one" } } })).toBe(true);
    expect(
      push({ protection: { defaultBranch: { pushAccessLevel: "no one", programPush: false } } }),
    ).toBe(false);
    expect(push({ protection: { defaultBranch: { programPush: true } } })).toBe(true);
    // Production lets no one push by default, so the program's user may.
    expect(
      push({ environment: "production", apps: [app({ replicas: 2 })] }, { stack: "production" }),
    ).toBe(true);
  });

  test("the same key in two environment scopes is allowed", () => {
    const config = parseEnvironmentConfig(
      source({
        ciVariables: [
          { key: "A", value: "x", credential: false, environmentScope: "review/*" },
          { key: "A", value: "y", credential: false, environmentScope: "dev" },
        ],
      }),
    );
    expect(config.ciVariables.map((v) => v.environmentScope)).toEqual(["review/*", "dev"]);
  });
});

describe("the platform's images by digest", () => {
  const production = (values: Record<string, unknown>) =>
    parseEnvironmentConfig(
      source({ environment: "production", ...values }, { stack: "production" }),
    );

  test("production passes with every image pinned: Flux's by default", () => {
    const config = production({ features: { flux: true } });
    expect(config.agent.imageTag).toBe(PINNED_AGENTK_TAG);
    expect(config.runner.jobs.helperImage).toBe(PINNED_HELPER_IMAGE);
    expect(Object.keys(config.flux.images)).toEqual([
      "sourceController",
      "kustomizeController",
      "cli",
    ]);
  });

  test("each area's reason stands in for its digests in production", () => {
    const config = production({
      features: { flux: true },
      runner: {
        jobImage: "alpine:3.22.2",
        jobs: { helperImage: undefined, unpinnedImagesReason: "r" },
      },
      agent: { imageTag: undefined, unpinnedImageReason: "a" },
      flux: { chartVersion: "2.19.0", unpinnedImagesReason: "f" },
    });
    expect([
      config.runner.unpinnedImagesReason,
      config.agent.unpinnedImageReason,
      config.flux.unpinnedImagesReason,
    ]).toEqual(["r", "a", "f"]);
  });

  test("a capability that is off needs no digests", () => {
    expect(() =>
      production({
        features: { runner: false, agent: false, flux: false },
        kubeApiServer: "https://k8s.example.com",
        apps: [app({ method: "direct", replicas: 2 })],
        runner: { jobImage: "alpine:3.22.2", jobs: { helperImage: undefined } },
        agent: { imageTag: undefined },
        flux: { chartVersion: "2.19.0" },
      }),
    ).not.toThrow();
  });

  test.each(["dev", "staging", "review"])("%s needs no digests", (environment) => {
    expect(() =>
      parseEnvironmentConfig(
        source(
          {
            environment,
            features: { flux: true },
            kubeApiServer: "https://k8s.example.com",
            runner: { jobImage: "alpine:3.22.2" },
            flux: { chartVersion: "2.19.0" },
          },
          { stack: environment === "review" ? "review-1" : environment },
        ),
      ),
    ).not.toThrow();
  });
});

describe("the rule list", () => {
  test("every rule has at least one message test", () => {
    const tested = new Set(CASES.flatMap(([rules]) => rules));
    expect(names().filter((name) => !tested.has(name))).toEqual([]);
  });

  test("rows name only rules that exist", () => {
    const known = new Set(names());
    expect(CASES.flatMap(([rules]) => rules).filter((name) => !known.has(name))).toEqual([]);
  });

  test("holds every area's rules exactly once, named after their area", () => {
    const byArea = Object.entries(RULES_BY_AREA).flatMap(([area, rules]) =>
      names(rules).map((name) => [area, name]),
    );
    expect(byArea.filter(([area, name]) => !name?.startsWith(`${area}.`))).toEqual([]);
    expect([...names()].sort()).toEqual(byArea.map(([, name]) => name).sort());
    expect(new Set(names()).size).toBe(names().length);
  });

  test("each message starts with a key path its rule declares", () => {
    const rules = flattenRules(RULES);
    for (const [ruleNames, , overrides, values] of CASES) {
      for (const name of ruleNames) {
        const rule = rules.find((r) => r.name === name);
        const patterns = (rule?.paths ?? []).map(pathPattern);
        const messages = problemsOf(
          source(values, overrides),
          selectRules(RULES, (n) => n === name),
        );
        expect(messages.filter((m) => !patterns.some((re) => re.test(m)))).toEqual([]);
      }
    }
  });
});
