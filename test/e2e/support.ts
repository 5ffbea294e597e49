// The end-to-end suite's plumbing (test/e2e/platform.e2e.test.ts): the tools, the cluster, the
// GitLab fake, a scratch copy of the project with its own file backend, and the pulumi, npm and
// kubectl commands the steps run. Every command is asynchronous: the fake answers the engine's
// provider processes from this (jest's) process, so nothing here may block the event loop.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { FakeGitLab, startFakeGitLab } from "../gitlab/fake-gitlab";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const STACK = "e2e";
/** The passphrase of the scratch stack's secrets (a throwaway backend). */
export const PASSPHRASE = "e2e-passphrase";

export interface Result {
  readonly command: string;
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

/** What a failed step prints: the command, its exit code and everything the engine said. */
export function explain(r: Result): string {
  return [
    `$ ${r.command}  (exit ${r.code}, ${r.seconds.toFixed(1)}s)`,
    "--- stdout ---",
    r.stdout.trimEnd(),
    "--- stderr ---",
    r.stderr.trimEnd(),
  ].join("\n");
}

/** Runs a command to completion without blocking the event loop. */
export function run(
  executable: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; cwd: string; stdin?: string; timeoutMs?: number },
): Promise<Result> {
  const command = [executable, ...args].join(" ");
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(executable, args, {
      env: options.env,
      cwd: options.cwd,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    if (process.env["E2E_VERBOSE"]) {
      child.stdout.pipe(process.stderr);
      child.stderr.pipe(process.stderr);
    }
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            stderr += `\n[e2e] killed after ${options.timeoutMs} ms\n`;
            child.kill("SIGTERM");
          }, options.timeoutMs);
    child.on("error", reject);
    child.stdin.end(options.stdin ?? "");
    child.on("close", (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      resolve({
        command,
        code: code ?? (signal ? 128 : 1),
        stdout,
        stderr,
        seconds: (Date.now() - start) / 1000,
      });
    });
  });
}

// ---- tools --------------------------------------------------------------------------------------

export type Tools = { readonly env: NodeJS.ProcessEnv } | { readonly skip: string };

/** The exit code of `tools.sh --no-build` when a tool would have to be built. */
const MISSING_TOOLS = 3;

/**
 * Finds the tools with scripts/e2e/tools.sh and returns the environment its env file sets. Without
 * E2E_BUILD=1 nothing is built (`--no-build`): missing tools make the suite skip, with the reason.
 * Synchronous: jest decides at load time whether the suite runs (nothing else runs yet then).
 */
export function findTools(): Tools {
  const envFile = path.join(os.tmpdir(), `e2e-tools-${process.pid}.sh`);
  const build = process.env["E2E_BUILD"] === "1";
  const script = [
    `${JSON.stringify(path.join(REPO_ROOT, "scripts/e2e/tools.sh"))} ${build ? "" : "--no-build"} --env-file ${JSON.stringify(envFile)} >&2 || exit $?`,
    `. ${JSON.stringify(envFile)}`,
    "env -0",
  ].join("\n");
  const start = Date.now();
  const r = spawnSync("bash", ["-c", script], {
    env: process.env,
    cwd: REPO_ROOT,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    // A cold build (E2E_BUILD=1) prints its progress.
    stdio: ["ignore", "pipe", build ? "inherit" : "pipe"],
  });
  fs.rmSync(envFile, { force: true });
  const result: Result = {
    command: `scripts/e2e/tools.sh ${build ? "" : "--no-build"}`,
    code: r.status ?? 1,
    stdout: "",
    stderr: r.stderr ?? "",
    seconds: (Date.now() - start) / 1000,
  };
  if (result.code === MISSING_TOOLS && !build) {
    return {
      skip:
        "end-to-end tools are missing and E2E_BUILD is not 1 (a cold build takes about 2.5 hours on 2 cores):\n" +
        result.stderr.trim() +
        "\nbuild them with scripts/e2e/tools.sh, or run with E2E_BUILD=1",
    };
  }
  if (result.code !== 0) {
    throw new Error(`scripts/e2e/tools.sh failed\n${explain(result)}`);
  }
  const env: NodeJS.ProcessEnv = {};
  for (const entry of (r.stdout ?? "").split("\0")) {
    const i = entry.indexOf("=");
    if (i > 0) env[entry.slice(0, i)] = entry.slice(i + 1);
  }
  return { env };
}

// ---- cluster ------------------------------------------------------------------------------------

export interface Cluster {
  readonly kubeconfig: string;
  readonly context: string;
  readonly server: string;
  readonly up: Result;
}

