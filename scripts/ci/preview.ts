import * as fs from "fs";
import * as path from "path";
import { REPO_ROOT, ScriptIO } from "../pulumi";
import {
  Diagnostic,
  PreviewDocument,
  PreviewParseError,
  PreviewSummary,
  parsePreview,
  summarize,
  terraformReport,
} from "./digest";
import { diffLines } from "./diff-text";
import {
  PipelineEnvError,
  pipelineApi,
  pipelineConnection,
  upsertMergeRequestNote,
} from "./gitlab";
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
import { PreviewOutcome, countsSentence, previewMarker, renderPreviewNote } from "./markdown";
import { sanitize, sanitizeDeep, secretValues } from "./redact";

/**
 * `npm run ci:preview -- <stack>`: the merge request job of one stack. Runs
 * `pulumi preview --json --refresh` with the policy pack (violations from Pulumi's event log:
 * mandatory ones fail the preview, advisory ones are warnings), writes GitLab's Terraform report
 * for the merge request widget, prints the diff to the job log, and creates or updates the
 * stack's note on the merge request, with the error when the preview fails. Exit code: Pulumi's
 * when the preview failed, 1 when the note could not be written, else 0.
 */

/** Where the Terraform report for a stack is written (the pipeline's `artifacts:reports:terraform`). */
export function reportPath(stack: string, root: string = REPO_ROOT): string {
  return path.join(root, ".pulumi-preview", `${stack}.terraform.json`);
}

/** How many lines of Pulumi's stderr a failure note quotes. */
const STDERR_LINES = 200;

/**
 * The preview's document and summary, sanitized, with `extra` diagnostics (policy violations from
 * the event log) before Pulumi's own; a parse error when Pulumi printed no document.
 */
export function readPreview(
  stdout: string,
  secrets: readonly string[],
  extra: readonly Diagnostic[] = [],
): { doc: PreviewDocument; summary: PreviewSummary } | { parseError: string } {
  try {
    const parsed = parsePreview(stdout);
    const doc = sanitizeDeep(
      extra.length > 0
        ? { ...parsed, diagnostics: [...extra, ...(parsed.diagnostics ?? [])] }
        : parsed,
      secrets,
    );
    return { doc, summary: summarize(doc) };
  } catch (error) {
    if (error instanceof PreviewParseError) {
      return { parseError: error.message };
    }
    throw error;
  }
}

/** The outcome a note is rendered from. */
export function previewOutcome(
  code: number,
  read: ReturnType<typeof readPreview>,
  stderr: string,
): PreviewOutcome {
  if (code === 0 && "summary" in read) {
    return { ok: true, summary: read.summary };
  }
  const errors = ("summary" in read ? [...read.summary.errors] : [read.parseError]).map((e) =>
    e.trimEnd(),
  );
  const logged = tail(stderr, STDERR_LINES);
  const error = [
    ...errors,
    `pulumi preview exited with code ${code}${logged !== "" ? ":" : ""}`,
    ...(logged !== "" ? [logged] : []),
  ].join("\n");
  const partial = "summary" in read && read.summary.changes.length > 0 ? read.summary : undefined;
  return { ok: false, error, ...(partial ? { summary: partial } : {}) };
}

export async function main(argv: readonly string[], io: ScriptIO): Promise<number> {
  const { env } = io;
  let stack: string;
  let iid: number;
  let project: string;
  let cli: string;
  let backend: string;
  let connection: ReturnType<typeof pipelineConnection>;
  try {
    stack = stackArgument(argv.slice(0, 1), io.cwd);
    iid = Number(required(env, "CI_MERGE_REQUEST_IID", "previews run in merge request pipelines"));
    project =
      env["CI_MERGE_REQUEST_PROJECT_ID"] ?? required(env, "CI_PROJECT_ID", "GitLab sets it");
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
    "--non-interactive",
    "--stack",
    stack,
    ...argv.slice(1),
  ];
  let code: number;
  let outcome: PreviewOutcome;
  try {
    const run = await runPulumiWithPolicy(
      cli,
      args,
      stack,
      { ...env, PULUMI_BACKEND_URL: backend },
      io.cwd,
      io.stderr,
      (all) => io.stdout(`$ pulumi ${all.join(" ")}\n`),
    );
    code = run.code;
    outcome = previewOutcome(run.code, readPreview(run.stdout, secrets, run.policy), run.stderr);
  } catch (error) {
    if (!(error instanceof PolicyConfigError)) {
      throw error;
    }
    // The stack file sets policy levels the pack refuses: no preview, and the note says why.
    code = 1;
    outcome = {
      ok: false,
      error: `${error.message}\nThe preview did not run: the policy pack refuses these levels for ${stack}.`,
    };
  }

  const report = reportPath(stack, io.cwd);
  if (outcome.ok) {
    fs.mkdirSync(path.dirname(report), { recursive: true });
    fs.writeFileSync(report, `${JSON.stringify(terraformReport(outcome.summary.counts))}\n`);
    io.stdout(`Preview of ${stack}: ${countsSentence(outcome.summary.counts)}\n`);
    const lines = diffLines(outcome.summary.changes);
    io.stdout(lines.length > 0 ? `${lines.join("\n")}\n` : "");
  } else {
    // No report: a failed preview has no counts, and zeros would tell the widget "no changes".
    fs.rmSync(report, { force: true });
    io.stderr(`Preview of ${stack} failed:\n${outcome.error}\n`);
  }

  const body = renderPreviewNote(stack, outcome, jobContext(env));
  try {
    const api = pipelineApi(connection, `Preview note "${stack}"`);
    const result = await upsertMergeRequestNote(api, project, iid, previewMarker(stack), body);
    io.stdout(
      `${result.action === "created" ? "Created" : "Updated"} the preview note of ${stack} on merge request !${iid} (note ${result.noteId}).\n`,
    );
  } catch (error) {
    io.stderr(`error: ${sanitize((error as Error).message, secrets)}\n`);
    return outcome.ok ? 1 : code || 1;
  }
  return outcome.ok ? 0 : code || 1;
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
