import { ConfigError, ConfigSource, parseEnvironmentConfig } from "../../stacks";
import { RuleEntry } from "../../stacks/rules";

/** A helper image pinned by digest (a test value, not a real digest). */
export const PINNED_HELPER_IMAGE = `registry.example.com/mirror/gitlab-runner-helper:x86_64-v19.0.0@sha256:${"f".repeat(64)}`;

/** A runner manager image pinned by digest (a test value, not a real digest). */
export const PINNED_MANAGER_IMAGE = `registry.example.com/mirror/gitlab-runner:alpine-v19.0.0@sha256:${"e".repeat(64)}`;

/** An agentk tag pinned by digest (a test value, not a real digest). */
export const PINNED_AGENTK_TAG = `v18.6.1@sha256:${"9".repeat(64)}`;

type Values = Record<string, unknown>;

/** A minimal valid dev source; tests override what they exercise. */
export function source(
  values: Record<string, unknown>,
  overrides: Partial<ConfigSource> = {},
): ConfigSource {
  // Production requires the platform's images by digest (rules runner.imagesPinned,
  // agent.imagePinned): a minimal production source pins those without a pinned default (the
  // runner manager, the helper, agentk), under whatever runner and agent settings the test gives.
  const runner = (values["runner"] ?? {}) as Values;
  const pinned =
    values["environment"] === "production"
      ? {
          runner: {
            image: PINNED_MANAGER_IMAGE,
            ...runner,
            jobs: { helperImage: PINNED_HELPER_IMAGE, ...((runner["jobs"] ?? {}) as Values) },
          },
          agent: { imageTag: PINNED_AGENTK_TAG, ...((values["agent"] ?? {}) as Values) },
        }
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
      ...pinned,
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
