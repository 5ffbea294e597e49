import { z } from "zod";
import { PULL_POLICIES } from "../../components/runner-values";
import {
  KEY_DOCS,
  chartRepository,
  chartVersion,
  dnsLabel,
  imageReference,
  nonEmpty,
  positiveInt,
  quantity,
} from "./formats";

/** `runner.*` as a user writes it, and the container resources shape the apps share. */

/** Requests and limits of one container; unset fields take the defaults. */
export const resources = z.strictObject({
  cpuRequest: quantity.optional().describe("CPU request."),
  cpuLimit: quantity.optional().describe("CPU limit."),
  memoryRequest: quantity.optional().describe("Memory request."),
  memoryLimit: quantity.optional().describe("Memory limit."),
});

const toleration = z.strictObject({
  key: nonEmpty
    .optional()
    .describe("Taint key; with `Exists` and no key, every taint is tolerated."),
  operator: z
    .enum(["Equal", "Exists"])
    .optional()
    .describe("`Equal` (key and value must match) or `Exists` (any value; no `value` then)."),
  value: z.string().optional().describe("Taint value, with `Equal`."),
  effect: z
    .enum(["NoSchedule", "PreferNoSchedule", "NoExecute"])
    .optional()
    .describe("Taint effect; every effect when omitted."),
});

const cache = z.strictObject({
  type: z.literal("s3").describe("The cache type; S3-compatible storage is the one supported."),
  serverAddress: z
    .string()
    .regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, "expected a host or host:port without scheme")
    .describe("S3 endpoint, host or host:port without scheme.")
    .register(KEY_DOCS, { type: "host or host:port" }),
  bucketName: nonEmpty.describe("Bucket name."),
  bucketLocation: nonEmpty.optional().describe("Bucket region."),
  insecure: z.boolean().optional().describe("Plain HTTP to the endpoint."),
  accessKey: nonEmpty
    .describe("Access key id; set with `pulumi config set --secret --path`.")
    .register(KEY_DOCS, { secret: true }),
  secretKey: nonEmpty
    .describe("Secret access key; set with `pulumi config set --secret --path`.")
    .register(KEY_DOCS, { secret: true }),
});

const pullPolicy = z.enum(PULL_POLICIES);

const jobs = z.strictObject({
  namespace: dnsLabel
    .optional()
    .describe(
      "Namespace job pods run in, apart from the runner manager and its token in `namespace.name` (which then enforces Pod Security `restricted`). It enforces `privileged` for a privileged runner, else `baseline`, and gets `namespace.quota` and `namespace.limitRange` too; the executor's Role lives there. Without it jobs run in `namespace.name`, except a privileged runner's.",
    )
    .register(KEY_DOCS, { default: "`<namespace.name>-jobs` with `runner.privileged`, else none" }),
  automountServiceAccountToken: z
    .boolean()
    .optional()
    .describe(
      "Mount the job pod's ServiceAccount token (`automount_service_account_token`). Off: a job is arbitrary code from every pipeline the runner serves; turn it on only for jobs that must call the Kubernetes API.",
    )
    .register(KEY_DOCS, { default: "`false`" }),
  allowedImages: z
    .array(
      z
        .string()
        .regex(
          /^[A-Za-z0-9._\-/:@*?]+$/,
          "expected an image or a glob of one (letters, digits, '.', '_', '-', '/', ':', '@' and the wildcards '*', '**', '?')",
        ),
    )
    .optional()
    .describe(
      "Images jobs may use (`allowed_images`), as GitLab Runner matches them: globs over the image as the job writes it, `*` within one `/` segment, `**` as a whole segment across segments (`registry.example.com/**`, `alpine:*`). `runner.jobImage` must match one. Empty: any image.",
    )
    .register(KEY_DOCS, { default: "none (any image)" }),
  pullPolicy: z
    .array(pullPolicy)
    .min(1, "expected at least one pull policy")
    .optional()
    .describe(
      "Pull policies of job, service and helper images when a job names none (`pull_policy`); the runner tries them in order.",
    ),
  allowedPullPolicies: z
    .array(pullPolicy)
    .min(1, "expected at least one pull policy")
    .optional()
    .describe(
      "Pull policies jobs may ask for (`allowed_pull_policies`); must include every `pullPolicy`. `always` makes every job pull with its own credentials, so no job runs a private image another job left on the node.",
    ),
  helperImage: imageReference
    .optional()
    .describe(
      "The job pods' helper image (`helper_image`: clone, artifacts, cache), e.g. a mirror of the helper of the runner's own version, by digest. Default the runner's own choice for its version and the node's architecture, by tag (where the environment requires digests, say why in `unpinnedImagesReason`).",
    ),
  unpinnedImagesReason: nonEmpty
    .optional()
    .describe(
      "Why `runner.image`, `runner.jobImage` or `runner.jobs.helperImage` (unset: the chart's and the runner's own, by tag) is not pinned by digest yet, where the environment requires digests (production); refused when all are pinned.",
    ),
});

