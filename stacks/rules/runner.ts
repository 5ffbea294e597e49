import { imageAllowed, pinnedByDigest } from "../../components/runner-values";
import { ENVIRONMENT_DEFAULTS } from "../defaults";
import { problem } from "../errors";
import { RunnerToleration } from "../model";
import { ItemRule, Rule, RuleEntry, eachItem, requestsWithinLimits } from "./rule";

/** Rules about `runner.*`: privileged jobs, values the chart would template, requests, tolerations. */

/** Where the environment requires it, a privileged runner says why. */
export const privilegedNeedsReason: Rule = {
  name: "runner.privilegedNeedsReason",
  paths: ["runner.privilegedReason"],
  check: (config) =>
    ENVIRONMENT_DEFAULTS[config.environment].rules.privilegedNeedsReason &&
    config.runner.privileged &&
    !config.runner.privilegedReason
      ? [
          `runner.privilegedReason: expected a reason when runner.privileged is true in ${config.environment}, got nothing`,
        ]
      : [],
};

/** Production refuses a privileged runner; the policy pack's security policies would anyway. */
export const privilegedAllowed: Rule = {
  name: "runner.privilegedAllowed",
  paths: ["runner.privileged"],
  check: (config) =>
    !ENVIRONMENT_DEFAULTS[config.environment].rules.privilegedAllowed && config.runner.privileged
      ? [
          `runner.privileged: expected false in ${config.environment} (privileged job pods can take over their node; the policy pack's runner-not-privileged and namespaces-pod-security refuse them there: build images with Jib or rootless BuildKit on a dev or staging runner), got true`,
        ]
      : [],
};

/** A reason without a privileged runner is a leftover. */
export const reasonOnlyWhenPrivileged: Rule = {
  name: "runner.reasonOnlyWhenPrivileged",
  paths: ["runner.privilegedReason"],
  check: (config) =>
    config.runner.privilegedReason !== undefined && !config.runner.privileged
      ? [
          `runner.privilegedReason: expected only with runner.privileged: true, got ${JSON.stringify(config.runner.privilegedReason)}`,
        ]
      : [],
};

/** The runner chart renders its config.toml as a Helm template: "{{" would be executed. */
export const noHelmTemplates: Rule = {
  name: "runner.noHelmTemplates",
  paths: [
    "runner.jobImage",
    "runner.nodeSelector",
    "runner.nodeSelector.*",
    "runner.tolerations[].key",
    "runner.tolerations[].value",
  ],
  check: (config) =>
    [
      ["runner.jobImage", config.runner.jobImage],
      ...Object.entries(config.runner.nodeSelector).flatMap(([k, v]) => [
        [`runner.nodeSelector`, k],
        [`runner.nodeSelector.${k}`, v],
      ]),
      ...config.runner.tolerations.flatMap((t, i) => [
        [`runner.tolerations[${i}].key`, t.key ?? ""],
        [`runner.tolerations[${i}].value`, t.value ?? ""],
      ]),
    ]
      .filter(([, v]) => v?.includes("{{"))
      .map(
        ([path, value]) =>
          `${path}: expected no "{{" (the runner chart evaluates its config as a Helm template), got ${JSON.stringify(value)}`,
      ),
};

/** Each runner container's requests are within its limits. */
export const resourcesWithinLimits: Rule = {
  name: "runner.resourcesWithinLimits",
  paths: ["runner.resources.*.cpuRequest", "runner.resources.*.memoryRequest"],
  check: (config) =>
    Object.entries(config.runner.resources).flatMap(([name, res]) =>
      requestsWithinLimits(`runner.resources.${name}`, res),
    ),
};

/** `Exists` matches every value of the key: it takes no value. */
export const existsTolerationWithoutValue: ItemRule<RunnerToleration> = {
  name: "runner.existsTolerationWithoutValue",
  paths: ["runner.tolerations[].value"],
  check: (t, i, _all, _config, raw) =>
    t.operator === "Exists" && t.value !== undefined
      ? [
          problem(
            ["runner", "tolerations", i, "value"],
            'expected no value with operator "Exists"',
            raw,
          ),
        ]
      : [],
};

/** `Equal` matches a key's value, so it needs the key. */
export const equalTolerationNeedsKey: ItemRule<RunnerToleration> = {
  name: "runner.equalTolerationNeedsKey",
  paths: ["runner.tolerations[].key"],
  check: (t, i, _all, _config, raw) =>
    t.operator === "Equal" && t.key === undefined
      ? [problem(["runner", "tolerations", i, "key"], 'expected a key with operator "Equal"', raw)]
      : [],
};

