import { Environments } from "@gitbeaker/rest";
import * as pulumi from "@pulumi/pulumi";
import { ClientSettings } from "./client";
import {
  BaseInputs,
  Failure,
  defineProvider,
  failures,
  ifKnown,
  required,
  splitId,
  GitLabResource,
  createOrAdopt,
} from "./resource";

const TYPE = "ProjectEnvironment";

/** GitLab's deployment tiers. */
export type EnvironmentTier = "production" | "staging" | "testing" | "development" | "other";
const TIERS: readonly string[] = ["production", "staging", "testing", "development", "other"];

/**
 * GitLab's environment name rule: letters, digits, spaces and `-_/${}.`, not starting or ending
 * with `/`, at most 255.
 */
export function validateEnvironmentName(name: string): string | undefined {
  const ok =
    typeof name === "string" &&
    name.length <= 255 &&
    /^[a-zA-Z0-9_${}. -]([a-zA-Z0-9_/${}. -]*[a-zA-Z0-9_${}. -])?$/.test(name);
  return ok
    ? undefined
    : "expected letters, digits, spaces and '-', '_', '/', '$', '{', '}', '.', not starting or " +
        `ending with '/', at most 255 characters, got ${JSON.stringify(name)}`;
}

/** A Kubernetes namespace name (DNS-1123 label). */
export function validateKubernetesNamespace(namespace: string): string | undefined {
  return namespace.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace)
    ? undefined
    : `expected a DNS-1123 label (lowercase letters, digits, '-', at most 63), got ${JSON.stringify(namespace)}`;
}

interface EnvironmentInputs extends BaseInputs {
  readonly project: string;
  readonly name: string;
  readonly externalUrl?: string;
  readonly tier?: EnvironmentTier;
  readonly clusterAgentId?: number;
  readonly kubernetesNamespace?: string;
  readonly fluxResourcePath?: string;
  readonly description?: string;
  readonly stopBeforeDestroy?: boolean;
  readonly adoptExisting?: boolean;
}

interface EnvironmentOutputs extends EnvironmentInputs {
  readonly environmentId: number;
  readonly slug: string;
  readonly state: string;
}

interface EnvironmentSchema {
  readonly id: number;
  readonly name: string;
  readonly slug: string;
  readonly external_url: string | null;
  readonly state: string;
  readonly tier: EnvironmentTier;
  readonly cluster_agent?: { id: number } | null;
  readonly kubernetes_namespace?: string | null;
  readonly flux_resource_path?: string | null;
  readonly description?: string | null;
}

function validateEnvironment(i: Record<string, unknown>): Failure[] {
  return failures(
    ["project", required(i.project)],
    ["name", required(i.name) ?? ifKnown(i.name, validateEnvironmentName)],
    [
      "tier",
      ifKnown<string>(i.tier, (t) =>
        TIERS.includes(t)
          ? undefined
          : `expected one of ${TIERS.join(", ")}, got ${JSON.stringify(t)}`,
      ),
    ],
    [
      "externalUrl",
      ifKnown<string>(i.externalUrl, (u) =>
        /^https?:\/\/[^\s/]+/.test(u)
          ? undefined
          : `expected an http(s) URL, got ${JSON.stringify(u)}`,
      ),
    ],
    ["kubernetesNamespace", ifKnown(i.kubernetesNamespace, validateKubernetesNamespace)],
    [
      "clusterAgentId",
      ifKnown<number>(i.clusterAgentId, (id) =>
        Number.isInteger(id) && id > 0 ? undefined : `expected a positive agent id, got ${id}`,
      ),
    ],
  );
}

const fromApi = (project: string, e: EnvironmentSchema): EnvironmentOutputs => ({
  project,
  name: e.name,
  externalUrl: e.external_url ?? undefined,
  tier: e.tier,
  clusterAgentId: e.cluster_agent?.id ?? undefined,
  kubernetesNamespace: e.kubernetes_namespace ?? undefined,
  fluxResourcePath: e.flux_resource_path ?? undefined,
  description: e.description ?? undefined,
  environmentId: e.id,
  slug: e.slug,
  state: e.state,
});

