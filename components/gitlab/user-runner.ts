import { Runners, Users } from "@gitbeaker/rest";
import * as pulumi from "@pulumi/pulumi";
import { Api, ClientSettings } from "./client";
import {
  BaseInputs,
  Failure,
  defineProvider,
  failures,
  ifKnown,
  known,
  required,
  GitLabResource,
} from "./resource";

const TYPE = "UserRunner";

/** `instance_type` (administrators), `group_type` or `project_type`. */
export type RunnerType = "instance_type" | "group_type" | "project_type";
/** `not_protected` or `ref_protected` (only jobs of protected branches and tags). */
export type RunnerAccessLevel = "not_protected" | "ref_protected";

const RUNNER_TYPES: readonly string[] = ["instance_type", "group_type", "project_type"];

/** One of `instance_type`, `group_type`, `project_type`. */
export function validateRunnerType(runnerType: string): string | undefined {
  return RUNNER_TYPES.includes(runnerType)
    ? undefined
    : `expected one of ${RUNNER_TYPES.join(", ")}, got ${JSON.stringify(runnerType)}`;
}

/**
 * `project_type` needs `projectId` and no `groupId`, `group_type` the reverse, `instance_type`
 * neither. Returns `[field, problem]` or undefined.
 */
export function validateRunnerTarget(
  runnerType: string,
  projectId: unknown,
  groupId: unknown,
): [string, string] | undefined {
  const has = (v: unknown) => v !== undefined && v !== null;
  const expect = { project_type: "projectId", group_type: "groupId" }[runnerType];
  if (expect === "projectId" && !has(projectId)) {
    return ["projectId", "is required when runnerType is project_type"];
  }
  if (expect === "groupId" && !has(groupId)) {
    return ["groupId", "is required when runnerType is group_type"];
  }
  if (expect !== "projectId" && has(projectId)) {
    return ["projectId", `must not be set when runnerType is ${runnerType}`];
  }
  if (expect !== "groupId" && has(groupId)) {
    return ["groupId", `must not be set when runnerType is ${runnerType}`];
  }
  return undefined;
}

/** Provider-side inputs of a runner. */
interface RunnerInputs extends BaseInputs {
  readonly runnerType: RunnerType;
  readonly projectId?: number;
  readonly groupId?: number;
  readonly description?: string;
  readonly tagLists?: string[];
  readonly untagged?: boolean;
  readonly locked?: boolean;
  readonly accessLevel?: RunnerAccessLevel;
  readonly maximumTimeout?: number;
  readonly paused?: boolean;
  readonly maintenanceNote?: string;
}

interface RunnerOutputs extends RunnerInputs {
  readonly token?: string;
  readonly runnerId: number;
  readonly tokenExpiresAt?: string;
}

/** Problems with the settings `PUT /runners/:id` takes. */
function validateRunnerSettings(i: Record<string, unknown>): Failure[] {
  return failures(
    [
      "accessLevel",
      ifKnown<string>(i.accessLevel, (a) =>
        a === "not_protected" || a === "ref_protected"
          ? undefined
          : `expected "not_protected" or "ref_protected", got ${JSON.stringify(a)}`,
      ),
    ],
    [
      "maximumTimeout",
      ifKnown<number>(i.maximumTimeout, (t) =>
        Number.isInteger(t) && t >= 600
          ? undefined
          : `expected whole seconds, at least 600, got ${t}`,
      ),
    ],
    [
      "tagLists",
      ifKnown<string[]>(i.tagLists, (tags) =>
        tags.find((t) => t.trim() === "" || t.includes(","))
          ? "tags must be non-empty and cannot contain ','"
          : undefined,
      ),
    ],
  );
}

function validateRunner(i: Record<string, unknown>): Failure[] {
  const type = i.runnerType;
  const target =
    known(type) &&
    RUNNER_TYPES.includes(type as string) &&
    known(i.projectId ?? 0) &&
    known(i.groupId ?? 0)
      ? validateRunnerTarget(type as string, i.projectId, i.groupId)
      : undefined;
  return [
    ...failures(
      ["runnerType", required(type) ?? ifKnown(type, validateRunnerType)],
      ...(target !== undefined ? [target] : []),
    ),
    ...validateRunnerSettings(i),
  ];
}

