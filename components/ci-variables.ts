import * as pulumi from "@pulumi/pulumi";
import {
  GroupVariable,
  ProjectVariable,
  VariableType,
  validateEnvironmentScope,
  validateVariableKey,
} from "./gitlab";

/** One CI/CD variable from the stack config. */
export interface CiVariableEntry {
  /** The variable's name: letters, digits and `_`. */
  readonly key: string;
  /** The value; sent and kept as a secret whatever it is. */
  readonly value: pulumi.Input<string>;
  /** Created on the platform project (`projectPath`) or on the group (`groupPath`). */
  readonly target: "project" | "group";
  /** `env_var` or `file`. */
  readonly variableType: VariableType;
  /** Only pipelines on protected refs get it. */
  readonly protected: boolean;
  /** Masked in job logs (GitLab then requires a maskable value). */
  readonly masked: boolean;
  /** Not expanded: `$OTHER` stays literal. */
  readonly raw: boolean;
  /** The environments that get it (`*`, `production`, `review/*`). */
  readonly environmentScope: string;
  /** Shown in GitLab; none when omitted. */
  readonly description?: string | undefined;
}

/** What the platform publishes to one application project for one environment scope. */
export interface PublishedAppVariables {
  /** The app's name (for descriptions and error messages). */
  readonly app: string;
  /** Full path of the app's GitLab project. */
  readonly project: string;
  /** The environment scope the variables are for (the stack's environment). */
  readonly environmentScope: string;
  /** Published as `KUBE_NAMESPACE`. */
  readonly namespace: string;
  /** Published as `IMAGE_REPOSITORY`. */
  readonly imageRepository: string;
  /** Agent apps: the agent's kube context, published as `KUBE_CONTEXT`. None when omitted. */
  readonly kubeContext?: string;
  /** Direct apps: the deployer kubeconfig (no credential inside), published as file `KUBECONFIG`. */
  readonly kubeconfig?: pulumi.Output<string>;
  /** Direct apps: the deployer token, published as masked `KUBE_TOKEN`. Given with `kubeconfig`. */
  readonly kubeToken?: pulumi.Output<string>;
  /**
   * Whether `KUBECONFIG` and `KUBE_TOKEN` are protected (only pipelines of protected branches and
   * tags get them). Default `true`. Review apps deploy from merge-request branches, which are not
   * protected: there they must be `false`.
   */
  readonly protectCredentials?: boolean;
  /**
   * Publish `KUBE_TOKEN` masked and hidden (GitLab 17.4+): nobody reads it back in GitLab's UI or
   * API. Default `false`.
   */
  readonly hideToken?: boolean;
}

/** Arguments of {@link CiVariables}. */
export interface CiVariablesArgs {
  /** Full path of the platform project: the owner of `target: "project"` variables. */
  readonly projectPath: string;
  /** Full path of the group: the owner of `target: "group"` variables. Required only by those. */
  readonly groupPath?: string | undefined;
  /** The variables from config. */
  readonly variables: readonly CiVariableEntry[];
  /** Per app: what the platform publishes to the app's project. */
  readonly published: readonly PublishedAppVariables[];
  /**
   * Take over variables that already exist with the same key and scope (a hand-made
   * `KUBE_NAMESPACE`): their values and settings become these, and destroy deletes them. Default
   * `false`: such a variable stops the run with an error naming it.
   */
  readonly adoptExisting?: boolean;
}

/** One variable to create, whichever input it came from. */
export interface PlannedVariable {
  /** Where it came from, for messages: `variables[1] (KEY)`, `published[0] (app "web") KEY`. */
  readonly origin: string;
  readonly target: "project" | "group";
  /** The project's or group's full path. */
  readonly owner: string;
  readonly key: string;
  readonly value: pulumi.Input<string>;
  readonly variableType: VariableType;
  readonly protected: boolean;
  readonly masked: boolean;
  /** Masked and hidden (set on creation only). */
  readonly hidden: boolean;
  readonly raw: boolean;
  readonly environmentScope: string;
  readonly description: string | undefined;
}

