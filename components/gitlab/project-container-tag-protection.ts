import * as pulumi from "@pulumi/pulumi";
import { Api, ClientSettings, GitLabApiError, isStatus } from "./client";
import { Method, request, segment } from "./request";
import {
  BaseInputs,
  Failure,
  GitLabResource,
  createOrAdopt,
  defineProvider,
  failures,
  ifKnown,
  required,
  splitId,
} from "./resource";

const TYPE = "ProjectContainerTagProtection";

/** The minimum roles of a container tag rule, in @pulumi/gitlab's spelling (GraphQL enums). */
export type ContainerTagAccessLevel = "MAINTAINER" | "OWNER" | "ADMIN";
const LEVELS: readonly ContainerTagAccessLevel[] = ["MAINTAINER", "OWNER", "ADMIN"];

interface RuleInputs extends BaseInputs {
  readonly project: string;
  readonly tagNameRegex: string;
  readonly minimumAccessLevelForPush: ContainerTagAccessLevel;
  readonly minimumAccessLevelForDelete: ContainerTagAccessLevel;
  readonly adoptExisting?: boolean;
}

interface RuleOutputs extends RuleInputs {
  readonly protectionRuleId: number;
}

/** GitLab's rule (`lib/api/entities/projects/container_registry/protection/tag_rule.rb`). */
interface RuleSchema {
  readonly id: number;
  readonly project_id: number;
  readonly tag_name_pattern: string;
  readonly minimum_access_level_for_push: string | null;
  readonly minimum_access_level_for_delete: string | null;
}

/**
 * GitLab's pattern rule (`validates :tag_name_pattern, presence, length: { maximum: 100 },
 * untrusted_regexp`): an RE2 regular expression of at most 100 characters, matched anywhere in
 * the tag. Refused here already: globs (`*`, `*-rc`), which RE2 refuses, and lookaround or
 * backreferences, which RE2 lacks. Other RE2 syntax errors come from GitLab.
 */
