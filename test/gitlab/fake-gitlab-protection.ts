// Fake GitLab endpoints for protected refs and registry protection: protected branches, protected
// tags and container registry protection tag rules, written from GitLab's source (gitlabhq):
// - lib/api/protected_branches.rb, lib/api/helpers/protected_branches_helpers.rb and its EE
//   override ee/lib/ee/api/helpers/protected_branches_helpers.rb (the `allowed_to_*` params),
//   app/services/protected_refs/access_level_params.rb (+ EE), app/models/concerns/
//   protected_ref_access.rb (allowed levels and their descriptions), app/models/protected_branch/
//   unprotect_access_level.rb (no "No one"), lib/api/entities/protected_branch.rb (+ EE);
// - lib/api/protected_tags.rb and app/models/protected_tag.rb (`validates :name, uniqueness`);
// - lib/api/project_container_registry_protection_tag_rules.rb, app/services/container_registry/
//   protection/{create,update}_tag_rule_service.rb, app/models/container_registry/protection/
//   tag_rule.rb, and doc/api/container_registry_protection_tag_rules.md (18.7 GET, 18.8 POST,
//   18.9 PATCH and DELETE);
// - lib/api/api.rb: a missing record answers 404 `{"message":"404 Not found"}`, a route the
//   instance does not have 404 `{"error":"404 Not Found"}`; Grape's parameter errors are 400
//   `{"error":"<param> is missing"}` / `{"error":"<param> does not have a valid value"}`.
// With `metadata.enterprise: false` the fake answers like GitLab CE: no `unprotect_access_level`,
// `code_owner_approval_required` or user/group/role entries in `allowed_to_*` (its helpers
// declare only `deploy_key_id` there, so anything else is dropped, not refused), and responses
// without the EE fields. Not modelled: roles and membership of the users and groups named.
import {
  Call,
  FakeState,
  Json,
  Reply,
  Route,
  findOwner,
  nextId,
  notFound,
  reply,
} from "./fake-gitlab-model";

/** What the fake holds for these endpoints; tests may inspect and seed it. */
export interface ProtectionState {
  /** Protected branches by `projectId:name`. */
  readonly branches: Map<string, Json>;
  /** Protected tags by `projectId:name`. */
  readonly tags: Map<string, Json>;
  /** Container registry protection tag rules by id. */
  readonly containerTagRules: Map<number, Json>;
}

// Kept beside the shared FakeState rather than in it, so the shared model stays as it was.
const stores = new WeakMap<FakeState, ProtectionState>();

/** The protection state of one fake server (`protections(fake.state)`). */
export function protections(state: FakeState): ProtectionState {
  let store = stores.get(state);
  if (store === undefined) {
    store = { branches: new Map(), tags: new Map(), containerTagRules: new Map() };
    stores.set(state, store);
  }
  return store;
}

const grape = (error: string): Reply => reply(400, { error });

/**
 * Whether the token's user may push to `branch` of `projectId` (Gitlab::UserAccess
 * #can_push_to_branch?): yes on an unprotected branch; on a protected one only through a push
 * entry for a role it has or for the user itself. The fake's token user is a Maintainer of every
 * project and no administrator: "Developers + Maintainers" and "Maintainers" let it push, "No
 * one" and "Instance admins" do not. Exact names only (no wildcard protections).
 */
export function canPushToBranch(
  state: FakeState,
  projectId: number,
  branch: string,
  userId: number,
): boolean {
  const protection = protections(state).branches.get(`${projectId}:${branch}`);
  if (protection === undefined) {
    return true;
  }
  return (protection.push_access_levels as Json[]).some((e) =>
    e.user_id !== null && e.user_id !== undefined
      ? Number(e.user_id) === userId
      : e.group_id === null &&
        e.deploy_key_id === null &&
        [30, 40].includes(Number(e.access_level)),
  );
}
const recordNotFound = (): Reply => reply(404, { message: "404 Not found" });
const routeMissing = (): Reply => reply(404, { error: "404 Not Found" });
const enterprise = (call: Call) => call.state.metadata.enterprise === true;

/** `18.9.0-ee` is at least 18.9. */
function atLeast(call: Call, major: number, minor: number): boolean {
  const [maj = 0, min = 0] = String(call.state.metadata.version).split(/[.-]/).map(Number);
  return maj > major || (maj === major && min >= minor);
}

// ---------------------------------------------------------------------------------------------
// Access level entries shared by protected branches and tags

