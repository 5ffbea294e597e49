import * as fs from "fs";
import * as path from "path";
import { sanitize, secretValues, stripAnsi } from "../ci/redact";
import { ScriptIO, main as pulumiWrapper } from "../pulumi";
import { runCommand } from "./command";
import { Outcome } from "./prerequisites";
import { Prompter } from "./prompt";
import { StackFilePlan } from "./stack-file";

/**
 * The writes, once every check passed: the stack file, the stack on its backend, the encrypted
 * token, then a preview through `npm run preview`'s own code. Each step that is already done is
 * skipped and says so.
 */

/** What the writes need. */
export interface SetupInput {
  readonly stack: string;
  readonly root: string;
  /** The environment for Pulumi, with a prompted passphrase added. */
  readonly env: NodeJS.ProcessEnv;
  readonly backend: string;
  readonly pulumiCli: string;
  readonly plan: StackFilePlan;
  readonly token: string;
  /** False when the file already holds an encrypted token and `--force` was not given. */
  readonly storeToken: boolean;
  /** Set when a person is asked to confirm the writes. */
  readonly prompter: Prompter | undefined;
}

/** Runs the writes; resolves to the exit code. */
export async function setUp(
  input: SetupInput,
  io: ScriptIO,
  report: (outcome: Outcome | { status: "done"; text: string }) => void,
): Promise<number> {
  const fileName = `Pulumi.${input.stack}.yaml`;
  const provider = input.env["PULUMI_SECRETS_PROVIDER"] || "passphrase";
  // Confirmed when the file or the token would change; re-running a finished stack asks nothing.
  const writes = input.plan.action !== "unchanged" || input.storeToken;
  if (input.prompter !== undefined && writes && !(await confirmed(input, io, fileName, provider))) {
    io.stderr("error: cancelled: nothing was written\n");
    return 1;
  }
  io.stdout("\nSetting up\n");

  if (input.plan.action === "unchanged") {
    report({ status: "skip", text: `${fileName} already has these values` });
  } else {
    fs.writeFileSync(path.join(input.root, fileName), input.plan.text);
    report({
      status: "done",
      text: `${input.plan.action === "create" ? "wrote" : "updated"} ${fileName}`,
    });
  }

  const env = { ...input.env, PULUMI_BACKEND_URL: input.backend };
  const pulumi = (args: string[], stdin?: string) =>
    runCommand(input.pulumiCli, args, { env, cwd: input.root, stdin });
  const secrets = [...secretValues(env), input.token];
  const failed = (what: string, result: { code: number; stderr: string }) => {
    const detail = sanitize(stripAnsi(result.stderr), secrets).trim();
    io.stderr(
      `error: ${what} failed (exit code ${result.code})${detail === "" ? "" : `:\n${detail}`}\n`,
    );
    return result.code;
  };

  if (input.backend.startsWith("file://")) {
    fs.mkdirSync(input.backend.slice("file://".length), { recursive: true });
  }
  const selected = await pulumi(["stack", "select", input.stack, "--non-interactive"]);
  if (selected.code === 0) {
    report({ status: "skip", text: `stack ${input.stack} exists on ${input.backend}` });
  } else {
    const init = [
      "stack",
      "init",
      input.stack,
      "--secrets-provider",
      provider,
      "--non-interactive",
    ];
    const created = await pulumi(init);
    if (created.code !== 0) {
      return failed(`pulumi stack init ${input.stack}`, created);
    }
    report({
      status: "done",
      text: `created stack ${input.stack} on ${input.backend} (secrets provider ${provider})`,
    });
  }

  if (input.storeToken) {
    // No value argument: Pulumi reads it from standard input when that is not a terminal.
    const set = ["config", "set", "gitlab:token", "--secret", "--stack", input.stack];
    const stored = await pulumi([...set, "--non-interactive"], input.token);
    if (stored.code !== 0) {
      return failed("pulumi config set --secret gitlab:token", stored);
    }
    report({
      status: "done",
      text: `stored the GitLab token in ${fileName}, encrypted (gitlab:token)`,
    });
  } else {
    report({
      status: "skip",
      text: `${fileName} already holds an encrypted gitlab:token (--force stores the one given now)`,
    });
  }

  io.stdout(`\nPreview (npm run preview -- ${input.stack})\n`);
  const code = await pulumiWrapper(["preview", input.stack], { ...io, env, cwd: input.root });
  if (code !== 0) {
    io.stderr(
      `error: the preview of ${input.stack} failed (exit code ${code}). ${fileName}, the stack and ` +
        `its token are in place: fix the cause, then run \`npm run preview -- ${input.stack}\` ` +
        "or this command again.\n",
    );
    return code;
  }
  io.stdout(
    `\nStack ${input.stack} is ready. Review the preview above, commit ${fileName}, then run ` +
      `\`npm run up -- ${input.stack}\`.\n`,
  );
  return 0;
}

/** Shows what is about to happen and asks; true when the answer is yes. */
async function confirmed(
  input: SetupInput,
  io: ScriptIO,
  fileName: string,
  provider: string,
): Promise<boolean> {
  const steps = [
    input.plan.action === "unchanged"
      ? `keep ${fileName} as it is`
      : `${input.plan.action === "create" ? "write" : "update"} ${fileName}:\n${indent(input.plan.text)}`,
    `create stack ${input.stack} on ${input.backend} unless it exists (secrets provider ${provider})`,
    input.storeToken
      ? "store the GitLab token, encrypted, as gitlab:token"
      : "keep the encrypted gitlab:token the file holds",
    `run npm run preview -- ${input.stack}`,
  ];
  io.stdout(`\nAbout to:\n${steps.map((s) => `  - ${s}`).join("\n")}\n`);
  const answer = await input.prompter?.ask("Go ahead? [y/N] ");
  return /^y(es)?$/i.test(answer ?? "");
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split("\n")
    .map((l) => `      ${l}`)
    .join("\n");
}
