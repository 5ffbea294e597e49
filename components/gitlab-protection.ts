import * as pulumi from "@pulumi/pulumi";
import { CODE_OWNER, CODE_OWNERS_PATH, codeOwnersFile } from "./agent-config";
import {
  BranchProtection,
  ProjectContainerTagProtection,
  type ProtectedRefAccessLevel,
  RepositoryFile,
  TagProtection,
} from "./gitlab";

/** One project whose default branch and release tags are protected. */
export interface ProtectedProject {
  /** Full path of the project. */
  readonly project: string;
  /** Its default branch, as GitLab reports it (`main`). */
  readonly defaultBranch: string;
}

/** Arguments of {@link GitLabProtection}. */
export interface GitLabProtectionArgs {
  /** Projects whose default branch and release tags are protected; keyed by path. */
  readonly projects: readonly ProtectedProject[];
  /** How each default branch is protected. */
  readonly defaultBranch: {
    readonly pushAccessLevel: ProtectedRefAccessLevel;
    readonly mergeAccessLevel: "developer" | "maintainer";
    readonly allowForcePush: boolean;
    readonly codeOwnerApprovalRequired: boolean;
  };
  /** Release tag patterns (`v*`) protected in every project, and who may create them. */
  readonly releaseTags: {
    readonly patterns: readonly string[];
    readonly createAccessLevel: ProtectedRefAccessLevel;
  };
  /**
   * Container tags protected in these projects' registries (GitLab 18.9+): the environment tag a
   * Flux OCIRepository follows, as an anchored regular expression (`^production$`), so only
   * Maintainers can move it. Default none.
   */
  readonly environmentTags?: { readonly projects: readonly string[]; readonly tagRegex: string };
  /**
   * The platform project's `.gitlab/CODEOWNERS` ({@link codeOwnersFile}): `owners` must approve
   * merge requests changing the agents' authorization files. Committed to `project`'s default
   * branch as listed in `projects` (it must be there), before that branch is protected; pair it
   * with `defaultBranch.codeOwnerApprovalRequired`. Default none.
   */
  readonly codeOwners?: { readonly project: string; readonly owners: readonly string[] };
  /**
   * A user who may push to `project`'s default branch whatever `defaultBranch.pushAccessLevel`
   * says (`allowed_to_push`, GitLab Premium): the program's own, whose commits there (the agents'
   * files, CODEOWNERS) GitLab would otherwise refuse where no one may push. `project` must be
   * among `projects`. Default none.
   */
  readonly programPush?: { readonly project: string; readonly userId: number };
  /**
   * Kinds of existing protection to take over rather than stop on. GitLab protects a new
   * project's default branch itself, so a first run usually needs `branches`. `codeOwners`: an
   * existing `.gitlab/CODEOWNERS` is replaced. Default none.
   */
  readonly adopt?: {
    readonly branches?: boolean;
    readonly tags?: boolean;
    readonly containerTags?: boolean;
    readonly codeOwners?: boolean;
  };
}

/**
 * Protection the platform manages instead of leaving it to hand clicks: each project's default
 * branch (who may push and merge, no force push, code-owner approval), its release tags, and the
 * container tags Flux follows, so that the protected credentials and environments the platform
 * publishes only ever reach reviewed code.
 */
export class GitLabProtection extends pulumi.ComponentResource {
  /** The branch protections by project path, for `dependsOn`. */
  public readonly branches: Readonly<Record<string, BranchProtection>>;