/** Jobs that name no image run the default one: allowed images must allow it. */
export const jobImageAllowed: Rule = {
  name: "runner.jobImageAllowed",
  paths: ["runner.jobImage"],
  check: (config) => {
    const { jobImage, jobs } = config.runner;
    return jobs.allowedImages.length > 0 && !imageAllowed(jobImage, jobs.allowedImages)
      ? [
          `runner.jobImage: expected an image runner.jobs.allowedImages allows (${jobs.allowedImages.join(", ")}; jobs without an image run this one), got ${JSON.stringify(jobImage)}`,
        ]
      : [];
  },
};

/** The runner refuses a job whose pull policy is not allowed, its own default included. */
export const pullPolicyAllowed: Rule = {
  name: "runner.pullPolicyAllowed",
  paths: ["runner.jobs.pullPolicy[]"],
  check: (config) => {
    const { pullPolicy, allowedPullPolicies } = config.runner.jobs;
    return pullPolicy.flatMap((policy, i) =>
      allowedPullPolicies.includes(policy)
        ? []
        : [
            `runner.jobs.pullPolicy[${i}]: expected one of runner.jobs.allowedPullPolicies (${allowedPullPolicies.join(", ")} in ${config.environment}), got ${JSON.stringify(policy)}`,
          ],
    );
  },
};

/**
 * The images of runner job pods that are not pinned by digest, with their key paths and how
 * messages show them: an unset helper image is the runner's own for its version, by tag.
 */
function unpinnedImages(config: Parameters<Rule["check"]>[0]): [string, string][] {
  const images: [string, string | undefined, string][] = [
    ["runner.image", config.runner.image, "the chart's gitlab-runner image for its version"],
    ["runner.jobImage", config.runner.jobImage, ""],
    [
      "runner.jobs.helperImage",
      config.runner.jobs.helperImage,
      "the runner's own helper image for its version",
    ],
  ];
  return images.flatMap(([path, image, unset]): [string, string][] =>
    image === undefined
      ? [[path, `nothing (${unset}, by tag)`]]
      : pinnedByDigest(image)
        ? []
        : [[path, JSON.stringify(image)]],
  );
}

/**
 * Where the environment requires it, the manager's image, the default job image and the helper
 * image name a digest: a tag can be moved by whoever can push to its repository, and the manager
 * (which holds the runner token), every job that names no image, and every job's helper, would
 * run what it then points to.
 */
export const imagesPinned: Rule = {
  name: "runner.imagesPinned",
  paths: ["runner.image", "runner.jobImage", "runner.jobs.helperImage"],
  check: (config) =>
    config.features.runner &&
    ENVIRONMENT_DEFAULTS[config.environment].rules.imagesPinned &&
    config.runner.unpinnedImagesReason === undefined
      ? unpinnedImages(config).map(
          ([path, shown]) =>
            `${path}: expected an image pinned by digest in ${config.environment} (<image>:<tag>@sha256:<64 hex>; or say why not yet in runner.jobs.unpinnedImagesReason), got ${shown}`,
        )
      : [],
};

/** A reason for unpinned images when every image is pinned is a leftover. */
export const unpinnedReasonOnlyWhenUnpinned: Rule = {
  name: "runner.unpinnedReasonOnlyWhenUnpinned",
  paths: ["runner.jobs.unpinnedImagesReason"],
  check: (config) =>
    config.runner.unpinnedImagesReason !== undefined && unpinnedImages(config).length === 0
      ? [
          `runner.jobs.unpinnedImagesReason: expected only while runner.image, runner.jobImage or runner.jobs.helperImage is not pinned by digest, got ${JSON.stringify(config.runner.unpinnedImagesReason)}`,
        ]
      : [],
};

/** A privileged runner's default jobs namespace, `<namespace.name>-jobs`, must still be a name. */
export const jobNamespaceFits: Rule = {
  name: "runner.jobNamespaceFits",
  paths: ["runner.jobs.namespace"],
  check: (config) => {
    const name = config.runner.jobNamespace;
    return config.features.runner && name !== undefined && name.length > 63
      ? [
          `runner.jobs.namespace: expected a namespace name of at most 63 characters (the default <namespace.name>-jobs is longer: name one), got ${JSON.stringify(name)}`,
        ]
      : [];
  },
};

/** The rules of this area. */
export const runnerRules: readonly RuleEntry[] = [
  privilegedAllowed,
  privilegedNeedsReason,
  reasonOnlyWhenPrivileged,
  noHelmTemplates,
  resourcesWithinLimits,
  jobImageAllowed,
  pullPolicyAllowed,
  imagesPinned,
  unpinnedReasonOnlyWhenUnpinned,
  jobNamespaceFits,
  eachItem("runner.tolerations", (config) => config.runner.tolerations, [
    existsTolerationWithoutValue,
    equalTolerationNeedsKey,
  ]),
];
