import { ProtectedTags } from "@gitbeaker/rest";
import * as pulumi from "@pulumi/pulumi";
import { Api, ClientSettings } from "./client";
import {
  ACCESS_LEVELS,
  ACCESS_LEVEL_VALUES,
  AccessEntry,
  AllowedTo,
  ProtectedRefAccessLevel,
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

const TYPE = "TagProtection";

interface TagInputs extends BaseInputs {
  readonly project: string;
  readonly tag: string;
  readonly createAccessLevel: ProtectedRefAccessLevel;
  readonly allowedToCreates?: AllowedTo[];
  readonly adoptExisting?: boolean;
}

/** GitLab's protected tag. */
interface TagSchema {
  readonly name: string;
  readonly create_access_levels: AccessEntry[];
}

/** A tag name or wildcard: GitLab only requires one. */
export function validateTagName(name: unknown): string | undefined {
  return typeof name === "string" && name.trim() !== ""
    ? undefined
    : `expected a tag name or wildcard such as "v*", got ${JSON.stringify(name)}`;
}

function validateTagProtection(i: Record<string, unknown>): Failure[] {
  return failures(
    ["project", required(i.project)],
    ["tag", required(i.tag) ?? ifKnown(i.tag, validateTagName)],
    [
      "createAccessLevel",
      required(i.createAccessLevel) ?? ifKnown(i.createAccessLevel, accessLevelIn(ACCESS_LEVELS)),
    ],
    [
      "allowedToCreates",
      ifKnown(i.allowedToCreates, (a) =>
        validateAllowedTo(a, ["userId", "groupId", "deployKeyId"]),
      ),
    ],
  );
}

const fromApi = (project: string, t: TagSchema): TagInputs => ({
  project,
  tag: t.name,
  createAccessLevel: roleLevel(t.create_access_levels) as ProtectedRefAccessLevel,
  allowedToCreates: allowedFrom(t.create_access_levels),
});

const SETTINGS = ["createAccessLevel", "allowedToCreates"] as const;
const show = (v: unknown) => (v === undefined ? "none" : JSON.stringify(v));
const unapplied = (wanted: TagInputs, live: TagInputs) =>
  SETTINGS.filter((k) => !sameValue(live[k], wanted[k])).map(
    (k) => `${k} ${show(wanted[k])} (GitLab has ${show(live[k])})`,
  );

const client = (api: Api) => api.use(ProtectedTags);

// A JSON body: gitbeaker would send the entries as a query string, where Rails merges
// `allowed_to_create[][user_id]=1&allowed_to_create[][group_id]=2` into one entry.
const protect = (api: Api, i: TagInputs) =>
  request<TagSchema>(api, "post", `projects/${segment(i.project)}/protected_tags`, {
    name: i.tag,
    createAccessLevel: ACCESS_LEVEL_VALUES[i.createAccessLevel],
    allowedToCreate:
      i.allowedToCreates === undefined || i.allowedToCreates.length === 0
        ? undefined
        : i.allowedToCreates.map(entryOf),
  });

/** A provider for {@link TagProtection} with other retry and timeout settings. */
export function createTagProtectionProvider(overrides?: Partial<ClientSettings>) {
  return defineProvider<TagInputs, TagInputs>(
    {
      type: TYPE,
      validate: validateTagProtection,
      normalize: (i) => ({
        ...i,
        project: String(i.project),
        allowedToCreates: sortedAllowed(i.allowedToCreates ?? []),
      }),
      // GitLab has no update endpoint for protected tags: every change protects anew.
      replaceOn: ["project", "tag", "createAccessLevel", "allowedToCreates"],
      collidesIfSame: ["tag"],
      updatable: [],
      create: async (api, i) => {
        let adopted = false;
        const live = await createOrAdopt({
          api,
          adopt: i.adoptExisting,
          kind: "protectedTags",
          what: `protection of tag ${JSON.stringify(i.tag)} of project ${JSON.stringify(i.project)}`,
          create: () => protect(api, i),
          takeOver: async () => {
            adopted = true;
            const existing = (await client(api).show(i.project, i.tag)) as unknown as TagSchema;
            if (unapplied(i, fromApi(i.project, existing)).length === 0) {
              return existing;
            }
            // Without an update endpoint the only way to these settings: unprotected between
            // the two requests.
            await client(api).remove(i.project, i.tag);
            return protect(api, i);
          },
        });
        const outs = fromApi(i.project, live);
        const missed = unapplied(i, outs);
        if (missed.length > 0) {
          // Not half-made: a new protection is undone (the pattern was unprotected before); an
          // adopted one keeps what GitLab took, since it was protected before.
          if (!adopted) {
            await client(api).remove(i.project, i.tag);
          }
          throw new Error(
            `${api.label}: GitLab did not apply ${missed.join(", ")} when protecting tag ` +
              `${JSON.stringify(i.tag)} of project ${JSON.stringify(i.project)}` +
              (adopted
                ? "; it stays protected with what GitLab has"
                : ", so the protection was removed again") +
              ". Users and groups need GitLab Premium or Ultimate; GitLab CE takes only a role and " +
              "deploy keys.",
          );
        }
        return { id: `${i.project}:${i.tag}`, outs: { ...i, ...outs } };
      },
      read: async (api, id) => {
        const [project = "", tag = ""] = splitId(id, 2, "<project>:<tag>");
        return fromApi(project, (await client(api).show(project, tag)) as unknown as TagSchema);
      },
      delete: async (api, _id, props) => {
        await client(api).remove(props.project, props.tag);
      },
    },
    overrides,
  );
}

/** The dynamic provider {@link TagProtection} registers with. */
export const TagProtectionProvider = createTagProtectionProvider();

/** Arguments of {@link TagProtection}; the names of @pulumi/gitlab's `TagProtectionArgs`. */
export interface TagProtectionArgs {
  /** The project's id or full path. Changing it replaces the protection. */
  readonly project: pulumi.Input<string>;
  /** The tag name or wildcard (`v*`). Changing it replaces the protection. */
  readonly tag: pulumi.Input<string>;
  /**
   * Who may create matching tags: `no one`, `developer`, `maintainer`, `admin` (self-managed
   * only). Changing it replaces the protection.
   */
  readonly createAccessLevel: pulumi.Input<ProtectedRefAccessLevel>;
  /**
   * Users, groups (GitLab Premium) or deploy keys that may create them besides the role.
   * Changing them replaces the protection. Default none.
   */
  readonly allowedToCreates?: pulumi.Input<pulumi.Input<AllowedTo>[]>;
  /**
   * When the tag pattern is already protected, take the protection over instead of failing:
   * kept as it is when it has these settings, else unprotected and protected again with them
   * (GitLab cannot change a protected tag). Destroy then unprotects it. An addition to
   * @pulumi/gitlab's arguments. Default `false`.
   */
  readonly adoptExisting?: pulumi.Input<boolean>;
}

/**
 * A protected tag (`/projects/:id/protected_tags`), type token
 * `pulumi-nodejs:dynamic/gitlab:TagProtection`, id `<project>:<tag>` (the import id of
 * @pulumi/gitlab).
 *
 * GitLab has no update endpoint for protected tags, so every change replaces the protection, and
 * since two protections of one name cannot exist, the old one is deleted first: the pattern is
 * unprotected between the two requests (a new pattern is protected before the old is released).
 * A create whose answer lacks wanted settings (users or groups without Premium) is undone and
 * fails, naming them.
 */
export class TagProtection extends GitLabResource {
  declare public readonly project: pulumi.Output<string>;
  declare public readonly tag: pulumi.Output<string>;
  declare public readonly createAccessLevel: pulumi.Output<ProtectedRefAccessLevel>;
  declare public readonly allowedToCreates: pulumi.Output<AllowedTo[]>;

  constructor(name: string, args: TagProtectionArgs, opts?: pulumi.CustomResourceOptions) {
    const props = {
      project: args.project,
      tag: args.tag,
      createAccessLevel: args.createAccessLevel,
      allowedToCreates: args.allowedToCreates,
      adoptExisting: args.adoptExisting,
    };
    super(
      { type: TYPE, provider: TagProtectionProvider, validate: validateTagProtection },
      name,
      args,
      props,
      opts,
    );
  }
}
