import { z } from "zod";
import {
  CI_VARIABLE_KEY,
  AGENTK_IMAGE_TAG,
  KAS_SCHEMES,
  parseImageReference,
} from "../../components/formats";
import { CODE_OWNER } from "../../components/agent-config";
import { CIDR } from "../../components/runner-values";
import { MAX_REQUIRED_APPROVALS } from "../../components/gitlab-environments";
import { ADOPTABLE_KINDS } from "../../components/gitlab/resource";
import { POLICY_NAMES } from "../../policy/levels";
import { AGENT_ACCESS_AS, ENVIRONMENT_TIERS, ENVIRONMENTS } from "../model";
import { app } from "./apps";
import {
  KEY_DOCS,
  chartRepository,
  chartVersion,
  date,
  dnsLabel,
  dnsSubdomain,
  duration,
  gitlabId,
  gitlabPath,
  hostname,
  imageReference,
  nonEmpty,
  positiveInt,
  quantity,
  urlWithScheme,
} from "./formats";
import { runner } from "./runner";

/**
 * The shape of the project-namespace config keys as a user writes them in `Pulumi.<stack>.yaml`,
 * with each key's description (docs/configuration.md and the stack file's JSON Schema are
 * generated from it: `npm run docs`). Everything a user may leave out is optional here:
 * per-environment defaults are applied afterwards (`defaults.ts`), so this schema only says what a
 * value must look like. Objects are strict: an unknown key is a typo, and typos must not pass
 * silently.
 */

export { KEY_DOCS } from "./formats";
export type { KeyDocs } from "./formats";

const features = z.strictObject({
  runner: z.boolean().optional().describe("Install the GitLab Runner."),
  registryAuth: z.boolean().optional().describe("Deploy token + pull secrets."),
  ciVariables: z.boolean().optional().describe("Manage CI/CD variables."),
  agent: z.boolean().optional().describe("Install the GitLab agent."),
  flux: z
    .boolean()
    .optional()
    .describe("Flux controllers and per-app OCIRepository/Kustomization."),
  apps: z.boolean().optional().describe("App namespaces, ServiceAccounts, deploy RBAC."),
  environments: z
    .boolean()
    .optional()
    .describe(
      "A GitLab environment per app project (and protection, see `environments.*`). Off in review: review pipelines create their own `review/*` environments.",
    ),
});

const gitlab = z.strictObject({
  projectPath: gitlabPath.describe(
    "The platform project: holds the agent config, the project runner, variables, deploy token and environments.",
  ),
  projectId: gitlabId
    .optional()
    .describe(
      "Numeric id of `gitlab.projectPath`. Looked up from the path before anything is registered; when set, it must match.",
    ),
  groupPath: gitlabPath
    .optional()
    .describe("The group the platform serves; required when anything is group-scoped."),
  groupId: gitlabId
    .optional()
    .describe(
      "Numeric id of `gitlab.groupPath`. Looked up from the path before anything is registered; when set, it must match.",
    ),
  registryHost: hostname
    .optional()
    .describe("Container registry host.")
    .register(KEY_DOCS, { default: "`registry.<gitlab host>`" }),
  defaultBranch: nonEmpty
    .optional()
    .describe(
      "Branch of the platform project the agent's `config.yaml` is committed to (GitLab reads the default branch).",
    ),
  environmentScope: nonEmpty
    .optional()
    .describe(
      "Scope of the variables the platform publishes to app projects (`dev`, `staging`, `production`, `review/*`).",
    )
    .register(KEY_DOCS, { type: "GitLab environment scope" }),
  protectPublishedCredentials: z
    .boolean()
    .optional()
    .describe(
      "Whether the published `KUBECONFIG`/`KUBE_TOKEN` of direct apps are protected variables. Must be `true` in production; `false` lets unprotected (merge-request) branches deploy.",
    ),
  adoptExisting: z
    .array(z.enum(ADOPTABLE_KINDS))
    .optional()
    .describe(
      "Kinds of existing GitLab objects this stack takes over instead of stopping on them (an app pipeline's environment, a hand-made `KUBE_NAMESPACE`): their settings become the stack's and destroy deletes them. Without it such an object stops the run with an error naming it.",
    )
    .register(KEY_DOCS, { default: "none" }),
});

