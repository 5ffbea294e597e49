import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ScriptIO } from "../../scripts/pulumi";

/**
 * A CI job's surroundings for the entry points: a scratch project directory with stack files, a
 * fake `pulumi` on PATH that records each call and prints a chosen document, and captured output.
 */

/** What the fake pulumi saw. */
export interface PulumiCall {
  readonly argv: string[];
  readonly backend: string | undefined;
  readonly passphrase: string | undefined;
  /** PULUMI_DEBUG_COMMANDS, which `--event-log` needs. */
  readonly debugCommands?: string;
  /** The file `--policy-pack-config` named, read while pulumi ran. */
  readonly policyConfig?: Record<string, { enforcementLevel: string; environment: string }>;
}

export interface Job {
  readonly dir: string;
  readonly bin: string;
  /** Calls so far. */
  calls(): PulumiCall[];
  /** Output streams of the last `io()`. */
  io(env: NodeJS.ProcessEnv): ScriptIO & { out: string[]; err: string[] };
  remove(): void;
}

/**
 * The fake `pulumi`: stdout from FAKE_PULUMI_STDOUT_FILE, stderr FAKE_PULUMI_STDERR, exit
 * FAKE_PULUMI_EXIT, and FAKE_PULUMI_EVENTS_FILE copied to the `--event-log` file.
 */
const FAKE_PULUMI = [
  `#!${process.execPath}`,
  "const fs = require('fs');",
  "const env = process.env;",
  "const argv = process.argv.slice(2);",
  "const flag = (name) => (argv.indexOf(name) >= 0 ? argv[argv.indexOf(name) + 1] : undefined);",
  "const config = flag('--policy-pack-config');",
  "const policyConfig = config === undefined ? undefined : JSON.parse(fs.readFileSync(config, 'utf8'));",
  "fs.appendFileSync(env.FAKE_PULUMI_LOG, JSON.stringify({ argv, backend: env.PULUMI_BACKEND_URL, passphrase: env.PULUMI_CONFIG_PASSPHRASE, debugCommands: env.PULUMI_DEBUG_COMMANDS, policyConfig }) + '\\n');",
  "if (env.FAKE_PULUMI_EVENTS_FILE && flag('--event-log')) fs.copyFileSync(env.FAKE_PULUMI_EVENTS_FILE, flag('--event-log'));",
  "if (env.FAKE_PULUMI_STDERR) process.stderr.write(env.FAKE_PULUMI_STDERR);",
  "if (env.FAKE_PULUMI_STDOUT_FILE) process.stdout.write(fs.readFileSync(env.FAKE_PULUMI_STDOUT_FILE));",
  // exitCode, not exit(): a large document must be flushed to the pipe first.
  "process.exitCode = Number(env.FAKE_PULUMI_EXIT || 0);",
].join("\n");

export function makeJob(): Job {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ci-job-"));
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, "pulumi"), FAKE_PULUMI, { mode: 0o755 });
  for (const stack of ["dev", "staging", "production"]) {
    // The environment is all the policy pack's config file needs from a stack file.
    fs.writeFileSync(
      path.join(dir, `Pulumi.${stack}.yaml`),
      `config:\n  platform:environment: ${stack}\n`,
    );
  }
  const log = path.join(dir, "pulumi-calls.jsonl");
  return {
    dir,
    bin,
    calls: () =>
      fs.existsSync(log)
        ? fs
            .readFileSync(log, "utf8")
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l) as PulumiCall)
        : [],
    io: (env) => {
      const out: string[] = [];
      const err: string[] = [];
      return {
        env: { PATH: bin, FAKE_PULUMI_LOG: log, ...env },
        cwd: dir,
        stdout: (t) => out.push(t),
        stderr: (t) => err.push(t),
        interactive: false,
        out,
        err,
      };
    },
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** GitLab's predefined variables of a merge request pipeline in project 42, MR !7. */
export function mergeRequestEnv(gitlabUrl: string): NodeJS.ProcessEnv {
  return {
    CI_API_V4_URL: `${gitlabUrl}/api/v4`,
    CI_PROJECT_ID: "42",
    CI_MERGE_REQUEST_IID: "7",
    CI_MERGE_REQUEST_PROJECT_ID: "42",
    CI_MERGE_REQUEST_SOURCE_PROJECT_ID: "42",
    CI_COMMIT_SHORT_SHA: "4f2a9c1",
    CI_PIPELINE_ID: "1234",
    CI_PIPELINE_URL: "https://gitlab.example.com/acme/platform/-/pipelines/1234",
    CI_JOB_URL: "https://gitlab.example.com/acme/platform/-/jobs/5678",
    CI_JOB_TOKEN: "job-token-0123456789",
  };
}

/** The policy pack's temporary directory (config file, event log) in a job's output, as `<tmp>`. */
export function withoutTempDir(text: string): string {
  return text.replace(/\/[^\s]*\/pulumi-policy-[^/\s]+/g, "<tmp>");
}

/** The flags the CI scripts add for `stack`, with the temporary directory as `<tmp>`. */
export function policyFlags(dir: string, stack: string): string[] {
  return [
    "--policy-pack",
    path.join(dir, "policy"),
    "--policy-pack-config",
    `<tmp>/${stack}.json`,
    "--event-log",
    "<tmp>/events.jsonl",
  ];
}