interface RunnerSchema {
  readonly runner_type: RunnerType;
  readonly description: string | null;
  readonly paused: boolean;
  readonly tag_list: string[] | null;
  readonly run_untagged: boolean;
  readonly locked: boolean;
  readonly access_level: RunnerAccessLevel;
  readonly maximum_timeout: number | null;
  readonly maintenance_note: string | null;
  readonly projects?: { id: number }[];
  readonly groups?: { id: number }[];
}

function fromApi(id: number, r: RunnerSchema): Omit<RunnerOutputs, "token" | "tokenExpiresAt"> {
  return {
    runnerId: id,
    runnerType: r.runner_type,
    projectId: r.runner_type === "project_type" ? r.projects?.[0]?.id : undefined,
    groupId: r.runner_type === "group_type" ? r.groups?.[0]?.id : undefined,
    description: r.description ?? undefined,
    tagLists: [...(r.tag_list ?? [])].sort(),
    untagged: r.run_untagged,
    locked: r.locked,
    accessLevel: r.access_level,
    maximumTimeout: r.maximum_timeout ?? undefined,
    paused: r.paused,
    maintenanceNote: r.maintenance_note ?? undefined,
  };
}

/** The mutable settings in the API's terms; `PUT /runners/:id` and `POST /user/runners`. */
function settings(i: Pick<RunnerInputs, (typeof RUNNER_SETTINGS)[number]>) {
  return {
    description: i.description,
    tagList: i.tagLists,
    runUntagged: i.untagged,
    locked: i.locked,
    accessLevel: i.accessLevel,
    maximumTimeout: i.maximumTimeout,
    paused: i.paused,
    maintenanceNote: i.maintenanceNote,
  };
}

/** The settings `PUT /runners/:id` changes; {@link UserRunnerSettings} manages them. */
export const RUNNER_SETTINGS = [
  "description",
  "tagLists",
  "untagged",
  "locked",
  "accessLevel",
  "maximumTimeout",
  "paused",
  "maintenanceNote",
] as const;

/** A provider for {@link UserRunner} with other retry and timeout settings. */
export function createUserRunnerProvider(overrides?: Partial<ClientSettings>) {
  return defineProvider<RunnerInputs, RunnerOutputs>(
    {
      type: TYPE,
      validate: validateRunner,
      normalize: (i) => ({
        ...i,
        tagLists: i.tagLists === undefined ? undefined : [...new Set(i.tagLists)].sort(),
      }),
      replaceOn: ["runnerType", "projectId", "groupId"],
      updatable: [...RUNNER_SETTINGS],
      // GitLab defaults what is not given (run untagged, not protected...); keep its values.
      computed: [...RUNNER_SETTINGS],
      create: async (api, i) => {
        const created = (await api.use(Users).createCIRunner(i.runnerType, {
          projectId: i.projectId,
          groupId: i.groupId,
          ...settings(i),
        } as never)) as unknown as { id: number; token: string; token_expires_at: string | null };
        return {
          id: String(created.id),
          outs: {
            ...i,
            runnerId: created.id,
            token: created.token,
            tokenExpiresAt: created.token_expires_at ?? undefined,
          },
        };
      },
      read: async (api, id, props) => {
        const live = (await api.use(Runners).show(Number(id))) as unknown as RunnerSchema;
        return {
          ...fromApi(Number(id), live),
          token: props.token,
          tokenExpiresAt: props.tokenExpiresAt,
        };
      },
      update: async (api, id, olds, news) => {
        const updated = (await api
          .use(Runners)
          .edit(Number(id), settings(news) as never)) as unknown as RunnerSchema;
        return {
          ...fromApi(Number(id), updated),
          token: olds.token,
          tokenExpiresAt: olds.tokenExpiresAt,
        };
      },
      delete: async (api, id) => {
        await api.use(Runners).remove({ runnerId: Number(id) });
      },
    },
    overrides,
  );
}

/** The dynamic provider {@link UserRunner} registers with. */
export const UserRunnerProvider = createUserRunnerProvider();

