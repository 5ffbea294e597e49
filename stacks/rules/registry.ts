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
            `registryAuth.scope: expected "group" (a project deploy token of ${config.gitlab.projectPath} cannot pull apps[${i}]'s image "${repo}"), got "project"`,
          ]
        : [];
    });
  },
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
export const registryRules: readonly Rule[] = [projectTokenReachesImages, expiryInFuture];
