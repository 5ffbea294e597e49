import { UsageError, checkStackName } from "../pulumi";

/** The values a new stack needs from its user, besides the token. */
export const VALUE_NAMES = [
  "environment",
  "kubeContext",
  "gitlabUrl",
  "projectPath",
  "groupPath",
  "kubeApiServer",
] as const;

/** One of {@link VALUE_NAMES}. */
export type ValueName = (typeof VALUE_NAMES)[number];

/** Where a value comes from and how it is asked for. */
export interface ValueSpec {
  readonly name: ValueName;
  /** The command-line flag (`--kube-context`). */
  readonly flag: string;
  /** The environment variable that stands in for the flag. */
  readonly env: string;
  /** What it is called in prompts and messages. */
  readonly label: string;
  /** What a good value looks like. */
  readonly hint: string;
  /** Whether a stack cannot do without it. */
  readonly required: boolean;
}

/** Every value, in the order they are asked for. */
export const VALUES: readonly ValueSpec[] = [
  {
    name: "environment",
    flag: "--environment",
    env: "PLATFORM_ENVIRONMENT",
    label: "environment",
    hint: "dev, staging, production or review",
    required: true,
  },
  {
    name: "kubeContext",
    flag: "--kube-context",
    env: "PLATFORM_KUBE_CONTEXT",
    label: "kube context",
    hint: "a context of your kubeconfig",
    required: true,
  },
  {
    name: "gitlabUrl",
    flag: "--gitlab-url",
    env: "GITLAB_BASE_URL",
    label: "GitLab URL",
    hint: "such as https://gitlab.example.com",
    required: true,
  },
  {
    name: "projectPath",
    flag: "--project-path",
    env: "PLATFORM_PROJECT_PATH",
    label: "platform project path",
    hint: "such as acme/platform",
    required: true,
  },
  {
    name: "groupPath",
    flag: "--group-path",
    env: "PLATFORM_GROUP_PATH",
    label: "group path",
    hint: "such as acme; optional: group runners, group deploy tokens and variables",
    required: false,
  },
  {
    name: "kubeApiServer",
    flag: "--kube-api-server",
    env: "PLATFORM_KUBE_API_SERVER",
    label: "kube API server URL",
    hint: "such as https://k8s.example.com:6443; optional: needed once an app deploys direct",
    required: false,
  },
];

/** A parsed command line. */
export interface BootstrapArgs {
  readonly stack: string;
  /** Values given as flags, trimmed. */
  readonly flags: Readonly<Partial<Record<ValueName, string>>>;
  /** `--no-agent`: `features.agent: false`. */
  readonly noAgent: boolean;
  /** `--yes`: ask nothing; every value from flags, environment or the existing stack file. */
  readonly yes: boolean;
  /** `--force`: replace the values and the token an existing stack file has. */
  readonly force: boolean;
  readonly help: boolean;
}

const SWITCHES: Readonly<Record<string, "noAgent" | "yes" | "force" | "help">> = {
  "--no-agent": "noAgent",
  "--yes": "yes",
  "-y": "yes",
  "--force": "force",
  "--help": "help",
  "-h": "help",
};

/** Flags someone might try for the token. */
const TOKEN_FLAGS = ["--token", "--gitlab-token", "--private-token"];

/** The usage text, flags generated from {@link VALUES}. */
export function usage(): string {
  const row = (left: string, right: string) => `  ${left.padEnd(28)} ${right}`;
  return [
    "usage: npm run bootstrap -- <stack> [flags]",
    "",
    "Creates the stack <stack>: checks the prerequisites, writes Pulumi.<stack>.yaml, creates the",
    "stack, stores the GitLab token encrypted in it and runs a preview. Each value comes from its",
    "flag, else its environment variable, else an existing Pulumi.<stack>.yaml, else a prompt.",
    "",
    ...VALUES.map((v) =>
      row(`${v.flag} <${v.flag === "--environment" ? "env" : "value"}>`, `${v.hint} (${v.env})`),
    ),
    row("--no-agent", "no GitLab agent (features.agent: false)"),
    row("--yes, -y", "ask nothing (CI): every value from flags or the environment"),
    row("--force", "replace the values and the token an existing Pulumi.<stack>.yaml has"),
    row("--help, -h", "this text"),
    "",
    "The GitLab token comes from GITLAB_TOKEN or a hidden prompt, never from a flag. The stack's",
    "secrets passphrase comes from PULUMI_CONFIG_PASSPHRASE(_FILE) or a hidden prompt.",
  ].join("\n");
}

/** Parses `[stack, ...flags]`; throws a {@link UsageError} naming what is wrong. */
export function parseBootstrapArgs(argv: readonly string[]): BootstrapArgs {
  const flags: Partial<Record<ValueName, string>> = {};
  const switches = { noAgent: false, yes: false, force: false, help: false };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    const inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    if (TOKEN_FLAGS.includes(name)) {
      throw new UsageError(
        `${name}: the GitLab token is never taken from the command line (the process list and ` +
          "shell history would show it); set GITLAB_TOKEN or answer the prompt",
      );
    }
    const switchName = SWITCHES[name];
    if (switchName !== undefined && inline === undefined) {
      switches[switchName] = true;
      continue;
    }
    const spec = VALUES.find((v) => v.flag === name);
    if (spec !== undefined) {
      const value = inline ?? argv[++i];
      if (value === undefined || (inline === undefined && value.startsWith("--"))) {
        throw new UsageError(`${name}: expected a value (${spec.hint})`);
      }
      flags[spec.name] = value.trim();
      continue;
    }
    if (arg.startsWith("-")) {
      throw new UsageError(`unknown flag ${JSON.stringify(arg)}\n${usage()}`);
    }
    positional.push(arg);
  }
  if (switches.help) {
    return { stack: positional[0] ?? "", flags, ...switches };
  }
  const [stack, ...extra] = positional;
  if (stack === undefined) {
    throw new UsageError(`missing stack name\n${usage()}`);
  }
  if (extra.length > 0) {
    throw new UsageError(
      `one stack at a time: unexpected ${extra.map((e) => JSON.stringify(e)).join(", ")}`,
    );
  }
  checkStackName(stack);
  return { stack, flags, ...switches };
}