/** Arguments of {@link UserRunner}; the names of @pulumi/gitlab's `UserRunnerArgs`. */
export interface UserRunnerArgs {
  /** `instance_type`, `group_type` or `project_type`. Changing it replaces the runner. */
  readonly runnerType: pulumi.Input<RunnerType>;
  /** The project's numeric id; required for (and only for) `project_type`. */
  readonly projectId?: pulumi.Input<number>;
  /** The group's numeric id; required for (and only for) `group_type`. */
  readonly groupId?: pulumi.Input<number>;
  /** Shown in GitLab's runner list. Default none. */
  readonly description?: pulumi.Input<string>;
  /** Job tags the runner picks up. Default none. */
  readonly tagLists?: pulumi.Input<pulumi.Input<string>[]>;
  /** Whether it also runs jobs without tags. Default GitLab's (`true`). */
  readonly untagged?: pulumi.Input<boolean>;
  /** Whether a project runner is locked to its project. Default GitLab's (`false`). */
  readonly locked?: pulumi.Input<boolean>;
  /** `ref_protected` limits it to protected branches and tags. Default GitLab's (`not_protected`). */
  readonly accessLevel?: pulumi.Input<RunnerAccessLevel>;
  /** Job timeout cap in seconds, at least 600. Default none. */
  readonly maximumTimeout?: pulumi.Input<number>;
  /** Whether it stops taking jobs. Default `false`. */
  readonly paused?: pulumi.Input<boolean>;
  /** A note for administrators. Default none. */
  readonly maintenanceNote?: pulumi.Input<string>;
}

/** The settings of `args` as resource properties, every key present (undefined when not given). */
function settingsProps(args: UserRunnerSettingsArgs | UserRunnerArgs) {
  return Object.fromEntries(RUNNER_SETTINGS.map((k) => [k, args[k]]));
}

/**
 * A runner created with the runner creation workflow (`POST /user/runners`, token scope
 * `create_runner`), type token `pulumi-nodejs:dynamic/gitlab:UserRunner`, id the runner id (the
 * import id of @pulumi/gitlab). Settings change in place through `PUT /runners/:id`; the type and
 * owner replace it. `token` (`glrt-…`) is secret and only known for runners created here.
 * `runnerId` and `tokenExpiresAt` are additions: the official provider has the id only as the
 * resource id and no expiry output.
 */
export class UserRunner extends GitLabResource {
  declare public readonly runnerType: pulumi.Output<RunnerType>;
  declare public readonly projectId: pulumi.Output<number | undefined>;
  declare public readonly groupId: pulumi.Output<number | undefined>;
  declare public readonly description: pulumi.Output<string | undefined>;
  declare public readonly tagLists: pulumi.Output<string[]>;
  declare public readonly untagged: pulumi.Output<boolean>;
  declare public readonly locked: pulumi.Output<boolean>;
  declare public readonly accessLevel: pulumi.Output<RunnerAccessLevel>;
  declare public readonly maximumTimeout: pulumi.Output<number | undefined>;
  declare public readonly paused: pulumi.Output<boolean>;
  declare public readonly maintenanceNote: pulumi.Output<string | undefined>;
  /** The runner authentication token (`glrt-…`), secret. */
  declare public readonly token: pulumi.Output<string>;
  /** GitLab's id of the runner. */
  declare public readonly runnerId: pulumi.Output<number>;
  /** When the token expires, if the instance sets an expiry. */
  declare public readonly tokenExpiresAt: pulumi.Output<string | undefined>;

