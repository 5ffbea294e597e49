// Fake GitLab endpoints for deployments: cluster agents and their tokens, repository files,
// environments and protected environments, per GitLab's REST API docs (cluster_agents,
// repository_files, environments, protected_environments).
import { createHash, randomBytes } from "node:crypto";
import {
  Call,
  Json,
  Reply,
  Route,
  badRequest,
  findOwner,
  nextId,
  notFound,
  reply,
} from "./fake-gitlab-model";
import { userFor } from "./fake-gitlab-mr";
import { canPushToBranch } from "./fake-gitlab-protection";

const sha = () => randomBytes(20).toString("hex");
const now = () => new Date("2025-01-01T00:00:00Z").toISOString();

function project(call: Call): { id?: number; missing: Reply } {
  return {
    id: findOwner(call.state.projects, call.params[0] ?? "")?.id,
    missing: notFound("Project"),
  };
}

function createAgent(call: Call): Reply {
  const { id: projectId, missing } = project(call);
  if (projectId === undefined) {
    return missing;
  }
  const name = String(call.input.name ?? "");
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 63) {
    return badRequest({ name: ["can contain only lowercase letters, digits, and '-'"] });
  }
  const taken = [...call.state.agents.values()].some(
    (a) => a.project_id === projectId && a.name === name,
  );
  if (taken) {
    return badRequest({ name: ["has already been taken"] });
  }
  const agent: Json = {
    id: nextId(call.state),
    name,
    project_id: projectId,
    config_project: { id: projectId },
    created_at: now(),
    created_by_user_id: 1,
  };
  call.state.agents.set(agent.id as number, agent);
  return reply(201, agent);
}

function oneAgent(call: Call): Reply {
  const { id: projectId, missing } = project(call);
  const agentId = Number(call.params[1]);
  const agent = call.state.agents.get(agentId);
  if (projectId === undefined) {
    return missing;
  }
  if (agent === undefined || agent.project_id !== projectId) {
    return notFound("Agent");
  }
  if (call.method === "DELETE") {
    call.state.agents.delete(agentId);
    return reply(204);
  }
  return reply(200, agent);
}

function createAgentToken(call: Call): Reply {
  const found = oneAgent({ ...call, method: "GET" });
  if (found.status !== 200) {
    return found;
  }
  const agentId = Number(call.params[1]);
  const active = [...call.state.agentTokens.values()].filter(
    (t) => t.agent_id === agentId && t.status === "active",
  );
  if (active.length >= 2) {
    return badRequest("An agent can have only two active tokens at a time");
  }
  if (typeof call.input.name !== "string") {
    return reply(400, { error: "name is missing" });
  }
  const token: Json = {
    id: nextId(call.state),
    name: call.input.name,
    description: call.input.description ?? null,
    agent_id: agentId,
    status: "active",
    created_at: now(),
    created_by_user_id: 1,
    last_used_at: null,
  };
  call.state.agentTokens.set(token.id as number, token);
  return reply(201, { ...token, token: `glagent-${randomBytes(16).toString("hex")}` });
}

function oneAgentToken(call: Call): Reply {
  const found = oneAgent({ ...call, method: "GET" });
  const token = call.state.agentTokens.get(Number(call.params[2]));
  if (found.status !== 200) {
    return found;
  }
  // Revoked tokens are no longer returned.
  if (
    token === undefined ||
    token.agent_id !== Number(call.params[1]) ||
    token.status !== "active"
  ) {
    return notFound("Agent Token");
  }
  if (call.method === "DELETE") {
    token.status = "revoked";
    return reply(204);
  }
  return reply(200, token);
}

function file(call: Call): Reply {
  const { id: projectId, missing } = project(call);
  if (projectId === undefined) {
    return missing;
  }
  const path = call.params[1] ?? "";
  const branch = String(call.method === "GET" ? call.query.ref : call.input.branch);
  if (branch !== "main" && call.input.start_branch === undefined) {
    return call.method === "GET"
      ? notFound("File")
      : badRequest("You can only create or edit files when you are on a branch");
  }
  const key = `${projectId}:${branch}:${path}`;
  const existing = call.state.files.get(key);
  if (call.method === "GET") {
    return existing === undefined ? notFound("File") : reply(200, existing);
  }
  // app/services/commits/create_service.rb validate_permissions! (can_push_to_branch?) raises
  // a ValidationError, which lib/api/files.rb renders as 400 with the bare message (the Commits
  // API's authorize_push_to_branch! would say 403). A user in allowed_to_push may push, code
  // owners or not: since GitLab 15.0 CODEOWNERS only binds git pushes of users who cannot push
  // (ee/lib/ee/gitlab/checks/diff_check.rb validate_code_owners?) and merge requests.
  if (!canPushToBranch(call.state, projectId, branch, Number(userFor(call).id))) {
    return badRequest("You are not allowed to push into this branch");
  }
  if (call.method === "POST" && existing !== undefined) {
    return badRequest("A file with this name already exists");
  }
  if (call.method !== "POST" && existing === undefined) {
    return badRequest("A file with this name doesn't exist");
  }
  if (call.method === "DELETE") {
    call.state.files.delete(key);
    return reply(204);
  }
  const raw = String(call.input.content ?? "");
  const bytes = Buffer.from(raw, call.input.encoding === "base64" ? "base64" : "utf8");
  const commit = sha();
  call.state.files.set(key, {
    file_name: path.split("/").pop(),
    file_path: path,
    size: bytes.length,
    encoding: "base64",
    content: bytes.toString("base64"),
    content_sha256: createHash("sha256").update(bytes).digest("hex"),
    ref: branch,
    blob_id: sha(),
    commit_id: commit,
    last_commit_id: commit,
    execute_filemode: call.input.execute_filemode === true,
    commit_message: call.input.commit_message,
    author_name: call.input.author_name,
  });
  return reply(call.method === "POST" ? 201 : 200, { file_path: path, branch });
}

