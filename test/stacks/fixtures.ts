import { ConfigError, ConfigSource, parseEnvironmentConfig } from "../../stacks";
import { RuleEntry } from "../../stacks/rules";

/** A default job image pinned by digest (a test value, not alpine's real digest). */
export const PINNED_JOB_IMAGE = `alpine:3.22.2@sha256:${"e".repeat(64)}`;

/** A minimal valid dev source; tests override what they exercise. */
export function source(
  values: Record<string, unknown>,
  overrides: Partial<ConfigSource> = {},
): ConfigSource {
  // Production requires the default job image by digest (rule runner.imagesPinned): a minimal
  // production source pins it, under whatever runner settings the test gives.
  const runner =
    values["environment"] === "production"
      ? { runner: { jobImage: PINNED_JOB_IMAGE, ...(values["runner"] ?? {}) } }
      : {};
  return {
    project: "platform",
    stack: "dev",
    gitlabBaseUrl: "https://gitlab.example.com",
    gitlabToken: "secret-config",
    values: {
      environment: "dev",
      kubeContext: "kind-dev",
      gitlab: { projectPath: "acme/platform", projectId: 42, groupPath: "acme" },
      ...values,
      ...runner,
    },
    ...overrides,
  };
}

/** A valid app entry; tests override what they exercise. */
export const app = (extra: Record<string, unknown> = {}) => ({
  name: "web",
  project: "acme/web",
  image: { tag: "1.0.0" },
  ...extra,
});

/** The problems a source is rejected with (checking only `rules`, when given). */
export function problemsOf(s: ConfigSource, rules?: readonly RuleEntry[]): readonly string[] {
  try {
    parseEnvironmentConfig(s, rules);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected the config to be rejected");
}