export function validateTagNameRegex(pattern: unknown): string | undefined {
  const got = JSON.stringify(pattern);
  if (typeof pattern !== "string" || pattern === "" || pattern.length > 100) {
    return `expected an RE2 regular expression of 1 to 100 characters, got ${got}`;
  }
  if (/^[*+?]/.test(pattern)) {
    return (
      "expected an RE2 regular expression, not a glob (GitLab matches it anywhere in the tag: " +
      `"^v.*" for tags starting with v, ".*" for all), got ${got}`
    );
  }
  if (/\(\?<?[=!]|\\[1-9]/.test(pattern)) {
    return `expected an RE2 regular expression: RE2 has no lookaround or backreferences, got ${got}`;
  }
  return undefined;
}

function validateRule(i: Record<string, unknown>): Failure[] {
  const level = (v: unknown) =>
    LEVELS.includes(v as ContainerTagAccessLevel)
      ? undefined
      : `expected one of ${LEVELS.join(", ")}, got ${JSON.stringify(v)}`;
  return failures(
    ["project", required(i.project)],
    ["tagNameRegex", required(i.tagNameRegex) ?? ifKnown(i.tagNameRegex, validateTagNameRegex)],
    [
      "minimumAccessLevelForPush",
      required(i.minimumAccessLevelForPush) ?? ifKnown(i.minimumAccessLevelForPush, level),
    ],
    [
      "minimumAccessLevelForDelete",
      required(i.minimumAccessLevelForDelete) ?? ifKnown(i.minimumAccessLevelForDelete, level),
    ],
  );
}

const fromApi = (project: string, r: RuleSchema): RuleOutputs => ({
  project,
  tagNameRegex: r.tag_name_pattern,
  minimumAccessLevelForPush: (r.minimum_access_level_for_push ?? "").toUpperCase() as never,
  minimumAccessLevelForDelete: (r.minimum_access_level_for_delete ?? "").toUpperCase() as never,
  protectionRuleId: r.id,
});

const body = (i: RuleInputs) => ({
  tagNamePattern: i.tagNameRegex,
  minimumAccessLevelForPush: i.minimumAccessLevelForPush.toLowerCase(),
  minimumAccessLevelForDelete: i.minimumAccessLevelForDelete.toLowerCase(),
});

/**
 * One request to the rules endpoint. An instance without it answers 404 `{"error":"404 Not
 * Found"}` (lib/api/api.rb, unknown route), unlike a missing rule (`{"message":"404 Not found"}`);
 * that becomes an error saying which GitLab is needed, and is never taken for "already gone".
 */
async function rules<T>(
  api: Api,
  method: Method,
  project: string,
  ruleId?: number,
  payload?: Record<string, unknown>,
): Promise<T> {
  const base = `projects/${segment(project)}/registry/protection/tag/rules`;
  try {
    return await request<T>(
      api,
      method,
      ruleId === undefined ? base : `${base}/${ruleId}`,
      payload,
    );
  } catch (err) {
    if (isStatus(err, 404) && (err as GitLabApiError).gitlabMessage === "404 Not Found") {
      throw new Error(
        `${(err as Error).message} (this GitLab has no such endpoint: protected container tag ` +
          "rules need GitLab 18.7 to be read, 18.8 to be created and 18.9 to be changed or deleted)",
      );
    }
    throw err;
  }
}

const find = async (api: Api, project: string, match: (r: RuleSchema) => boolean) =>
  (await rules<RuleSchema[]>(api, "get", project)).find(match);

/** A provider for {@link ProjectContainerTagProtection} with other retry and timeout settings. */
export function createProjectContainerTagProtectionProvider(overrides?: Partial<ClientSettings>) {
  return defineProvider<RuleInputs, RuleOutputs>(
    {
      type: TYPE,
      validate: validateRule,
      normalize: (i) => ({ ...i, project: String(i.project) }),
      replaceOn: ["project"],
      // The same pattern in the same project (its id respelt as its path) would be taken.
      collidesIfSame: ["tagNameRegex"],
      updatable: ["tagNameRegex", "minimumAccessLevelForPush", "minimumAccessLevelForDelete"],
      create: async (api, i) => {
        const created = await createOrAdopt({
          api,
          adopt: i.adoptExisting,
          kind: "protectedContainerTags",
          what:
            `container tag protection rule ${JSON.stringify(i.tagNameRegex)} of project ` +
            JSON.stringify(i.project),
          create: () => rules<RuleSchema>(api, "post", i.project, undefined, body(i)),
          // Adopted: the rule keeps its id and gets these roles in place.
          takeOver: async () => {
            const existing = await find(
              api,
              i.project,
              (r) => r.tag_name_pattern === i.tagNameRegex,
            );
            if (existing === undefined) {
              throw new Error(
                `${api.label}: GitLab said container tag protection rule ` +
                  `${JSON.stringify(i.tagNameRegex)} exists in project ${JSON.stringify(i.project)}, ` +
                  "but listing the rules found none; run again",
              );
            }
            return rules<RuleSchema>(api, "patch", i.project, existing.id, body(i));
          },
        });
        return {
          id: `${i.project}:${created.id}`,
          outs: { ...i, ...fromApi(i.project, created) },
        };
      },
      // GitLab has no endpoint for one rule: the project's list (at most 5) is read.
      read: async (api, id) => {
        const [project = "", ruleId = ""] = splitId(id, 2, "<project>:<protection_rule_id>");
        const live = await find(api, project, (r) => String(r.id) === ruleId);
        return live === undefined ? undefined : fromApi(project, live);
      },
      update: async (api, _id, olds, news) => {
        const updated = await rules<RuleSchema>(
          api,
          "patch",
          olds.project,
          olds.protectionRuleId,
          body(news),
        );
        return { ...news, ...fromApi(olds.project, updated) };
      },
      delete: async (api, _id, props) => {
        await rules(api, "delete", props.project, props.protectionRuleId);
      },
    },
    overrides,
  );
}

/** The dynamic provider {@link ProjectContainerTagProtection} registers with. */
export const ProjectContainerTagProtectionProvider = createProjectContainerTagProtectionProvider();

/**
 * Arguments of {@link ProjectContainerTagProtection}; the names of @pulumi/gitlab's
 * `ProjectContainerTagProtectionArgs`, without `immutable` (GitLab's REST API manages protected
 * rules only; immutable ones, GitLab Ultimate, are GraphQL's).
 */
export interface ProjectContainerTagProtectionArgs {
  /** The project's id or full path. Changing it replaces the rule. */
  readonly project: pulumi.Input<string>;
  /**
   * An RE2 regular expression of at most 100 characters, matched anywhere in the tag name:
   * `^production$` protects exactly `production`, `^v.*` every tag starting with v, while
   * `production` alone also protects `production-old`, and `v*` every tag. Changed in place.
   */
  readonly tagNameRegex: pulumi.Input<string>;
  /** The lowest role that may push matching tags: `MAINTAINER`, `OWNER`, `ADMIN`. In place. */
  readonly minimumAccessLevelForPush: pulumi.Input<ContainerTagAccessLevel>;
  /** The lowest role that may delete matching tags: `MAINTAINER`, `OWNER`, `ADMIN`. In place. */
  readonly minimumAccessLevelForDelete: pulumi.Input<ContainerTagAccessLevel>;
  /**
   * When the project already has a rule with this pattern, take it over (it keeps its id, gets
   * these roles, and destroy deletes it) instead of failing. An addition to @pulumi/gitlab's
   * arguments. Default `false`.
   */
  readonly adoptExisting?: pulumi.Input<boolean>;
}

/**
 * A protected container tag rule of a project's registry
 * (`/projects/:id/registry/protection/tag/rules`, GitLab Free and up), type token
 * `pulumi-nodejs:dynamic/gitlab:ProjectContainerTagProtection`, id `<project>:<protection_rule_id>`
 * (the import id of @pulumi/gitlab, whose resource uses GraphQL). Members below the minimum role
 * can neither push nor delete matching tags, in every repository of the project's registry.
 *
 * Needs GitLab 18.9 (the REST endpoints arrived in 18.7 to list, 18.8 to create, 18.9 to update
 * and delete) and the registry's metadata database on self-managed instances; at most 5 rules
 * per project. Pattern and roles change in place, so the tags stay protected.
 */
export class ProjectContainerTagProtection extends GitLabResource {
  declare public readonly project: pulumi.Output<string>;
  declare public readonly tagNameRegex: pulumi.Output<string>;
  declare public readonly minimumAccessLevelForPush: pulumi.Output<ContainerTagAccessLevel>;
  declare public readonly minimumAccessLevelForDelete: pulumi.Output<ContainerTagAccessLevel>;
  /** GitLab's id of the rule. */
  declare public readonly protectionRuleId: pulumi.Output<number>;

  constructor(
    name: string,
    args: ProjectContainerTagProtectionArgs,
    opts?: pulumi.CustomResourceOptions,
  ) {
    const props = {
      project: args.project,
      tagNameRegex: args.tagNameRegex,
      minimumAccessLevelForPush: args.minimumAccessLevelForPush,
      minimumAccessLevelForDelete: args.minimumAccessLevelForDelete,
      adoptExisting: args.adoptExisting,
      protectionRuleId: undefined,
    };
    super(
      { type: TYPE, provider: ProjectContainerTagProtectionProvider, validate: validateRule },
      name,
      args,
      props,
      opts,
    );
  }
}