/**
 * Every CI/CD variable of the stack: those from config, on the platform project or the group,
 * and those the platform publishes to each app project for its environment scope (`KUBE_NAMESPACE`,
 * `IMAGE_REPOSITORY`, `KUBE_CONTEXT` for agent apps, `KUBECONFIG` and `KUBE_TOKEN` for direct
 * apps). All arguments are checked, duplicates included, before anything is registered.
 */
export class CiVariables extends pulumi.ComponentResource {
  /** `<project or group path>:<key>:<environment scope>` of every variable, in creation order. */
  public readonly variableIds: pulumi.Output<string[]>;

  constructor(name: string, args: CiVariablesArgs, opts?: pulumi.ComponentResourceOptions) {
    // Planned (and so validated) before anything is registered, the component included.
    const planned = planCiVariables(name, args);
    super("platform:ci:CiVariables", name, {}, opts);
    for (const v of planned) {
      const common = {
        key: v.key,
        // ProjectVariable/GroupVariable wrap the value in pulumi.secret themselves.
        value: v.value,
        protected: v.protected,
        masked: v.masked,
        ...(v.hidden ? { hidden: true } : {}),
        raw: v.raw,
        variableType: v.variableType,
        environmentScope: v.environmentScope,
        ...(v.description === undefined ? {} : { description: v.description }),
        ...(args.adoptExisting === true ? { adoptExisting: true } : {}),
      };
      const childName = variableChildName(name, v);
      if (v.target === "project") {
        new ProjectVariable(childName, { project: v.owner, ...common }, { parent: this });
      } else {
        new GroupVariable(childName, { group: v.owner, ...common }, { parent: this });
      }
    }
    this.variableIds = pulumi.output(planned.map(variableId));
    this.registerOutputs({ variableIds: this.variableIds });
  }
}

/** `<owner>:<key>:<scope>`, the import id of @pulumi/gitlab's variables. */
export function variableId(v: Pick<PlannedVariable, "owner" | "key" | "environmentScope">): string {
  return `${v.owner}:${v.key}:${v.environmentScope}`;
}

/**
 * The child's Pulumi name: `<name>-<target>:<owner>:<key>:<scope>`. `:` occurs in no GitLab path,
 * key or scope, so the parts never run into each other; in the scope, characters other than
 * letters, digits and `_ . / -` (`*`, `$`, `{`, `}`, space) become `%XX`, which keeps the name
 * shell-friendly and still one-to-one.
 */
export function variableChildName(
  name: string,
  v: Pick<PlannedVariable, "target" | "owner" | "key" | "environmentScope">,
): string {
  const scope = v.environmentScope.replace(
    /[^A-Za-z0-9_./-]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`,
  );
  return `${name}-${v.target}:${v.owner}:${v.key}:${scope}`;
}

/** Every key {@link publishedVariables} may publish to an app project (which depends on the app's method). */
export const PUBLISHED_KEYS: readonly string[] = [
  "KUBE_NAMESPACE",
  "IMAGE_REPOSITORY",
  "KUBE_CONTEXT",
  "KUBECONFIG",
  "KUBE_TOKEN",
];

/** The variables published to one app project (see {@link PublishedAppVariables}). */
export function publishedVariables(p: PublishedAppVariables, index: number): PlannedVariable[] {
  const base = {
    target: "project" as const,
    owner: p.project,
    environmentScope: p.environmentScope,
  };
  const origin = (key: string) => `published[${index}] (app ${JSON.stringify(p.app)}) ${key}`;
  // Plain facts, not credentials: unprotected so that every ref's jobs (lint, dry runs) see them;
  // raw because they are literal values with nothing to expand.
  const plain = (key: string, value: pulumi.Input<string>, description: string) => ({
    ...base,
    origin: origin(key),
    key,
    value,
    variableType: "env_var" as const,
    protected: false,
    masked: false,
    hidden: false,
    raw: true,
    description: `${description} (published by the platform)`,
  });
  const result: PlannedVariable[] = [
    plain("KUBE_NAMESPACE", p.namespace, `Kubernetes namespace of ${p.app}`),
    plain("IMAGE_REPOSITORY", p.imageRepository, `Container image repository of ${p.app}`),
  ];
  if (p.kubeContext !== undefined) {
    result.push(plain("KUBE_CONTEXT", p.kubeContext, `GitLab agent kube context for ${p.app}`));
  }
  if (p.kubeconfig !== undefined && p.kubeToken !== undefined) {
    result.push(
      {
        ...base,
        origin: origin("KUBECONFIG"),
        key: "KUBECONFIG",
        value: p.kubeconfig,
        // GitLab writes a file variable to a file and sets KUBECONFIG to its path, as kubectl
        // expects. It holds no credential, so it need not (and, being multi-line, could not) be
        // masked. raw: its exec script reads `$KUBE_TOKEN` at run time; expanded, GitLab would
        // write the token into the file (it expands file variables' content, gitlab#209670).
        variableType: "file",
        protected: p.protectCredentials ?? true,
        masked: false,
        hidden: false,
        raw: true,
        description: `Kubeconfig of ${p.app}'s deployer; reads the token from KUBE_TOKEN (published by the platform)`,
      },
      {
        ...base,
        origin: origin("KUBE_TOKEN"),
        key: "KUBE_TOKEN",
        value: p.kubeToken,
        // The credential: masked in job logs, and (by default) only for protected refs. A JWT
        // fits GitLab's non-raw masking alphabet.
        variableType: "env_var",
        protected: p.protectCredentials ?? true,
        masked: true,
        hidden: p.hideToken ?? false,
        raw: false,
        description: `Token of ${p.app}'s deployer ServiceAccount (published by the platform)`,
      },
    );
  }
  return result;
}