/** Starts (or reuses) the cluster with scripts/e2e/cluster.sh. */
export async function startCluster(env: NodeJS.ProcessEnv): Promise<Cluster> {
  const script = path.join(REPO_ROOT, "scripts/e2e/cluster.sh");
  const up = await run(script, ["up"], { env, cwd: REPO_ROOT });
  if (up.code !== 0) {
    throw new Error(`the cluster did not start\n${explain(up)}`);
  }
  const kubeconfig = up.stdout.trim().split("\n").pop() ?? "";
  const context = env["E2E_CONTEXT"] ?? "kwok-platform-e2e";
  const view = await run(
    "kubectl",
    [
      "--kubeconfig",
      kubeconfig,
      "config",
      "view",
      "--minify",
      "--context",
      context,
      "-o",
      "jsonpath={.clusters[0].cluster.server}",
    ],
    { env, cwd: REPO_ROOT },
  );
  return { kubeconfig, context, server: view.stdout.trim(), up };
}

export async function stopCluster(env: NodeJS.ProcessEnv): Promise<Result> {
  return run(path.join(REPO_ROOT, "scripts/e2e/cluster.sh"), ["down"], { env, cwd: REPO_ROOT });
}

// ---- the GitLab fake ----------------------------------------------------------------------------

/** The e2e stack's GitLab: its project, group and app projects, a version with every feature. */
export function startFake(): Promise<FakeGitLab> {
  return startFakeGitLab({
    projects: [
      { id: 1001, fullPath: "acme/platform" },
      { id: 1011, fullPath: "acme/web" },
      { id: 1012, fullPath: "acme/api" },
      { id: 1013, fullPath: "acme/docs" },
    ],
    groups: [{ id: 1000, fullPath: "acme" }],
    metadata: {
      version: "18.9.2-ee",
      kas: {
        enabled: true,
        externalUrl: "wss://gitlab.fake.test/-/kubernetes-agent/",
        externalK8sProxyUrl: "https://gitlab.fake.test/-/kubernetes-agent/k8s-proxy/",
        version: "18.9.2",
      },
    },
  });
}

// ---- the scratch project ------------------------------------------------------------------------

const SKIP = new Set(["node_modules", ".git", ".pulumi-state", ".pulumi-home", "coverage"]);

/**
 * A copy of the project in a fresh directory (node_modules linked), with the e2e stack file and a
 * local file backend of its own, so the suite never touches the repository's state or stacks.
 */
export class Project {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;

  constructor(
    toolsEnv: NodeJS.ProcessEnv,
    readonly cluster: Cluster,
    readonly fake: FakeGitLab,
  ) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "platform-e2e-"));
    for (const entry of fs.readdirSync(REPO_ROOT)) {
      if (!SKIP.has(entry) && !/^Pulumi\..+\.yaml$/.test(entry)) {
        fs.cpSync(path.join(REPO_ROOT, entry), path.join(this.dir, entry), { recursive: true });
      }
    }
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(this.dir, "node_modules"));
    fs.mkdirSync(path.join(this.dir, ".pulumi-state"));
    const home = path.join(this.dir, ".pulumi-home");
    fs.mkdirSync(home);
    this.env = {
      ...toolsEnv,
      PULUMI_BACKEND_URL: `file://${path.join(this.dir, ".pulumi-state")}`,
      PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
      PULUMI_HOME: home,
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
      KUBECONFIG: cluster.kubeconfig,
      // No ambient GitLab: only the stack's config.
      GITLAB_TOKEN: "",
      GITLAB_BASE_URL: "",
      CI: "",
      NO_COLOR: "1",
    };
    // A real plugin cache (a machine with internet) keeps its downloaded plugins.
    const userPlugins = path.join(
      toolsEnv["PULUMI_HOME"] ?? path.join(os.homedir(), ".pulumi"),
      "plugins",
    );
    if (fs.existsSync(userPlugins)) {
      fs.symlinkSync(userPlugins, path.join(home, "plugins"));
    }
    this.writeStack((config) => {
      config["gitlab:baseUrl"] = fake.url;
      config["platform:kubeContext"] = cluster.context;
      config["platform:kubeApiServer"] = cluster.server;
    });
  }

  get stackFile(): string {
    return path.join(this.dir, `Pulumi.${STACK}.yaml`);
  }

  /** Rewrites the stack file's plain config (secrets are set with {@link setSecret}). */
  writeStack(edit: (config: Record<string, unknown>) => void): void {
    const source = fs.existsSync(this.stackFile)
      ? this.stackFile
      : path.join(REPO_ROOT, "test/e2e", `Pulumi.${STACK}.yaml`);
    const doc = parse(fs.readFileSync(source, "utf8")) as { config: Record<string, unknown> };
    edit(doc.config);
    fs.writeFileSync(this.stackFile, stringify(doc, { lineWidth: 0 }));
  }

  pulumi(args: readonly string[], timeoutMs = 20 * 60_000): Promise<Result> {
    return run("pulumi", [...args, "--non-interactive"], {
      env: this.env,
      cwd: this.dir,
      timeoutMs,
    });
  }

  /** `npm run <preview|up> -- e2e <flags>`: the project's own wrapper (policy pack included). */
  npm(
    command: "preview" | "up",
    args: readonly string[],
    timeoutMs = 20 * 60_000,
  ): Promise<Result> {
    return run("npm", ["run", "--silent", command, "--", STACK, ...args], {
      env: this.env,
      cwd: this.dir,
      timeoutMs,
    });
  }

  async setSecret(key: string, value: string): Promise<Result> {
    const r = await run(
      "pulumi",
      ["config", "set", "--secret", "--path", key, "--stack", STACK, "--non-interactive"],
      { env: this.env, cwd: this.dir, stdin: value },
    );
    if (r.code !== 0) throw new Error(`setting ${key}\n${explain(r)}`);
    return r;
  }

  async kubectl(args: readonly string[], stdin?: string): Promise<Result> {
    return run(
      "kubectl",
      ["--kubeconfig", this.cluster.kubeconfig, "--context", this.cluster.context, ...args],
      { env: this.env, cwd: this.dir, ...(stdin === undefined ? {} : { stdin }) },
    );
  }

  /** `kubectl get … -o json`, parsed; throws with kubectl's output when it fails. */
  async getJson<T = { items: Record<string, unknown>[] }>(args: readonly string[]): Promise<T> {
    const r = await this.kubectl(["get", ...args, "-o", "json"]);
    if (r.code !== 0) throw new Error(explain(r));
    return JSON.parse(r.stdout) as T;
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * What the API server answered a write kubectl sent: `admitted`, or its refusal as kubectl prints
 * it (`Error from server (Forbidden): services "x" is forbidden: …`), without the warnings kubectl
 * prints before it (`Warning: spec.externalIPs is deprecated…`).
 */
export function verdict(r: Result): string {
  if (r.code === 0) return "admitted";
  return r.stderr
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("Warning: "))
    .join("\n");
}

