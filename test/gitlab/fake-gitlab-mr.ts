// Fake GitLab endpoints for the pipeline's scripts: the current user, merge request and issue
// notes, and issues. Shapes, defaults and error bodies follow GitLab's REST API docs (users,
// notes, issues, rest/index#pagination) and its source:
// - notes: lib/api/notes.rb and lib/api/helpers/notes_helpers.rb. A missing noteable is
//   `not_found!(noteable_type)`, "404 MergeRequest Not Found"; a missing note raises
//   ActiveRecord::RecordNotFound, "404 Not found"; only the author may edit (403). A body over
//   Gitlab::Database::MAX_TEXT_SIZE_LIMIT (1,000,000 characters, Notes::ActiveRecord) fails the
//   model's length validation and is answered by `bad_request!("Note #{note.errors.messages}")`:
//   400, not 413 (a request that size is far below the proxy's body limit).
// - issues: the description has the same limit, reported by `render_validation_error!` as
//   `{"message":{"description":[…]}}`; labels that do not exist yet are created.
// - lists are offset-paginated: `page` (default 1) and `per_page` (default 20, at most 100), with
//   `x-page`, `x-per-page`, `x-next-page` and `x-prev-page` (empty on the last/first page),
//   `x-total`, `x-total-pages` and a `link` header. Notes are sorted by `created_at` descending
//   unless `sort`/`order_by` say otherwise; issues by `created_at` descending.
import {
  Call,
  Json,
  Reply,
  Route,
  badRequest,
  findOwner,
  nextId,
  reply,
} from "./fake-gitlab-model";

/** GitLab's limit on note bodies and issue descriptions (Gitlab::Database::MAX_TEXT_SIZE_LIMIT). */
export const MAX_TEXT_SIZE = 1_000_000;

/** When the fake "created" everything: fixed, so lists sort by id. */
const timestamp = (id: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, id)).toISOString();

/** The user behind the request's token, created on first use like a project access token's bot. */
export function userFor(call: Pick<Call, "state" | "token">): Json {
  const existing = call.state.users.get(call.token);
  if (existing !== undefined) {
    return existing;
  }
  const id = nextId(call.state);
  const user: Json = {
    id,
    username: `project_bot_${id}`,
    name: "platform-pipeline",
    state: "active",
    bot: true,
  };
  call.state.users.set(call.token, user);
  return user;
}

const author = (user: Json): Json => ({
  id: user.id,
  username: user.username,
  name: user.name,
  state: user.state,
});

function currentUser(call: Call): Reply {
  return reply(200, userFor(call));
}

/** `page`/`per_page` as Grape validates them: integers, else 400 `<param> is invalid`. */
function paginate(call: Call, items: Json[], path: string): Reply {
  const page = call.query.page ?? "1";
  const perPage = call.query.per_page ?? "20";
  for (const [name, value] of [
    ["page", page],
    ["per_page", perPage],
  ] as const) {
    if (!/^\d+$/.test(value)) {
      return reply(400, { error: `${name} is invalid` });
    }
  }
  const size = Math.min(Math.max(Number(perPage), 1), 100);
  const current = Math.max(Number(page), 1);
  const totalPages = Math.max(Math.ceil(items.length / size), 1);
  const next = current < totalPages ? String(current + 1) : "";
  const prev = current > 1 ? String(current - 1) : "";
  const link = (p: number, rel: string) => {
    const query = new URLSearchParams({ ...call.query, page: String(p), per_page: String(size) });
    return `<http://fake/api/v4${path}?${query.toString()}>; rel="${rel}"`;
  };
  const links = [
    ...(prev !== "" ? [link(current - 1, "prev")] : []),
    ...(next !== "" ? [link(current + 1, "next")] : []),
    link(1, "first"),
    link(totalPages, "last"),
  ];
  return {
    status: 200,
    body: items.slice((current - 1) * size, current * size),
    headers: {
      "x-page": String(current),
      "x-per-page": String(size),
      "x-next-page": next,
      "x-prev-page": prev,
      "x-total": String(items.length),
      "x-total-pages": String(totalPages),
      link: links.join(", "),
    },
  };
}

function sorted(call: Call, items: Json[], defaultSort: "asc" | "desc"): Json[] | Reply {
  const orderBy = call.query.order_by ?? "created_at";
  const sort = call.query.sort ?? defaultSort;
  if (orderBy !== "created_at" && orderBy !== "updated_at") {
    return reply(400, { error: "order_by does not have a valid value" });
  }
  if (sort !== "asc" && sort !== "desc") {
    return reply(400, { error: "sort does not have a valid value" });
  }
  const key = (item: Json) => `${String(item[orderBy])}|${String(item.id).padStart(12, "0")}`;
  const list = [...items].sort((a, b) => key(a).localeCompare(key(b)));
  return sort === "asc" ? list : list.reverse();
}

type NoteableKind = "merge_requests" | "issues";

