import { ProjectProtectedEnvironments } from "@gitbeaker/rest";
import * as pulumi from "@pulumi/pulumi";
import { Api, ClientSettings } from "./client";
import { validateEnvironmentName } from "./project-environment";
import {
  BaseInputs,
  Failure,
  defineProvider,
  failures,
  ifKnown,
  required,
  sameValue,
  splitId,
  GitLabResource,
  createOrAdopt,
} from "./resource";

const TYPE = "ProjectProtectedEnvironment";

/** Who may deploy (or approve): one of `accessLevel`, `userId` or `groupId`. */
export interface DeployAccessLevel {
  /** `developer` or `maintainer` (and above). */
  readonly accessLevel?: "developer" | "maintainer";
  /** A project member's user id. */
  readonly userId?: number;
  /** The id of a group the project is shared with. */
  readonly groupId?: number;
  /** With `groupId`: 0 direct members only, 1 also inherited members. Default 0. */
  readonly groupInheritanceType?: number;
}

/** An approval rule: who must approve deployments, and how many approvals. */
export interface ApprovalRule extends DeployAccessLevel {
  /** Approvals needed from these approvers. Default 1. */
  readonly requiredApprovals?: number;
}

const LEVELS: Record<string, number> = { developer: 30, maintainer: 40 };
const LEVEL_NAMES: Record<number, string> = { 30: "developer", 40: "maintainer", 60: "admin" };

/** Exactly one of accessLevel (developer | maintainer), userId, groupId; a valid inheritance type. */
export function validateDeployAccessLevel(rule: DeployAccessLevel): string | undefined {
  const who = (["accessLevel", "userId", "groupId"] as const).filter((k) => rule[k] !== undefined);
  if (who.length !== 1) {
    return `expected exactly one of accessLevel, userId, groupId, got ${who.length === 0 ? "none" : who.join(", ")}`;
  }
  if (rule.accessLevel !== undefined && !(rule.accessLevel in LEVELS)) {
    return `accessLevel: expected "developer" or "maintainer", got ${JSON.stringify(rule.accessLevel)}`;
  }
  const inheritance = rule.groupInheritanceType;
  if (inheritance !== undefined && (rule.groupId === undefined || ![0, 1].includes(inheritance))) {
    return "groupInheritanceType: expected 0 or 1, and only with groupId";
  }
  return undefined;
}

interface ProtectedInputs extends BaseInputs {
  readonly project: string;
  readonly environment: string;
  readonly deployAccessLevels: DeployAccessLevel[];
  readonly requiredApprovalCount?: number;
  readonly approvalRules?: ApprovalRule[];
  readonly adoptExisting?: boolean;
}

function validateRules(rules: unknown, atLeastOne: boolean): string | undefined {
  if (!Array.isArray(rules) || (atLeastOne && rules.length === 0)) {
    return "expected at least one entry";
  }
  for (const [index, rule] of (rules as ApprovalRule[]).entries()) {
    const problem = validateDeployAccessLevel(rule);
    if (problem !== undefined) {
      return `[${index}]: ${problem}`;
    }
  }
  return undefined;
}

function validateProtected(i: Record<string, unknown>): Failure[] {
  return failures(
    ["project", required(i.project)],
    ["environment", required(i.environment) ?? ifKnown(i.environment, validateEnvironmentName)],
    [
      "deployAccessLevels",
      required(i.deployAccessLevels) ??
        ifKnown(i.deployAccessLevels, (r) => validateRules(r, true)),
    ],
    ["approvalRules", ifKnown(i.approvalRules, (r) => validateRules(r, false))],
    [
      "requiredApprovalCount",
      ifKnown<number>(i.requiredApprovalCount, (n) =>
        Number.isInteger(n) && n >= 0 ? undefined : `expected a whole number >= 0, got ${n}`,
      ),
    ],
  );
}

interface RuleSchema {
  readonly id: number;
  readonly access_level: number | null;
  readonly user_id: number | null;
  readonly group_id: number | null;
  readonly group_inheritance_type?: number;
  readonly required_approvals?: number;
}

interface ProtectedSchema {
  readonly name: string;
  readonly deploy_access_levels: RuleSchema[];
  readonly required_approval_count?: number;
  readonly approval_rules?: RuleSchema[];
}

