import * as pulumi from "@pulumi/pulumi";
import { Connection, resolveConnection } from "../components/gitlab/client";
import { inspectInstance } from "../components/gitlab/instance";
import { instanceQuery, withInstance } from "./instance";
import { EnvironmentConfig, PlatformConfig } from "./model";
import { ConfigSource, parseEnvironmentConfig } from "./resolve";
import { STRING_KEYS } from "./schema";

/**
 * The only place that reads the stack's configuration. Everything in the project namespace is read
 * (so unknown keys can be reported), plus `gitlab:baseUrl` and `gitlab:token` — the same keys the
 * GitLab dynamic resources use — with `GITLAB_BASE_URL` / `GITLAB_TOKEN` as fallbacks.
 */
export function loadEnvironmentConfig(env: NodeJS.ProcessEnv = process.env): EnvironmentConfig {
  return parseEnvironmentConfig(readConfigSource(env));
}

/**
 * Completes a validated config with what the GitLab instance says (`GET /metadata`, project and
 * group ids), before anything is registered. Throws an `InstanceError` when GitLab cannot be
 * asked (unreachable, token refused, project missing) and a `ConfigError` when its answers
 * contradict the config.
 */
export async function inspectGitLab(
  config: EnvironmentConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<PlatformConfig> {
  const facts = await inspectInstance(gitLabConnection(env), instanceQuery(config));
  return withInstance(config, facts);
}

/**
 * The stack's GitLab connection, as the dynamic resources resolve it (`gitlab:baseUrl` and the
 * secret `gitlab:token`, else GITLAB_BASE_URL and GITLAB_TOKEN). The token stays in memory: it is
 * never part of a resource, an output or a message.
 */
export function gitLabConnection(env: NodeJS.ProcessEnv = process.env): Connection {
  // The raw store: `Config.get` would warn that the token is a secret.
  return resolveConnection({ get: (key) => pulumi.runtime.getConfig(key) }, env);
}

/** Reads the running stack's config into a {@link ConfigSource}. */
export function readConfigSource(env: NodeJS.ProcessEnv = process.env): ConfigSource {
  const project = pulumi.getProject();
  const all = pulumi.runtime.allConfig();
  const prefix = `${project}:`;
  const values: Record<string, unknown> = {};
  for (const [fullKey, text] of Object.entries(all)) {
    if (fullKey.startsWith(prefix)) {
      const key = fullKey.slice(prefix.length);
      values[key] = STRING_KEYS.has(key) ? text : decode(text);
    }
  }
  const gitlab = new pulumi.Config("gitlab");
  const tokenInConfig = all["gitlab:token"] !== undefined;
  return {
    project,
    stack: pulumi.getStack(),
    values,
    gitlabBaseUrl: gitlab.get("baseUrl") ?? env["GITLAB_BASE_URL"],
    gitlabToken: tokenInConfig
      ? isSecretKey("gitlab:token")
        ? "secret-config"
        : "plaintext-config"
      : env["GITLAB_TOKEN"]
        ? "environment"
        : "missing",
  };
}

/** Structured config arrives JSON-encoded; plain strings arrive as they are. */
function decode(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Whether the engine passed `key` as a secret. The SDK keeps the list in the run's config store
 * under PULUMI_CONFIG_SECRET_KEYS; `pulumi.runtime.isConfigSecret` reads it but is not in the
 * public typings, hence the narrow cast.
 */
function isSecretKey(key: string): boolean {
  const runtime = pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean };
  return runtime.isConfigSecret?.(key) ?? false;
}
