// Fake GitLab endpoints for CI settings: project and group variables, deploy tokens, runners.
// Shapes and error bodies follow GitLab's REST API docs (project_level_variables,
// group_level_variables, deploy_tokens, users#create-a-runner, runners).
import { randomBytes } from "node:crypto";
import {
  Call,
  FakeState,
  Json,
  Owner,
  Reply,
  Route,
  badRequest,
  findOwner,
  nextId,
  notFound,
  reply,
} from "./fake-gitlab-model";

function ownerOf(call: Call): { owner?: Owner; key: string; missing: Reply } {
  const [kind = "", ref = ""] = call.params;
  const owners = kind === "projects" ? call.state.projects : call.state.groups;
  const owner = findOwner(owners, ref);
  return {
    owner,
    key: `${kind}:${owner?.id ?? ""}`,
    missing: notFound(kind === "projects" ? "Project" : "Group"),
  };
}

// Grape merges query and body: the filter arrives as `filter[environment_scope]` or nested.
function scopeFilter(call: Call): string | undefined {
  const nested = call.input.filter as Json | undefined;
  return call.query["filter[environment_scope]"] ?? (nested?.environment_scope as string);
}

function maskable(v: Json): boolean {
  if (v.masked !== true) {
    return true;
  }
  const value = String(v.value);
  return v.raw === true ? /^\S{8,}$/.test(value) : /^[a-zA-Z0-9_+=/@:.~-]{8,}$/.test(value);
}

const VARIABLE_FIELDS = [
  "value",
  "variable_type",
  "protected",
  "masked",
  "raw",
  "environment_scope",
  "description",
];

function createVariable(call: Call): Reply {
  const { owner, key, missing } = ownerOf(call);
  if (owner === undefined) {
    return missing;
  }
  const i = call.input;
  if (typeof i.key !== "string" || !/^[A-Za-z0-9_]{1,255}$/.test(i.key)) {
    return badRequest({ key: ["can contain only letters, digits and '_'."] });
  }
  // `masked_and_hidden` exists on create only (GitLab 17.4, Ci::ChangeVariableService): it sets
  // both flags; the value is never shown again.
  const hidden = i.masked_and_hidden === true || i.masked_and_hidden === "true";
  const variable: Json = {
    variable_type: i.variable_type ?? "env_var",
    key: i.key,
    value: i.value ?? "",
    protected: i.protected ?? false,
    masked: hidden || (i.masked ?? false),
    hidden,
    raw: i.raw ?? false,
    environment_scope: i.environment_scope ?? "*",
    description: i.description ?? null,
  };
  if (!maskable(variable)) {
    return badRequest({ value: ["is invalid"] });
  }
  const list = call.state.variables.get(key) ?? [];
  if (list.some((v) => v.key === i.key && v.environment_scope === variable.environment_scope)) {
    return badRequest({ key: [`(${i.key}) has already been taken`] });
  }
  call.state.variables.set(key, [...list, variable]);
  return reply(201, shown(variable));
}

/** How GitLab presents a variable: a hidden one's value is null (Ci::VariableValue). */
function shown(v: Json): Json {
  return v.hidden === true ? { ...v, value: null } : v;
}

/** GET, PUT and DELETE of one variable, narrowed by the scope filter as GitLab does. */
function oneVariable(call: Call): Reply {
  const { owner, key, missing } = ownerOf(call);
  if (owner === undefined) {
    return missing;
  }
  const list = call.state.variables.get(key) ?? [];
  const scope = scopeFilter(call);
  const found = list.filter(
    (v) => v.key === call.params[2] && (scope === undefined || v.environment_scope === scope),
  );
  if (found.length === 0) {
    return notFound("Variable");
  }
  if (found.length > 1) {
    return reply(409, {
      message:
        "There are multiple variables with provided parameters. Please use 'filter[environment_scope]'",
    });
  }
  const variable = found[0] as Json;
  if (call.method === "DELETE") {
    call.state.variables.set(
      key,
      list.filter((v) => v !== variable),
    );
    return reply(204);
  }
  if (call.method === "PUT") {
    const updated: Json = { ...variable };
    VARIABLE_FIELDS.filter((f) => call.input[f] !== undefined).forEach((f) => {
      updated[f] = call.input[f];
    });
    // Ci::HidableVariable: a hidden variable's value may change, its visibility may not.
    if (variable.hidden === true && updated.masked !== true) {
      return badRequest({
        base: ["The visibility setting cannot be changed for masked and hidden variables."],
      });
    }
    if (!maskable(updated)) {
      return badRequest({ value: ["is invalid"] });
    }
    Object.assign(variable, updated);
  }
  return reply(200, shown(variable));
}

const DEPLOY_TOKEN_SCOPES = [
  "read_repository",
  "read_registry",
  "write_registry",
  "read_package_registry",
  "write_package_registry",
  "read_virtual_registry",
  "write_virtual_registry",
];

