import { spawn } from "child_process";
import * as path from "path";
import { backendUrl, findOnPath, parseArgs } from "../pulumi";
import { withPolicyConfig } from "../policy-config";
import { Diagnostic } from "./digest";
import { PipelineEnvError } from "./gitlab";
import { JobContext } from "./markdown";
import { eventLogOptions, policyDiagnostic, readPolicyViolations } from "./policy-events";
import { sanitize, sanitizingWriter, secretValues } from "./redact";

/**
 * What the CI entry points share: reading the job's predefined variables, checking the ones a
 * Pulumi job needs, and running `pulumi preview --json` with its stderr streamed, sanitized, to
 * the job log.
 */

type Env = Readonly<Record<string, string | undefined>>;

/** Links and commit for notes and issues. */
export function jobContext(env: Env): JobContext {
  return {
    commit: env["CI_COMMIT_SHORT_SHA"],
    pipelineId: env["CI_PIPELINE_ID"],
    pipelineUrl: env["CI_PIPELINE_URL"],
    jobUrl: env["CI_JOB_URL"],
  };
}

/** The stack argument, checked like `npm run preview` checks it (name, Pulumi.<stack>.yaml). */
export function stackArgument(argv: readonly string[], root?: string): string {
  return parseArgs(["preview", ...argv], root).stack;
}

/** A required variable, or an error naming it and saying what it is for. */
export function required(env: Env, name: string, purpose: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === "") {
    throw new PipelineEnvError(`${name} is not set: ${purpose}`);
  }
  return value.trim();
}

/**
 * The state backend for a CI job. It must be shared: the wrapper's default local file backend
 * would live in this job's workspace only, so every preview would see an empty, new stack.
 */
export function ciBackend(env: Env): string {
  required(
    env,
    "PULUMI_BACKEND_URL",
    "CI jobs need the shared state backend the stacks live in (s3://…, azblob://…, gs://…, https://api.pulumi.com); the local file backend would be empty in every job",
  );
  return backendUrl(env);
}

/** The Pulumi CLI on PATH, or an error. */
export function pulumiCli(env: Env): string {
  const cli = findOnPath("pulumi", env);
  if (cli === undefined) {
    throw new PipelineEnvError(
      "the Pulumi CLI was not found on PATH (the pipeline's image pulumi/pulumi-nodejs-22 has it)",
    );
  }
  return cli;
}

/** What one Pulumi run produced. */
export interface PulumiRun {
  readonly code: number;
  /** The JSON document (or nothing, when Pulumi failed early). */
  readonly stdout: string;
  /** The sanitized stderr. */
  readonly stderr: string;
}

/**
 * Runs Pulumi with stdout captured and stderr both streamed to `log` and kept, sanitized (control
 * codes stripped, credentials redacted) either way.
 */
export function runPulumi(
  cli: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  log: (text: string) => void,
): Promise<PulumiRun> {
  const secrets = secretValues(env);
  return new Promise((resolve, reject) => {
    const child = spawn(cli, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let kept = "";
    const writer = sanitizingWriter((text) => {
      kept += text;
      log(text);
    }, secrets);
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => writer.write(chunk));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      writer.flush();
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: sanitize(kept, secrets),
      });
    });
  });
}

/** A run with the policy pack: Pulumi's result, the exact arguments, the policy violations. */
export interface PolicyRun extends PulumiRun {
  /** The arguments Pulumi ran with (for the job log). */
  readonly args: readonly string[];
  /** Violations from Pulumi's event log, as diagnostics (mandatory: errors, advisory: warnings). */
  readonly policy: readonly Diagnostic[];
}

/**
 * {@link runPulumi} with the platform's policy pack at the levels of `Pulumi.<stack>.yaml` (the
 * flags go after `args`) and Pulumi's event log, whose policy violations `--json` leaves out.
 * `announce` is called with the final arguments before Pulumi starts. Throws
 * `PolicyConfigError` (scripts/policy-config.ts) before running anything when the stack file sets
 * levels the pack refuses.
 */
export function runPulumiWithPolicy(
  cli: string,
  args: readonly string[],
  stack: string,
  env: NodeJS.ProcessEnv,
  cwd: string,
  log: (text: string) => void,
  announce: (args: readonly string[]) => void = () => undefined,
): Promise<PolicyRun> {
  return withPolicyConfig(stack, cwd, async (flags, dir) => {
    const eventLog = path.join(dir, "events.jsonl");
    const events = eventLogOptions(eventLog);
    const all = [...args, ...flags, ...events.flags];
    announce(all);
    const run = await runPulumi(cli, all, { ...env, ...events.env }, cwd, log);
    return { ...run, args: all, policy: readPolicyViolations(eventLog).map(policyDiagnostic) };
  });
}

/** The last `n` non-empty lines of a text. */
export function tail(text: string, n: number): string {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  return lines.slice(-n).join("\n");
}
