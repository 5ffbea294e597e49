import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { ConfigError, ConfigSource, parseEnvironmentConfig } from "../stacks";
import { STRING_KEYS } from "../stacks/schema";
import { REPO_ROOT, ScriptIO, UsageError, parseArgs } from "./pulumi";

/**
 * `npm run validate-config [-- <stack>…]`: the program's own config validation
 * (`parseEnvironmentConfig`, the check `pulumi up` runs before registering anything) over
 * `Pulumi.<stack>.yaml` files, without Pulumi, a passphrase, a token or a cluster. Fork merge
 * requests run it instead of previews. Every stack is checked (default: every stack file); each
 * problem is printed; exit code 1 when any stack is invalid.
 *
 * The files are read the way the engine hands them to the program: project defaults from
 * Pulumi.yaml under the stack's values, every value as text, then decoded by the loader's rules.
 * `secure:` values cannot be decrypted without the passphrase; they are validated as a
 * placeholder (so their presence counts, their content is checked when the program runs).
 */

/** Stands in for a `secure:` value; a valid masked CI/CD variable value, so it adds no problem. */
export const SECURE_PLACEHOLDER = "secure-value-not-decrypted";

/** The stacks that have a config file in `root`, sorted. */
export function stackNames(root: string = REPO_ROOT): string[] {
  return fs
    .readdirSync(root)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

function readYaml(file: string): unknown {
  try {
    return parse(fs.readFileSync(file, "utf8")) as unknown;
  } catch (error) {
    throw new UsageError(`${path.basename(file)}: not valid YAML (${(error as Error).message})`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Replaces `{secure: …}` values with the placeholder; says whether it found any. */
function withoutSecure(value: unknown): { value: unknown; secure: boolean } {
  if (Array.isArray(value)) {
    const items = value.map(withoutSecure);
    return { value: items.map((i) => i.value), secure: items.some((i) => i.secure) };
  }
  if (isObject(value)) {
    if (Object.keys(value).length === 1 && typeof value["secure"] === "string") {
      return { value: SECURE_PLACEHOLDER, secure: true };
    }
    const entries = Object.entries(value).map(([k, v]) => [k, withoutSecure(v)] as const);
    return {
      value: Object.fromEntries(entries.map(([k, v]) => [k, v.value])),
      secure: entries.some(([, v]) => v.secure),
    };
  }
  return { value, secure: false };
}

/** What the engine passes for a value (text), decoded as stacks/load.ts decodes it. */
function asProgramSees(key: string, value: unknown): unknown {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  if (STRING_KEYS.has(key)) {
    return text;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** A stack's config as the program would see it, plus remarks about what was assumed. */
export function readStackSource(
  stack: string,
  root: string = REPO_ROOT,
  env: Readonly<Record<string, string | undefined>> = {},
): { source: ConfigSource; remarks: string[] } {
  return stackSource(
    stack,
    readYaml(path.join(root, "Pulumi.yaml")),
    readYaml(path.join(root, `Pulumi.${stack}.yaml`)),
    env,
  );
}

/**
 * The same from the parsed documents: `Pulumi.yaml` and a stack file's content, which need not be
 * on disk yet (the bootstrap validates a stack file before writing it).
 */
export function stackSource(
  stack: string,
  projectFile: unknown,
  stackFile: unknown,
  env: Readonly<Record<string, string | undefined>> = {},
): { source: ConfigSource; remarks: string[] } {
  if (!isObject(projectFile) || typeof projectFile["name"] !== "string") {
    throw new UsageError("Pulumi.yaml: expected a project file with a name");
  }
  const project = projectFile["name"];
  const all: Record<string, unknown> = {};
  for (const [key, decl] of Object.entries(
    isObject(projectFile["config"]) ? projectFile["config"] : {},
  )) {
    const fullKey = key.includes(":") ? key : `${project}:${key}`;
    if (isObject(decl) && ("value" in decl || "default" in decl)) {
      all[fullKey] = "value" in decl ? decl["value"] : decl["default"];
    } else if (!isObject(decl)) {
      all[fullKey] = decl;
    }
  }
  const stackConfig =
    isObject(stackFile) && isObject(stackFile["config"]) ? stackFile["config"] : {};
  const secureKeys = new Set<string>();
  for (const [key, raw] of Object.entries(stackConfig)) {
    const { value, secure } = withoutSecure(raw);
    all[key] = value;
    if (secure) {
      secureKeys.add(key);
    }
  }

  const remarks: string[] = [];
  const prefix = `${project}:`;
  const values = Object.fromEntries(
    Object.entries(all)
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => [k.slice(prefix.length), asProgramSees(k.slice(prefix.length), v)]),
  );
  let gitlabToken: ConfigSource["gitlabToken"];
  if (secureKeys.has("gitlab:token")) {
    gitlabToken = "secret-config";
  } else if (all["gitlab:token"] !== undefined) {
    gitlabToken = "plaintext-config";
  } else {
    // Without it in the file, the program takes GITLAB_TOKEN; validation assumes it will be set.
    gitlabToken = "environment";
    remarks.push(
      `gitlab:token is not in Pulumi.${stack}.yaml: the program will need GITLAB_TOKEN (or pulumi config set --secret gitlab:token)`,
    );
  }
  const secureOthers = [...secureKeys].filter((k) => k !== "gitlab:token");
  if (secureOthers.length > 0) {
    remarks.push(`secure values not decrypted, so not checked: ${secureOthers.sort().join(", ")}`);
  }
  const baseUrl = all["gitlab:baseUrl"];
  return {
    source: {
      project,
      stack,
      values,
      gitlabBaseUrl: typeof baseUrl === "string" ? baseUrl : env["GITLAB_BASE_URL"],
      gitlabToken,
    },
    remarks,
  };
}

/** Validates one stack; the text is what is printed for it. */
export function validateStack(
  stack: string,
  root: string = REPO_ROOT,
  env: Readonly<Record<string, string | undefined>> = {},
): { ok: boolean; text: string } {
  const { source, remarks } = readStackSource(stack, root, env);
  const notes = remarks.map((r) => `\n  note: ${r}`).join("");
  try {
    const config = parseEnvironmentConfig(source);
    const apps = config.apps.length;
    return {
      ok: true,
      text: `${stack}: valid (environment ${config.environment}, ${apps} ${apps === 1 ? "app" : "apps"})${notes}`,
    };
  } catch (error) {
    if (error instanceof ConfigError) {
      return { ok: false, text: `${error.message}${notes}` };
    }
    throw error;
  }
}

export function main(argv: readonly string[], io: ScriptIO, root: string = REPO_ROOT): number {
  try {
    const stacks =
      argv.length > 0 ? argv.map((s) => parseArgs(["preview", s], root).stack) : stackNames(root);
    if (stacks.length === 0) {
      throw new UsageError(`no Pulumi.<stack>.yaml in ${root}`);
    }
    let failed = 0;
    for (const stack of stacks) {
      const result = validateStack(stack, root, io.env);
      (result.ok ? io.stdout : io.stderr)(`${result.text}\n`);
      failed += result.ok ? 0 : 1;
    }
    io.stdout(
      `${stacks.length - failed} of ${stacks.length} ${stacks.length === 1 ? "stack" : "stacks"} valid\n`,
    );
    return failed > 0 ? 1 : 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`error: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

if (require.main === module) {
  process.exit(
    main(process.argv.slice(2), {
      env: process.env,
      cwd: REPO_ROOT,
      stdout: (t) => process.stdout.write(t),
      stderr: (t) => process.stderr.write(t),
      interactive: false,
    }),
  );
}
