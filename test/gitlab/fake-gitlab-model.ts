// Types and helpers shared by the fake GitLab server and its route modules.

/** One request as the server saw it. */
export interface LoggedRequest {
  readonly method: string;
  /** The path below `/api/v4`, still URL-encoded (`/projects/group%2Fapp/variables/KEY`). */
  readonly path: string;
  /** Decoded query parameters (`filter[environment_scope]`). */
  readonly query: Record<string, string>;
  readonly body: Record<string, unknown> | undefined;
}

/** A fault served instead of the real answer to the next `times` matching requests. */
export interface Fault {
  readonly method?: string;
  /** Matched against the encoded path below `/api/v4`. */
  readonly path?: string | RegExp;
  readonly status?: number;
  readonly retryAfter?: string;
  readonly body?: unknown;
  /** Never answer (the client must time out). */
  readonly hang?: boolean;
  /** How many requests it applies to. Default 1. */
  times?: number;
}

export interface Owner {
  readonly id: number;
  readonly fullPath: string;
}

export type Json = Record<string, unknown>;

/** What a route handler gets. */
export interface Call {
  readonly method: string;
  /** Decoded path parameters, in order. */
  readonly params: string[];
  readonly query: Record<string, string>;
  /** JSON body merged with the query, as Grape merges params. */
  readonly input: Json;
  readonly state: FakeState;
  /** The token the request presented, and its scopes. */
  readonly token: string;
  readonly scopes: readonly string[];
}

/** A reply: status, JSON body (omitted for 204) and extra headers (pagination). */
export interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  /** The token scope the endpoint needs (`*`: any); `api` always suffices. Default `api`. */
  readonly scope?: string | readonly string[];
  readonly handle: (call: Call) => Reply;
}

/** All objects the fake holds; tests may inspect and seed them. */
export interface FakeState {
  readonly projects: Owner[];
  readonly groups: Owner[];
  readonly variables: Map<string, Json[]>;
  readonly deployTokens: Map<string, Json[]>;
  readonly runners: Map<number, Json>;
  readonly agents: Map<number, Json>;
  readonly agentTokens: Map<number, Json>;
  readonly files: Map<string, Json>;
  readonly environments: Map<number, Json>;
  readonly protectedEnvironments: Map<string, Json>;
  /**
   * `user_access` authorizations GitLab has recorded per agent id: the project ids whose users
   * (and environments) may use the agent. GitLab records them only when agentk connects with a
   * config that lists them ({@link FakeGitLab.connectAgent}), never at commit time.
   */
  readonly userAccess: Map<number, Set<number>>;
  /** What `GET /metadata` answers. */
  readonly metadata: Json;
  /** The user behind each token, created on first use (`GET /user`, note and issue authors). */
  readonly users: Map<string, Json>;
  /** Merge requests by `projectId:iid`; tests seed them. */
  readonly mergeRequests: Map<string, Json>;
  /** Issues by `projectId:iid`. */
  readonly issues: Map<string, Json>;
  /** Notes by noteable, `projectId:merge_requests:iid` or `projectId:issues:iid`, oldest first. */
  readonly notes: Map<string, Json[]>;
  nextId: number;
}

export interface FakeGitLab {
  /** The instance URL, e.g. `http://127.0.0.1:41234` (no `/api/v4`). */
  readonly url: string;
  /** A token with the `api` scope. */
  readonly token: string;
  readonly log: LoggedRequest[];
  readonly faults: Fault[];
  readonly state: FakeState;
  /** Requests matching a method and a path pattern. */
  requests(method: string, path: RegExp): LoggedRequest[];
  /**
   * What happens when agentk of `agentId` connects to KAS: GitLab reads the agent's
   * `config.yaml` from its project's default branch (`main` here) and records its `user_access`
   * project and group authorizations (replacing earlier ones). Returns the authorized project ids.
   */
  connectAgent(agentId: number): number[];
  close(): Promise<void>;
}

export const reply = (status: number, body?: unknown): Reply => ({ status, body });
export const notFound = (what: string): Reply => reply(404, { message: `404 ${what} Not Found` });
export const badRequest = (message: unknown): Reply => reply(400, { message });

/** Resolves `:id` (a number or a decoded full path) to a project or group. */
export function findOwner(owners: Owner[], ref: string): Owner | undefined {
  return owners.find((o) => String(o.id) === ref || o.fullPath === ref);
}

export function nextId(state: FakeState): number {
  state.nextId += 1;
  return state.nextId;
}
