import { REPO_ROOT, ScriptIO } from "../pulumi";
import { hasChanges } from "./digest";
import { diffLines } from "./diff-text";
import { PipelineEnvError, pipelineApi, pipelineConnection, syncDriftIssue } from "./gitlab";
import { PolicyConfigError } from "../policy-config";
import {
  ciBackend,
  jobContext,
  pulumiCli,
  required,
  runPulumiWithPolicy,
  stackArgument,
  tail,
} from "./job";
import { countsSentence, driftMarker, renderDriftIssue, renderDriftResolved } from "./markdown";
import { readPreview } from "./preview";
import { sanitize, secretValues } from "./redact";

/**
 * `npm run ci:drift -- <stack>`: the scheduled drift check of one stack.
 * `pulumi preview --refresh --expect-no-changes --json` reads the live resources and compares them
 * with what the program declares, without writing the state (a scheduled job never alters what a
 * deploy relies on), with the policy pack (a mandatory violation fails the check; advisory ones
 * are warnings). Then:
 * - drift: opens or updates the stack's drift issue, exit 1 (the job fails);
 * - no drift: closes the stack's open drift issue with a comment, exit 0;
 * - the check itself failed: the issue is left as it is (nothing is known), exit Pulumi's code.
 */

/** The verdict of one check. */
export type Verdict = "drift" | "clean" | "failed";

/** Reads a check: errors win (partial results prove nothing), then changes, then the exit code. */
export function verdict(code: number, read: ReturnType<typeof readPreview>): Verdict {
  if (!("summary" in read) || read.summary.errors.length > 0) {
    return "failed";
  }
  if (hasChanges(read.summary.counts)) {
    return "drift";
  }
  return code === 0 ? "clean" : "failed";
}

export async function main(argv: readonly string[], io: ScriptIO): Promise<number> {
  const { env } = io;
  let stack: string;
  let project: string;
  let cli: string;
  let backend: string;
  let connection: ReturnType<typeof pipelineConnection>;
  try {
    stack = stackArgument(argv.slice(0, 1), io.cwd);
    project = required(env, "CI_PROJECT_ID", "GitLab sets it in every job");
    connection = pipelineConnection(env);
    backend = ciBackend(env);
    cli = pulumiCli(env);
  } catch (error) {
    io.stderr(`error: ${(error as Error).message}\n`);
    return 1;
  }
  const secrets = secretValues(env);
  const args = [
    "preview",
    "--json",
    "--refresh",
    "--expect-no-changes",
    "--non-interactive",
    "--stack",
    stack,
    ...argv.slice(1),
  ];
  let run: Awaited<ReturnType<typeof runPulumiWithPolicy>>;
  try {
    run = await runPulumiWithPolicy(
      cli,
      args,
      stack,
      { ...env, PULUMI_BACKEND_URL: backend },
      io.cwd,
      io.stderr,
      (all) => io.stdout(`$ pulumi ${all.join(" ")}\n`),
    );
  } catch (error) {
    if (!(error instanceof PolicyConfigError)) {
      throw error;
    }
    io.stderr(
      `The drift check of ${stack} did not run; its drift issue is left as it is.\n${error.message}\n`,
    );
    return 1;
  }
  const read = readPreview(run.stdout, secrets, run.policy);
  const result = verdict(run.code, read);
  if (result === "failed" || !("summary" in read)) {
    const errors = "summary" in read ? read.summary.errors : [read.parseError];
    io.stderr(
      `The drift check of ${stack} failed (exit code ${run.code}); its drift issue is left as it is.\n${[...errors, tail(run.stderr, 20)].filter((l) => l !== "").join("\n")}\n`,
    );
    return run.code || 1;
  }

  const ctx = jobContext(env);
  const marker = driftMarker(stack);
  const api = pipelineApi(connection, `Drift issue "${stack}"`);
  try {
    if (result === "drift") {
      io.stdout(
        `Drift in ${stack}: ${countsSentence(read.summary.counts)}\n${diffLines(read.summary.changes).join("\n")}\n`,
      );
      const issue = await syncDriftIssue(api, project, stack, marker, {
        drifted: true,
        description: renderDriftIssue(stack, read.summary, ctx),
      });
      io.stdout(
        `${issue.action === "opened" ? "Opened" : "Updated"} drift issue #${issue.iid}: ${issue.webUrl}\n`,
      );
      return 1;
    }
    io.stdout(`No drift in ${stack}.\n`);
    const issue = await syncDriftIssue(api, project, stack, marker, {
      drifted: false,
      comment: renderDriftResolved(stack, ctx),
    });
    io.stdout(
      issue.action === "closed" ? `Closed drift issue #${issue.iid}: ${issue.webUrl}\n` : "",
    );
    return 0;
  } catch (error) {
    io.stderr(`error: ${sanitize((error as Error).message, secrets)}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2), {
    env: process.env,
    cwd: REPO_ROOT,
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    interactive: false,
  }).then(
    (code) => process.exit(code),
    (error: unknown) => {
      const message = error instanceof PipelineEnvError ? error.message : String(error);
      process.stderr.write(`error: ${sanitize(message, secretValues(process.env))}\n`);
      process.exit(1);
    },
  );
}