export const runner = z.strictObject({
  scope: z
    .enum(["project", "group", "instance"])
    .optional()
    .describe("Runner type created with `POST /user/runners`."),
  description: nonEmpty
    .optional()
    .describe("Shown in GitLab's runner list.")
    .register(KEY_DOCS, { default: "`<project>-<stack>`, e.g. `platform-dev`" }),
  tags: z
    .array(z.string().regex(/^[^,\s]+$/, "expected a tag without spaces or commas"))
    .optional()
    .describe("Job tags the runner takes.")
    .register(KEY_DOCS, { default: "`[kubernetes, <environment>]`" }),
  runUntagged: z.boolean().optional().describe("Also take untagged jobs."),
  locked: z.boolean().optional().describe("Lock the runner to its project."),
  accessLevel: z
    .enum(["not_protected", "ref_protected"])
    .optional()
    .describe("`ref_protected`: only protected branches/tags."),
  maximumTimeout: z
    .int("expected an integer")
    .min(600, "expected an integer >= 600 (GitLab's minimum)")
    .max(2592000, "expected an integer <= 2592000")
    .optional()
    .describe("Job timeout cap, in seconds."),
  paused: z.boolean().optional().describe("Create paused."),
  chartVersion: chartVersion.optional().describe("gitlab-runner chart."),
  chartRepository: chartRepository
    .optional()
    .describe(
      "Where the chart comes from: an https:// chart repository (a mirror), an oci:// registry path, or a local chart directory (relative to the project). Default the chart's public repository.",
    ),

  concurrent: positiveInt(1000).optional().describe("Concurrent jobs."),
  checkInterval: positiveInt(3600)
    .optional()
    .describe("How often the runner polls for jobs, in seconds."),
  pollTimeout: positiveInt(3600)
    .optional()
    .describe("How long to wait for a job pod to start, in seconds."),
  jobImage: nonEmpty
    .optional()
    .describe(
      "Default job image, for jobs that name none. Production requires a digest (`alpine:3.22.2@sha256:…`).",
    ),
  image: imageReference
    .optional()
    .describe(
      "The runner manager's image, `<repository>:<tag>` with an optional `@sha256:<digest>` (a mirror, or the chart's own pinned by digest). Default the chart's own for its version (`registry.gitlab.com/gitlab-org/gitlab-runner:alpine-v<version>`), by tag; where the environment requires digests (production) say why in `runner.jobs.unpinnedImagesReason`.",
    ),
  privileged: z
    .boolean()
    .optional()
    .describe("Privileged job pods (needed only for Docker-in-Docker)."),
  privilegedReason: nonEmpty
    .optional()
    .describe("Required with `privileged: true` in production; refused without it."),
  resources: z
    .strictObject({
      manager: resources.optional().describe("The runner manager (the chart's Deployment)."),
      build: resources.optional().describe("The job's `build` container."),
      helper: resources
        .optional()
        .describe("The job pod's `helper` container (clone, cache, artifacts)."),
      service: resources.optional().describe("Each CI `services:` container of a job."),
    })
    .optional()
    .describe("Requests and limits of the runner pod and of job containers."),
  nodeSelector: z.record(z.string(), z.string()).optional().describe("Node selector for job pods."),
  tolerations: z.array(toleration).optional().describe("Tolerations for job pods."),
  cache: cache.optional().describe("Distributed cache for jobs."),
  rotation: nonEmpty.optional().describe("Change it to rotate the runner token."),
  metrics: z.boolean().optional().describe("Prometheus metrics on port 9252."),
  jobs: jobs
    .optional()
    .describe("What job pods may run and hold: API token, images, pull policies."),
});
