import { z } from "zod";
import {
  AGENTK_IMAGE_TAG,
  CHART_VERSION,
  CI_VARIABLE_KEY,
  DNS_1035_LABEL,
  DNS_LABEL,
  DNS_SUBDOMAIN,
  DURATION,
  GITLAB_PATH,
  HOSTNAME,
  IMAGE_DIGEST,
  IMAGE_REPOSITORY,
  IMAGE_TAG,
  KAS_SCHEMES,
  LOWERCASE_HOSTNAME,
  QUANTITY,
  isCalendarDate,
  isUrlWithScheme,
} from "../components/formats";
import { AGENT_ACCESS_AS, DEPLOY_METHODS, ENVIRONMENT_TIERS, ENVIRONMENTS } from "./model";

/**
 * The shape of the project-namespace config keys as a user writes them in `Pulumi.<stack>.yaml`.
 * Everything a user may leave out is optional here: per-environment defaults are applied afterwards
 * (`defaults.ts`), so this schema only says what a value must look like. Objects are strict: an
 * unknown key is a typo, and typos must not pass silently.
 */

const dnsLabel = z
  .string()
  .regex(DNS_LABEL, "expected a DNS-1123 label (lowercase letters, digits and '-', at most 63)");
const dnsSubdomain = z
  .string()
  .regex(DNS_SUBDOMAIN, "expected a DNS-1123 subdomain (lowercase letters, digits, '-' and '.')");
const gitlabPath = z
  .string()
  .regex(GITLAB_PATH, 'expected a GitLab full path such as "group/project"');
const hostname = z.string().regex(HOSTNAME, "expected a host name without scheme or path");
const quantity = z
  .string()
  .regex(QUANTITY, 'expected a Kubernetes quantity such as "250m" or "512Mi"');
const duration = z.string().regex(DURATION, 'expected a duration such as "1m" or "10m0s"');
const nonEmpty = z.string().min(1, "expected a non-empty string");
const positiveInt = (max: number) =>
  z
    .int("expected an integer")
    .min(1, "expected an integer >= 1")
    .max(max, `expected an integer <= ${max}`);
const chartVersion = z
  .string()
  .regex(CHART_VERSION, 'expected an exact chart version such as "1.2.3"');
const date = z.string().refine(isCalendarDate, "expected a date YYYY-MM-DD");

/** A URL with one of `schemes` and a host: one check, so a bad value gets one message. */
function urlWithScheme(schemes: readonly string[], message: string) {
  return z.string().refine((value) => isUrlWithScheme(value, schemes), message);
}

const resources = z.strictObject({
  cpuRequest: quantity.optional(),
  cpuLimit: quantity.optional(),
  memoryRequest: quantity.optional(),
  memoryLimit: quantity.optional(),
});

const features = z.strictObject({
  runner: z.boolean().optional(),
  registryAuth: z.boolean().optional(),
  ciVariables: z.boolean().optional(),
  agent: z.boolean().optional(),
  flux: z.boolean().optional(),
  apps: z.boolean().optional(),
  environments: z.boolean().optional(),
});

const gitlabId = z.int("expected an integer").min(1, "expected a numeric GitLab id >= 1");

const gitlab = z.strictObject({
  projectPath: gitlabPath,
  projectId: gitlabId.optional(),
  groupPath: gitlabPath.optional(),
  groupId: gitlabId.optional(),
  registryHost: hostname.optional(),
  defaultBranch: nonEmpty.optional(),
  environmentScope: nonEmpty.optional(),
  protectPublishedCredentials: z.boolean().optional(),
  adoptExisting: z.array(z.enum(["environments", "variables"])).optional(),
});

const quota = z.strictObject({
  requestsCpu: quantity.optional(),
  requestsMemory: quantity.optional(),
  limitsCpu: quantity.optional(),
  limitsMemory: quantity.optional(),
  pods: positiveInt(10000).optional(),
});

const limitRangeDefaults = {
  defaultRequestCpu: quantity.optional(),
  defaultRequestMemory: quantity.optional(),
  defaultLimitCpu: quantity.optional(),
  defaultLimitMemory: quantity.optional(),
};

const namespace = z.strictObject({
  name: dnsLabel.optional(),
  quota: quota.optional(),
  limitRange: z.strictObject(limitRangeDefaults).optional(),
});

const appNamespaces = z.strictObject({
  quota: quota.optional(),
  limitRange: z
    .strictObject({
      ...limitRangeDefaults,
      maxCpu: quantity.optional(),
      maxMemory: quantity.optional(),
    })
    .optional(),
});

const toleration = z.strictObject({
  key: nonEmpty.optional(),
  operator: z.enum(["Equal", "Exists"]).optional(),
  value: z.string().optional(),
  effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]).optional(),
});

const runner = z.strictObject({
  scope: z.enum(["project", "group", "instance"]).optional(),
  description: nonEmpty.optional(),
  tags: z
    .array(z.string().regex(/^[^,\s]+$/, "expected a tag without spaces or commas"))
    .optional(),
  runUntagged: z.boolean().optional(),
  locked: z.boolean().optional(),
  accessLevel: z.enum(["not_protected", "ref_protected"]).optional(),
  maximumTimeout: z
    .int("expected an integer")
    .min(600, "expected an integer >= 600 (GitLab's minimum)")
    .max(2592000, "expected an integer <= 2592000")
    .optional(),
  paused: z.boolean().optional(),
  chartVersion: chartVersion.optional(),
  concurrent: positiveInt(1000).optional(),
  checkInterval: positiveInt(3600).optional(),
  pollTimeout: positiveInt(3600).optional(),
  jobImage: nonEmpty.optional(),
  privileged: z.boolean().optional(),
  privilegedReason: nonEmpty.optional(),
  resources: z
    .strictObject({
      manager: resources.optional(),
      build: resources.optional(),
      helper: resources.optional(),
      service: resources.optional(),
    })
    .optional(),
  nodeSelector: z.record(z.string(), z.string()).optional(),
  tolerations: z.array(toleration).optional(),
  cache: z
    .strictObject({
      type: z.literal("s3"),
      serverAddress: z
        .string()
        .regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, "expected a host or host:port without scheme"),
      bucketName: nonEmpty,
      bucketLocation: nonEmpty.optional(),
      insecure: z.boolean().optional(),
      accessKey: nonEmpty,
      secretKey: nonEmpty,
    })
    .optional(),
  rotation: nonEmpty.optional(),
  metrics: z.boolean().optional(),
});