  constructor(name: string, args: GitLabProtectionArgs, opts?: pulumi.ComponentResourceOptions) {
    const problems = gitLabProtectionProblems(args);
    if (problems.length > 0) {
      throw new Error(problems.map((p) => `GitLabProtection "${name}": ${p}`).join("\n"));
    }
    super("platform:ci:GitLabProtection", name, {}, opts);
    const adopt = args.adopt ?? {};
    const branches: Record<string, BranchProtection> = {};
    const codeOwners = args.codeOwners;
    const codeOwnersBranch = args.projects.find((p) => p.project === codeOwners?.project);
    // Committed before the branch is protected: its protection may let no one push.
    const codeOwnersFileResource =
      codeOwners === undefined || codeOwnersBranch === undefined
        ? undefined
        : new RepositoryFile(
            `${name}-codeowners`,
            {
              project: codeOwners.project,
              branch: codeOwnersBranch.defaultBranch,
              filePath: CODE_OWNERS_PATH,
              content: codeOwnersFile(codeOwners.owners),
              encoding: "text",
              commitMessage: "Code owners of the GitLab agents' configuration, managed by Pulumi",
              adoptKind: "codeOwners",
              ...(adopt.codeOwners === true ? { overwriteOnCreate: true } : {}),
            },
            { parent: this },
          );
    for (const { project, defaultBranch } of args.projects) {
      branches[project] = new BranchProtection(
        `${name}-${project}-branch`,
        {
          project,
          branch: defaultBranch,
          pushAccessLevel: args.defaultBranch.pushAccessLevel,
          mergeAccessLevel: args.defaultBranch.mergeAccessLevel,
          allowForcePush: args.defaultBranch.allowForcePush,
          codeOwnerApprovalRequired: args.defaultBranch.codeOwnerApprovalRequired,
          ...(args.programPush?.project === project
            ? { allowedToPushes: [{ userId: args.programPush.userId }] }
            : {}),
          ...(adopt.branches === true ? { adoptExisting: true } : {}),
        },
        {
          parent: this,
          ...(codeOwnersFileResource !== undefined && project === codeOwners?.project
            ? { dependsOn: [codeOwnersFileResource] }
            : {}),
        },
      );
      for (const pattern of args.releaseTags.patterns) {
        new TagProtection(
          `${name}-${project}-tag-${pattern}`,
          {
            project,
            tag: pattern,
            createAccessLevel: args.releaseTags.createAccessLevel,
            ...(adopt.tags === true ? { adoptExisting: true } : {}),
          },
          { parent: this },
        );
      }
    }
    for (const project of args.environmentTags?.projects ?? []) {
      new ProjectContainerTagProtection(
        `${name}-${project}-container-tag`,
        {
          project,
          tagNameRegex: args.environmentTags?.tagRegex ?? "",
          minimumAccessLevelForPush: "MAINTAINER",
          minimumAccessLevelForDelete: "MAINTAINER",
          ...(adopt.containerTags === true ? { adoptExisting: true } : {}),
        },
        { parent: this },
      );
    }
    this.branches = branches;
    this.registerOutputs({});
  }
}

/** `^<name>$`: a container tag rule that protects exactly that tag (rules are RE2 patterns). */
export function exactTagRegex(tag: string): string {
  return `^${tag.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`;
}

/** Every problem with `args`; empty when valid. */
export function gitLabProtectionProblems(args: GitLabProtectionArgs): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  args.projects.forEach((p, i) => {
    if (seen.has(p.project)) {
      problems.push(`projects[${i}].project: ${JSON.stringify(p.project)} is listed twice`);
    }
    seen.add(p.project);
    if (p.defaultBranch.trim() === "") {
      problems.push(
        `projects[${i}].defaultBranch: expected the project's default branch, got an empty name (an empty repository has none: push a first commit)`,
      );
    }
  });
  const codeOwners = args.codeOwners;
  if (codeOwners !== undefined) {
    if (!args.projects.some((p) => p.project === codeOwners.project)) {
      problems.push(
        `codeOwners.project: expected one of the protected projects (its CODEOWNERS goes to their default branch), got ${JSON.stringify(codeOwners.project)}`,
      );
    }
    if (codeOwners.owners.length === 0) {
      problems.push("codeOwners.owners: expected at least one owner, got none");
    }
    codeOwners.owners.forEach((owner, i) => {
      if (!CODE_OWNER.test(owner)) {
        problems.push(
          `codeOwners.owners[${i}]: expected @user, @group/subgroup, @@role or an email, got ${JSON.stringify(owner)}`,
        );
      }
    });
    if (!args.defaultBranch.codeOwnerApprovalRequired) {
      problems.push(
        "defaultBranch.codeOwnerApprovalRequired: expected true with codeOwners (without it GitLab merges without their approval), got false",
      );
    }
  }
  const programPush = args.programPush;
  if (programPush !== undefined) {
    if (!args.projects.some((p) => p.project === programPush.project)) {
      problems.push(
        `programPush.project: expected one of the protected projects, got ${JSON.stringify(programPush.project)}`,
      );
    }
    if (!Number.isInteger(programPush.userId) || programPush.userId <= 0) {
      problems.push(`programPush.userId: expected a GitLab user id, got ${programPush.userId}`);
    }
  }
  if (new Set(args.releaseTags.patterns).size !== args.releaseTags.patterns.length) {
    problems.push("releaseTags.patterns: expected each pattern once");
  }
  return problems;
}
