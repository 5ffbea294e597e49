import { spawn } from "child_process";
import { findOnPath } from "../pulumi";

/** What a finished command printed and returned. */
export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** How to run one command. */
export interface CommandOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /**
   * Written to the command's standard input, which is then closed. This is how credentials reach
   * a command: never in its arguments, which any user of the machine can read in the process list.
   */
  readonly stdin?: string;
}

/**
 * Runs `executable` with its output captured. Never rejects: a command that cannot be started
 * resolves with code 127 and the reason in `stderr`.
 */
export function runCommand(
  executable: string,
  args: readonly string[],
  options: CommandOptions,
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(executable, args, {
      env: options.env,
      cwd: options.cwd,
      stdio: [options.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let settled = false;
    const settle = (result: CommandResult) => {
      if (!settled) {
        settled = true;
        resolve(result);
      }
    };
    child.stdout?.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr?.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", (error) => settle({ code: 127, stdout: "", stderr: error.message }));
    child.on("close", (code, signal) =>
      settle({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      }),
    );
    if (options.stdin !== undefined && child.stdin !== null) {
      // A command that exits without reading its input must not crash this process (EPIPE).
      child.stdin.on("error", () => undefined);
      child.stdin.end(options.stdin);
    }
  });
}

/** Runs kubectl with the given arguments. Tests pass their own. */
export type Kubectl = (args: readonly string[]) => Promise<CommandResult>;

/** The kubectl on PATH, or undefined when there is none. */
export function kubectlOnPath(env: NodeJS.ProcessEnv, cwd: string): Kubectl | undefined {
  const cli = findOnPath("kubectl", env);
  return cli === undefined ? undefined : (args) => runCommand(cli, args, { env, cwd });
}

/** The first non-empty line of a command's error output, for one-line messages. */
export function firstLine(text: string): string {
  return (
    text
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l !== "") ?? ""
  );
}
