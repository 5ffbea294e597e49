import { ConfigError, ConfigSource, parseEnvironmentConfig } from "../../stacks";
import { RuleEntry } from "../../stacks/rules";

/** A minimal valid dev source; tests override what they exercise. */
export function source(
  values: Record<string, unknown>,
  overrides: Partial<ConfigSource> = {},
): ConfigSource {
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