const quota = z.strictObject({
  requestsCpu: quantity.optional().describe("`requests.cpu`."),
  requestsMemory: quantity.optional().describe("`requests.memory`."),
  limitsCpu: quantity.optional().describe("`limits.cpu`."),
  limitsMemory: quantity.optional().describe("`limits.memory`."),
  pods: positiveInt(10000).optional().describe("Maximum pods."),
});

const appNamespaces = z.strictObject({
  quota: quota
    .optional()
    .describe(
      "ResourceQuota of every app namespace (an app may override it with `apps[].quota`). A deployer can change replicas and resources, so this bounds what one app's pipeline can take; each app's rollout (replicas and one surge pod) must fit.",
    ),
  limitRange: z
    .strictObject({
      defaultRequestCpu: quantity.optional().describe("Default CPU request."),
      defaultRequestMemory: quantity.optional().describe("Default memory request."),
      defaultLimitCpu: quantity.optional().describe("Default CPU limit."),
      defaultLimitMemory: quantity.optional().describe("Default memory limit."),
      maxCpu: quantity.optional().describe("Largest CPU limit of one container."),
      maxMemory: quantity.optional().describe("Largest memory limit of one container."),
    })
    .optional()
    .describe("LimitRange of every app namespace: container defaults and maximums."),
  network: z
    .strictObject({
      ingressNamespaces: z
        .array(dnsLabel)
        .optional()
        .describe("Namespaces whose pods may reach app pods (the ingress controller's).")
        .register(KEY_DOCS, { default: '`["ingress-nginx"]`' }),
      dnsNamespace: dnsLabel
        .optional()
        .describe("Namespace of the cluster DNS pods app pods may query.")
        .register(KEY_DOCS, { default: "`kube-system`" }),
      dnsPodLabels: z
        .record(z.string(), z.string())
        .optional()
        .describe("Labels of the cluster DNS pods.")
        .register(KEY_DOCS, { default: "`{k8s-app: kube-dns}`" }),
    })
    .optional()
    .describe(
      "NetworkPolicies of every app namespace: all traffic in and out is denied except DNS, traffic within the namespace, from `ingressNamespaces`, and each app's `egress`.",
    ),
});

const namespace = z.strictObject({
  name: dnsLabel
    .optional()
    .describe("Namespace for the runner and its CI job pods; created only with `features.runner`."),
  quota: z
    .strictObject({
      requestsCpu: quantity.optional().describe("`requests.cpu`."),
      requestsMemory: quantity.optional().describe("`requests.memory`."),
      limitsCpu: quantity.optional().describe("`limits.cpu`."),
      limitsMemory: quantity.optional().describe("`limits.memory`."),
      pods: positiveInt(10000).optional().describe("Maximum pods (runner + concurrent jobs)."),
    })
    .optional()
    .describe("ResourceQuota for the namespace."),
  limitRange: z
    .strictObject({
      defaultRequestCpu: quantity.optional().describe("Default CPU request."),
      defaultRequestMemory: quantity.optional().describe("Default memory request."),
      defaultLimitCpu: quantity.optional().describe("Default CPU limit."),
      defaultLimitMemory: quantity.optional().describe("Default memory limit."),
    })
    .optional()
    .describe("Container defaults in the namespace."),
  network: z
    .strictObject({
      clusterCidrs: z
        .array(
          z
            .string()
            .regex(CIDR, "expected an IPv4 or IPv6 CIDR such as 10.96.0.0/12 or fd00::/8")
            .register(KEY_DOCS, { type: "CIDR" }),
        )
        .optional()
        .describe(
          "Addresses runner job pods may not reach: the cluster's pod and Service CIDRs (IPv4 and IPv6). Job pods may reach cluster DNS (`appNamespaces.network.dnsNamespace`, `dnsPodLabels`) and every address outside these, except the cloud metadata address (169.254.169.254, fd00:ec2::254), which is always refused. Name your cluster's own ranges when GitLab, the registry or package mirrors live on private addresses.",
        )
        .register(KEY_DOCS, {
          default:
            "every private range: `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`, `100.64.0.0/10`, `fc00::/7`",
        }),
    })
    .optional()
    .describe(
      "The NetworkPolicy of runner job pods (selected by their labels `app.kubernetes.io/component: ci-job`): DNS and the world outside the cluster only.",
    ),
});

