import { Connection } from "../../components/gitlab/client";
import {
  InstanceError,
  InstanceFacts,
  atLeast,
  inspectInstance,
  parseVersion,
  readToken,
} from "../../components/gitlab/instance";
import {
  ConfigError,
  EnvironmentConfig,
  PlatformConfig,
  instanceQuery,
  withInstance,
} from "../../stacks";
import { findOnPath } from "../pulumi";
import { Kubectl, firstLine, runCommand } from "./command";

/**
 * The checks a new stack must pass before anything is written: the Pulumi CLI, the kube context,
 * the GitLab token and what GitLab says about itself and the stack's projects and groups. Each
 * returns an {@link Outcome} whose text says exactly what was found or what is missing.
 */

/** The oldest Pulumi CLI the program accepts; index.ts checks it with `requirePulumiVersion`. */
export const MIN_PULUMI_VERSION = { major: 3, minor: 208 } as const;

/** The result of one check or step. */
export interface Outcome {
  readonly status: "ok" | "fail" | "skip";
  /** One line; further lines are details (one problem each). */
  readonly text: string;
}

const ok = (text: string): Outcome => ({ status: "ok", text });
const fail = (text: string): Outcome => ({ status: "fail", text });

/** One failure with several problems: a headline, then a line per problem. */
function failWith(headline: string, problems: readonly string[]): Outcome {
  return fail([headline, ...problems.map((p) => `- ${p}`)].join("\n"));
}

