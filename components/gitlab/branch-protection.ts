import { ProtectedBranches } from "@gitbeaker/rest";
import * as pulumi from "@pulumi/pulumi";
import { Api, ClientSettings } from "./client";
import {
  ACCESS_LEVELS,
  ACCESS_LEVEL_VALUES,
  AccessEntry,
  AllowedTo,
  ProtectedRefAccessLevel,
  accessChanges,
  accessLevelIn,
  allowedFrom,
  entryOf,
  roleLevel,
  sortedAllowed,
  validateAllowedTo,
} from "./protected-refs";
import { request, segment } from "./request";
import {
  BaseInputs,
  Failure,
  GitLabResource,
  createOrAdopt,
  defineProvider,
  failures,
  ifKnown,
  required,
  sameValue,
  splitId,
} from "./resource";

const TYPE = "BranchProtection";

/** Who may unprotect: every role level but "no one" (GitLab keeps a branch unprotectable). */
export type UnprotectAccessLevel = Exclude<ProtectedRefAccessLevel, "no one">;
const UNPROTECT_LEVELS = ACCESS_LEVELS.filter((l) => l !== "no one");

interface BranchInputs extends BaseInputs {
  readonly project: string;
  readonly branch: string;
  readonly pushAccessLevel?: ProtectedRefAccessLevel;
  readonly mergeAccessLevel?: ProtectedRefAccessLevel;
  readonly unprotectAccessLevel?: UnprotectAccessLevel;
  readonly allowForcePush?: boolean;
  readonly codeOwnerApprovalRequired?: boolean;
  readonly allowedToPushes?: AllowedTo[];
  readonly allowedToMerges?: AllowedTo[];
  readonly allowedToUnprotects?: AllowedTo[];
  readonly adoptExisting?: boolean;
}

interface BranchOutputs extends BranchInputs {
  readonly branchProtectionId: number;
}

/** GitLab's protected branch; GitLab CE leaves out the enterprise fields. */
interface BranchSchema {
  readonly id: number;
  readonly name: string;
  readonly push_access_levels: AccessEntry[];
  readonly merge_access_levels: AccessEntry[];
  readonly unprotect_access_levels?: AccessEntry[];
  readonly allow_force_push: boolean;
  readonly code_owner_approval_required?: boolean;
}

/** A branch name or wildcard: GitLab only requires one. */
export function validateBranchName(name: unknown): string | undefined {
  return typeof name === "string" && name.trim() !== ""
    ? undefined
    : `expected a branch name or wildcard such as "main" or "release/*", got ${JSON.stringify(name)}`;
}

function validateBranchProtection(i: Record<string, unknown>): Failure[] {
  const level = accessLevelIn(ACCESS_LEVELS);
  return failures(
    ["project", required(i.project)],
    ["branch", required(i.branch) ?? ifKnown(i.branch, validateBranchName)],
    ["pushAccessLevel", ifKnown(i.pushAccessLevel, level)],
    ["mergeAccessLevel", ifKnown(i.mergeAccessLevel, level)],
    ["unprotectAccessLevel", ifKnown(i.unprotectAccessLevel, accessLevelIn(UNPROTECT_LEVELS))],
    [
      "allowedToPushes",
      ifKnown(i.allowedToPushes, (a) => validateAllowedTo(a, ["userId", "groupId", "deployKeyId"])),
    ],
    [
      "allowedToMerges",
      ifKnown(i.allowedToMerges, (a) => validateAllowedTo(a, ["userId", "groupId"])),
    ],
    [
      "allowedToUnprotects",
      ifKnown(i.allowedToUnprotects, (a) => validateAllowedTo(a, ["userId", "groupId"])),
    ],
  );
}

/** The settings a protection is made of, all compared after every write. */
const SETTINGS = [
  "pushAccessLevel",
  "mergeAccessLevel",
  "unprotectAccessLevel",
  "allowForcePush",
  "codeOwnerApprovalRequired",
  "allowedToPushes",
  "allowedToMerges",
  "allowedToUnprotects",
] as const;

/**
 * The live protection. GitLab CE reports no unprotect levels and no code owner approval: it has
 * neither (Maintainers unprotect, nothing needs code owners), which are GitLab's defaults.
 */