/** The steps of a `pulumi preview --json`, by URN. */
export interface PreviewStep {
  readonly op: string;
  readonly urn: string;
  readonly diffReasons?: string[];
  readonly detailedDiff?: Record<string, { kind: string }>;
}

export function previewSteps(stdout: string): PreviewStep[] {
  // The wrapper prints its backend line first; pulumi's JSON document follows.
  const start = stdout.search(/^\{/m);
  if (start < 0) throw new Error(`no JSON in the preview's output:\n${stdout}`);
  const doc = JSON.parse(stdout.slice(start)) as { steps?: PreviewStep[] };
  return doc.steps ?? [];
}

/** `Kind::name` of a URN (`Secret::runner-token`, `UserRunner::runner-runner`). */
export function urnName(urn: string): string {
  const parts = urn.split("::");
  const type = parts[2]?.split("$").pop()?.split(":").pop() ?? "";
  return `${type}::${parts[3] ?? ""}`;
}

/**
 * `type::name` of every resource an `up --json` (the engine's event stream) changed, with its
 * operation (`update`, `replace`, `create-replacement`…), sorted; unchanged and refreshed ones
 * left out.
 */
export function engineOps(stdout: string): string[] {
  const ops: string[] = [];
  for (const line of stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    const event = JSON.parse(line) as {
      resOutputsEvent?: { metadata: { op: string; urn: string } };
    };
    const m = event.resOutputsEvent?.metadata;
    if (m !== undefined && m.op !== "same" && m.op !== "refresh" && m.op !== "read") {
      ops.push(`${m.op} ${urnName(m.urn)}`);
    }
  }
  return ops.sort();
}

/**
 * Stands in for an ingress controller, which neither kwok nor a bare kind cluster runs: gives every
 * Ingress without an address the loopback one, as a controller would, so that the Kubernetes
 * provider's await of Ingresses ends.
 */
export class IngressStatus {
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(private readonly project: Project) {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        const list = await this.project.getJson<{
          items: {
            metadata: { namespace: string; name: string };
            status?: { loadBalancer?: { ingress?: unknown[] } };
          }[];
        }>(["ingresses", "-A"]);
        for (const ing of list.items) {
          if ((ing.status?.loadBalancer?.ingress ?? []).length === 0) {
            await this.project.kubectl([
              "patch",
              "ingress",
              "-n",
              ing.metadata.namespace,
              ing.metadata.name,
              "--subresource=status",
              "--type=merge",
              "-p",
              JSON.stringify({ status: { loadBalancer: { ingress: [{ ip: "127.0.0.1" }] } } }),
            ]);
          }
        }
      } catch {
        // the API server is starting or gone: try again
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}