/** The Pulumi CLI on PATH and its version. */
export async function checkPulumi(
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<{ outcome: Outcome; cli?: string }> {
  const min = `${MIN_PULUMI_VERSION.major}.${MIN_PULUMI_VERSION.minor}.0`;
  const install =
    "`curl -fsSL https://get.pulumi.com | sh` (or https://www.pulumi.com/docs/install/)";
  const cli = findOnPath("pulumi", env);
  if (cli === undefined) {
    return {
      outcome: fail(
        `Pulumi CLI: not found on PATH; install it with ${install}, then open a new shell`,
      ),
    };
  }
  const result = await runCommand(cli, ["version"], { env, cwd });
  if (result.code !== 0) {
    return {
      outcome: fail(
        `Pulumi CLI (${cli}): \`pulumi version\` failed with exit code ${result.code}: ${firstLine(result.stderr)}`,
      ),
    };
  }
  const text = result.stdout.trim();
  const version = parseVersion(text);
  if (version === undefined) {
    return {
      outcome: fail(
        `Pulumi CLI (${cli}): expected a version such as v3.248.0 from \`pulumi version\`, got ${JSON.stringify(text)}`,
      ),
    };
  }
  const shown = `${version.major}.${version.minor}.${version.patch}`;
  if (!atLeast(version, MIN_PULUMI_VERSION.major, MIN_PULUMI_VERSION.minor)) {
    return {
      outcome: fail(
        `Pulumi CLI ${shown} (${cli}) is older than ${min}, the oldest the program runs on ` +
          "(runner token rotation needs the replacementTrigger resource option); upgrade it with " +
          install,
      ),
    };
  }
  return { outcome: ok(`Pulumi CLI ${shown} (${cli})`), cli };
}

/** The kube context is in the kubeconfig and its cluster answers. */
export async function checkKubeContext(
  context: string,
  kubectl: Kubectl | undefined,
): Promise<Outcome> {
  const name = `kube context ${JSON.stringify(context)}`;
  if (kubectl === undefined) {
    return fail(
      `${name}: kubectl was not found on PATH; it is needed to check the context ` +
        "(https://kubernetes.io/docs/tasks/tools/)",
    );
  }
  const listed = await kubectl(["config", "get-contexts", "-o", "name"]);
  if (listed.code !== 0) {
    return fail(`${name}: \`kubectl config get-contexts\` failed: ${firstLine(listed.stderr)}`);
  }
  const contexts = listed.stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  if (!contexts.includes(context)) {
    const has = contexts.length === 0 ? "it has none" : `it has ${contexts.join(", ")}`;
    return fail(
      `${name}: not in your kubeconfig (${has}); add it, or point KUBECONFIG at the file that has it`,
    );
  }
  const version = await kubectl([
    "--context",
    context,
    "version",
    "--output=json",
    "--request-timeout=10s",
  ]);
  if (version.code !== 0) {
    return fail(
      `${name}: its cluster does not answer (\`kubectl --context ${context} version\`: ${firstLine(version.stderr)})`,
    );
  }
  return ok(`${name} answers (Kubernetes ${serverVersion(version.stdout)})`);
}

function serverVersion(json: string): string {
  try {
    const parsed = JSON.parse(json) as { serverVersion?: { gitVersion?: unknown } };
    const v = parsed.serverVersion?.gitVersion;
    return typeof v === "string" ? v : "version unknown";
  } catch {
    return "version unknown";
  }
}

/**
 * The token is valid and has the scopes the program needs (`GET /personal_access_tokens/self`):
 * `api` for everything, and `create_runner` or `api` to register the runner.
 */
export async function checkToken(connection: Connection, runner: boolean): Promise<Outcome> {
  let token;
  try {
    token = await readToken(connection);
  } catch (error) {
    if (error instanceof InstanceError) {
      return fail(`GitLab token: ${error.problems.join("; ")}`);
    }
    throw error;
  }
  const name = `GitLab token ${JSON.stringify(token.name)}`;
  if (!token.active) {
    return fail(`${name} is not active (revoked or expired); create a new one with the api scope`);
  }
  const has = (scope: string) => token.scopes.includes(scope);
  const needs: string[] = [];
  if (!has("api")) {
    needs.push("the program needs api");
  }
  if (runner && !has("api") && !has("create_runner")) {
    needs.push("registering the runner needs create_runner or api");
  }
  const scopes = token.scopes.length === 0 ? "no scopes" : `scopes ${token.scopes.join(", ")}`;
  if (needs.length > 0) {
    return fail(
      `${name} has ${scopes}: ${needs.join(", and ")} ` +
        "(docs/gitlab.md, Token scopes and roles); create a token with the api scope",
    );
  }
  const expiry = token.expiresAt === null ? "no expiry" : `expires ${token.expiresAt}`;
  return ok(`${name}: ${scopes}, ${expiry}`);
}

/**
 * GitLab's version and KAS, the ids of the stack's projects and groups, and the program's own
 * checks of those facts against the config (`withInstance`: KAS disabled with the agent on, an
 * agentk tag outside KAS's window, configured ids that are not the paths').
 */
export async function checkInstance(
  connection: Connection,
  config: EnvironmentConfig,
): Promise<{ outcome: Outcome; facts?: InstanceFacts; platform?: PlatformConfig }> {
  let facts: InstanceFacts;
  try {
    facts = await inspectInstance(connection, instanceQuery(config));
  } catch (error) {
    if (error instanceof InstanceError) {
      return { outcome: failWith(`GitLab at ${connection.host}:`, error.problems) };
    }
    throw error;
  }
  let platform: PlatformConfig;
  try {
    platform = withInstance(config, facts);
  } catch (error) {
    if (error instanceof ConfigError) {
      return {
        outcome: failWith(`GitLab ${facts.metadata.version} at ${facts.url}:`, error.problems),
      };
    }
    throw error;
  }
  const kas = facts.metadata.kas;
  const ids = [
    `project ${config.gitlab.projectPath} is ${platform.gitlab.projectId}`,
    ...(config.gitlab.groupPath === undefined
      ? []
      : [`group ${config.gitlab.groupPath} is ${platform.gitlab.groupId}`]),
  ];
  const kasText = kas.enabled
    ? `KAS ${kas.version ?? "of unknown version"} at ${kas.externalUrl ?? "an unknown address"}`
    : "KAS disabled";
  return {
    outcome: ok(`GitLab ${facts.metadata.version} at ${facts.url}: ${kasText}; ${ids.join("; ")}`),
    facts,
    platform,
  };
}