const registryAuth = z.strictObject({
  secretName: dnsSubdomain.optional().describe("Name of the pull secret in each namespace."),
  scope: z
    .enum(["app", "project", "group"])
    .optional()
    .describe(
      "Whose deploy token fills the pull secrets. `app`: one token per app project, only in that app's namespace (an app's image must live in its own project's registry). `project` (the platform project's) or `group`: one token copied into every app namespace; refused in staging and production.",
    )
    .register(KEY_DOCS, { default: "`app`" }),
  expiresAt: date
    .optional()
    .describe("Token expiry; changing it rotates the token and every pull secret."),
  lifetimeDays: positiveInt(3650)
    .optional()
    .describe("Without `expiresAt`: lifetime from creation, in days."),
});

const ciVariable = z.strictObject({
  key: z
    .string()
    .regex(CI_VARIABLE_KEY, "expected letters, digits and '_' (at most 255)")
    .describe("Variable name.")
    .register(KEY_DOCS, { type: "`[A-Za-z0-9_]`, ≤ 255" }),
  value: z
    .string()
    .describe(
      "Set credentials with `pulumi config set --secret --path 'platform:ciVariables[N].value' …`. Always stored as a Pulumi secret.",
    )
    .register(KEY_DOCS, { secret: true }),
  target: z.enum(["project", "group"]).optional().describe("Platform project or group."),
  variableType: z
    .enum(["env_var", "file"])
    .optional()
    .describe("An environment variable, or a file whose path the variable holds."),
  protected: z
    .boolean()
    .optional()
    .describe(
      "Only protected branches and tags see it. The default given is a credential's; other variables are not protected by default.",
    ),
  masked: z
    .boolean()
    .optional()
    .describe(
      "Mask in job logs. The value must be maskable: at least 8 characters from `A-Z a-z 0-9 + / = - _ @ : . ~` (any non-space characters with `raw`).",
    )
    .register(KEY_DOCS, { default: "`credential`" }),
  raw: z.boolean().optional().describe("Don't expand `$` references."),
  environmentScope: nonEmpty
    .optional()
    .describe("e.g. `production`, `review/*`. The same key may appear once per scope."),
  description: z
    .string()
    .max(255, "expected at most 255 characters")
    .optional()
    .describe("Shown in GitLab."),
  credential: z.boolean().optional().describe("Whether the value is a credential."),
});