  constructor(name: string, args: UserRunnerArgs, opts?: pulumi.CustomResourceOptions) {
    const props = {
      runnerType: args.runnerType,
      projectId: args.projectId,
      groupId: args.groupId,
      ...settingsProps(args),
      token: undefined,
      runnerId: undefined,
      tokenExpiresAt: undefined,
    };
    super(
      {
        type: TYPE,
        provider: UserRunnerProvider,
        validate: validateRunner,
        secretOutputs: ["token"],
      },
      name,
      args,
      props,
      opts,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// The settings of an existing runner, apart from the runner and its token

const SETTINGS_TYPE = "UserRunnerSettings";

/** Provider-side inputs of {@link UserRunnerSettings}. */
interface SettingsInputs extends BaseInputs {
  readonly runnerId: number;
  readonly description?: string;
  readonly tagLists?: string[];
  readonly untagged?: boolean;
  readonly locked?: boolean;
  readonly accessLevel?: RunnerAccessLevel;
  readonly maximumTimeout?: number;
  readonly paused?: boolean;
  readonly maintenanceNote?: string;
}

function validateSettings(i: Record<string, unknown>): Failure[] {
  return [
    ...failures([
      "runnerId",
      required(i.runnerId) ??
        ifKnown<number>(i.runnerId, (id) =>
          Number.isInteger(id) && id > 0 ? undefined : `expected a runner id, got ${id}`,
        ),
    ]),
    ...validateRunnerSettings(i),
  ];
}

function settingsFromApi(id: number, r: RunnerSchema): SettingsInputs {
  const all = fromApi(id, r);
  return {
    runnerId: id,
    ...Object.fromEntries(RUNNER_SETTINGS.map((k) => [k, all[k]])),
  };
}

/** A provider for {@link UserRunnerSettings} with other retry and timeout settings. */
export function createUserRunnerSettingsProvider(overrides?: Partial<ClientSettings>) {
  const put = async (api: Api, i: SettingsInputs) =>
    settingsFromApi(
      i.runnerId,
      (await api.use(Runners).edit(i.runnerId, settings(i) as never)) as unknown as RunnerSchema,
    );
  return defineProvider<SettingsInputs, SettingsInputs>(
    {
      type: SETTINGS_TYPE,
      validate: validateSettings,
      normalize: (i) => ({
        ...i,
        tagLists: i.tagLists === undefined ? undefined : [...new Set(i.tagLists)].sort(),
      }),
      replaceOn: ["runnerId"],
      updatable: [...RUNNER_SETTINGS],
      computed: [...RUNNER_SETTINGS],
      create: async (api, i) => ({
        id: String(i.runnerId),
        outs: { ...i, ...(await put(api, i)) },
      }),
      read: async (api, id) =>
        settingsFromApi(
          Number(id),
          (await api.use(Runners).show(Number(id))) as unknown as RunnerSchema,
        ),
      update: async (api, _id, _olds, news) => ({ ...news, ...(await put(api, news)) }),
      // The runner's own deletion (UserRunner) removes them; a replaced runner's are gone with it.
      delete: async () => {},
    },
    overrides,
  );
}

/** The dynamic provider {@link UserRunnerSettings} registers with. */
export const UserRunnerSettingsProvider = createUserRunnerSettingsProvider();

/** Arguments of {@link UserRunnerSettings}: a runner's id and the settings of `UserRunnerArgs`. */
export type UserRunnerSettingsArgs = Omit<
  UserRunnerArgs,
  "runnerType" | "projectId" | "groupId"
> & {
  /** GitLab's id of the runner ({@link UserRunner.runnerId}). A new id replaces these settings. */
  readonly runnerId: pulumi.Input<number>;
};

/**
 * The mutable settings of a runner (`PUT /runners/:id`), managed apart from the {@link UserRunner}
 * that created it. An addition: @pulumi/gitlab's `UserRunner` holds them itself. Apart, a change
 * of settings previews as an update of this resource only: a dynamic resource's update leaves
 * all its outputs unknown in a preview (the Node.js dynamic provider sends the engine no stable
 * outputs), so on the runner itself it would show the token and id as changing, and everything
 * built from them (the token Secret, the chart's values) as replaced. Register the runner with
 * `ignoreChanges` on {@link RUNNER_SETTINGS} (it is still created with them) and these with its
 * `runnerId`. Deleting them changes nothing in GitLab; the runner's deletion removes them.
 * Import id: the runner id.
 */
export class UserRunnerSettings extends GitLabResource {
  declare public readonly runnerId: pulumi.Output<number>;
  declare public readonly description: pulumi.Output<string | undefined>;
  declare public readonly tagLists: pulumi.Output<string[]>;
  declare public readonly untagged: pulumi.Output<boolean>;
  declare public readonly locked: pulumi.Output<boolean>;
  declare public readonly accessLevel: pulumi.Output<RunnerAccessLevel>;
  declare public readonly maximumTimeout: pulumi.Output<number | undefined>;
  declare public readonly paused: pulumi.Output<boolean>;
  declare public readonly maintenanceNote: pulumi.Output<string | undefined>;

  constructor(name: string, args: UserRunnerSettingsArgs, opts?: pulumi.CustomResourceOptions) {
    const props = { runnerId: args.runnerId, ...settingsProps(args) };
    super(
      { type: SETTINGS_TYPE, provider: UserRunnerSettingsProvider, validate: validateSettings },
      name,
      args,
      props,
      opts,
    );
  }
}
