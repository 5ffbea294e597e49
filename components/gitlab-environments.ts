import * as pulumi from "@pulumi/pulumi";
import {
  type DeployAccessLevel,
  type EnvironmentTier,
  ProjectEnvironment,
  type ProjectEnvironmentArgs,
  ProjectProtectedEnvironment,
  type ProjectProtectedEnvironmentArgs,
  validateEnvironmentName,
  validateKubernetesNamespace,
} from "./gitlab";
import { DNS_LABEL, DNS_SUBDOMAIN } from "./formats";

/** GitLab's deployment tiers. */
export const ENVIRONMENT_TIERS: readonly EnvironmentTier[] = [
  "production",
  "staging",
  "testing",
  "development",
  "other",
];

/** GitLab accepts 0 to 5 required approvals on a protected environment. */
export const MAX_REQUIRED_APPROVALS = 5;

/** GitLab's length limit of an environment's external URL and Flux resource path. */
const MAX_PATH_LENGTH = 255;

/** One app project that gets the environment. */
export interface GitLabEnvironmentApp {
  /** The app's name (DNS-1123 label): the stable key of its children and outputs. */
  readonly app: string;
  /** Full path (or id) of the app's GitLab project. */
  readonly project: string;
  /** The app's Kubernetes namespace, shown by the environment's dashboard when `clusterAgentId` is given. */
  readonly namespace: string;
  /** Where the deployed app is reachable (`externalUrl`, http or https). Default none. */
  readonly url?: pulumi.Input<string>;
  /**
   * The GitLab agent (`ClusterAgent.agentId`) whose cluster the environment's Kubernetes dashboard
   * shows, in `namespace`. GitLab accepts only an agent registered in this same project whose
   * connected agentk authorizes the project under `user_access` (`lib/api/environments.rb`,
   * `Environments::CreateService`); anything else is a 400. Default none: no dashboard, and no
   * namespace is set (GitLab rejects a namespace without an agent).
   */
  readonly clusterAgentId?: pulumi.Input<number>;
  /**
   * The Flux Kustomization or HelmRelease whose reconciliation the dashboard shows, as GitLab's
   * full resource path (see {@link fluxKustomizationPath}). Needs `clusterAgentId`. Default none.
   */
  readonly fluxResourcePath?: string;
}

/** Who may deploy to the environment, and how many approvals a deployment needs. */
export interface EnvironmentProtection {
  /** The least project role that may run deploy jobs (and approve them). */
  readonly deployAccessLevel: "maintainer" | "developer";
  /** Approvals a deployment needs before it runs, 0 to 5. */
  readonly requiredApprovalCount: number;
}

/** Arguments of {@link GitLabEnvironments}. */
export interface GitLabEnvironmentsArgs {
  /** The environment's name in every app project (`production`): a concrete name, not a wildcard scope. */
  readonly name: string;
  /** The environment's deployment tier. */
  readonly tier: EnvironmentTier;
  /** One environment per app project; keyed by `app`. Empty: nothing is created. */
  readonly apps: readonly GitLabEnvironmentApp[];
  /**
   * Protect every app's environment (GitLab Premium): GitLab itself then refuses deploy jobs of
   * users below `deployAccessLevel` and waits for the approvals. Default none: unprotected.
   */
  readonly protection?: EnvironmentProtection;
  /**
   * Stop each environment before deleting it. GitLab deletes only stopped environments, so
   * without it a destroyed stack leaves its environments behind. Default `true`.
   */
  readonly stopBeforeDestroy?: boolean;
  /**
   * Take over environments (and protections) of this name that already exist, e.g. created by an
   * app pipeline's first deploy: they keep their id and history, get these settings, and are
   * deleted on destroy. Default `false`: an existing one stops the run with an error naming it.
   */
  readonly adoptExisting?: boolean;
}

/**
 * One GitLab environment per app project, with its Kubernetes dashboard (agent, namespace, Flux
 * resource) where an agent is given, and optionally protected so only the given role may deploy,
 * with required approvals. Deployments then show per app, with their history, in GitLab.
 */
export class GitLabEnvironments extends pulumi.ComponentResource {
  /** GitLab's environment id per app. */
  public readonly environmentIds: pulumi.Output<Record<string, number>>;
  /** The environment's slug (`CI_ENVIRONMENT_SLUG`) per app. */
  public readonly slugs: pulumi.Output<Record<string, string>>;
  /** The environments by app, for `dependsOn`. */
  public readonly environments: Readonly<Record<string, ProjectEnvironment>>;
  /** The protections by app; empty without `protection`. */
  public readonly protections: Readonly<Record<string, ProjectProtectedEnvironment>>;