const fromApi = (project: string, b: BranchSchema): BranchOutputs => ({
  project,
  branch: b.name,
  pushAccessLevel: roleLevel(b.push_access_levels),
  mergeAccessLevel: roleLevel(b.merge_access_levels),
  unprotectAccessLevel:
    b.unprotect_access_levels === undefined
      ? "maintainer"
      : (roleLevel(b.unprotect_access_levels) as UnprotectAccessLevel | undefined),
  allowForcePush: b.allow_force_push,
  codeOwnerApprovalRequired: b.code_owner_approval_required ?? false,
  allowedToPushes: allowedFrom(b.push_access_levels),
  allowedToMerges: allowedFrom(b.merge_access_levels),
  allowedToUnprotects: allowedFrom(b.unprotect_access_levels ?? []),
  branchProtectionId: b.id,
});

const show = (v: unknown) => (v === undefined ? "none" : JSON.stringify(v));

/** The wanted settings GitLab did not take, as `name wanted (GitLab has live)`. */
function unapplied(wanted: BranchInputs, live: BranchOutputs): string[] {
  return SETTINGS.filter((k) => !sameValue(live[k], wanted[k])).map(
    (k) => `${k} ${show(wanted[k])} (GitLab has ${show(live[k])})`,
  );
}

const WHY =
  "GitLab CE cannot change access levels of a protected branch in place (its update endpoint " +
  "takes only allow_force_push) and has no unprotect levels or code owner approval; users, " +
  "groups and code owner approval need GitLab Premium or Ultimate";

const client = (api: Api) => api.use(ProtectedBranches);
const level = (l: ProtectedRefAccessLevel | undefined) =>
  l === undefined ? undefined : ACCESS_LEVEL_VALUES[l];
const entries = (list: AllowedTo[] | undefined) =>
  list === undefined || list.length === 0 ? undefined : list.map(entryOf);
const nonEmpty = <T>(list: T[]) => (list.length > 0 ? list : undefined);

/**
 * Gives the protection `wanted`'s settings with one update request: `allow_force_push`,
 * `code_owner_approval_required`, and the `allowed_to_*` entries that drop what is no longer
 * wanted by id and add what is missing (the role levels too, as `{access_level}` entries). The
 * branch stays protected throughout; entries that stay wanted are never touched.
 */
async function applySettings(
  api: Api,
  project: string,
  branch: string,
  wanted: BranchInputs,
): Promise<BranchSchema> {
  const current = (await client(api).show(project, branch)) as unknown as BranchSchema;
  const changes = (
    type: "push" | "merge" | "unprotect",
    l: ProtectedRefAccessLevel | undefined,
    a?: AllowedTo[],
  ) => nonEmpty(accessChanges(current[`${type}_access_levels`] ?? [], l, a ?? []));
  return (await client(api).edit(project, branch, {
    allowForcePush: wanted.allowForcePush,
    codeOwnerApprovalRequired: wanted.codeOwnerApprovalRequired,
    allowedToPush: changes("push", wanted.pushAccessLevel, wanted.allowedToPushes),
    allowedToMerge: changes("merge", wanted.mergeAccessLevel, wanted.allowedToMerges),
    allowedToUnprotect:
      current.unprotect_access_levels === undefined
        ? undefined
        : changes("unprotect", wanted.unprotectAccessLevel, wanted.allowedToUnprotects),
  } as never)) as unknown as BranchSchema;
}