/** ProtectedRefAccess.allowed_access_levels on self-managed (GitLab.com drops 60). */
const ROLE_LEVELS = [30, 40, 60, 0];
/** ProtectedBranch::UnprotectAccessLevel: no "No one", so the branch can always be unprotected. */
const UNPROTECT_LEVELS = [30, 40, 60];
const HUMAN: Record<number, string> = {
  30: "Developers + Maintainers",
  40: "Maintainers",
  60: "Instance admins",
  0: "No one",
};
const WHO = ["user_id", "group_id", "deploy_key_id"] as const;

/** An entry as GitLab presents it, from `{access_level}`, `{user_id}`, `{group_id}` or a key. */
function entryFields(e: Json): Json {
  const [user, group, key] = WHO.map((k) =>
    e[k] === undefined || e[k] === null ? null : Number(e[k]),
  );
  const role = user === null && group === null && key === null;
  return {
    access_level: role ? Number(e.access_level) : key !== null ? 40 : null,
    access_level_description: role
      ? HUMAN[Number(e.access_level)]
      : key !== null
        ? "Deploy key"
        : user !== null
          ? `User ${user}`
          : `Group ${group}`,
    user_id: user,
    group_id: group,
    deploy_key_id: key,
  };
}

const newEntry = (state: FakeState, e: Json): Json => ({ id: nextId(state), ...entryFields(e) });

/** The column a uniqueness validation of an entry is about. */
function whoOf(e: Json): [string, unknown] {
  const k = WHO.find((w) => e[w] !== undefined && e[w] !== null);
  return k === undefined
    ? ["access level", e.access_level]
    : [k.replace(/_id$/, "").replace("_", " "), e[k]];
}

/** Grape's `values:` check of `[{access_level}]` entries. */
function invalidEntries(name: string, entries: Json[], levels: number[]): Reply | undefined {
  const bad = entries.findIndex(
    (e) => e.access_level !== undefined && !levels.includes(Number(e.access_level)),
  );
  return bad < 0 ? undefined : grape(`${name}[${bad}][access_level] does not have a valid value`);
}

interface Change {
  readonly label: string;
  readonly current: Json[];
  readonly changes: Json[];
}

/**
 * Applies nested attributes as Rails does: `{id, _destroy: true}` removes, `{id, ...}` edits, an
 * entry without id is new. An unknown id raises RecordNotFound (404); a new entry whose role,
 * user, group or deploy key the branch already has (even one destroyed in the same request: the
 * uniqueness validation reads the table) fails `<Label> <column> has already been taken`.
 */
function applyChanges(
  state: FakeState,
  { label, current, changes }: Change,
): { next: Json[] } | { errors: string[] } | { missing: true } {
  let next = [...current];
  const errors: string[] = [];
  const seen = current.map(whoOf).map((w) => JSON.stringify(w));
  for (const c of changes) {
    if (c.id !== undefined) {
      const existing = next.find((e) => e.id === c.id);
      if (existing === undefined) {
        return { missing: true };
      }
      next =
        c._destroy === true
          ? next.filter((e) => e !== existing)
          : next.map((e) => (e === existing ? { id: e.id, ...entryFields({ ...e, ...c }) } : e));
      continue;
    }
    const who = JSON.stringify(whoOf(c));
    if (seen.includes(who)) {
      errors.push(`${label} ${whoOf(c)[0]} has already been taken`);
      continue;
    }
    seen.push(who);
    next.push(newEntry(state, c));
  }
  return errors.length > 0 ? { errors } : { next };
}

/**
 * What `ProtectedRefs::AccessLevelParams` builds on create: the role level (`<type>_access_level`,
 * default Maintainers when no `allowed_to_<type>` entry is given) plus the entries. GitLab CE
 * declares only `deploy_key_id` entries (for pushes and tag creation) and drops the rest.
 */
function createAccess(call: Call, type: string): Json[] {
  const given = (call.input[`allowed_to_${type}`] ?? []) as Json[];
  const keys = type === "push" || type === "create";
  const entries = enterprise(call)
    ? given
    : given.filter((e) => keys && e.deploy_key_id !== undefined);
  const useDefault = enterprise(call) ? given.length === 0 : entries.length === 0;
  const role = call.input[`${type}_access_level`] ?? (useDefault ? 40 : undefined);
  return [...(role === undefined ? [] : [{ access_level: role }]), ...entries];
}

const withoutEe = (e: Json): Json => {
  const copy = { ...e };
  delete copy.user_id;
  delete copy.group_id;
  return copy;
};

function projectId(call: Call): number | undefined {
  return findOwner(call.state.projects, call.params[0] ?? "")?.id;
}

// ---------------------------------------------------------------------------------------------
// Protected branches