/** Resolves `/projects/:id/<kind>/:iid` to its notes key, or the 404 GitLab answers. */
function noteable(call: Call): { key: string; kind: NoteableKind; target: Json } | Reply {
  const [ref = "", kind = "", iid = ""] = call.params;
  const project = findOwner(call.state.projects, ref);
  if (project === undefined) {
    return reply(404, { message: "404 Project Not Found" });
  }
  const map = kind === "issues" ? call.state.issues : call.state.mergeRequests;
  const target = map.get(`${project.id}:${iid}`);
  if (target === undefined) {
    return reply(404, {
      message: kind === "issues" ? "404 Issue Not Found" : "404 MergeRequest Not Found",
    });
  }
  return { key: `${project.id}:${kind}:${iid}`, kind: kind as NoteableKind, target };
}

/** The model's validation of a note body, as `bad_request!` reports it. */
function invalidNoteBody(body: unknown): Reply | undefined {
  if (body === undefined) {
    return reply(400, { error: "body is missing" });
  }
  const text = String(body);
  if (text.trim() === "") {
    return badRequest(`400 Bad request - Note {:note=>["can't be blank"]}`);
  }
  // Ruby counts characters (code points), not UTF-16 units.
  if ([...text].length > MAX_TEXT_SIZE) {
    return badRequest(
      `400 Bad request - Note {:note=>["is too long (maximum is ${MAX_TEXT_SIZE} characters)"]}`,
    );
  }
  return undefined;
}

function listNotes(call: Call): Reply {
  const found = noteable(call);
  if ("status" in found) {
    return found;
  }
  const list = sorted(call, call.state.notes.get(found.key) ?? [], "desc");
  if (!Array.isArray(list)) {
    return list;
  }
  return paginate(call, list, `/projects/${call.params[0]}/${found.kind}/${call.params[2]}/notes`);
}

function createNote(call: Call): Reply {
  const found = noteable(call);
  if ("status" in found) {
    return found;
  }
  const invalid = invalidNoteBody(call.input.body);
  if (invalid !== undefined) {
    return invalid;
  }
  const id = nextId(call.state);
  const note: Json = {
    id,
    type: null,
    body: String(call.input.body),
    author: author(userFor(call)),
    created_at: timestamp(id),
    updated_at: timestamp(id),
    system: false,
    noteable_id: found.target.id,
    noteable_type: found.kind === "issues" ? "Issue" : "MergeRequest",
    noteable_iid: found.target.iid,
    project_id: found.target.project_id,
    resolvable: false,
    confidential: false,
    internal: false,
  };
  call.state.notes.set(found.key, [...(call.state.notes.get(found.key) ?? []), note]);
  return reply(201, note);
}

function oneNote(call: Call): Reply {
  const found = noteable(call);
  if ("status" in found) {
    return found;
  }
  const note = (call.state.notes.get(found.key) ?? []).find((n) => String(n.id) === call.params[3]);
  if (note === undefined) {
    return reply(404, { message: "404 Not found" });
  }
  if (call.method === "GET") {
    return reply(200, note);
  }
  if ((note.author as Json).id !== userFor(call).id) {
    return reply(403, { message: "403 Forbidden" });
  }
  // `body` is optional on update but may not be blank.
  if (call.input.body !== undefined) {
    const invalid = invalidNoteBody(call.input.body);
    if (invalid !== undefined) {
      return invalid;
    }
    note.body = String(call.input.body);
    note.updated_at = timestamp(nextId(call.state));
  }
  return reply(200, note);
}

function projectOf(call: Call): { id?: number; missing: Reply } {
  return {
    id: findOwner(call.state.projects, call.params[0] ?? "")?.id,
    missing: reply(404, { message: "404 Project Not Found" }),
  };
}

function labelList(value: unknown): string[] {
  const raw = Array.isArray(value) ? value.map(String) : String(value ?? "").split(",");
  return raw.map((l) => l.trim()).filter((l) => l !== "");
}

/** The model's validations of title and description, as `render_validation_error!` reports them. */
function invalidIssue(issue: Json): Reply | undefined {
  const errors: Record<string, string[]> = {};
  if ([...String(issue.title)].length > 255) {
    errors.title = ["is too long (maximum is 255 characters)"];
  }
  if ([...String(issue.description ?? "")].length > MAX_TEXT_SIZE) {
    errors.description = [`is too long (maximum is ${MAX_TEXT_SIZE} characters)`];
  }
  return Object.keys(errors).length > 0 ? reply(400, { message: errors }) : undefined;
}

function listIssues(call: Call): Reply {
  const { id: projectId, missing } = projectOf(call);
  if (projectId === undefined) {
    return missing;
  }
  const state = call.query.state ?? "all";
  if (!["opened", "closed", "all"].includes(state)) {
    return reply(400, { error: "state does not have a valid value" });
  }
  const wanted = labelList(call.query.labels);
  const matching = [...call.state.issues.values()].filter(
    (i) =>
      i.project_id === projectId &&
      (state === "all" || i.state === state) &&
      wanted.every((l) => (i.labels as string[]).includes(l)),
  );
  const list = sorted(call, matching, "desc");
  if (!Array.isArray(list)) {
    return list;
  }
  return paginate(call, list, `/projects/${call.params[0]}/issues`);
}