  constructor(name: string, args: GitLabEnvironmentsArgs, opts?: pulumi.ComponentResourceOptions) {
    // Everything is checked before the component registers: bad config leaves no trace.
    const problems = gitLabEnvironmentsProblems(args);
    if (problems.length > 0) {
      throw new Error(problems.map((p) => `GitLabEnvironments "${name}": ${p}`).join("\n"));
    }
    super("platform:ci:GitLabEnvironments", name, {}, opts);

    const stopBeforeDestroy = args.stopBeforeDestroy ?? true;
    const environments: Record<string, ProjectEnvironment> = {};
    const protections: Record<string, ProjectProtectedEnvironment> = {};
    for (const app of args.apps) {
      const adopt = args.adoptExisting === true ? { adoptExisting: true } : {};
      const environment = new ProjectEnvironment(
        `${name}-${app.app}`,
        { ...environmentArgs(args, app, stopBeforeDestroy), ...adopt },
        { parent: this },
      );
      environments[app.app] = environment;
      if (args.protection !== undefined) {
        // GitLab protects by name and would accept a name with no environment yet; the
        // dependency creates the protection after its environment and removes it before.
        protections[app.app] = new ProjectProtectedEnvironment(
          `${name}-${app.app}-protection`,
          { ...protectionArgs(app.project, args.name, args.protection), ...adopt },
          { parent: this, dependsOn: [environment] },
        );
      }
    }
    this.environments = environments;
    this.protections = protections;

    const byApp = <T>(pick: (e: ProjectEnvironment) => pulumi.Output<T>) =>
      pulumi.all(
        Object.fromEntries(Object.entries(environments).map(([app, e]) => [app, pick(e)])),
      ) as pulumi.Output<Record<string, T>>;
    this.environmentIds = byApp((e) => e.environmentId);
    this.slugs = byApp((e) => e.slug);
    this.registerOutputs({ environmentIds: this.environmentIds, slugs: this.slugs });
  }
}

/**
 * The {@link ProjectEnvironment} arguments of `app`. The namespace is set only with an agent:
 * GitLab rejects a Kubernetes namespace without a cluster agent, and a Flux resource path without
 * a namespace.
 */
export function environmentArgs(
  args: Pick<GitLabEnvironmentsArgs, "name" | "tier">,
  app: GitLabEnvironmentApp,
  stopBeforeDestroy: boolean,
): ProjectEnvironmentArgs {
  const dashboard =
    app.clusterAgentId === undefined
      ? {}
      : {
          clusterAgentId: app.clusterAgentId,
          kubernetesNamespace: app.namespace,
          fluxResourcePath: app.fluxResourcePath,
        };
  return {
    project: app.project,
    name: args.name,
    tier: args.tier,
    externalUrl: app.url,
    ...dashboard,
    stopBeforeDestroy,
  };
}

/** The {@link ProjectProtectedEnvironment} arguments protecting `environment` in `project`. */
export function protectionArgs(
  project: string,
  environment: string,
  protection: EnvironmentProtection,
): ProjectProtectedEnvironmentArgs {
  return {
    project,
    environment,
    deployAccessLevels: deployAccessLevels(protection),
    requiredApprovalCount: protection.requiredApprovalCount,
  };
}

/**
 * Who may deploy: the role, and everyone above it (GitLab's access levels are minimums; the
 * protected-environment resource maps the names to 30 and 40).
 */
export function deployAccessLevels(protection: EnvironmentProtection): DeployAccessLevel[] {
  return [{ accessLevel: protection.deployAccessLevel }];
}

/**
 * GitLab's Flux resource path: `<apiVersion>/namespaces/<namespace>/<kustomizations|helmreleases>/<name>`,
 * as GitLab's environment settings build it from the resource's `apiVersion`.
 */