const BRANCH_TYPES = [
  { type: "push", label: "Push access levels", levels: ROLE_LEVELS, ee: false },
  { type: "merge", label: "Merge access levels", levels: ROLE_LEVELS, ee: false },
  { type: "unprotect", label: "Unprotect access levels", levels: UNPROTECT_LEVELS, ee: true },
];

/** Entities::ProtectedBranch, plus the EE fields on an enterprise instance. */
function presentBranch(call: Call, b: Json): Json {
  if (enterprise(call)) {
    return b;
  }
  return {
    id: b.id,
    name: b.name,
    push_access_levels: (b.push_access_levels as Json[]).map(withoutEe),
    merge_access_levels: (b.merge_access_levels as Json[]).map(withoutEe),
    allow_force_push: b.allow_force_push,
  };
}

/** Grape's checks of the scalar levels and the `allowed_to_*` entries this edition declares. */
function invalidBranchParams(call: Call, scalars: boolean): Reply | undefined {
  for (const { type, levels, ee } of BRANCH_TYPES) {
    if (ee && !enterprise(call)) {
      continue;
    }
    const scalar = call.input[`${type}_access_level`];
    if (
      (scalars || type === "unprotect") &&
      scalar !== undefined &&
      !levels.includes(Number(scalar))
    ) {
      return grape(`${type}_access_level does not have a valid value`);
    }
    const entries = (call.input[`allowed_to_${type}`] ?? []) as Json[];
    const bad = enterprise(call)
      ? invalidEntries(`allowed_to_${type}`, entries, levels)
      : undefined;
    if (bad !== undefined) {
      return bad;
    }
  }
  return undefined;
}

function createBranch(call: Call): Reply {
  const project = projectId(call);
  if (project === undefined) {
    return notFound("Project");
  }
  if (typeof call.input.name !== "string") {
    return grape("name is missing");
  }
  const invalid = invalidBranchParams(call, true);
  if (invalid !== undefined) {
    return invalid;
  }
  const name = call.input.name;
  const key = `${project}:${name}`;
  const branches = protections(call.state).branches;
  if (branches.has(key)) {
    return reply(409, { message: `Protected branch '${name}' already exists` });
  }
  const branch: Json = {
    id: nextId(call.state),
    name,
    allow_force_push: call.input.allow_force_push === true,
    code_owner_approval_required:
      enterprise(call) && call.input.code_owner_approval_required === true,
  };
  const errors: string[] = [];
  for (const { type, label, ee } of BRANCH_TYPES) {
    const changes = ee && !enterprise(call) ? [] : createAccess(call, type);
    const applied = applyChanges(call.state, { label, current: [], changes });
    if ("errors" in applied) {
      errors.push(...applied.errors);
    }
    branch[`${type}_access_levels`] = "next" in applied ? applied.next : [];
  }
  if (errors.length > 0) {
    return reply(422, { message: errors });
  }
  branches.set(key, branch);
  return reply(201, presentBranch(call, branch));
}

function oneBranch(call: Call): Reply {
  const project = projectId(call);
  if (project === undefined) {
    return notFound("Project");
  }
  const key = `${project}:${call.params[1] ?? ""}`;
  const branches = protections(call.state).branches;
  const branch = branches.get(key);
  if (branch === undefined) {
    return recordNotFound();
  }
  if (call.method === "GET") {
    return reply(200, presentBranch(call, branch));
  }
  if (call.method === "DELETE") {
    branches.delete(key);
    return reply(204);
  }
  return updateBranch(call, branch);
}

/**
 * `PATCH`: `allow_force_push`, and on an enterprise instance `code_owner_approval_required`,
 * `unprotect_access_level` (added as one more entry: the update builds no defaults) and the
 * `allowed_to_*` entries. Role levels of push and merge change only through the entries.
 */
function updateBranch(call: Call, branch: Json): Reply {
  const invalid = invalidBranchParams(call, false);
  if (invalid !== undefined) {
    return invalid;
  }
  const next: Json = { ...branch };
  const errors: string[] = [];
  for (const { type, label, ee } of BRANCH_TYPES) {
    if (ee && !enterprise(call)) {
      continue;
    }
    const given = (call.input[`allowed_to_${type}`] ?? []) as Json[];
    const scalar = call.input[`${type}_access_level`];
    const changes = enterprise(call)
      ? [
          ...(type === "unprotect" && scalar !== undefined ? [{ access_level: scalar }] : []),
          ...given,
        ]
      : given.filter((e) => e.deploy_key_id !== undefined && e.id === undefined);
    const current = branch[`${type}_access_levels`] as Json[];
    const applied = applyChanges(call.state, { label, current, changes });
    if ("missing" in applied) {
      return recordNotFound();
    }
    if ("errors" in applied) {
      errors.push(...applied.errors);
    } else {
      next[`${type}_access_levels`] = applied.next;
    }
  }
  if (errors.length > 0) {
    return reply(422, { message: errors });
  }
  if (typeof call.input.allow_force_push === "boolean") {
    next.allow_force_push = call.input.allow_force_push;
  }
  if (enterprise(call) && typeof call.input.code_owner_approval_required === "boolean") {
    next.code_owner_approval_required = call.input.code_owner_approval_required;
  }
  Object.assign(branch, next);
  return reply(200, presentBranch(call, branch));
}