/**
 * All variables of `args` in creation order (config first, then published), after checking
 * keys, scopes, group targets, the published kube settings and duplicates. Throws one error
 * listing every problem, each line prefixed with `CiVariables "<name>": `.
 */
export function planCiVariables(name: string, args: CiVariablesArgs): PlannedVariable[] {
  const problems: string[] = [];
  const planned: PlannedVariable[] = [];
  args.variables.forEach((v, i) => {
    const origin = `variables[${i}] (${v.key})`;
    if (v.target === "group" && args.groupPath === undefined) {
      problems.push(`${origin}: target "group" needs groupPath, which is not set`);
      return;
    }
    const keyProblem = validateVariableKey(v.key);
    if (keyProblem !== undefined) {
      problems.push(`${origin}: key: ${keyProblem}`);
    }
    const scopeProblem = validateEnvironmentScope(v.environmentScope);
    if (scopeProblem !== undefined) {
      problems.push(`${origin}: environmentScope: ${scopeProblem}`);
    }
    planned.push({
      origin,
      target: v.target,
      owner: v.target === "group" ? (args.groupPath as string) : args.projectPath,
      key: v.key,
      value: v.value,
      variableType: v.variableType,
      protected: v.protected,
      masked: v.masked,
      hidden: false,
      raw: v.raw,
      environmentScope: v.environmentScope,
      description: v.description,
    });
  });
  args.published.forEach((p, i) => {
    const origin = `published[${i}] (app ${JSON.stringify(p.app)})`;
    const scopeProblem = validateEnvironmentScope(p.environmentScope);
    if (scopeProblem !== undefined) {
      problems.push(`${origin}: environmentScope: ${scopeProblem}`);
    }
    if ((p.kubeconfig === undefined) !== (p.kubeToken === undefined)) {
      problems.push(`${origin}: kubeconfig and kubeToken go together (direct apps get both)`);
    }
    if (p.kubeContext !== undefined && p.kubeconfig !== undefined) {
      problems.push(
        `${origin}: kubeContext (agent) and kubeconfig (direct) exclude each other: an app deploys one way`,
      );
    }
    planned.push(...publishedVariables(p, i));
  });
  const seen = new Map<string, PlannedVariable>();
  for (const v of planned) {
    const identity = `${v.target}:${variableId(v)}`;
    const first = seen.get(identity);
    if (first === undefined) {
      seen.set(identity, v);
    } else {
      problems.push(
        `${v.origin} duplicates ${first.origin}: both set ${v.key} on ${v.target} ` +
          `${JSON.stringify(v.owner)} for environment scope ${JSON.stringify(v.environmentScope)}`,
      );
    }
  }
  if (problems.length > 0) {
    throw new Error(problems.map((p) => `CiVariables "${name}": ${p}`).join("\n"));
  }
  return planned;
}
