// Fake GitLab endpoints describing the instance and its namespaces: `GET /metadata`, one project,
// one group (GitLab's REST API docs: metadata, projects#get-a-single-project, groups#get-a-single-group),
// and what happens when agentk connects (GitLab records the agent's `user_access` authorizations
// from its config file: doc/user/clusters/agent/user_access.md, "the configuration is read when
// the agent connects").
import { parse } from "yaml";
import {
  Call,
  FakeState,
  Json,
  Owner,
  Reply,
  Route,
  findOwner,
  notFound,
  reply,
} from "./fake-gitlab-model";

/** What the fake's `GET /metadata` answers unless a test says otherwise. */
export const DEFAULT_METADATA: Json = {
  version: "18.6.1-ee",
  revision: "f0e1d2c3b4a",
  kas: {
    enabled: true,
    externalUrl: "wss://gitlab.fake.test/-/kubernetes-agent/",
    externalK8sProxyUrl: "https://gitlab.fake.test/-/kubernetes-agent/k8s-proxy/",
    version: "18.6.1",
  },
  enterprise: true,
};

function metadata(call: Call): Reply {
  return reply(200, call.state.metadata);
}

function projectJson(p: Owner): Json {
  const parts = p.fullPath.split("/");
  return {
    id: p.id,
    name: parts[parts.length - 1],
    path: parts[parts.length - 1],
    path_with_namespace: p.fullPath,
    default_branch: "main",
    namespace: { full_path: parts.slice(0, -1).join("/"), kind: "group" },
  };
}

function oneProject(call: Call): Reply {
  const project = findOwner(call.state.projects, call.params[0] ?? "");
  return project === undefined ? notFound("Project") : reply(200, projectJson(project));
}

function oneGroup(call: Call): Reply {
  const group = findOwner(call.state.groups, call.params[0] ?? "");
  return group === undefined
    ? notFound("Group")
    : reply(200, {
        id: group.id,
        full_path: group.fullPath,
        path: group.fullPath.split("/").pop(),
      });
}

interface UserAccessConfig {
  readonly user_access?: {
    readonly projects?: readonly { readonly id?: unknown }[];
    readonly groups?: readonly { readonly id?: unknown }[];
  };
}

/** Records the `user_access` authorizations of the agent's committed config; see FakeGitLab. */
export function connectAgent(state: FakeState, agentId: number): number[] {
  const agent = state.agents.get(agentId);
  if (agent === undefined) {
    throw new Error(`fake GitLab: no agent ${agentId}`);
  }
  const file = state.files.get(
    `${String(agent.project_id)}:main:.gitlab/agents/${String(agent.name)}/config.yaml`,
  );
  const config = (
    file === undefined
      ? {}
      : (parse(Buffer.from(String(file.content), "base64").toString("utf8")) ?? {})
  ) as UserAccessConfig;
  const paths = (list: readonly { readonly id?: unknown }[] | undefined) =>
    (list ?? []).map((entry) => String(entry.id ?? "").toLowerCase());
  const projects = paths(config.user_access?.projects);
  const groups = paths(config.user_access?.groups);
  const authorized = state.projects
    .filter((p) => {
      const path = p.fullPath.toLowerCase();
      return projects.includes(path) || groups.some((g) => path.startsWith(`${g}/`));
    })
    .map((p) => p.id);
  state.userAccess.set(agentId, new Set(authorized));
  return authorized;
}

/** `GET /personal_access_tokens/self`: any token may read itself (GitLab 16.0+). */
function tokenSelf(call: Call): Reply {
  return reply(200, {
    id: 1,
    name: "platform",
    revoked: false,
    created_at: "2025-01-01T00:00:00.000Z",
    scopes: call.scopes,
    user_id: 1,
    active: true,
    expires_at: "2027-01-01",
  });
}

export const instanceRoutes: Route[] = [
  { method: "GET", pattern: /^\/personal_access_tokens\/self$/, scope: "*", handle: tokenSelf },
  // lib/api/metadata.rb: allow_access_with_scope [:read_user, :ai_features] for GET, besides
  // api and read_api.
  { method: "GET", pattern: /^\/metadata$/, scope: ["read_user", "ai_features"], handle: metadata },
  { method: "GET", pattern: /^\/projects\/([^/]+)$/, handle: oneProject },
  { method: "GET", pattern: /^\/groups\/([^/]+)$/, handle: oneGroup },
];