const agent = z.strictObject({
  // The Helm release is `gitlab-agent-<name>`, and Helm allows 53 characters.
  name: dnsLabel
    .max(40, "expected at most 40 characters (Helm release gitlab-agent-<name>)")
    .optional()
    .describe("Agent name in GitLab (Helm release `gitlab-agent-<name>`).")
    .register(KEY_DOCS, { type: "DNS label, ≤ 40 characters", default: "`<environment>`" }),
  namespace: dnsLabel
    .optional()
    .describe("agentk's namespace (restricted Pod Security), apart from the runner's job pods."),
  chartRepository: chartRepository
    .optional()
    .describe(
      "Where the chart comes from: an https:// chart repository (a mirror), an oci:// registry path, or a local chart directory (relative to the project). Default the chart's public repository.",
    ),
  chartVersion: chartVersion
    .optional()
    .describe("gitlab-agent chart; keep within your GitLab's supported window."),
  imageTag: z
    .string()
    .regex(
      AGENTK_IMAGE_TAG,
      'expected an agentk image tag such as "v18.6.0" or "v18.6.0@sha256:<64 hex>"',
    )
    .optional()
    .describe(
      "agentk version, optionally pinned by digest (`v18.6.0@sha256:…`: the image is pulled by its digest). GitLab supports agentk at its KAS's minor version and one minor either side; a tag outside that window is refused. A tag set here no longer follows the instance's upgrades: bump it with GitLab's.",
    )
    .register(KEY_DOCS, {
      type: "tag such as `v18.6.0`, or `v18.6.0@sha256:<64 hex>`",
      default: "`v<KAS version>` from the instance's `GET /metadata`",
    }),
  unpinnedImageReason: nonEmpty
    .optional()
    .describe(
      "Why `agent.imageTag` is not pinned by digest yet (unset: agentk of the KAS version, by tag), where the environment requires digests (production); refused when it is pinned.",
    ),
  kasAddress: urlWithScheme(
    KAS_SCHEMES,
    'expected a wss://, ws://, grpcs:// or grpc:// URL such as "wss://kas.gitlab.com"',
  )
    .optional()
    .describe("KAS endpoint agentk connects to.")
    .register(KEY_DOCS, {
      default: "`kas.externalUrl` from the instance's `GET /metadata`",
    }),
  accessAs: z
    .enum(AGENT_ACCESS_AS)
    .optional()
    .describe(
      "Identity CI jobs use through the agent (see docs/security.md). `ci_job` binds each app to its own project's jobs and is refused in production; `agent` is refused with more than one agent app and in staging and production. Impersonation needs GitLab Premium.",
    ),
  projects: z
    .array(gitlabPath)
    .optional()
    .describe(
      "Projects whose pipelines may use the agent; under the platform project's top-level group. With `impersonate` a project that is not an app's only sees the context (it impersonates a user bound to nothing): make it an app to deploy.",
    )
    .register(KEY_DOCS, { default: "the projects of apps with `method: agent`" }),
  groups: z
    .array(gitlabPath)
    .optional()
    .describe(
      "Groups whose pipelines may use the agent; under the platform project's top-level group.",
    ),
  replicas: positiveInt(10).optional().describe("Agent pods."),
  rotation: nonEmpty.optional().describe("Change it to rotate the agent token."),
  protectedBranchesOnly: z
    .boolean()
    .optional()
    .describe(
      "Only pipelines of protected branches and tags may use the agent (`protected_branches_only` in every `ci_access` entry; GitLab 17.10+). Always `true` in staging and production.",
    ),
  restrictToEnvironment: z
    .boolean()
    .optional()
    .describe(
      "Only jobs that declare the stack's environment (`gitlab.environmentScope`) may use the agent (`environments` in every `ci_access` entry; GitLab 15.7+), so no job skips its environment's protection. Always `true` in staging and production.",
    )
    .register(KEY_DOCS, { default: "`true`" }),
  codeOwners: z
    .array(
      z
        .string()
        .regex(
          CODE_OWNER,
          'expected a code owner such as "@acme/platform-admins", "@user", "@@maintainer" or an email',
        ),
    )
    .min(1, "expected at least one owner")
    .optional()
    .describe(
      "Who must approve merge requests that change the agents' authorization files (`.gitlab/agents/`) of the platform project: the stack that manages protection (`protection.manage`) commits `.gitlab/CODEOWNERS` with them and turns on code-owner approval of the default branch (GitLab Premium). An existing `.gitlab/CODEOWNERS` stops the run unless `codeOwners` is in `gitlab.adoptExisting` (then it is replaced).",
    )
    .register(KEY_DOCS, { type: "`@user`, `@group`, `@@role` or email", default: "none" }),
});

/** A Flux image: the chart needs a tag or a digest (it renders `<image>:<tag>` or `<image>@<digest>`). */
const fluxImage = imageReference.refine((reference) => {
  // Not a reference at all: `imageReference` says so already.
  const parts = parseImageReference(reference);
  return parts === undefined || parts.tag !== undefined || parts.digest !== undefined;
}, "expected an image with a tag, a digest or both, such as ghcr.io/fluxcd/source-controller:v1.8.2@sha256:<64 hex>");