function createDeployToken(call: Call): Reply {
  const { owner, key, missing } = ownerOf(call);
  if (owner === undefined) {
    return missing;
  }
  const i = call.input;
  if (typeof i.name !== "string") {
    return reply(400, { error: "name is missing" });
  }
  const scopes = i.scopes as string[] | undefined;
  if (!Array.isArray(scopes) || scopes.some((s) => !DEPLOY_TOKEN_SCOPES.includes(s))) {
    return reply(400, { error: "scopes does not have a valid value" });
  }
  const id = nextId(call.state);
  const token: Json = {
    id,
    name: i.name,
    username: i.username ?? `gitlab+deploy-token-${id}`,
    expires_at: i.expires_at ?? null,
    revoked: false,
    expired: false,
    scopes,
  };
  call.state.deployTokens.set(key, [...(call.state.deployTokens.get(key) ?? []), token]);
  return reply(201, { ...token, token: `gldt-${randomBytes(10).toString("hex")}` });
}

function oneDeployToken(call: Call): Reply {
  const { owner, key, missing } = ownerOf(call);
  if (owner === undefined) {
    return missing;
  }
  const list = call.state.deployTokens.get(key) ?? [];
  const token = list.find((t) => String(t.id) === call.params[2]);
  if (token === undefined) {
    return notFound("Deploy Token");
  }
  if (call.method === "DELETE") {
    call.state.deployTokens.set(
      key,
      list.filter((t) => t !== token),
    );
    return reply(204);
  }
  return reply(200, token);
}

const RUNNER_FIELDS = [
  "description",
  "paused",
  "tag_list",
  "run_untagged",
  "locked",
  "access_level",
  "maximum_timeout",
  "maintenance_note",
];

function runnerTarget(state: FakeState, i: Json): Json | Reply {
  switch (i.runner_type) {
    case "instance_type":
      return { projects: [], groups: [] };
    case "project_type": {
      const project = findOwner(state.projects, String(i.project_id ?? ""));
      return project === undefined
        ? reply(400, { message: "400 Bad request - project_id is missing or not found" })
        : { projects: [{ id: project.id }], groups: [] };
    }
    case "group_type": {
      const group = findOwner(state.groups, String(i.group_id ?? ""));
      return group === undefined
        ? reply(400, { message: "400 Bad request - group_id is missing or not found" })
        : { projects: [], groups: [{ id: group.id }] };
    }
    default:
      return reply(400, { error: "runner_type does not have a valid value" });
  }
}

function createRunner(call: Call): Reply {
  const target = runnerTarget(call.state, call.input);
  if ("status" in target) {
    return target as Reply;
  }
  const id = nextId(call.state);
  const runner: Json = {
    id,
    runner_type: call.input.runner_type,
    description: "",
    paused: false,
    tag_list: [],
    run_untagged: true,
    locked: false,
    access_level: "not_protected",
    maximum_timeout: null,
    maintenance_note: null,
    ...target,
  };
  RUNNER_FIELDS.filter((f) => call.input[f] !== undefined).forEach((f) => {
    runner[f] = call.input[f];
  });
  call.state.runners.set(id, runner);
  return reply(201, {
    id,
    token: `glrt-${randomBytes(10).toString("hex")}`,
    token_expires_at: null,
  });
}

function oneRunner(call: Call): Reply {
  const id = Number(call.params[0]);
  const runner = call.state.runners.get(id);
  if (runner === undefined) {
    return notFound("Runner");
  }
  if (call.method === "DELETE") {
    call.state.runners.delete(id);
    return reply(204);
  }
  if (call.method === "PUT") {
    RUNNER_FIELDS.filter((f) => call.input[f] !== undefined).forEach((f) => {
      runner[f] = call.input[f];
    });
  }
  return reply(200, runner);
}

const OWNER = "(projects|groups)/([^/]+)";

export const ciRoutes: Route[] = [
  { method: "POST", pattern: new RegExp(`^/${OWNER}/variables$`), handle: createVariable },
  ...["GET", "PUT", "DELETE"].map((method) => ({
    method,
    pattern: new RegExp(`^/${OWNER}/variables/([^/]+)$`),
    handle: oneVariable,
  })),
  { method: "POST", pattern: new RegExp(`^/${OWNER}/deploy_tokens$`), handle: createDeployToken },
  ...["GET", "DELETE"].map((method) => ({
    method,
    pattern: new RegExp(`^/${OWNER}/deploy_tokens/(\\d+)$`),
    handle: oneDeployToken,
  })),
  { method: "POST", pattern: /^\/user\/runners$/, scope: "create_runner", handle: createRunner },
  ...["GET", "PUT", "DELETE"].map((method) => ({
    method,
    pattern: /^\/runners\/(\d+)$/,
    handle: oneRunner,
  })),
];
