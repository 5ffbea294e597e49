import * as fs from "fs";
import * as path from "path";
import { Document, isMap, parse, parseDocument } from "yaml";
import { DNS_LABEL } from "../../components/formats";
import { normalizeBaseUrl } from "../../components/gitlab/client";
import { EnvironmentConfig, parseEnvironmentConfig } from "../../stacks";
import { UsageError } from "../pulumi";
import { stackSource } from "../validate-config";
import { ValueName } from "./options";

/**
 * `Pulumi.<stack>.yaml` as the bootstrap writes it: the keys it owns (the values it asked for and
 * the ids GitLab gave), merged into an existing file without touching anything else in it (keys
 * added by hand, Pulumi's `encryptionsalt` and `gitlab:token`, comments).
 */

/** The JSON schema of stack files, when the repository has one (for the editor modeline). */
export const STACK_SCHEMA = "schema/stack.schema.json";

/** One key the bootstrap owns: its path from the document's root and its value. */
export interface Entry {
  readonly path: readonly string[];
  readonly value: string | number | boolean;
  /** A default: written when the file lacks the key; another value there is kept, not a conflict. */
  readonly soft?: boolean;
}

/** What the stack file needs besides the values: the ids GitLab gave, the agent's name and switch. */
export interface EntryExtras {
  readonly projectId?: number;
  readonly groupId?: number;
  /** See {@link agentNameFor}. */
  readonly agentName?: string;
  readonly noAgent: boolean;
}

/**
 * The agent's name for a stack not named after its environment (`qa` with environment `dev`):
 * the stack's name. Agent names are unique in the platform project, and `agent.name` defaults to
 * the environment, whose own stack already registered an agent of that name. Undefined when the
 * default is right, the agent is off, or the stack name is not a valid agent name (a DNS label of
 * at most 40 characters; the config check then needs `platform:agent.name` set by hand).
 */
export function agentNameFor(
  stack: string,
  environment: string | undefined,
  noAgent: boolean,
): string | undefined {
  if (noAgent || environment === undefined || environment === "review" || stack === environment) {
    return undefined;
  }
  return DNS_LABEL.test(stack) && stack.length <= 40 ? stack : undefined;
}

/** The owned keys, in the order a new file lists them. */
export function stackEntries(
  values: Readonly<Partial<Record<ValueName, string>>>,
  extras: EntryExtras,
): Entry[] {
  const entries: [readonly string[], string | number | boolean | undefined][] = [
    [["config", "gitlab:baseUrl"], values.gitlabUrl],
    [["config", "platform:environment"], values.environment],
    [["config", "platform:kubeContext"], values.kubeContext],
    [["config", "platform:kubeApiServer"], values.kubeApiServer],
    [["config", "platform:gitlab", "projectPath"], values.projectPath],
    [["config", "platform:gitlab", "projectId"], extras.projectId],
    [["config", "platform:gitlab", "groupPath"], values.groupPath],
    [["config", "platform:gitlab", "groupId"], extras.groupId],
    [["config", "platform:agent", "name"], extras.agentName],
    [["config", "platform:features", "agent"], extras.noAgent ? false : undefined],
  ];
  return entries
    .filter((e): e is [readonly string[], string | number | boolean] => e[1] !== undefined)
    .map(([p, value]) => ({
      path: p,
      value: p[1] === "gitlab:baseUrl" ? canonicalUrl(String(value)) : value,
      ...(p[1] === "platform:agent" ? { soft: true } : {}),
    }));
}

/** `https://gitlab.example.com/api/v4/` → `https://gitlab.example.com`; anything else as it is. */
function canonicalUrl(url: string): string {
  try {
    return normalizeBaseUrl(url);
  } catch {
    return url;
  }
}

/** `["config", "platform:gitlab", "projectId"]` → `platform:gitlab.projectId`. */
export function keyName(entryPath: readonly string[]): string {
  const [, key, ...rest] = entryPath;
  return [key, ...rest].join(".");
}

/** An existing stack file, parsed. */
export interface ExistingFile {
  readonly text: string;
  readonly document: Document;
}

/** Reads `file` if it exists; a file that is not YAML is a {@link UsageError}. */
export function readExisting(file: string): ExistingFile | undefined {
  if (!fs.existsSync(file)) {
    return undefined;
  }
  const text = fs.readFileSync(file, "utf8");
  const document = parseDocument(text);
  if (document.errors.length > 0 || (document.contents !== null && !isMap(document.contents))) {
    const why = document.errors[0]?.message.split("\n")[0] ?? "expected a mapping at the top";
    throw new UsageError(`${path.basename(file)}: not valid YAML (${why})`);
  }
  return { text, document };
}