const flux = z.strictObject({
  chartVersion: chartVersion.optional().describe("flux2 chart (Flux v2.8.5)."),
  chartRepository: chartRepository
    .optional()
    .describe(
      "Where the chart comes from: an https:// chart repository (a mirror), an oci:// registry path, or a local chart directory (relative to the project). Default the chart's public repository.",
    ),

  namespace: dnsLabel.optional().describe("Flux's namespace."),
  interval: duration.optional().describe("Reconcile interval."),
  images: z
    .strictObject({
      sourceController: fluxImage.optional().describe("source-controller."),
      kustomizeController: fluxImage.optional().describe("kustomize-controller."),
      cli: fluxImage
        .optional()
        .describe("The flux CLI of the chart's pre-install check job (`flux check --pre`)."),
    })
    .optional()
    .describe(
      "The images of the flux2 chart the platform runs (its two controllers and its install check), e.g. from a mirror, each with a tag, a digest or both (`<repository>:<tag>@sha256:<64 hex>`). Default, with the pinned `flux.chartVersion`, the chart's own images pinned by digest; with another chart version the chart's own images by tag.",
    ),
  unpinnedImagesReason: nonEmpty
    .optional()
    .describe(
      "Why a `flux.images` image is not pinned by digest yet, where the environment requires digests (production); refused when all are pinned.",
    ),
  verify: z
    .strictObject({
      keyless: z
        .strictObject({
          issuer: urlWithScheme(["https:"], 'expected an https:// URL such as "https://gitlab.com"')
            .optional()
            .describe(
              "The OIDC issuer Fulcio trusted when the publish job signed: your GitLab's URL. Default `gitlab:baseUrl`. Public Sigstore trusts GitLab.com only; a self-managed GitLab needs its own Sigstore.",
            ),
        })
        .optional()
        .describe(
          "Cosign keyless: a signature by a pipeline of the app's own project on its default branch or a release tag (`protection.releaseTags`), the identity `https://<gitlab>/<project>//.gitlab-ci.yml@refs/…` that GitLab's ID token gives Fulcio.",
        ),
      publicKey: z
        .string()
        .regex(
          /^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+\n-----END PUBLIC KEY-----\n?$/,
          "expected a PEM public key (cosign.pub)",
        )
        .optional()
        .describe(
          "Cosign key pair: the public key (`cosign.pub`), stored in a Secret next to each app's OCIRepository; the publish job signs with the private key (a masked, protected CI/CD variable).",
        ),
    })
    .optional()
    .describe(
      "Flux applies only artifacts signed with cosign (OCIRepository `spec.verify`): exactly one of `keyless` or `publicKey`. Required in production when an app is delivered by Flux.",
    ),
});

const environments = z.strictObject({
  name: nonEmpty
    .optional()
    .describe("The environment created in each app project; must be concrete (not `review/*`).")
    .register(KEY_DOCS, { type: "GitLab environment name", default: "`gitlab.environmentScope`" }),
  tier: z.enum(ENVIRONMENT_TIERS).optional().describe("Deployment tier."),
  protected: z
    .boolean()
    .optional()
    .describe(
      "Protected environment (GitLab Premium): only `deployAccessLevel` and above may deploy. Set `false` on GitLab Free.",
    ),
  deployAccessLevel: z
    .enum(["maintainer", "developer"])
    .optional()
    .describe("Who may deploy to a protected environment."),
  requiredApprovals: z
    .int("expected an integer")
    .min(0, "expected an integer >= 0")
    .max(MAX_REQUIRED_APPROVALS, `expected an integer <= ${MAX_REQUIRED_APPROVALS}`)
    .optional()
    .describe("Approvals each deployment needs (protected environments only)."),
});

const refLevels = ["no one", "developer", "maintainer"] as const;

const protection = z.strictObject({
  manage: z
    .boolean()
    .optional()
    .describe(
      "Manage branch and release-tag protection of the platform project and every app project. Projects are shared by every stack, so exactly one stack should manage them (by default production).",
    ),
  defaultBranch: z
    .strictObject({
      pushAccessLevel: z
        .enum(refLevels)
        .optional()
        .describe("Who may push to the default branch directly."),
      mergeAccessLevel: z
        .enum(["developer", "maintainer"])
        .optional()
        .describe("Who may merge into the default branch."),
      allowForcePush: z
        .boolean()
        .optional()
        .describe("Allow force pushes (refused in production).")
        .register(KEY_DOCS, { default: "`false`" }),
      codeOwnerApprovalRequired: z
        .boolean()
        .optional()
        .describe("Changes to files with code owners need their approval (GitLab Premium).")
        .register(KEY_DOCS, { default: "`false`" }),
      programPush: z
        .boolean()
        .optional()
        .describe(
          "The token's user (who runs this program) may push to the platform project's default branch, by user in `allowed_to_push` (GitLab Premium), so the program's own commits there (the agents' `config.yaml`, `.gitlab/CODEOWNERS`) keep working when `pushAccessLevel` lets no one push. Required then while this stack commits there.",
        )
        .register(KEY_DOCS, { default: "`true` when `pushAccessLevel` is `no one`, else `false`" }),
    })
    .optional()
    .describe(
      "Protection of each project's default branch (as GitLab reports it). GitLab protects a new project's default branch itself: add `protectedBranches` to `gitlab.adoptExisting` to take that protection over.",
    ),
  releaseTags: z
    .strictObject({
      patterns: z
        .array(nonEmpty)
        .optional()
        .describe("Tag names or wildcards to protect.")
        .register(KEY_DOCS, { default: '`["v*"]`' }),
      createAccessLevel: z
        .enum(refLevels)
        .optional()
        .describe("Who may create such tags.")
        .register(KEY_DOCS, { default: "`maintainer`" }),
    })
    .optional()
    .describe("Protected release tags of every project (tag pipelines deploy)."),
  environmentTags: z
    .boolean()
    .optional()
    .describe(
      "Protect the container tag Flux follows in this environment (`<environment>`, GitLab 18.9+ protected container tag rules) in every `flux` app's project: only Maintainers can move it, so no other pipeline can promote an artifact here.",
    ),
});