const ENVIRONMENT_FIELDS = [
  "external_url",
  "tier",
  "kubernetes_namespace",
  "flux_resource_path",
  "description",
];

function setEnvironment(env: Json, input: Json): void {
  ENVIRONMENT_FIELDS.filter((f) => input[f] !== undefined).forEach((f) => {
    env[f] = input[f];
  });
  if (input.cluster_agent_id !== undefined) {
    env.cluster_agent = input.cluster_agent_id === null ? null : { id: input.cluster_agent_id };
  }
}

/**
 * GitLab's checks of an environment's Kubernetes settings. `lib/api/environments.rb` looks the
 * agent up with `Clusters::AgentsFinder.new(user_project, …)`, which returns only the
 * environment's own project's agents (`project.cluster_agents`), and
 * `Environments::CreateService`/`UpdateService` also require a `user_access` authorization of the
 * project by that agent (`Clusters::Agents::Authorizations::UserAccess::Finder`); either failure is
 * the same 400. The model validations: a namespace needs an agent, a Flux path needs a namespace.
 */
function kubernetesProblem(state: Call["state"], projectId: number, env: Json): Reply | undefined {
  const agentId = (env.cluster_agent as Json | null)?.id;
  if (agentId !== undefined && agentId !== null) {
    const agent = state.agents.get(Number(agentId));
    const authorized = state.userAccess.get(Number(agentId))?.has(projectId) ?? false;
    if (agent === undefined || agent.project_id !== projectId || !authorized) {
      return badRequest(
        "400 Bad request - cluster agent doesn't exist or cannot be associated with this environment",
      );
    }
  }
  if (env.kubernetes_namespace !== null && env.cluster_agent === null) {
    return badRequest({ kubernetes_namespace: ["cannot be set without a cluster agent"] });
  }
  if (env.flux_resource_path !== null && env.kubernetes_namespace === null) {
    return badRequest({ flux_resource_path: ["cannot be set without a kubernetes namespace"] });
  }
  return undefined;
}

/** `GET /projects/:id/environments`: `name` filters by exact name, `search` by substring. */
function listEnvironments(call: Call): Reply {
  const { id: projectId, missing } = project(call);
  if (projectId === undefined) {
    return missing;
  }
  const name = call.query.name;
  const search = call.query.search;
  return reply(
    200,
    [...call.state.environments.values()].filter(
      (e) =>
        e.project_id === projectId &&
        (name === undefined || e.name === name) &&
        (search === undefined || String(e.name).includes(search)),
    ),
  );
}

function createEnvironment(call: Call): Reply {
  const { id: projectId, missing } = project(call);
  if (projectId === undefined) {
    return missing;
  }
  const name = String(call.input.name ?? "");
  const taken = [...call.state.environments.values()].some(
    (e) => e.project_id === projectId && e.name === name,
  );
  if (taken) {
    return badRequest({ name: ["has already been taken"] });
  }
  const env: Json = {
    id: nextId(call.state),
    project_id: projectId,
    name,
    slug: name.toLowerCase().replace(/[^a-z0-9]+/g, "-"),
    external_url: null,
    state: "available",
    tier: "other",
    cluster_agent: null,
    kubernetes_namespace: null,
    flux_resource_path: null,
    description: null,
    created_at: now(),
  };
  setEnvironment(env, call.input);
  const refused = kubernetesProblem(call.state, projectId, env);
  if (refused !== undefined) {
    return refused;
  }
  call.state.environments.set(env.id as number, env);
  return reply(201, env);
}

function oneEnvironment(call: Call): Reply {
  const { id: projectId, missing } = project(call);
  const env = call.state.environments.get(Number(call.params[1]));
  if (projectId === undefined) {
    return missing;
  }
  if (env === undefined || env.project_id !== projectId) {
    return notFound("Environment");
  }
  if (call.params[2] === "stop") {
    env.state = "stopped";
  } else if (call.method === "DELETE") {
    // GitLab deletes only stopped environments.
    if (env.state !== "stopped") {
      return reply(403, { message: "403 Forbidden" });
    }
    call.state.environments.delete(env.id as number);
    return reply(204);
  } else if (call.method === "PUT") {
    const next = { ...env };
    setEnvironment(next, call.input);
    const refused = kubernetesProblem(call.state, projectId, next);
    if (refused !== undefined) {
      return refused;
    }
    Object.assign(env, next);
  }
  return reply(200, env);
}

