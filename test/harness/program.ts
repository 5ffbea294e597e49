import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { installRecorder, RecorderOptions, Resources } from "./mocks";
import { FakeGitLab, FakeOptions, Owner, startFakeGitLab } from "../gitlab/fake-gitlab";

/**
 * Runs the real program (`index.ts`) under recording mocks with one stack's configuration, the way
 * `pulumi up` would: project-level config from Pulumi.yaml, then Pulumi.<stack>.yaml on top.
 * `secure:` values (and `gitlab:token`, which a user sets with `pulumi config set --secret`) become
 * placeholders marked secret.
 */

export const ROOT = path.resolve(__dirname, "..", "..");

/** A placeholder for a `secure:` value at `key`/`path`, recognisable in assertions. */
export function placeholder(key: string): string {
  return `secret-placeholder-${key.replace(/[^A-Za-z0-9]+/g, "-")}`;
}

/** Config of a stack as the engine would hand it to the program. */
export interface StackConfig {
  readonly project: string;
  readonly values: Record<string, unknown>;
  readonly secretKeys: string[];
}

/** Reads Pulumi.yaml and Pulumi.<stack>.yaml (or `stackFile`) into engine-shaped config. */
export function readStackConfig(stack: string, stackFile?: string): StackConfig {
  const projectFile = parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as {
    name: string;
    config?: Record<string, unknown>;
  };
  const project = projectFile.name;
  const values: Record<string, unknown> = {};
  for (const [key, decl] of Object.entries(projectFile.config ?? {})) {
    const fullKey = key.includes(":") ? key : `${project}:${key}`;
    if (decl !== null && typeof decl === "object" && !Array.isArray(decl)) {
      const d = decl as { value?: unknown; default?: unknown };
      if ("value" in d) {
        values[fullKey] = d.value;
      } else if ("default" in d) {
        values[fullKey] = d.default;
      }
    } else {
      values[fullKey] = decl;
    }
  }
  const file = stackFile ?? path.join(ROOT, `Pulumi.${stack}.yaml`);
  const stackConfig = (parse(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> })
    .config;
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(stackConfig ?? {})) {
    let secret = false;
    values[key] = replaceSecure(value, key, () => (secret = true));
    if (secret) {
      secretKeys.push(key);
    }
  }
  return { project, values, secretKeys };
}

function replaceSecure(value: unknown, at: string, markSecret: () => void): unknown {
  if (Array.isArray(value)) {
    return value.map((v, i) => replaceSecure(v, `${at}[${i}]`, markSecret));
  }
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (Object.keys(obj).length === 1 && typeof obj["secure"] === "string") {
      markSecret();
      return placeholder(at);
    }
    return Object.fromEntries(
      Object.entries(obj).map(([k, v]) => [k, replaceSecure(v, `${at}.${k}`, markSecret)]),
    );
  }
  return value;
}

/** Options of one program run. */
export interface RunOptions extends RecorderOptions {
  /** Config keys (full `ns:key`) to set (or, with `undefined`, remove) on top of the stack file. */
  readonly config?: Readonly<Record<string, unknown>>;
  /** Keys of `config` to pass as secrets. */
  readonly secretKeys?: readonly string[];
  /** Use this file instead of Pulumi.<stack>.yaml. */
  readonly stackFile?: string;
  /** Environment variables the program sees (GITLAB_TOKEN, GITLAB_BASE_URL). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * The GitLab the program asks before registering anything (`/metadata`, project ids): a fake
   * that knows the projects and groups the stack names (see {@link gitlabFor}), changed by these
   * options; `gitlab:baseUrl` points at it unless `config` sets it.
   */
  readonly gitlab?: FakeOptions;
}

/** The projects and groups a stack names, as a GitLab that has them all would hold them. */
export function ownersFor(
  values: Record<string, unknown>,
  project: string,
): {
  projects: Owner[];
  groups: Owner[];
} {
  const parse = (v: unknown) => (typeof v === "string" ? (JSON.parse(v) as unknown) : v);
  const gitlab = (parse(values[`${project}:gitlab`]) ?? {}) as {
    projectPath?: string;
    projectId?: number;
    groupPath?: string;
    groupId?: number;
  };
  const apps = (parse(values[`${project}:apps`]) ?? []) as { project?: string }[];
  const projects: Owner[] = [];
  let next = 2001;
  const add = (path: string | undefined, id?: number) => {
    if (path !== undefined && !projects.some((p) => p.fullPath === path)) {
      projects.push({ id: id ?? next++, fullPath: path });
    }
  };
  add(gitlab.projectPath, gitlab.projectId);
  apps.forEach((a) => add(a.project));
  const groups: Owner[] =
    gitlab.groupPath === undefined
      ? []
      : [{ id: gitlab.groupId ?? 1000, fullPath: gitlab.groupPath }];
  return { projects, groups };
}

/** What one run of the program produced. */
export interface ProgramRun {
  readonly resources: Resources;
  /** The stack's exports, resolved. */
  readonly outputs: Record<string, unknown>;
  /** Names of exports that are secret. */
  readonly secretOutputs: string[];
  /** The error the program threw, if any. */
  readonly error: Error | undefined;
}

/** A stack's config as the engine passes it to a program: every value a string, and the secret keys. */
export interface EngineConfig {
  readonly project: string;
  readonly config: Record<string, string>;
  readonly secretKeys: string[];
}