/** The settable fields; on update `null` clears one that is no longer given. */
const settable = (i: EnvironmentInputs, clear: boolean) => {
  const unset = clear ? null : undefined;
  return {
    externalUrl: i.externalUrl ?? unset,
    tier: i.tier,
    clusterAgentId: i.clusterAgentId ?? unset,
    kubernetesNamespace: i.kubernetesNamespace ?? unset,
    fluxResourcePath: i.fluxResourcePath ?? unset,
    description: i.description ?? unset,
  };
};

/** A provider for {@link ProjectEnvironment} with other retry and timeout settings. */
export function createProjectEnvironmentProvider(overrides?: Partial<ClientSettings>) {
  return defineProvider<EnvironmentInputs, EnvironmentOutputs>(
    {
      type: TYPE,
      validate: validateEnvironment,
      normalize: (i) => ({ ...i, project: String(i.project) }),
      // GitLab no longer renames environments through the API.
      replaceOn: ["project", "name"],
      collidesIfSame: ["name"],
      updatable: [
        "externalUrl",
        "tier",
        "clusterAgentId",
        "kubernetesNamespace",
        "fluxResourcePath",
        "description",
        "stopBeforeDestroy",
      ],
      // GitLab picks a tier from the name when none is given.
      computed: ["tier"],
      create: async (api, i) => {
        const created = await createOrAdopt({
          api,
          adopt: i.adoptExisting,
          kind: "environments",
          what: `environment ${JSON.stringify(i.name)} of project ${JSON.stringify(i.project)}`,
          create: async () =>
            (await api
              .use(Environments)
              .create(
                i.project,
                i.name,
                settable(i, false) as never,
              )) as unknown as EnvironmentSchema,
          // App pipelines create their environment on their first deploy: adopted, it keeps its
          // id and deployment history and gets this resource's settings.
          takeOver: async () => {
            const found = (await api
              .use(Environments)
              .all(i.project, { name: i.name } as never)) as unknown as EnvironmentSchema[];
            const existing = found.find((e) => e.name === i.name);
            if (existing === undefined) {
              throw new Error(
                `${api.label}: GitLab said environment ${JSON.stringify(i.name)} exists in project ` +
                  `${JSON.stringify(i.project)}, but listing it found none; run again`,
              );
            }
            return (await api
              .use(Environments)
              .edit(
                i.project,
                existing.id,
                settable(i, true) as never,
              )) as unknown as EnvironmentSchema;
          },
        });
        return {
          id: `${i.project}:${created.id}`,
          outs: { ...i, ...fromApi(i.project, created) },
        };
      },
      read: async (api, id, props) => {
        const [project = "", environmentId = ""] = splitId(id, 2, "<project>:<environment_id>");
        const live = (await api
          .use(Environments)
          .show(project, Number(environmentId))) as unknown as EnvironmentSchema;
        return { ...fromApi(project, live), stopBeforeDestroy: props.stopBeforeDestroy };
      },
      update: async (api, _id, olds, news) => {
        const updated = (await api
          .use(Environments)
          .edit(
            olds.project,
            olds.environmentId,
            settable(news, true) as never,
          )) as unknown as EnvironmentSchema;
        return { ...news, ...fromApi(olds.project, updated) };
      },
      delete: async (api, _id, props) => {
        // GitLab deletes only stopped environments (403 otherwise). `force` stops it without
        // running the last deployment's `on_stop` job: removing the environment from Pulumi must
        // not start a teardown pipeline.
        if (props.stopBeforeDestroy === true && props.state !== "stopped") {
          await api.use(Environments).stop(props.project, props.environmentId, { force: "true" });
        }
        await api.use(Environments).remove(props.project, props.environmentId);
      },
    },
    overrides,
  );
}

