import {
  ConfigError,
  ConfigSource,
  ENVIRONMENTS,
  Environment,
  parseEnvironmentConfig,
} from "../../stacks";
import { valueAt } from "../../stacks/errors";
import { stringify } from "yaml";
import { KeyEntry } from "./keys";

/**
 * The default of each key in each environment, found by running the config loader itself on
 * minimal stacks (so the documentation cannot drift from the code): what a stack that leaves the
 * key out gets.
 */

/** A stack of `environment` with only the required keys, or also one item in every list and the optional objects without defaults. */
function sample(environment: Environment, withItems: boolean): ConfigSource {
  const items = {
    ciVariables: [{ key: "A", value: "x" }],
    runner: {
      tolerations: [{}],
      cache: { type: "s3", serverAddress: "s3", bucketName: "b", accessKey: "a", secretKey: "s" },
    },
    apps: [{ name: "web", project: "acme/web" }],
  };
  return {
    project: "platform",
    stack: environment,
    gitlabBaseUrl: "https://gitlab.example.com",
    gitlabToken: "secret-config",
    values: {
      environment,
      kubeContext: "ctx",
      gitlab: { projectPath: "acme/platform" },
      ...(withItems ? items : {}),
    },
  };
}

/** The resolved config of each sample, by environment. */
function resolvedSamples(withItems: boolean): Record<Environment, unknown> {
  return Object.fromEntries(
    ENVIRONMENTS.map((env) => {
      try {
        // No cross-field rules: the samples are incomplete on purpose.
        return [env, parseEnvironmentConfig(sample(env, withItems), [])];
      } catch (error) {
        throw new Error(
          `the ${env} sample is no valid config: ${error instanceof ConfigError ? error.message : String(error)}`,
        );
      }
    }),
  ) as Record<Environment, unknown>;
}

/** What each environment gets for a key it leaves out. */
export type EnvironmentValues = Readonly<Record<Environment, unknown>>;

/** Computes defaults for keys; list items are read from the samples' first item. */
export class Defaults {
  private readonly bare = resolvedSamples(false);
  private readonly withItems = resolvedSamples(true);

  /**
   * The default of `entry` in each environment: what the bare samples get for a list or object
   * (an omitted list is empty, an omitted cache none), the full ones for the keys of list items
   * and for every other key.
   */
  of(entry: KeyEntry): EnvironmentValues {
    const samples = entry.nested && !entry.path.includes("[]") ? this.bare : this.withItems;
    const path = entry.path.map((part) => (part === "[]" ? 0 : part));
    return Object.fromEntries(
      ENVIRONMENTS.map((env) => [env, valueAt(samples[env], path)]),
    ) as EnvironmentValues;
  }
}

/** Whether every environment has the same value. */
export function sameEverywhere(values: EnvironmentValues): boolean {
  const first = JSON.stringify(values.dev);
  return ENVIRONMENTS.every((env) => JSON.stringify(values[env]) === first);
}

/** A value as the docs show it, as YAML: `` `4` ``, `` `main` ``, `` `"1"` `` (a string). */
export function formatValue(value: unknown): string {
  if (value === undefined) {
    return "none";
  }
  if (typeof value === "string") {
    // As written in YAML: quoted where YAML would read something else ("1" is a number).
    return `\`${stringify(value).trim()}\``;
  }
  if (Array.isArray(value)) {
    return `\`[${value.join(", ")}]\``;
  }
  return `\`${JSON.stringify(value)}\``;
}