// ---------------------------------------------------------------------------------------------
// Protected tags (no update endpoint)

function presentTag(call: Call, t: Json): Json {
  return enterprise(call)
    ? t
    : { name: t.name, create_access_levels: (t.create_access_levels as Json[]).map(withoutEe) };
}

function createTag(call: Call): Reply {
  const project = projectId(call);
  if (project === undefined) {
    return notFound("Project");
  }
  if (typeof call.input.name !== "string") {
    return grape("name is missing");
  }
  const level = call.input.create_access_level;
  if (level !== undefined && !ROLE_LEVELS.includes(Number(level))) {
    return grape("create_access_level does not have a valid value");
  }
  const entries = (call.input.allowed_to_create ?? []) as Json[];
  const invalid = enterprise(call)
    ? invalidEntries("allowed_to_create", entries, ROLE_LEVELS)
    : undefined;
  if (invalid !== undefined) {
    return invalid;
  }
  const name = call.input.name;
  const key = `${project}:${name}`;
  const tags = protections(call.state).tags;
  // No conflict check in the endpoint any more: the model's uniqueness validation answers.
  const errors = tags.has(key) ? ["Name has already been taken"] : [];
  const applied = applyChanges(call.state, {
    label: "Create access levels",
    current: [],
    changes: createAccess(call, "create"),
  });
  if ("errors" in applied) {
    errors.push(...applied.errors);
  }
  if (errors.length > 0 || !("next" in applied)) {
    return reply(422, { message: errors });
  }
  const tag: Json = { name, create_access_levels: applied.next };
  tags.set(key, tag);
  return reply(201, presentTag(call, tag));
}

function oneTag(call: Call): Reply {
  const project = projectId(call);
  if (project === undefined) {
    return notFound("Project");
  }
  const key = `${project}:${call.params[1] ?? ""}`;
  const tags = protections(call.state).tags;
  const tag = tags.get(key);
  if (tag === undefined) {
    return recordNotFound();
  }
  if (call.method === "DELETE") {
    tags.delete(key);
    return reply(204);
  }
  return reply(200, presentTag(call, tag));
}

// ---------------------------------------------------------------------------------------------
// Container registry protection tag rules

const RULE_LEVELS = ["maintainer", "owner", "admin"];
/** ContainerRegistry::Protection::TagRule::MAX_TAG_RULES_PER_PROJECT. */
const MAX_TAG_RULES = 5;

/**
 * `validates :tag_name_pattern, untrusted_regexp: true` compiles the pattern with RE2; here
 * JavaScript's RegExp stands in, refusing what RE2 refuses as well (lookaround and
 * backreferences, which RE2 lacks). The reason after the colon is not RE2's wording.
 */