/** The engine config of `stack`: its stack file with `options.config` on top, and a GitLab token. */
export function engineConfig(
  stack: string,
  options: Pick<RunOptions, "config" | "secretKeys" | "stackFile"> = {},
): EngineConfig {
  const base = readStackConfig(stack, options.stackFile);
  const values = { ...base.values };
  // A user sets the token with `pulumi config set --secret gitlab:token`; never in the file.
  if (!("gitlab:token" in values)) {
    values["gitlab:token"] = placeholder("gitlab:token");
  }
  const secretKeys = new Set([...base.secretKeys, "gitlab:token", ...(options.secretKeys ?? [])]);
  for (const [key, value] of Object.entries(options.config ?? {})) {
    if (value === undefined) {
      delete values[key];
    } else {
      values[key] = value;
    }
  }
  return {
    project: base.project,
    config: Object.fromEntries(
      Object.entries(values).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
    ),
    secretKeys: [...secretKeys].filter((k) => k in values),
  };
}

/** The loopback GitLab a run talks to, and how to undo sending the stack's GitLab host to it. */
export interface ServedGitLab {
  readonly fake: FakeGitLab;
  /** Puts `fetch` back and stops the fake. */
  close(): Promise<void>;
}

/**
 * Starts the loopback GitLab with the projects and groups `engine` names and the stack's token, and
 * sends `fetch` calls for the stack's GitLab host to it, as DNS would: URLs derived from
 * `gitlab:baseUrl` (registry host, runner URL) stay what the stack file says.
 */
export async function serveGitLab(
  engine: EngineConfig,
  options: Pick<RunOptions, "env" | "gitlab"> = {},
): Promise<ServedGitLab> {
  const values = engine.config;
  // The token from config, or from GITLAB_TOKEN when a test takes it out of config.
  const tokens = [values["gitlab:token"], options.env?.["GITLAB_TOKEN"]].filter(
    (t): t is string => typeof t === "string",
  );
  const fake = await startFakeGitLab({
    tokens: Object.fromEntries(tokens.map((t) => [t, ["api"]])),
    ...ownersFor(values, engine.project),
    ...options.gitlab,
  });
  const configuredUrl = values["gitlab:baseUrl"] ?? options.env?.["GITLAB_BASE_URL"] ?? "";
  // A stack whose gitlab:baseUrl is no URL is refused by the program; nothing to send anywhere.
  const origin = URL.canParse(configuredUrl) ? new URL(configuredUrl).origin : undefined;
  const realFetch = globalThis.fetch;
  globalThis.fetch = ((input: string | URL | Request, init?: RequestInit) => {
    const target = new URL(input instanceof Request ? input.url : input);
    return realFetch(
      origin !== undefined && target.origin === origin
        ? new URL(`${target.pathname}${target.search}`, fake.url)
        : input,
      init,
    );
  }) as typeof fetch;
  return {
    fake,
    async close() {
      globalThis.fetch = realFetch;
      await fake.close();
    },
  };
}

/** Runs `index.ts` for `stack`. Never throws for program errors: see `run.error`. */
export async function runProgram(stack: string, options: RunOptions = {}): Promise<ProgramRun> {
  const engine = engineConfig(stack, options);
  const gitlab = await serveGitLab(engine, options);
  pulumi.runtime.setAllConfig(engine.config, engine.secretKeys);
  const recording = await installRecorder(engine.project, stack, options);

  const savedEnv = { ...process.env };
  for (const key of ["GITLAB_TOKEN", "GITLAB_BASE_URL"]) {
    delete process.env[key];
  }
  Object.assign(process.env, options.env ?? {});
  let exported: Record<string, unknown> = {};
  let error: Error | undefined;
  try {
    // The program is loaded once per test file and called once per run. It is a function whose
    // modules keep no state of their own (config is read inside the call, providers are plain
    // objects), so a run sees nothing of the one before; a fresh module registry per run
    // (jest.resetModules) would reload @pulumi/kubernetes each time, which made the program tests
    // four times slower. Pulumi keeps its runtime state global, so the mocks installed above
    // apply to this call.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const program = require(path.join(ROOT, "index.ts")) as unknown;
    // Like Pulumi's Node.js host: a program exporting a function is called and awaited, and what
    // it returns is the stack's outputs.
    exported = (
      typeof program === "function" ? await (program as () => Promise<unknown>)() : program
    ) as Record<string, unknown>;
  } catch (e) {
    error = e as Error;
  } finally {
    process.env = savedEnv;
    await gitlab.close();
  }
  const outputs: Record<string, unknown> = {};
  const secretOutputs: string[] = [];
  for (const [name, value] of Object.entries(exported)) {
    const output: pulumi.Output<unknown> = pulumi.output(value);
    try {
      // The Output's own promise: unlike `apply`, it settles when the Output fails (a failed
      // lookup, say), as the engine would fail the run.
      outputs[name] = await (output as unknown as { promise(): Promise<unknown> }).promise();
    } catch (e) {
      error ??= e as Error;
    }
    if (await pulumi.isSecret(output)) {
      secretOutputs.push(name);
    }
  }
  try {
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
  } catch (e) {
    error ??= e as Error;
  }
  if (error === undefined && recording.unmockedCalls.length > 0) {
    error = new Error(`unmocked invoke(s): ${recording.unmockedCalls.join(", ")}`);
  }
  return { resources: new Resources(recording.resources), outputs, secretOutputs, error };
}