/** The values an existing file holds, as the flags would give them. */
export function existingValues(
  existing: ExistingFile | undefined,
): Partial<Record<ValueName, string>> {
  const at = (...p: string[]): string | undefined => {
    const v: unknown = existing?.document.getIn(["config", ...p]);
    return v === undefined || v === null || typeof v === "object" ? undefined : String(v);
  };
  const values: Partial<Record<ValueName, string>> = {
    gitlabUrl: at("gitlab:baseUrl"),
    environment: at("platform:environment"),
    kubeContext: at("platform:kubeContext"),
    kubeApiServer: at("platform:kubeApiServer"),
    projectPath: at("platform:gitlab", "projectPath"),
    groupPath: at("platform:gitlab", "groupPath"),
  };
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
}

/** A top-level key of an existing file (`encryptionsalt`, `secretsprovider`). */
export function topLevel(existing: ExistingFile | undefined, key: string): unknown {
  return existing?.document.get(key);
}

/** Whether the file already holds an encrypted `gitlab:token`. */
export function hasSecureToken(existing: ExistingFile | undefined): boolean {
  const token: unknown = existing?.document.getIn(["config", "gitlab:token", "secure"]);
  return typeof token === "string" && token !== "";
}

/** What writing the entries would do to the file. */
export interface StackFilePlan {
  /** `create`: no file yet; `unchanged`: it has every value; `update`: keys to add or replace. */
  readonly action: "create" | "unchanged" | "update";
  /** The file's content afterwards. */
  readonly text: string;
  /** Keys the file lacks and gets. */
  readonly added: readonly string[];
  /** Keys whose values differ from the file's: refused without `force`, replaced with it. */
  readonly conflicts: readonly { key: string; file: unknown; given: unknown }[];
}

function same(entry: Entry, current: unknown): boolean {
  if (entry.path[1] === "gitlab:baseUrl" && typeof current === "string") {
    return canonicalUrl(current) === entry.value;
  }
  return String(current) === String(entry.value);
}

/** The header of a new file. */
export function header(stack: string, environment: string, schema: boolean): string {
  return [
    ...(schema ? [`# yaml-language-server: $schema=./${STACK_SCHEMA}`] : []),
    `# Stack ${stack} (environment ${environment}), written by \`npm run bootstrap -- ${stack}\``,
    "# (docs/bootstrap.md). docs/configuration.md documents every key. gitlab:token is added",
    "# encrypted by `pulumi config set --secret`; never write credentials here in plain text.",
    "",
  ].join("\n");
}

/**
 * The file after writing `entries`: a new one (with {@link header}), or the existing one with the
 * missing keys added and, with `force`, the differing ones replaced. Without `force` the
 * differing keys keep the file's values and are listed as conflicts.
 */
export function planStackFile(
  stack: string,
  existing: ExistingFile | undefined,
  entries: readonly Entry[],
  options: { readonly force: boolean; readonly schema: boolean },
): StackFilePlan {
  if (existing === undefined) {
    const document = new Document({});
    for (const entry of entries) {
      document.setIn(entry.path, entry.value);
    }
    const environment = entries.find((e) => e.path[1] === "platform:environment")?.value;
    return {
      action: "create",
      text: header(stack, String(environment ?? ""), options.schema) + document.toString(),
      added: entries.map((e) => keyName(e.path)),
      conflicts: [],
    };
  }
  const document = existing.document.clone();
  const added: string[] = [];
  const conflicts: { key: string; file: unknown; given: unknown }[] = [];
  for (const entry of entries) {
    const current: unknown = document.getIn(entry.path);
    if (current === undefined) {
      added.push(keyName(entry.path));
      document.setIn(entry.path, entry.value);
    } else if (entry.soft !== true && !same(entry, current)) {
      conflicts.push({ key: keyName(entry.path), file: current, given: entry.value });
      if (options.force) {
        document.setIn(entry.path, entry.value);
      }
    }
  }
  const changed = added.length > 0 || (options.force && conflicts.length > 0);
  return {
    action: changed ? "update" : "unchanged",
    text: changed ? document.toString() : existing.text,
    added,
    conflicts,
  };
}

/**
 * Validates a stack file's content as the program would see it, with `gitlab:token` counted as
 * the secret the bootstrap stores. Throws the program's `ConfigError`.
 */
export function validateStackText(
  stack: string,
  root: string,
  text: string,
  env: Readonly<Record<string, string | undefined>>,
): EnvironmentConfig {
  const projectFile = parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as unknown;
  const stackFile = (parse(text) ?? {}) as { config?: Record<string, unknown> };
  const withToken = {
    ...stackFile,
    config: { ...stackFile.config, "gitlab:token": { secure: "stored-by-the-bootstrap" } },
  };
  // GITLAB_BASE_URL must not stand in for a missing gitlab:baseUrl: the file has to hold it.
  const { source } = stackSource(stack, projectFile, withToken, { ...env, GITLAB_BASE_URL: "" });
  return parseEnvironmentConfig(source);
}
