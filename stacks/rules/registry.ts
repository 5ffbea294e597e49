import { ENVIRONMENT_DEFAULTS } from "../defaults";
import { problem } from "../errors";
import { Rule } from "./rule";

/** Rules about `registryAuth.*`: the deploy token behind the pull secrets. */

/** A project deploy token reads only its own project's registry. */
export const projectTokenReachesImages: Rule = {
  name: "registry.projectTokenReachesImages",
  paths: ["registryAuth.scope"],
  check: (config) => {
    if (!config.features.registryAuth || config.registryAuth.scope !== "project") {
      return [];
    }
    const own = `${config.gitlab.registryHost}/${config.gitlab.projectPath.toLowerCase()}`;
    return config.apps.flatMap((a, i) => {
      const repo = a.image.repository;
      return repo !== own && !repo.startsWith(`${own}/`)
        ? [
            `registryAuth.scope: expected "app" or "group" (a project deploy token of ${config.gitlab.projectPath} cannot pull apps[${i}]'s image "${repo}"), got "project"`,
          ]
        : [];
    });
  },
};

/** An app's own project deploy token reads only that project's registry. */
export const appTokenReachesImage: Rule = {
  name: "registry.appTokenReachesImage",
  paths: ["apps[].image.repository"],
  check: (config) => {
    if (!config.features.registryAuth || config.registryAuth.scope !== "app") {
      return [];
    }
    return config.apps.flatMap((a, i) => {
      const own = `${config.gitlab.registryHost}/${a.project.toLowerCase()}`;
      const repo = a.image.repository;
      return repo !== own && !repo.startsWith(`${own}/`)
        ? [
            `apps[${i}].image.repository: expected an image of ${a.project}'s own registry ("${own}" or below: with registryAuth.scope "app" each app pulls with its project's deploy token), got "${repo}"`,
          ]
        : [];
    });
  },
};

/** One token in every namespace: not where a compromised namespace must stay contained. */
export const sharedTokenAllowed: Rule = {
  name: "registry.sharedTokenAllowed",
  paths: ["registryAuth.scope"],
  check: (config, raw) =>
    config.features.registryAuth &&
    config.registryAuth.scope !== "app" &&
    !ENVIRONMENT_DEFAULTS[config.environment].rules.sharedRegistryTokenAllowed
      ? [
          problem(
            ["registryAuth", "scope"],
            `expected "app" in ${config.environment} (a shared deploy token in every app namespace lets one compromised namespace pull every image)`,
            raw,
          ),
        ]
      : [],
};

/** An explicit expiry lies ahead. */
export const expiryInFuture: Rule = {
  name: "registry.expiryInFuture",
  paths: ["registryAuth.expiresAt"],
  check: (config, raw) =>
    config.registryAuth.expiresAt !== undefined && config.registryAuth.expiresAt <= today()
      ? [problem(["registryAuth", "expiresAt"], "expected a date in the future", raw)]
      : [],
};

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/** The rules of this area. */
export const registryRules: readonly Rule[] = [
  projectTokenReachesImages,
  appTokenReachesImage,
  sharedTokenAllowed,
  expiryInFuture,
];