/** A provider for {@link BranchProtection} with other retry and timeout settings. */
export function createBranchProtectionProvider(overrides?: Partial<ClientSettings>) {
  return defineProvider<BranchInputs, BranchOutputs>(
    {
      type: TYPE,
      validate: validateBranchProtection,
      normalize: (i) => ({
        ...i,
        project: String(i.project),
        pushAccessLevel: i.pushAccessLevel ?? "maintainer",
        mergeAccessLevel: i.mergeAccessLevel ?? "maintainer",
        unprotectAccessLevel: i.unprotectAccessLevel ?? "maintainer",
        allowForcePush: i.allowForcePush ?? false,
        codeOwnerApprovalRequired: i.codeOwnerApprovalRequired ?? false,
        allowedToPushes: sortedAllowed(i.allowedToPushes ?? []),
        allowedToMerges: sortedAllowed(i.allowedToMerges ?? []),
        allowedToUnprotects: sortedAllowed(i.allowedToUnprotects ?? []),
      }),
      replaceOn: ["project", "branch"],
      collidesIfSame: ["branch"],
      updatable: [...SETTINGS],
      create: async (api, i) => {
        const what = `protection of branch ${JSON.stringify(i.branch)} of project ${JSON.stringify(i.project)}`;
        let adopted = false;
        const live = await createOrAdopt({
          api,
          adopt: i.adoptExisting,
          kind: "protectedBranches",
          what,
          // A JSON body: gitbeaker would send the entries as a query string, where Rails merges
          // `allowed_to_push[][user_id]=1&allowed_to_push[][group_id]=2` into one entry.
          create: () =>
            request<BranchSchema>(
              api,
              "post",
              `projects/${segment(i.project)}/protected_branches`,
              {
                name: i.branch,
                pushAccessLevel: level(i.pushAccessLevel),
                mergeAccessLevel: level(i.mergeAccessLevel),
                unprotectAccessLevel: level(i.unprotectAccessLevel),
                allowForcePush: i.allowForcePush,
                codeOwnerApprovalRequired: i.codeOwnerApprovalRequired,
                allowedToPush: entries(i.allowedToPushes),
                allowedToMerge: entries(i.allowedToMerges),
                allowedToUnprotect: entries(i.allowedToUnprotects),
              },
            ),
          // Adopted: its settings become these, changed in place (never unprotected).
          takeOver: () => {
            adopted = true;
            return applySettings(api, i.project, i.branch, i);
          },
        });
        const outs = fromApi(i.project, live);
        const missed = unapplied(i, outs);
        if (missed.length > 0 && !adopted) {
          // Not half-made: the branch goes back to unprotected, as it was before this create.
          await client(api).remove(i.project, i.branch);
          throw new Error(
            `${api.label}: GitLab did not apply ${missed.join(", ")} when protecting branch ` +
              `${JSON.stringify(i.branch)} of project ${JSON.stringify(i.project)}, so the ` +
              `protection was removed again. ${WHY}.`,
          );
        }
        if (missed.length > 0) {
          throw new Error(notApplied(api, i, missed));
        }
        return { id: `${i.project}:${i.branch}`, outs: { ...i, ...outs } };
      },
      read: async (api, id) => {
        const [project = "", branch = ""] = splitId(id, 2, "<project>:<branch>");
        return fromApi(
          project,
          (await client(api).show(project, branch)) as unknown as BranchSchema,
        );
      },
      update: async (api, _id, olds, news) => {
        const outs = fromApi(
          olds.project,
          await applySettings(api, olds.project, olds.branch, news),
        );
        const missed = unapplied(news, outs);
        if (missed.length > 0) {
          throw new Error(notApplied(api, news, missed));
        }
        return { ...news, ...outs };
      },
      delete: async (api, _id, props) => {
        await client(api).remove(props.project, props.branch);
      },
    },
    overrides,
  );
}

function notApplied(api: Api, i: BranchInputs, missed: string[]): string {
  return (
    `${api.label}: GitLab did not apply ${missed.join(", ")} to protected branch ` +
    `${JSON.stringify(i.branch)} of project ${JSON.stringify(i.project)}; the branch stays ` +
    `protected with what GitLab has. ${WHY}. Change the settings, or unprotect the branch in ` +
    "GitLab and run again with --refresh: the stack then protects it anew with these settings."
  );
}

/** The dynamic provider {@link BranchProtection} registers with. */
export const BranchProtectionProvider = createBranchProtectionProvider();