const LEVEL_DESCRIPTIONS: Record<number, string> = {
  30: "Developers + Maintainers",
  40: "Maintainers",
  60: "Administrators",
};

/** Applies `[{access_level|user_id|group_id, group_inheritance_type, id?, _destroy?}]`. */
function applyRules(state: Call["state"], current: Json[], changes: unknown): Json[] | Reply {
  let rules = [...current];
  for (const c of (changes ?? []) as Json[]) {
    const who = ["access_level", "user_id", "group_id"].filter((k) => c[k] !== undefined);
    if (c.id !== undefined) {
      const existing = rules.find((r) => r.id === c.id);
      if (existing === undefined) {
        return notFound("Deploy Access Level");
      }
      rules = c._destroy === true ? rules.filter((r) => r !== existing) : rules;
      continue;
    }
    if (
      who.length !== 1 ||
      (c.access_level !== undefined && !(Number(c.access_level) in LEVEL_DESCRIPTIONS))
    ) {
      return reply(400, { error: "access_level, user_id, group_id are mutually exclusive" });
    }
    rules.push({
      id: nextId(state),
      access_level: c.access_level ?? null,
      access_level_description: LEVEL_DESCRIPTIONS[Number(c.access_level)] ?? "A user or group",
      user_id: c.user_id ?? null,
      group_id: c.group_id ?? null,
      group_inheritance_type: c.group_inheritance_type ?? 0,
      ...(c.required_approvals !== undefined ? { required_approvals: c.required_approvals } : {}),
    });
  }
  return rules;
}

function protectedEnvironment(call: Call): Reply {
  const { id: projectId, missing } = project(call);
  if (projectId === undefined) {
    return missing;
  }
  const name = call.method === "POST" ? String(call.input.name ?? "") : (call.params[1] ?? "");
  const key = `${projectId}:${name}`;
  const existing = call.state.protectedEnvironments.get(key);
  if (call.method === "POST" && existing !== undefined) {
    return badRequest({ name: ["has already been taken"] });
  }
  if (call.method !== "POST" && existing === undefined) {
    return notFound("Protected Environment");
  }
  if (call.method === "GET") {
    return reply(200, existing);
  }
  if (call.method === "DELETE") {
    call.state.protectedEnvironments.delete(key);
    return reply(204);
  }
  const base: Json = existing ?? { name, deploy_access_levels: [], approval_rules: [] };
  const deploy = applyRules(
    call.state,
    base.deploy_access_levels as Json[],
    call.input.deploy_access_levels,
  );
  const approval = applyRules(call.state, base.approval_rules as Json[], call.input.approval_rules);
  if (!Array.isArray(deploy)) {
    return deploy;
  }
  if (!Array.isArray(approval)) {
    return approval;
  }
  const next: Json = {
    name,
    deploy_access_levels: deploy,
    required_approval_count:
      call.input.required_approval_count ?? base.required_approval_count ?? 0,
    approval_rules: approval,
  };
  call.state.protectedEnvironments.set(key, next);
  return reply(call.method === "POST" ? 201 : 200, next);
}

const PROJECT = "projects/([^/]+)";

export const deployRoutes: Route[] = [
  { method: "POST", pattern: new RegExp(`^/${PROJECT}/cluster_agents$`), handle: createAgent },
  ...["GET", "DELETE"].map((method) => ({
    method,
    pattern: new RegExp(`^/${PROJECT}/cluster_agents/(\\d+)$`),
    handle: oneAgent,
  })),
  {
    method: "POST",
    pattern: new RegExp(`^/${PROJECT}/cluster_agents/(\\d+)/tokens$`),
    handle: createAgentToken,
  },
  ...["GET", "DELETE"].map((method) => ({
    method,
    pattern: new RegExp(`^/${PROJECT}/cluster_agents/(\\d+)/tokens/(\\d+)$`),
    handle: oneAgentToken,
  })),
  ...["GET", "POST", "PUT", "DELETE"].map((method) => ({
    method,
    pattern: new RegExp(`^/${PROJECT}/repository/files/([^/]+)$`),
    handle: file,
  })),
  { method: "POST", pattern: new RegExp(`^/${PROJECT}/environments$`), handle: createEnvironment },
  { method: "GET", pattern: new RegExp(`^/${PROJECT}/environments$`), handle: listEnvironments },
  ...["GET", "PUT", "DELETE"].map((method) => ({
    method,
    pattern: new RegExp(`^/${PROJECT}/environments/(\\d+)$`),
    handle: oneEnvironment,
  })),
  {
    method: "POST",
    pattern: new RegExp(`^/${PROJECT}/environments/(\\d+)/(stop)$`),
    handle: oneEnvironment,
  },
  ...["POST", "GET", "PUT", "DELETE"].map((method) => ({
    method,
    pattern: new RegExp(`^/${PROJECT}/protected_environments(?:/([^/]+))?$`),
    handle: protectedEnvironment,
  })),
];