function createIssue(call: Call): Reply {
  const { id: projectId, missing } = projectOf(call);
  if (projectId === undefined) {
    return missing;
  }
  if (call.input.title === undefined || String(call.input.title).trim() === "") {
    return reply(400, { error: "title is missing" });
  }
  const id = nextId(call.state);
  const iid =
    Math.max(
      0,
      ...[...call.state.issues.values()]
        .filter((i) => i.project_id === projectId)
        .map((i) => Number(i.iid)),
    ) + 1;
  const issue: Json = {
    id,
    iid,
    project_id: projectId,
    title: String(call.input.title),
    description: call.input.description === undefined ? null : String(call.input.description),
    state: "opened",
    labels: labelList(call.input.labels),
    author: author(userFor(call)),
    created_at: timestamp(id),
    updated_at: timestamp(id),
    closed_at: null,
    web_url: `http://fake/projects/${projectId}/-/issues/${iid}`,
  };
  const invalid = invalidIssue(issue);
  if (invalid !== undefined) {
    return invalid;
  }
  call.state.issues.set(`${projectId}:${iid}`, issue);
  return reply(201, issue);
}

const ISSUE_UPDATE_PARAMS = [
  "title",
  "description",
  "labels",
  "add_labels",
  "remove_labels",
  "state_event",
];

function oneIssue(call: Call): Reply {
  const { id: projectId, missing } = projectOf(call);
  if (projectId === undefined) {
    return missing;
  }
  const issue = call.state.issues.get(`${projectId}:${call.params[1]}`);
  if (issue === undefined) {
    return reply(404, { message: "404 Issue Not Found" });
  }
  if (call.method === "GET") {
    return reply(200, issue);
  }
  const i = call.input;
  if (ISSUE_UPDATE_PARAMS.every((p) => i[p] === undefined)) {
    return reply(400, {
      error: `${ISSUE_UPDATE_PARAMS.join(", ")} are missing, at least one parameter must be provided`,
    });
  }
  if (i.state_event !== undefined && i.state_event !== "close" && i.state_event !== "reopen") {
    return reply(400, { error: "state_event does not have a valid value" });
  }
  const updated: Json = { ...issue };
  if (i.title !== undefined) {
    updated.title = String(i.title);
  }
  if (i.description !== undefined) {
    updated.description = String(i.description);
  }
  let labels = i.labels !== undefined ? labelList(i.labels) : (issue.labels as string[]);
  labels = [...new Set([...labels, ...labelList(i.add_labels)])];
  const removed = labelList(i.remove_labels);
  updated.labels = labels.filter((l) => !removed.includes(l));
  if (i.state_event === "close" && issue.state === "opened") {
    updated.state = "closed";
    updated.closed_at = timestamp(nextId(call.state));
  } else if (i.state_event === "reopen" && issue.state === "closed") {
    updated.state = "opened";
    updated.closed_at = null;
  }
  const invalid = invalidIssue(updated);
  if (invalid !== undefined) {
    return invalid;
  }
  updated.updated_at = timestamp(nextId(call.state));
  Object.assign(issue, updated);
  return reply(200, issue);
}

const NOTES = "/projects/([^/]+)/(merge_requests|issues)/(\\d+)/notes";

export const mrRoutes: Route[] = [
  { method: "GET", pattern: /^\/user$/, scope: "read_api", handle: currentUser },
  { method: "GET", pattern: new RegExp(`^${NOTES}$`), scope: "read_api", handle: listNotes },
  { method: "POST", pattern: new RegExp(`^${NOTES}$`), handle: createNote },
  {
    method: "GET",
    pattern: new RegExp(`^${NOTES}/(\\d+)$`),
    scope: "read_api",
    handle: oneNote,
  },
  { method: "PUT", pattern: new RegExp(`^${NOTES}/(\\d+)$`), handle: oneNote },
  {
    method: "GET",
    pattern: /^\/projects\/([^/]+)\/issues$/,
    scope: "read_api",
    handle: listIssues,
  },
  { method: "POST", pattern: /^\/projects\/([^/]+)\/issues$/, handle: createIssue },
  ...["GET", "PUT"].map((method) => ({
    method,
    pattern: /^\/projects\/([^/]+)\/issues\/(\d+)$/,
    ...(method === "GET" ? { scope: "read_api" } : {}),
    handle: oneIssue,
  })),
];

/** Seeds a merge request (the fake has no endpoint that creates one). */
export function seedMergeRequest(state: Call["state"], projectId: number, iid: number): Json {
  const mr: Json = { id: nextId(state), iid, project_id: projectId, state: "opened" };
  state.mergeRequests.set(`${projectId}:${iid}`, mr);
  return mr;
}

/** Seeds a note by someone else (a reviewer), oldest first like GitLab's ids. */
export function seedNote(
  state: Call["state"],
  key: string,
  body: string,
  by: Json = { id: 1, username: "reviewer", name: "Reviewer", state: "active" },
): Json {
  const id = nextId(state);
  const note: Json = {
    id,
    type: null,
    body,
    author: by,
    created_at: timestamp(id),
    updated_at: timestamp(id),
    system: false,
  };
  state.notes.set(key, [...(state.notes.get(key) ?? []), note]);
  return note;
}
