import * as path from "path";
import { runChecks } from "./bootstrap/checks";
import { Kubectl, kubectlOnPath } from "./bootstrap/command";
import { parseBootstrapArgs, usage } from "./bootstrap/options";
import { Outcome } from "./bootstrap/prerequisites";
import { PromptCancelled, Prompter, terminalPrompter } from "./bootstrap/prompt";
import { setUp } from "./bootstrap/setup";
import { existingValues, hasSecureToken, readExisting, topLevel } from "./bootstrap/stack-file";
import { gatherValues, passphraseNeed } from "./bootstrap/values";
import { REPO_ROOT, ScriptIO, UsageError, backendUrl } from "./pulumi";

/**
 * `npm run bootstrap -- <stack> [flags]`: a new environment end to end. Gathers the values
 * (flags, environment, an existing Pulumi.<stack>.yaml, prompts), checks every prerequisite
 * (Pulumi CLI, kube context, GitLab token, instance, project and group, the program's config
 * validation) and writes nothing unless all pass; then writes Pulumi.<stack>.yaml, creates the
 * stack, stores the token encrypted and runs a preview. Re-running skips what is done.
 * docs/bootstrap.md describes it for users.
 */

/** What `main` takes from outside besides its IO; tests pass their own. */
export interface BootstrapDeps {
  /** Asks for missing values; used only when `io.interactive` and without `--yes`. */
  readonly prompter?: Prompter;
  /** Runs kubectl. Default: the kubectl on PATH. */
  readonly kubectl?: Kubectl;
}

const LABELS = { ok: "ok", fail: "FAIL", skip: "skip", done: "done" } as const;

/** One report line (further lines of the text indented under it). */
export function formatOutcome(outcome: { status: keyof typeof LABELS; text: string }): string {
  const [first, ...rest] = outcome.text.split("\n");
  return [`  ${LABELS[outcome.status].padEnd(4)}  ${first}`, ...rest.map((l) => `        ${l}`)]
    .map((l) => `${l}\n`)
    .join("");
}

/** Runs the bootstrap; resolves to the exit code. `io.cwd` is the project directory. */
export async function main(
  argv: readonly string[],
  io: ScriptIO,
  deps: BootstrapDeps = {},
): Promise<number> {
  try {
    return await bootstrap(argv, io, deps);
  } catch (error) {
    if (error instanceof UsageError || error instanceof PromptCancelled) {
      io.stderr(`error: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

async function bootstrap(argv: readonly string[], io: ScriptIO, deps: BootstrapDeps) {
  const args = parseBootstrapArgs(argv);
  if (args.help) {
    io.stdout(`${usage()}\n`);
    return 0;
  }
  const root = io.cwd;
  const fileName = `Pulumi.${args.stack}.yaml`;
  const existing = readExisting(path.join(root, fileName));
  const prompter = io.interactive && !args.yes ? deps.prompter : undefined;
  const need = passphraseNeed(
    io.env,
    topLevel(existing, "secretsprovider"),
    topLevel(existing, "encryptionsalt") !== undefined,
  );
  const gathered = await gatherValues(
    args,
    io.env,
    existingValues(existing),
    existing !== undefined,
    need,
    prompter,
  );
  if (gathered.missing.length > 0 || gathered.token === undefined) {
    const n = gathered.missing.length;
    io.stderr(
      `error: ${n} ${n === 1 ? "value is" : "values are"} missing; nothing was written:\n` +
        gathered.missing.map((m) => `  - ${m}\n`).join(""),
    );
    return 1;
  }
  const env: NodeJS.ProcessEnv =
    gathered.passphrase === undefined
      ? io.env
      : { ...io.env, PULUMI_CONFIG_PASSPHRASE: gathered.passphrase };
  const backend = backendUrl(io.env, root);
  const report = (outcome: Outcome | { status: "done"; text: string }) =>
    io.stdout(formatOutcome(outcome));

  io.stdout(`Bootstrapping stack ${args.stack} in ${root}\n\nChecking prerequisites\n`);
  const checked = await runChecks(
    {
      stack: args.stack,
      root,
      env,
      values: gathered.values,
      token: gathered.token,
      existing,
      noAgent: args.noAgent,
      force: args.force,
      // The caller's environment: a passphrase typed at the prompt is Pulumi's business only.
      kubectl: deps.kubectl ?? kubectlOnPath(io.env, root),
    },
    report,
  );
  if (checked.failures > 0 || checked.pulumiCli === undefined) {
    const n = checked.failures;
    io.stderr(
      `error: ${n} ${n === 1 ? "check" : "checks"} failed (FAIL above); nothing was written.\n`,
    );
    return 1;
  }
  return setUp(
    {
      stack: args.stack,
      root,
      env,
      backend,
      pulumiCli: checked.pulumiCli,
      plan: checked.plan,
      token: gathered.token,
      storeToken: args.force || !hasSecureToken(existing),
      prompter,
    },
    io,
    report,
  );
}

if (require.main === module) {
  const interactive = Boolean(process.stdin.isTTY);
  main(
    process.argv.slice(2),
    {
      env: process.env,
      cwd: REPO_ROOT,
      stdout: (t) => process.stdout.write(t),
      stderr: (t) => process.stderr.write(t),
      interactive,
    },
    { prompter: interactive ? terminalPrompter(process.stdin, process.stdout) : undefined },
  ).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`error: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