/** Arguments of {@link BranchProtection}; the names of @pulumi/gitlab's `BranchProtectionArgs`. */
export interface BranchProtectionArgs {
  /** The project's id or full path. Changing it replaces the protection. */
  readonly project: pulumi.Input<string>;
  /** The branch name or wildcard (`main`, `release/*`). Changing it replaces the protection. */
  readonly branch: pulumi.Input<string>;
  /**
   * Who may push: `no one`, `developer` (Developers + Maintainers), `maintainer`, `admin`
   * (self-managed only). Default `maintainer`, as GitLab's.
   */
  readonly pushAccessLevel?: pulumi.Input<ProtectedRefAccessLevel>;
  /** Who may merge; the same levels. Default `maintainer`, as GitLab's. */
  readonly mergeAccessLevel?: pulumi.Input<ProtectedRefAccessLevel>;
  /**
   * Who may unprotect: `developer`, `maintainer` or `admin` (GitLab EE's API; GitLab CE lets
   * Maintainers). Default `maintainer`, as GitLab's.
   */
  readonly unprotectAccessLevel?: pulumi.Input<UnprotectAccessLevel>;
  /** Whether those who may push may also force push. Default `false`. */
  readonly allowForcePush?: pulumi.Input<boolean>;
  /** Whether changes to files with code owners need their approval (Premium). Default `false`. */
  readonly codeOwnerApprovalRequired?: pulumi.Input<boolean>;
  /** Users, groups (GitLab Premium) or deploy keys that may push besides the role. Default none. */
  readonly allowedToPushes?: pulumi.Input<pulumi.Input<AllowedTo>[]>;
  /** Users or groups that may merge besides the role (GitLab Premium). Default none. */
  readonly allowedToMerges?: pulumi.Input<pulumi.Input<AllowedTo>[]>;
  /** Users or groups that may unprotect besides the role (GitLab Premium). Default none. */
  readonly allowedToUnprotects?: pulumi.Input<pulumi.Input<AllowedTo>[]>;
  /**
   * When the branch is already protected (GitLab protects a new project's default branch
   * itself), take the protection over: its settings become these, changed in place, and destroy
   * unprotects the branch. Otherwise creating fails and names both ways out. An addition to
   * @pulumi/gitlab's arguments. Default `false`.
   */
  readonly adoptExisting?: pulumi.Input<boolean>;
}

/**
 * A protected branch (`/projects/:id/protected_branches`), type token
 * `pulumi-nodejs:dynamic/gitlab:BranchProtection`, id `<project>:<branch>` (the import id of
 * @pulumi/gitlab).
 *
 * Every setting changes in place with one `PATCH`, so the branch is never unprotected by an
 * update: the push, merge and unprotect levels through the `allowed_to_*` entries (GitLab's
 * update endpoint has no `push_access_level`), dropping the old entry by id and adding the new
 * one in the same request. That needs GitLab's enterprise API (GitLab.com, GitLab EE even
 * unlicensed); GitLab CE ignores it, and the update then fails naming what GitLab kept. After
 * every write the answer is compared with the wanted settings: a setting GitLab did not apply
 * (code owner approval or users and groups without Premium) fails the operation instead of
 * drifting silently; a create that did not apply is undone.
 *
 * Only a new project or branch replaces the protection. A protection cannot be created before
 * the old one is deleted when both have the same name, so if the branch stays the same (the
 * project changing from its id to its path) the old one is deleted first and the branch is
 * briefly unprotected; a new branch name is protected before the old one is released.
 */
export class BranchProtection extends GitLabResource {
  declare public readonly project: pulumi.Output<string>;
  declare public readonly branch: pulumi.Output<string>;
  declare public readonly pushAccessLevel: pulumi.Output<ProtectedRefAccessLevel>;
  declare public readonly mergeAccessLevel: pulumi.Output<ProtectedRefAccessLevel>;
  declare public readonly unprotectAccessLevel: pulumi.Output<UnprotectAccessLevel>;
  declare public readonly allowForcePush: pulumi.Output<boolean>;
  declare public readonly codeOwnerApprovalRequired: pulumi.Output<boolean>;
  declare public readonly allowedToPushes: pulumi.Output<AllowedTo[]>;
  declare public readonly allowedToMerges: pulumi.Output<AllowedTo[]>;
  declare public readonly allowedToUnprotects: pulumi.Output<AllowedTo[]>;
  /** GitLab's id of the protection (not the branch name). */
  declare public readonly branchProtectionId: pulumi.Output<number>;

  constructor(name: string, args: BranchProtectionArgs, opts?: pulumi.CustomResourceOptions) {
    const props = {
      project: args.project,
      branch: args.branch,
      pushAccessLevel: args.pushAccessLevel,
      mergeAccessLevel: args.mergeAccessLevel,
      unprotectAccessLevel: args.unprotectAccessLevel,
      allowForcePush: args.allowForcePush,
      codeOwnerApprovalRequired: args.codeOwnerApprovalRequired,
      allowedToPushes: args.allowedToPushes,
      allowedToMerges: args.allowedToMerges,
      allowedToUnprotects: args.allowedToUnprotects,
      adoptExisting: args.adoptExisting,
      branchProtectionId: undefined,
    };
    super(
      { type: TYPE, provider: BranchProtectionProvider, validate: validateBranchProtection },
      name,
      args,
      props,
      opts,
    );
  }
}
