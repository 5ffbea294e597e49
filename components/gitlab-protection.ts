import * as pulumi from "@pulumi/pulumi";
import {
  BranchProtection,
  ProjectContainerTagProtection,
  type ProtectedRefAccessLevel,
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
   * Kinds of existing protection to take over rather than stop on. GitLab protects a new
   * project's default branch itself, so a first run usually needs `branches`. Default none.
   */
  readonly adopt?: {
    readonly branches?: boolean;
    readonly tags?: boolean;
    readonly containerTags?: boolean;
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
          ...(adopt.branches === true ? { adoptExisting: true } : {}),
        },
        { parent: this },
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
  if (new Set(args.releaseTags.patterns).size !== args.releaseTags.patterns.length) {
    problems.push("releaseTags.patterns: expected each pattern once");
  }
  return problems;
}