const FLUX_RESOURCE_PATH =
  /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/v[0-9]+((alpha|beta)[0-9]+)?\/namespaces\/[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\/(kustomizations|helmreleases)\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/**
 * GitLab's path of the Flux `Kustomization` (`kustomize.toolkit.fluxcd.io/v1`) `name` in
 * `namespace`, for {@link GitLabEnvironmentApp.fluxResourcePath}.
 */
export function fluxKustomizationPath(namespace: string, name: string): string {
  const badNamespace = validateKubernetesNamespace(namespace);
  if (badNamespace !== undefined) {
    throw new Error(`fluxKustomizationPath: namespace: ${badNamespace}`);
  }
  if (!DNS_SUBDOMAIN.test(name)) {
    throw new Error(
      `fluxKustomizationPath: name: expected a DNS-1123 subdomain, got ${JSON.stringify(name)}`,
    );
  }
  return `kustomize.toolkit.fluxcd.io/v1/namespaces/${namespace}/kustomizations/${name}`;
}

function shown(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}

function nameProblem(name: string): string | undefined {
  if (typeof name === "string" && name.includes("*")) {
    return `name: expected a concrete environment name, not a wildcard scope, got ${shown(name)}`;
  }
  if (typeof name === "string" && name.includes("$")) {
    return `name: expected a concrete environment name, not a CI/CD variable reference, got ${shown(name)}`;
  }
  const bad = validateEnvironmentName(name);
  return bad === undefined ? undefined : `name: ${bad}`;
}

function appProblems(app: GitLabEnvironmentApp, at: string): string[] {
  const problems: string[] = [];
  if (typeof app.app !== "string" || !DNS_LABEL.test(app.app)) {
    problems.push(`${at}.app: expected a DNS-1123 label (the app's name), got ${shown(app.app)}`);
  }
  if (typeof app.project !== "string" || app.project.trim() === "") {
    problems.push(`${at}.project: expected a GitLab project path, got ${shown(app.project)}`);
  }
  const badNamespace = validateKubernetesNamespace(String(app.namespace));
  if (badNamespace !== undefined) {
    problems.push(`${at}.namespace: ${badNamespace}`);
  }
  // Outputs are checked by the resource's provider; plain values can be checked now.
  if (
    typeof app.url === "string" &&
    (app.url.length > MAX_PATH_LENGTH || !/^https?:\/\/[^\s/]+/.test(app.url))
  ) {
    problems.push(
      `${at}.url: expected an http(s) URL of at most 255 characters, got ${shown(app.url)}`,
    );
  }
  if (
    typeof app.clusterAgentId === "number" &&
    !(Number.isInteger(app.clusterAgentId) && app.clusterAgentId > 0)
  ) {
    problems.push(`${at}.clusterAgentId: expected a positive agent id, got ${app.clusterAgentId}`);
  }
  const path = app.fluxResourcePath;
  if (path !== undefined) {
    if (app.clusterAgentId === undefined) {
      problems.push(
        `${at}.fluxResourcePath: needs clusterAgentId (GitLab shows Flux status only through an agent, and rejects a Flux resource path without an agent's namespace)`,
      );
    }
    if (
      typeof path !== "string" ||
      path.length > MAX_PATH_LENGTH ||
      !FLUX_RESOURCE_PATH.test(path)
    ) {
      problems.push(
        `${at}.fluxResourcePath: expected <apiVersion>/namespaces/<namespace>/kustomizations|helmreleases/<name> ` +
          `(kustomize.toolkit.fluxcd.io/v1/namespaces/web/kustomizations/web), at most 255 characters, got ${shown(path)}`,
      );
    }
  }
  return problems;
}

function protectionProblems(protection: EnvironmentProtection): string[] {
  const problems: string[] = [];
  const level = protection.deployAccessLevel;
  if (level !== "maintainer" && level !== "developer") {
    problems.push(
      `protection.deployAccessLevel: expected "maintainer" or "developer", got ${shown(level)}`,
    );
  }
  const count = protection.requiredApprovalCount;
  if (!Number.isInteger(count) || count < 0 || count > MAX_REQUIRED_APPROVALS) {
    problems.push(
      `protection.requiredApprovalCount: expected a whole number from 0 to ${MAX_REQUIRED_APPROVALS}, got ${shown(count)}`,
    );
  }
  return problems;
}

/** Every problem with `args` (`field: expected …, got …`); empty when they are valid. */
export function gitLabEnvironmentsProblems(args: GitLabEnvironmentsArgs): string[] {
  const problems: string[] = [];
  const badName = nameProblem(args.name);
  if (badName !== undefined) {
    problems.push(badName);
  }
  if (!ENVIRONMENT_TIERS.includes(args.tier)) {
    problems.push(`tier: expected one of ${ENVIRONMENT_TIERS.join(", ")}, got ${shown(args.tier)}`);
  }
  const apps = new Map<string, number>();
  const projects = new Map<string, number>();
  for (const [index, app] of args.apps.entries()) {
    const at = `apps[${index}]`;
    problems.push(...appProblems(app, at));
    const sameApp = apps.get(app.app);
    if (sameApp !== undefined) {
      problems.push(`${at}.app: ${shown(app.app)} is already listed as apps[${sameApp}]`);
    } else {
      apps.set(app.app, index);
    }
    // One project holds one environment of a name: a second would collide in GitLab.
    const sameProject = projects.get(app.project);
    if (sameProject !== undefined) {
      problems.push(
        `${at}.project: ${shown(app.project)} already gets environment ${shown(args.name)} from apps[${sameProject}]`,
      );
    } else {
      projects.set(app.project, index);
    }
  }
  if (args.protection !== undefined) {
    problems.push(...protectionProblems(args.protection));
  }
  if (args.stopBeforeDestroy !== undefined && typeof args.stopBeforeDestroy !== "boolean") {
    problems.push(
      `stopBeforeDestroy: expected true or false, got ${shown(args.stopBeforeDestroy)}`,
    );
  }
  return problems;
}