const registryAuth = z.strictObject({
  secretName: dnsSubdomain.optional(),
  scope: z.enum(["app", "project", "group"]).optional(),
  expiresAt: date.optional(),
  lifetimeDays: positiveInt(3650).optional(),
});

const ciVariable = z.strictObject({
  key: z.string().regex(CI_VARIABLE_KEY, "expected letters, digits and '_' (at most 255)"),
  value: z.string(),
  target: z.enum(["project", "group"]).optional(),
  variableType: z.enum(["env_var", "file"]).optional(),
  protected: z.boolean().optional(),
  masked: z.boolean().optional(),
  raw: z.boolean().optional(),
  environmentScope: nonEmpty.optional(),
  description: z.string().max(255, "expected at most 255 characters").optional(),
  credential: z.boolean().optional(),
});

const agent = z.strictObject({
  // The Helm release is `gitlab-agent-<name>`, and Helm allows 53 characters.
  name: dnsLabel
    .max(40, "expected at most 40 characters (Helm release gitlab-agent-<name>)")
    .optional(),
  namespace: dnsLabel.optional(),
  chartVersion: chartVersion.optional(),
  imageTag: z
    .string()
    .regex(AGENTK_IMAGE_TAG, 'expected an agentk image tag such as "v18.6.0"')
    .optional(),
  kasAddress: urlWithScheme(
    KAS_SCHEMES,
    'expected a wss://, ws://, grpcs:// or grpc:// URL such as "wss://kas.gitlab.com"',
  ).optional(),
  accessAs: z.enum(AGENT_ACCESS_AS).optional(),
  projects: z.array(gitlabPath).optional(),
  groups: z.array(gitlabPath).optional(),
  replicas: positiveInt(10).optional(),
  rotation: nonEmpty.optional(),
  protectedBranchesOnly: z.boolean().optional(),
  restrictToEnvironment: z.boolean().optional(),
});

const flux = z.strictObject({
  chartVersion: chartVersion.optional(),
  namespace: dnsLabel.optional(),
  interval: duration.optional(),
});

const environments = z.strictObject({
  name: nonEmpty.optional(),
  tier: z.enum(ENVIRONMENT_TIERS).optional(),
  protected: z.boolean().optional(),
  deployAccessLevel: z.enum(["maintainer", "developer"]).optional(),
  requiredApprovals: z
    .int("expected an integer")
    .min(0, "expected an integer >= 0")
    .max(5, "expected an integer <= 5")
    .optional(),
});

const app = z.strictObject({
  // App names become Service names, which must start with a letter (RFC 1035).
  name: z
    .string()
    .regex(
      DNS_1035_LABEL,
      "expected a DNS-1035 label (a lowercase letter first, then lowercase letters, digits and '-', at most 63)",
    ),
  namespace: dnsLabel.optional(),
  project: gitlabPath,
  image: z
    .strictObject({
      repository: z
        .string()
        .regex(IMAGE_REPOSITORY, "expected an image repository without tag")
        .optional(),
      tag: z.string().regex(IMAGE_TAG, "expected an image tag").optional(),
      digest: z.string().regex(IMAGE_DIGEST, "expected a digest sha256:<64 hex>").optional(),
    })
    .optional(),
  port: z
    .int("expected an integer")
    .min(1, "expected a port 1-65535")
    .max(65535, "expected a port 1-65535")
    .optional(),
  replicas: positiveInt(100).optional(),
  resources: resources.optional(),
  method: z.enum(DEPLOY_METHODS).optional(),
  ingress: z
    .strictObject({
      host: z
        .string()
        .regex(LOWERCASE_HOSTNAME, "expected a lowercase host name without scheme or path"),
      className: nonEmpty.optional(),
      tls: z
        .strictObject({
          secretName: dnsSubdomain.optional(),
          clusterIssuer: dnsSubdomain.optional(),
        })
        .optional(),
    })
    .optional(),
  podDisruptionBudget: z.boolean().optional(),
  quota: quota.optional(),
  tokenRotation: nonEmpty.optional(),
});

/** The whole project namespace as one strict object: an unknown key is an error. */
export const rawConfigSchema = z.strictObject({
  environment: z.enum(ENVIRONMENTS),
  kubeContext: nonEmpty,
  kubeApiServer: urlWithScheme(
    ["https:"],
    'expected an https:// URL CI jobs reach, such as "https://k8s.example.com:6443"',
  ).optional(),
  gitlab,
  features: features.optional(),
  namespace: namespace.optional(),
  appNamespaces: appNamespaces.optional(),
  runner: runner.optional(),
  registryAuth: registryAuth.optional(),
  ciVariables: z.array(ciVariable).optional(),
  agent: agent.optional(),
  flux: flux.optional(),
  environments: environments.optional(),
  apps: z.array(app).optional(),
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