function re2Problem(pattern: string): string | undefined {
  if (/\(\?<?[=!]|\\[1-9]/.test(pattern)) {
    return "invalid or unsupported Perl syntax";
  }
  try {
    new RegExp(pattern);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** The model's validations, in their order: the full messages GitLab answers. */
function ruleErrors(rules: Json[], rule: Json): string[] {
  const pattern = String(rule.tag_name_pattern ?? "");
  const errors: string[] = [];
  if (pattern === "") {
    errors.push("Tag name pattern can't be blank");
  }
  if (rules.some((r) => r.id !== rule.id && r.tag_name_pattern === pattern)) {
    errors.push("Tag name pattern has already been taken");
  }
  if (pattern.length > 100) {
    errors.push("Tag name pattern is too long (maximum is 100 characters)");
  }
  const re2 = re2Problem(pattern);
  if (re2 !== undefined) {
    errors.push(`Tag name pattern not valid RE2 syntax: ${re2}`);
  }
  if (
    (rule.minimum_access_level_for_push === null) !==
    (rule.minimum_access_level_for_delete === null)
  ) {
    errors.push("Access levels should either both be present or both be nil");
  }
  return errors;
}

function projectRules(call: Call, project: number): Json[] {
  return [...protections(call.state).containerTagRules.values()].filter(
    (r) => r.project_id === project,
  );
}

/** Grape's checks: required params (POST) and the access level values (`""` unsets on PATCH). */
function invalidRuleParams(call: Call, create: boolean): Reply | undefined {
  const problems: string[] = [];
  if (create && call.input.tag_name_pattern === undefined) {
    problems.push("tag_name_pattern is missing");
  }
  for (const field of ["minimum_access_level_for_push", "minimum_access_level_for_delete"]) {
    const value = call.input[field];
    if (create && value === undefined) {
      problems.push(`${field} is missing`);
    }
    const allowed = create ? RULE_LEVELS : [...RULE_LEVELS, ""];
    if ((create || value !== undefined) && !allowed.includes(String(value))) {
      problems.push(`${field} does not have a valid value`);
    }
  }
  return problems.length > 0 ? grape(problems.join(", ")) : undefined;
}

function tagRules(call: Call): Reply {
  const needed = call.method === "GET" ? 7 : 8;
  if (!atLeast(call, 18, needed)) {
    return routeMissing();
  }
  const project = projectId(call);
  if (project === undefined) {
    return notFound("Project");
  }
  if (call.method === "GET") {
    return reply(200, projectRules(call, project));
  }
  const invalid = invalidRuleParams(call, true);
  if (invalid !== undefined) {
    return invalid;
  }
  const rules = projectRules(call, project);
  if (rules.length >= MAX_TAG_RULES) {
    return reply(422, { message: "Maximum number of protection rules have been reached." });
  }
  const rule: Json = {
    id: nextId(call.state),
    project_id: project,
    tag_name_pattern: call.input.tag_name_pattern,
    minimum_access_level_for_push: call.input.minimum_access_level_for_push,
    minimum_access_level_for_delete: call.input.minimum_access_level_for_delete,
  };
  const errors = ruleErrors(rules, rule);
  if (errors.length > 0) {
    return reply(422, { message: errors });
  }
  protections(call.state).containerTagRules.set(rule.id as number, rule);
  return reply(201, rule);
}

function oneTagRule(call: Call): Reply {
  if (!atLeast(call, 18, 9)) {
    return routeMissing();
  }
  const project = projectId(call);
  if (project === undefined) {
    return notFound("Project");
  }
  if (!/^\d+$/.test(call.params[1] ?? "")) {
    return grape("protection_rule_id is invalid");
  }
  const rules = protections(call.state).containerTagRules;
  const rule = rules.get(Number(call.params[1]));
  if (rule === undefined || rule.project_id !== project) {
    return recordNotFound();
  }
  if (call.method === "DELETE") {
    rules.delete(rule.id as number);
    return reply(204);
  }
  const invalid = invalidRuleParams(call, false);
  if (invalid !== undefined) {
    return invalid;
  }
  const next: Json = { ...rule };
  for (const field of [
    "tag_name_pattern",
    "minimum_access_level_for_push",
    "minimum_access_level_for_delete",
  ]) {
    if (call.input[field] !== undefined) {
      next[field] = call.input[field] === "" ? null : call.input[field];
    }
  }
  const errors = ruleErrors(projectRules(call, project), next);
  if (errors.length > 0) {
    // The update endpoint wraps the service's message: render_api_error!({ error: ... }).
    return reply(422, { message: { error: errors } });
  }
  Object.assign(rule, next);
  return reply(200, rule);
}

const PROJECT = "projects/([^/]+)";

export const protectionRoutes: Route[] = [
  {
    method: "POST",
    pattern: new RegExp(`^/${PROJECT}/protected_branches$`),
    handle: createBranch,
  },
  ...["GET", "PATCH", "DELETE"].map((method) => ({
    method,
    pattern: new RegExp(`^/${PROJECT}/protected_branches/([^/]+)$`),
    handle: oneBranch,
  })),
  { method: "POST", pattern: new RegExp(`^/${PROJECT}/protected_tags$`), handle: createTag },
  ...["GET", "DELETE"].map((method) => ({
    method,
    pattern: new RegExp(`^/${PROJECT}/protected_tags/([^/]+)$`),
    handle: oneTag,
  })),
  ...["GET", "POST"].map((method) => ({
    method,
    pattern: new RegExp(`^/${PROJECT}/registry/protection/tag/rules$`),
    handle: tagRules,
  })),
  ...["PATCH", "DELETE"].map((method) => ({
    method,
    pattern: new RegExp(`^/${PROJECT}/registry/protection/tag/rules/([^/]+)$`),
    handle: oneTagRule,
  })),
];
