// Facts about the GitLab instance that a stack needs before it registers anything: its version
// and KAS (`GET /metadata`), and the numeric ids of the projects and groups it names. Read by the
// program (not by a dynamic provider), with one clear error for an unreachable instance, a
// refused token or a missing project.
import {
  Groups,
  Metadata,
  PersonalAccessTokens,
  Projects,
  RepositoryFiles,
  Users,
} from "@gitbeaker/rest";
import {
  ClientSettings,
  Connection,
  DEFAULT_CLIENT_SETTINGS,
  GitLabApiError,
  connect,
} from "./client";

/** What `GET /metadata` says about the instance (GitLab 15.2+). */
export interface InstanceMetadata {
  /** `18.6.1-ee`. */
  readonly version: string;
  readonly enterprise: boolean;
  readonly kas: {
    readonly enabled: boolean;
    /** Where agentk connects (`wss://…`); null when KAS is disabled. */
    readonly externalUrl: string | null;
    /** KAS's version without a `v` (`18.6.1`); null when disabled or unknown to GitLab. */
    readonly version: string | null;
  };
}

/** A GitLab version's numbers (the `-ee` or `-pre` suffix dropped). */
export interface Version {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

/** `18.6.1-ee` → `{18, 6, 1}`; `v17.3.3` too. Undefined for anything else. */
export function parseVersion(text: string | null | undefined): Version | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(text ?? "");
  return m === null ? undefined : { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

/** True when `v` is at least `major.minor`. */
export function atLeast(v: Version, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

/** What a stack asks of the instance. */
export interface InstanceQuery {
  /** Project full paths (or ids) whose numeric ids are needed, each with the key path naming it. */
  readonly projects: readonly { readonly path: string; readonly at: string }[];
  /** Group full paths likewise. */
  readonly groups: readonly { readonly path: string; readonly at: string }[];
  /**
   * Files whose presence on a project's default branch matters (a CODEOWNERS GitLab would read
   * before the platform's), each project among `projects`. Default none.
   */
  readonly files?: readonly {
    readonly project: string;
    readonly paths: readonly string[];
    readonly at: string;
  }[];
  /**
   * Whether the token's own user is needed (`GET /user`), with the key path that needs it: the
   * user a protected branch lets push. Default not asked.
   */
  readonly user?: { readonly at: string };
}

/** The user a token acts as (a project or group access token's bot user, or a person). */
export interface TokenUser {
  readonly id: number;
  readonly username: string;
}

/** The answers. */
export interface InstanceFacts {
  readonly url: string;
  readonly metadata: InstanceMetadata;
  /** Numeric id per project path as asked (case as given). */
  readonly projectIds: Readonly<Record<string, number>>;
  /** Default branch per project path as asked (absent for an empty repository). */
  readonly defaultBranches: Readonly<Record<string, string>>;
  /** Numeric id per group path as asked. */
  readonly groupIds: Readonly<Record<string, number>>;
  /**
   * Of the `files` asked about, those on the project's default branch, per project path (only
   * when `files` was asked; none for an empty repository).
   */
  readonly existingFiles?: Readonly<Record<string, readonly string[]>>;
  /** The token's user, only when `user` was asked. */
  readonly tokenUser?: TokenUser;
}

/** One problem with the instance or the token, before anything was registered. */
export class InstanceError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `GitLab preflight failed (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "InstanceError";
  }
}

/** Few, short attempts: a preflight that cannot reach GitLab should say so quickly. */
export const PREFLIGHT_SETTINGS: ClientSettings = {
  ...DEFAULT_CLIENT_SETTINGS,
  timeoutMs: 15_000,
  maxAttempts: 2,
};

interface MetadataSchema {
  readonly version?: string;
  readonly enterprise?: boolean;
  readonly kas?: { enabled?: boolean; externalUrl?: string | null; version?: string | null };
}

/** Why a request failed, said for someone fixing their stack config. */
function explain(url: string, what: string, err: unknown): string {
  if (!(err instanceof GitLabApiError)) {
    return `${what} at ${url} failed: ${String(err)}`;
  }
  switch (err.status) {
    case undefined:
      return (
        `cannot reach GitLab at ${url} (${err.message}): check gitlab:baseUrl (or ` +
        "GITLAB_BASE_URL), the network and any proxy"
      );
    case 401:
      return (
        `GitLab at ${url} rejected the token (HTTP 401: ${err.gitlabMessage}): it is wrong, ` +
        "expired or revoked; set a valid one with `pulumi config set --secret gitlab:token …` " +
        "(or GITLAB_TOKEN)"
      );
    case 403:
      return (
        `GitLab at ${url} refused ${what} (HTTP 403: ${err.gitlabMessage}): the token needs the ` +
        "api scope (see docs/gitlab.md, Token scopes and roles)"
      );
    default:
      return `${what} at ${url} failed with HTTP ${err.status}: ${err.gitlabMessage}`;
  }
}

/** Reads `GET /metadata`; throws an {@link InstanceError}. */
export async function readMetadata(
  connection: Connection,
  settings: ClientSettings = PREFLIGHT_SETTINGS,
): Promise<InstanceMetadata> {
  const api = connect(connection, settings, "GitLab preflight");
  let raw: MetadataSchema;
  try {
    raw = (await api.use(Metadata).show()) as unknown as MetadataSchema;
  } catch (err) {
    if (err instanceof GitLabApiError && err.status === 404) {
      throw new InstanceError([
        `GitLab at ${connection.host} has no GET /metadata (HTTP 404): GitLab 15.2 or newer is required`,
      ]);
    }
    throw new InstanceError([explain(connection.host, "GET /metadata", err)]);
  }
  if (typeof raw.version !== "string") {
    throw new InstanceError([
      `GET /metadata at ${connection.host} answered without a version: is gitlab:baseUrl a GitLab instance?`,
    ]);
  }
  return {
    version: raw.version,
    enterprise: raw.enterprise === true,
    kas: {
      enabled: raw.kas?.enabled === true,
      externalUrl: raw.kas?.externalUrl ?? null,
      version: raw.kas?.version ?? null,
    },
  };
}

interface Namespaced {
  readonly id: number;
  readonly default_branch?: string | null;
}

async function lookUp(
  url: string,
  what: "project" | "group",
  wanted: InstanceQuery["projects"],
  show: (path: string) => Promise<Namespaced>,
  problems: string[],
): Promise<Record<string, Namespaced>> {
  const found: Record<string, Namespaced> = {};
  const unique = new Map(wanted.map((w) => [w.path, w]));
  await Promise.all(
    [...unique.values()].map(async ({ path, at }) => {
      try {
        found[path] = await show(path);
      } catch (err) {
        problems.push(
          err instanceof GitLabApiError && err.status === 404
            ? `${at}: GitLab at ${url} has no ${what} "${path}" that the token can see ` +
                "(HTTP 404): check the path and that the token's user is a member"
            : `${at}: ${explain(url, `looking up ${what} "${path}"`, err)}`,
        );
      }
    }),
  );
  return found;
}

const mapValues = <T, U>(o: Record<string, T>, f: (v: T) => U | undefined): Record<string, U> =>
  Object.fromEntries(
    Object.entries(o).flatMap(([k, v]) => {
      const u = f(v);
      return u === undefined ? [] : [[k, u]];
    }),
  );

/**
 * Everything the stack needs to know about the instance, or one {@link InstanceError} listing
 * every problem: metadata first (a wrong URL or token stops there), then every project and group.
 */
export async function inspectInstance(
  connection: Connection,
  query: InstanceQuery,
  settings: ClientSettings = PREFLIGHT_SETTINGS,
): Promise<InstanceFacts> {
  const metadata = await readMetadata(connection, settings);
  const api = connect(connection, settings, "GitLab preflight");
  const problems: string[] = [];
  const projects = api.use(Projects);
  const groups = api.use(Groups);
  const [projectsFound, groupsFound] = await Promise.all([
    lookUp(
      connection.host,
      "project",
      query.projects,
      async (path) => (await projects.show(path)) as unknown as Namespaced,
      problems,
    ),
    lookUp(
      connection.host,
      "group",
      query.groups,
      async (path) => (await groups.show(path)) as unknown as Namespaced,
      problems,
    ),
  ]);
  if (problems.length > 0) {
    throw new InstanceError(problems.sort());
  }
  const existingFiles =
    query.files === undefined
      ? undefined
      : await findFiles(connection.host, api, query.files, projectsFound, problems);
  const tokenUser =
    query.user === undefined
      ? undefined
      : await currentUser(connection.host, api, query.user.at, problems);
  if (problems.length > 0) {
    throw new InstanceError(problems.sort());
  }
  return {
    url: connection.host,
    metadata,
    projectIds: mapValues(projectsFound, (p) => p.id),
    defaultBranches: mapValues(projectsFound, (p) => p.default_branch ?? undefined),
    groupIds: mapValues(groupsFound, (g) => g.id),
    ...(existingFiles === undefined ? {} : { existingFiles }),
    ...(tokenUser === undefined ? {} : { tokenUser }),
  };
}

/** `GET /user`: who the token acts as. */
async function currentUser(
  url: string,
  api: ReturnType<typeof connect>,
  at: string,
  problems: string[],
): Promise<TokenUser | undefined> {
  try {
    const user = (await api.use(Users).showCurrentUser()) as unknown as TokenUser;
    return { id: user.id, username: user.username };
  } catch (err) {
    problems.push(`${at}: ${explain(url, "GET /user (the token's own user)", err)}`);
    return undefined;
  }
}

/** Which of the files asked about are on their project's default branch (404: absent). */
async function findFiles(
  url: string,
  api: ReturnType<typeof connect>,
  wanted: NonNullable<InstanceQuery["files"]>,
  projects: Record<string, Namespaced>,
  problems: string[],
): Promise<Record<string, string[]>> {
  const found: Record<string, string[]> = {};
  for (const { project, paths, at } of wanted) {
    const branch = projects[project]?.default_branch ?? undefined;
    found[project] = [];
    if (branch === undefined) {
      continue;
    }
    const present = await Promise.all(
      paths.map(async (path) => {
        try {
          await api.use(RepositoryFiles).show(project, path, branch);
          return true;
        } catch (err) {
          if (err instanceof GitLabApiError && err.status === 404) {
            return false;
          }
          problems.push(`${at}: ${explain(url, `looking for ${path} in "${project}"`, err)}`);
          return false;
        }
      }),
    );
    found[project] = paths.filter((_, i) => present[i]);
  }
  return found;
}

/** What `GET /personal_access_tokens/self` says about the token in use. */
export interface TokenFacts {
  readonly name: string;
  readonly scopes: readonly string[];
  readonly active: boolean;
  readonly expiresAt: string | null;
}

/**
 * The token's own scopes and expiry (works for personal, project and group access tokens with
 * any scope). Throws an {@link InstanceError}.
 */
export async function readToken(
  connection: Connection,
  settings: ClientSettings = PREFLIGHT_SETTINGS,
): Promise<TokenFacts> {
  const api = connect(connection, settings, "GitLab preflight");
  try {
    const t = (await api.use(PersonalAccessTokens).show()) as unknown as {
      name: string;
      scopes?: string[];
      active?: boolean;
      expires_at?: string | null;
    };
    return {
      name: t.name,
      scopes: t.scopes ?? [],
      active: t.active !== false,
      expiresAt: t.expires_at ?? null,
    };
  } catch (err) {
    throw new InstanceError([explain(connection.host, "GET /personal_access_tokens/self", err)]);
  }
}
