import { BootstrapArgs, VALUES, ValueName } from "./options";
import { Prompter } from "./prompt";

/**
 * Gathering the values for a new stack: each from its flag, else its environment variable, else
 * the existing stack file, else (stack named dev, staging, production or review) the environment
 * the name says, else a prompt. Without a prompter every value still missing is listed at once.
 */

/** Whether the stack's secrets need a passphrase, and whether a new one is being chosen. */
export type PassphraseNeed = "none" | "existing" | "new";

/** Everything gathered. */
export interface Gathered {
  readonly values: Readonly<Partial<Record<ValueName, string>>>;
  readonly token: string | undefined;
  /** A passphrase typed at the prompt (one from the environment stays there). */
  readonly passphrase: string | undefined;
  /** Each value still missing, with how to give it. */
  readonly missing: readonly string[];
}

const ENVIRONMENTS = ["dev", "staging", "production", "review"];

/** Whether `env` lacks a passphrase the stack's secrets provider needs. */
export function passphraseNeed(
  env: Readonly<Record<string, string | undefined>>,
  fileProvider: unknown,
  fileHasSalt: boolean,
): PassphraseNeed {
  const provider =
    typeof fileProvider === "string" && fileProvider !== ""
      ? fileProvider
      : env["PULUMI_SECRETS_PROVIDER"] || "passphrase";
  if (provider !== "passphrase") {
    return "none";
  }
  if (env["PULUMI_CONFIG_PASSPHRASE"] !== undefined || env["PULUMI_CONFIG_PASSPHRASE_FILE"]) {
    return "none";
  }
  return fileHasSalt ? "existing" : "new";
}

const nonEmpty = (v: string | undefined): string | undefined =>
  v === undefined || v.trim() === "" ? undefined : v.trim();

/** Gathers the values; asks `prompter` (when there is one) for what is still missing. */
export async function gatherValues(
  args: BootstrapArgs,
  env: Readonly<Record<string, string | undefined>>,
  fromFile: Readonly<Partial<Record<ValueName, string>>>,
  fileExists: boolean,
  passphrase: PassphraseNeed,
  prompter: Prompter | undefined,
): Promise<Gathered> {
  const values: Partial<Record<ValueName, string>> = {};
  const missing: string[] = [];
  for (const spec of VALUES) {
    const given =
      nonEmpty(args.flags[spec.name]) ??
      nonEmpty(env[spec.env]) ??
      nonEmpty(fromFile[spec.name]) ??
      (spec.name === "environment" && ENVIRONMENTS.includes(args.stack) ? args.stack : undefined);
    if (given !== undefined) {
      values[spec.name] = given;
      continue;
    }
    // An existing file is the record of what was chosen: its optional values are not asked again.
    const ask = prompter !== undefined && (spec.required || !fileExists);
    if (ask) {
      const question = `${capitalize(spec.label)} (${spec.hint}): `;
      let answer = await prompter.ask(question);
      while (spec.required && answer === "") {
        answer = await prompter.ask(question);
      }
      if (answer !== "") {
        values[spec.name] = answer;
      }
    } else if (spec.required) {
      missing.push(`${spec.label}: ${spec.flag} or ${spec.env} (${spec.hint})`);
    }
  }

  let token = nonEmpty(env["GITLAB_TOKEN"]);
  if (token === undefined && prompter !== undefined) {
    token = nonEmpty(await prompter.secret("GitLab token (api scope; not shown): "));
  }
  if (token === undefined) {
    missing.push(
      "GitLab token: GITLAB_TOKEN, or the prompt (never a flag: the process list and shell history would show it)",
    );
  }

  let typed: string | undefined;
  if (passphrase !== "none" && prompter !== undefined) {
    typed = await askPassphrase(prompter, passphrase === "new");
  }
  if (passphrase !== "none" && typed === undefined) {
    missing.push(
      "passphrase of the stack's secrets: PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE " +
        "(or another secrets provider in PULUMI_SECRETS_PROVIDER)",
    );
  }
  return { values, token, passphrase: typed, missing };
}

/** A new passphrase is typed twice: a typo would lock the stack's secrets away. */
async function askPassphrase(prompter: Prompter, confirm: boolean): Promise<string | undefined> {
  let question = "Passphrase for the stack's secrets (not shown): ";
  for (;;) {
    const first = await prompter.secret(question);
    if (first === "") {
      return undefined;
    }
    if (!confirm || (await prompter.secret("The same passphrase again: ")) === first) {
      return first;
    }
    question = "The two differed. Passphrase for the stack's secrets (not shown): ";
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