/** The dynamic provider {@link ProjectEnvironment} registers with. */
export const ProjectEnvironmentProvider = createProjectEnvironmentProvider();

/** Arguments of {@link ProjectEnvironment}; the names of @pulumi/gitlab's `ProjectEnvironmentArgs`. */
export interface ProjectEnvironmentArgs {
  /** The project's id or full path. Changing it replaces the environment. */
  readonly project: pulumi.Input<string>;
  /** The environment's name (`production`, `review/app`). Changing it replaces it. */
  readonly name: pulumi.Input<string>;
  /** Where the deployed app is reachable. Default none. */
  readonly externalUrl?: pulumi.Input<string>;
  /** `production`, `staging`, `testing`, `development` or `other`. Default: GitLab derives it from the name. */
  readonly tier?: pulumi.Input<EnvironmentTier>;
  /** The agent (`ClusterAgent.agentId`) whose cluster GitLab shows for it. Default none. */
  readonly clusterAgentId?: pulumi.Input<number>;
  /** The namespace GitLab's environment view shows. Default none. */
  readonly kubernetesNamespace?: pulumi.Input<string>;
  /** The Flux resource (`kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations/app`) whose status GitLab shows. Default none. */
  readonly fluxResourcePath?: pulumi.Input<string>;
  /** A description. Default none. */
  readonly description?: pulumi.Input<string>;
  /** Stop the environment before deleting it; GitLab refuses to delete one that is running. Default `false`, as in @pulumi/gitlab. */
  readonly stopBeforeDestroy?: pulumi.Input<boolean>;
  /**
   * When the project already has an environment of this name, take it over (it keeps its id and
   * history, gets these settings, and destroy deletes it) instead of failing. An addition to
   * @pulumi/gitlab's arguments. Default `false`.
   */
  readonly adoptExisting?: pulumi.Input<boolean>;
}

/**
 * A project environment (`/projects/:id/environments`), type token
 * `pulumi-nodejs:dynamic/gitlab:ProjectEnvironment`, id `<project>:<environment_id>` (the import
 * id of @pulumi/gitlab). `environmentId` is an addition to the official outputs.
 */
export class ProjectEnvironment extends GitLabResource {
  declare public readonly project: pulumi.Output<string>;
  declare public readonly name: pulumi.Output<string>;
  declare public readonly externalUrl: pulumi.Output<string | undefined>;
  declare public readonly tier: pulumi.Output<EnvironmentTier>;
  declare public readonly clusterAgentId: pulumi.Output<number | undefined>;
  declare public readonly kubernetesNamespace: pulumi.Output<string | undefined>;
  declare public readonly fluxResourcePath: pulumi.Output<string | undefined>;
  declare public readonly description: pulumi.Output<string | undefined>;
  declare public readonly stopBeforeDestroy: pulumi.Output<boolean | undefined>;
  /** GitLab's id of the environment. */
  declare public readonly environmentId: pulumi.Output<number>;
  /** The URL-safe name GitLab derives (`CI_ENVIRONMENT_SLUG`). */
  declare public readonly slug: pulumi.Output<string>;
  /** `available` or `stopped`. */
  declare public readonly state: pulumi.Output<string>;

  constructor(name: string, args: ProjectEnvironmentArgs, opts?: pulumi.CustomResourceOptions) {
    const props = {
      project: args.project,
      name: args.name,
      externalUrl: args.externalUrl,
      tier: args.tier,
      clusterAgentId: args.clusterAgentId,
      kubernetesNamespace: args.kubernetesNamespace,
      fluxResourcePath: args.fluxResourcePath,
      description: args.description,
      stopBeforeDestroy: args.stopBeforeDestroy,
      adoptExisting: args.adoptExisting,
      environmentId: undefined,
      slug: undefined,
      state: undefined,
    };
    super(
      { type: TYPE, provider: ProjectEnvironmentProvider, validate: validateEnvironment },
      name,
      args,
      props,
      opts,
    );
  }
}
