import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { stackPolicyConfig, withPolicyConfig } from "./policy-config";

/**
 * `npm run up -- <stack> [pulumi flags…]` and `npm run preview -- <stack> [pulumi flags…]`.
 *
 * Picks the state backend (PULUMI_BACKEND_URL, else a local `file://` backend under
 * `.pulumi-state/` in this repository: no account needed), selects the stack — creating it on first
 * use with the passphrase secrets provider — and runs `pulumi up --refresh` or
 * `pulumi preview --diff --refresh` with the platform's policy pack (`policy/`, at the levels the
 * stack's file sets: scripts/policy-config.ts), streaming Pulumi's own output. Exits with
 * Pulumi's exit code.
 */

/** The repository root (where Pulumi.yaml is). */
export const REPO_ROOT = path.resolve(__dirname, "..");

const COMMANDS = ["up", "preview"] as const;
type Command = (typeof COMMANDS)[number];

/** What `main` needs from the outside world; tests pass their own. */
export interface ScriptIO {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Whether a person can answer prompts (passphrase, `pulumi up` confirmation). */
  readonly interactive: boolean;
}

/** A parsed command line. */
export interface Invocation {
  readonly command: Command;
  readonly stack: string;
  readonly passthrough: readonly string[];
}

/** Thrown for a wrong command line or environment: printed without a stack trace, exit code 1. */
export class UsageError extends Error {}

const USAGE = [
  "usage: npm run up -- <stack> [pulumi up flags]",
  "       npm run preview -- <stack> [pulumi preview flags]",
].join("\n");

/** Throws a {@link UsageError} for a stack name that cannot name a `Pulumi.<stack>.yaml`. */
export function checkStackName(stack: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(stack)) {
    throw new UsageError(
      `stack name ${JSON.stringify(stack)} must start with a letter or digit and use only letters, digits, '-', '_' and '.'`,
    );
  }
}

/** Parses `[command, stack, ...flags]`. */
export function parseArgs(argv: readonly string[], root: string = REPO_ROOT): Invocation {
  const [command, stack, ...passthrough] = argv;
  if (!COMMANDS.includes(command as Command)) {
    throw new UsageError(`unknown command ${JSON.stringify(command ?? "")}\n${USAGE}`);
  }
  if (stack === undefined || stack.startsWith("-")) {
    throw new UsageError(`missing stack name\n${USAGE}`);
  }
  checkStackName(stack);
  if (!fs.existsSync(path.join(root, `Pulumi.${stack}.yaml`))) {
    const known = fs
      .readdirSync(root)
      .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
      .filter((s): s is string => s !== undefined)
      .sort();
    throw new UsageError(
      `no Pulumi.${stack}.yaml in ${root}: each stack needs its config file (see README, "Adding an environment"). Stacks here: ${known.join(", ")}`,
    );
  }
  return { command: command as Command, stack, passthrough };
}

/** The backend URL to use: PULUMI_BACKEND_URL, else the repository's local file backend. */
export function backendUrl(env: NodeJS.ProcessEnv, root: string = REPO_ROOT): string {
  const configured = env["PULUMI_BACKEND_URL"];
  if (configured !== undefined && configured !== "") {
    return configured;
  }
  return `file://${path.join(root, ".pulumi-state")}`;
}

/** The absolute path of the first executable `name` on PATH, if any. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env["PATH"] ?? "").split(path.delimiter)) {
    if (dir === "") {
      continue;
    }
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) {
        return candidate;
      }
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * The pulumi argument lists, in order, for one invocation; `policy` are the policy pack's flags
 * (`--policy-pack <dir> --policy-pack-config <file>`), which only the run itself takes.
 */
export function plan(
  inv: Invocation,
  env: NodeJS.ProcessEnv,
  policy: readonly string[] = [],
): string[][] {
  const secretsProvider = env["PULUMI_SECRETS_PROVIDER"] || "passphrase";
  const select = ["stack", "select", "--create", inv.stack, "--secrets-provider", secretsProvider];
  // --refresh: CI owns the image of agent/direct apps' Deployments (kubectl set image); reading
  // the live objects first keeps Pulumi from fighting, or silently undoing, those rollouts.
  const run =
    inv.command === "up"
      ? ["up", "--refresh", "--stack", inv.stack, ...policy, ...inv.passthrough]
      : ["preview", "--diff", "--refresh", "--stack", inv.stack, ...policy, ...inv.passthrough];
  return [select, run];
}

function run(
  executable: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(executable, args, { env, cwd, stdio: "inherit" });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/**
 * Runs one invocation; resolves to the process exit code. `io.cwd` is the project directory: it
 * holds `Pulumi.<stack>.yaml`, the policy pack and the default local backend.
 */
export async function main(argv: readonly string[], io: ScriptIO): Promise<number> {
  let inv: Invocation;
  try {
    inv = parseArgs(argv, io.cwd);
    // The stack's policy levels are checked before anything runs (and again when written).
    stackPolicyConfig(inv.stack, io.cwd);
  } catch (error) {
    io.stderr(`error: ${(error as Error).message}\n`);
    return 1;
  }
  const pulumiCli = findOnPath("pulumi", io.env);
  if (pulumiCli === undefined) {
    io.stderr(
      "error: the Pulumi CLI was not found on PATH.\n" +
        "Install it with `curl -fsSL https://get.pulumi.com | sh` (or see https://www.pulumi.com/docs/install/), then open a new shell.\n",
    );
    return 1;
  }
  const backend = backendUrl(io.env, io.cwd);
  const secretsProvider = io.env["PULUMI_SECRETS_PROVIDER"] || "passphrase";
  const hasPassphrase =
    io.env["PULUMI_CONFIG_PASSPHRASE"] !== undefined ||
    io.env["PULUMI_CONFIG_PASSPHRASE_FILE"] !== undefined;
  if (secretsProvider === "passphrase" && !hasPassphrase && !io.interactive) {
    io.stderr(
      "error: stacks use the passphrase secrets provider; set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) when running without a terminal.\n",
    );
    return 1;
  }
  if (backend.startsWith("file://")) {
    fs.mkdirSync(backend.slice("file://".length), { recursive: true });
  }
  io.stdout(`Using state backend ${backend}\n`);
  const env = { ...io.env, PULUMI_BACKEND_URL: backend };
  return withPolicyConfig(inv.stack, io.cwd, async (policy) => {
    for (const args of plan(inv, io.env, policy)) {
      const code = await run(pulumiCli, args, env, io.cwd);
      if (code !== 0) {
        return code;
      }
    }
    return 0;
  });
}

if (require.main === module) {
  main(process.argv.slice(2), {
    env: process.env,
    cwd: REPO_ROOT,
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    interactive: Boolean(process.stdin.isTTY),
  }).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`error: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