/** The whole project namespace as one strict object: an unknown key is an error. */
export const rawConfigSchema = z.strictObject({
  environment: z
    .enum(ENVIRONMENTS)
    .describe(
      "Which environment this stack is. Selects defaults and rules. Stacks named `dev`, `staging`, `production` must say so.",
    ),
  kubeContext: nonEmpty.describe("kubeconfig context of this stack's cluster."),
  kubeApiServer: urlWithScheme(
    ["https:"],
    'expected an https:// URL CI jobs reach, such as "https://k8s.example.com:6443"',
  )
    .optional()
    .describe(
      "API server address written into the KUBECONFIG of `direct` apps; required when an app uses `direct`.",
    ),
  gitlab: gitlab.describe("The GitLab instance's projects and groups the platform serves."),
  features: features.optional().describe("Which capabilities this stack deploys."),
  namespace: namespace
    .optional()
    .describe("The managed namespace: the runner and its CI job pods."),
  appNamespaces: appNamespaces
    .optional()
    .describe("Bounds of every app namespace: ResourceQuota and LimitRange."),
  runner: runner.optional().describe("The GitLab Runner (Kubernetes executor)."),
  registryAuth: registryAuth
    .optional()
    .describe("The deploy tokens and the image pull secret in every app namespace."),
  ciVariables: z
    .array(ciVariable)
    .optional()
    .describe("CI/CD variables of the platform project or group."),
  agent: agent.optional().describe("The GitLab agent for Kubernetes."),
  flux: flux.optional().describe("Flux, for apps with `method: flux`."),
  environments: environments
    .optional()
    .describe("The GitLab environment each app project gets (with `features.environments`)."),
  apps: z.array(app).optional().describe("Applications."),
  protection: protection
    .optional()
    .describe("Branch, release-tag and container-tag protection the platform manages."),
  promotion: z
    .strictObject({
      username: nonEmpty.describe("A user or deploy token username that may read the registry."),
      token: nonEmpty
        .describe(
          "Its token, set with `pulumi config set --secret --path 'platform:promotion.token' …`. Always a Pulumi secret.",
        )
        .register(KEY_DOCS, { secret: true }),
    })
    .optional()
    .describe(
      "Registry credentials that resolve `apps[].image.promote` to digests before anything is registered (so every preview shows the digest that will run): a group deploy token with `read_registry`, or a project deploy token when every promoted app is in one project. Required when an app promotes.",
    ),
  policy: z
    .strictObject({
      advisory: z
        .array(z.enum(POLICY_NAMES))
        .optional()
        .describe(
          "Policies that only warn in this stack (production may lower none of the security ones).",
        ),
      mandatory: z
        .array(z.enum(POLICY_NAMES))
        .optional()
        .describe(
          "Policies that fail this stack's preview and deploy (e.g. an advisory-by-default one).",
        ),
    })
    .optional()
    .describe(
      "Levels of the policy pack (`policy/`, docs/policy.md) that differ from their defaults.",
    ),
});

/** The project-namespace keys this program reads. */
export const PROJECT_KEYS = Object.keys(rawConfigSchema.shape) as readonly (keyof RawConfig)[];

/** Keys whose value is a plain string in the stack file (everything else is YAML/JSON structure). */
export const STRING_KEYS: ReadonlySet<string> = new Set([
  "environment",
  "kubeContext",
  "kubeApiServer",
]);

/** What a user wrote, shape-checked but not yet defaulted. */
export type RawConfig = z.infer<typeof rawConfigSchema>;