/** Canonical rule: who, plus inheritance for groups and approvals for approval rules. */
function canonical(rule: ApprovalRule, approvals: boolean): ApprovalRule {
  const who: ApprovalRule =
    rule.userId !== undefined
      ? { userId: rule.userId }
      : rule.groupId !== undefined
        ? { groupId: rule.groupId, groupInheritanceType: rule.groupInheritanceType ?? 0 }
        : { accessLevel: rule.accessLevel };
  return approvals ? { ...who, requiredApprovals: rule.requiredApprovals ?? 1 } : who;
}

const sorted = (rules: ApprovalRule[], approvals: boolean) =>
  rules
    .map((r) => canonical(r, approvals))
    .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

/** GitLab reports an access level on user and group entries too; the user or group decides. */
function fromRule(r: RuleSchema): ApprovalRule {
  if (r.user_id !== null) {
    return { userId: r.user_id, requiredApprovals: r.required_approvals };
  }
  if (r.group_id !== null) {
    return {
      groupId: r.group_id,
      groupInheritanceType: r.group_inheritance_type,
      requiredApprovals: r.required_approvals,
    };
  }
  const level = (LEVEL_NAMES[r.access_level ?? 0] ?? String(r.access_level)) as "developer";
  return { accessLevel: level, requiredApprovals: r.required_approvals };
}

function toRule(rule: ApprovalRule, approvals: boolean) {
  return {
    accessLevel: rule.accessLevel === undefined ? undefined : LEVELS[rule.accessLevel],
    userId: rule.userId,
    groupId: rule.groupId,
    groupInheritanceType: rule.groupId === undefined ? undefined : rule.groupInheritanceType,
    requiredApprovals: approvals ? rule.requiredApprovals : undefined,
  };
}

const fromApi = (project: string, p: ProtectedSchema): ProtectedInputs => ({
  project,
  environment: p.name,
  deployAccessLevels: sorted(p.deploy_access_levels.map(fromRule), false),
  requiredApprovalCount: p.required_approval_count ?? 0,
  approvalRules: sorted((p.approval_rules ?? []).map(fromRule), true),
});

/** PUT entries: `{id, _destroy: true}` for rules to drop, new rules without id. */
function changes(current: RuleSchema[], wanted: ApprovalRule[], approvals: boolean) {
  const keep = (r: RuleSchema) =>
    wanted.some((w) => sameValue(canonical(fromRule(r), approvals), w));
  const have = (w: ApprovalRule) =>
    current.some((r) => sameValue(canonical(fromRule(r), approvals), w));
  return [
    ...current.filter((r) => !keep(r)).map((r) => ({ id: r.id, _destroy: true })),
    ...wanted.filter((w) => !have(w)).map((w) => toRule(w, approvals)),
  ];
}

const client = (api: Api) => api.use(ProjectProtectedEnvironments);
// gitbeaker 43.8.0 builds these paths without URL-encoding (unlike its other resources), so a
// project path or an environment name with `/` must be encoded here.
const enc = encodeURIComponent;

/** Makes the live protection's rules `wanted`'s, in place: rules to drop by id, new ones added. */
async function applyRules(
  api: Api,
  project: string,
  environment: string,
  wanted: ProtectedInputs,
): Promise<ProtectedSchema> {
  const current = (await client(api).show(
    enc(project),
    enc(environment),
  )) as unknown as ProtectedSchema;
  return (await client(api).edit(enc(project), enc(environment), {
    deployAccessLevels: changes(current.deploy_access_levels, wanted.deployAccessLevels, false),
    requiredApprovalCount: wanted.requiredApprovalCount,
    approvalRules:
      wanted.approvalRules === undefined
        ? undefined
        : changes(current.approval_rules ?? [], wanted.approvalRules, true),
  } as never)) as unknown as ProtectedSchema;
}

/** A provider for {@link ProjectProtectedEnvironment} with other retry and timeout settings. */
export function createProjectProtectedEnvironmentProvider(overrides?: Partial<ClientSettings>) {
  return defineProvider<ProtectedInputs, ProtectedInputs>(
    {
      type: TYPE,
      validate: validateProtected,
      normalize: (i) => ({
        ...i,
        project: String(i.project),
        deployAccessLevels: sorted(i.deployAccessLevels, false),
        approvalRules: i.approvalRules === undefined ? undefined : sorted(i.approvalRules, true),
      }),
      replaceOn: ["project", "environment"],
      collidesIfSame: ["environment"],
      updatable: ["deployAccessLevels", "requiredApprovalCount", "approvalRules"],
      computed: ["requiredApprovalCount", "approvalRules"],
      create: async (api, i) => {
        const created = await createOrAdopt({
          api,
          adopt: i.adoptExisting,
          kind: "environments",
          what: `protection of environment ${JSON.stringify(i.environment)} of project ${JSON.stringify(i.project)}`,
          create: async () =>
            (await client(api).create(
              enc(i.project),
              i.environment,
              i.deployAccessLevels.map((r) => toRule(r, false)) as never,
              {
                requiredApprovalCount: i.requiredApprovalCount,
                approvalRules: i.approvalRules?.map((r) => toRule(r, true)),
              } as never,
            )) as unknown as ProtectedSchema,
          // Adopted: its rules become exactly these, changed in place (never unprotected).
          takeOver: () => applyRules(api, i.project, i.environment, i),
        });
        return {
          id: `${i.project}:${i.environment}`,
          outs: { ...i, ...fromApi(i.project, created) },
        };
      },
      read: async (api, id) => {
        const [project = "", environment = ""] = splitId(id, 2, "<project>:<environment>");
        return fromApi(
          project,
          (await client(api).show(enc(project), enc(environment))) as unknown as ProtectedSchema,
        );
      },
      update: async (api, _id, olds, news) => {
        const updated = await applyRules(api, olds.project, olds.environment, news);
        return { ...news, ...fromApi(olds.project, updated) };
      },
      delete: async (api, _id, props) => {
        await client(api).remove(enc(props.project), enc(props.environment));
      },
    },
    overrides,
  );
}

/** The dynamic provider {@link ProjectProtectedEnvironment} registers with. */
export const ProjectProtectedEnvironmentProvider = createProjectProtectedEnvironmentProvider();

/** Arguments of {@link ProjectProtectedEnvironment}; the names of @pulumi/gitlab's. */
export interface ProjectProtectedEnvironmentArgs {
  /** The project's id or full path. Changing it replaces the protection. */
  readonly project: pulumi.Input<string>;
  /** The environment's name. Changing it replaces the protection. */
  readonly environment: pulumi.Input<string>;
  /** Who may deploy; at least one entry. */
  readonly deployAccessLevels: pulumi.Input<pulumi.Input<DeployAccessLevel>[]>;
  /** Approvals needed before a deployment runs. Default GitLab's (0). */
  readonly requiredApprovalCount?: pulumi.Input<number>;
  /** Multiple approval rules (instead of `requiredApprovalCount`). Default none. */
  readonly approvalRules?: pulumi.Input<pulumi.Input<ApprovalRule>[]>;
  /**
   * When the environment is already protected, take the protection over (its rules become
   * these; destroy removes it) instead of failing. An addition to @pulumi/gitlab's arguments.
   * Default `false`.
   */
  readonly adoptExisting?: pulumi.Input<boolean>;
}

/**
 * A protected environment (`/projects/:id/protected_environments`, GitLab Premium), type token
 * `pulumi-nodejs:dynamic/gitlab:ProjectProtectedEnvironment`, id `<project>:<environment>` (the
 * import id of @pulumi/gitlab). Changes of who may deploy are applied in place with GitLab's
 * update endpoint, so the environment is never briefly unprotected.
 */
export class ProjectProtectedEnvironment extends GitLabResource {
  declare public readonly project: pulumi.Output<string>;
  declare public readonly environment: pulumi.Output<string>;
  declare public readonly deployAccessLevels: pulumi.Output<DeployAccessLevel[]>;
  declare public readonly requiredApprovalCount: pulumi.Output<number>;
  declare public readonly approvalRules: pulumi.Output<ApprovalRule[]>;

  constructor(
    name: string,
    args: ProjectProtectedEnvironmentArgs,
    opts?: pulumi.CustomResourceOptions,
  ) {
    const props = {
      project: args.project,
      environment: args.environment,
      deployAccessLevels: args.deployAccessLevels,
      requiredApprovalCount: args.requiredApprovalCount,
      approvalRules: args.approvalRules,
      adoptExisting: args.adoptExisting,
    };
    super(
      { type: TYPE, provider: ProjectProtectedEnvironmentProvider, validate: validateProtected },
      name,
      args,
      props,
      opts,
    );
  }
}
