import { IssueNotes, Issues, MergeRequestNotes, Users } from "@gitbeaker/rest";
import {
  Api,
  ClientSettings,
  Connection,
  DEFAULT_CLIENT_SETTINGS,
  GitLabApiError,
  connect,
  normalizeBaseUrl,
} from "../../components/gitlab/client";

/**
 * The pipeline's own GitLab writes: one preview note per stack on a merge request and one drift
 * issue per stack, through the project's GitLab client (components/gitlab/client.ts: retries,
 * timeouts, error messages with GitLab's own text, the request and the status).
 */

/**
 * The CI/CD variable holding the token the pipeline posts with. `CI_JOB_TOKEN` cannot: GitLab lets
 * it read notes, never write them, and it has no access to issues.
 */
export const TOKEN_VARIABLE = "PIPELINE_GITLAB_TOKEN";

/** Thrown for a missing or wrong environment: printed as it is, exit code 1. */
export class PipelineEnvError extends Error {}

/** The instance (CI_API_V4_URL, set in every job) and the token from PIPELINE_GITLAB_TOKEN. */
export function pipelineConnection(env: Readonly<Record<string, string | undefined>>): Connection {
  const url = env["CI_API_V4_URL"] ?? env["CI_SERVER_URL"];
  if (url === undefined || url === "") {
    throw new PipelineEnvError(
      "CI_API_V4_URL is not set: this command runs in a GitLab CI/CD job (or set CI_API_V4_URL to the instance's API URL)",
    );
  }
  const token = env[TOKEN_VARIABLE];
  if (token === undefined || token.trim() === "") {
    throw new PipelineEnvError(
      `${TOKEN_VARIABLE} is not set: add a project access token (role Reporter, scope api) as a masked CI/CD variable of that name. CI_JOB_TOKEN cannot post notes or write issues.`,
    );
  }
  return { host: normalizeBaseUrl(url), token: token.trim() };
}

/** A client bound to the pipeline's connection; `label` prefixes every error. */
export function pipelineApi(
  connection: Connection,
  label: string,
  settings: ClientSettings = DEFAULT_CLIENT_SETTINGS,
): Api {
  return connect(connection, settings, label);
}

/**
 * client.ts explains 401 and 403 in terms of the program's token (gitlab:token, GITLAB_TOKEN);
 * here the token is the pipeline's, so the explanation is replaced.
 */
export function explainTokenError(error: unknown): unknown {
  if (!(error instanceof GitLabApiError) || (error.status !== 401 && error.status !== 403)) {
    return error;
  }
  const base = error.message.replace(/ \(the token (from gitlab:token|needs the)[^]*\)$/, "");
  const why =
    error.status === 401
      ? `${TOKEN_VARIABLE} is missing, expired or revoked`
      : `${TOKEN_VARIABLE} needs the api scope and at least the Reporter role in the project`;
  return new GitLabApiError(`${base} (${why})`, error.status, error.gitlabMessage);
}

interface Author {
  readonly id: number;
}

interface NoteSchema {
  readonly id: number;
  readonly body: string;
  readonly author: Author;
  readonly system: boolean;
}

interface IssueSchema {
  readonly iid: number;
  readonly description: string | null;
  readonly web_url: string;
}

interface Paged<T> {
  readonly data: T[];
  readonly paginationInfo: { readonly next: number | null };
}

/** GitLab's largest page. */
const PER_PAGE = 100;

/** Walks an offset-paginated list page by page (`x-next-page`) until `match` finds an item. */
async function findInPages<T>(
  fetchPage: (page: number) => Promise<Paged<T>>,
  match: (item: T) => boolean,
): Promise<T | undefined> {
  for (let page: number | null = 1; page !== null;) {
    const { data, paginationInfo }: Paged<T> = await fetchPage(page);
    const found = data.find(match);
    if (found !== undefined) {
      return found;
    }
    page = paginationInfo.next;
  }
  return undefined;
}

async function currentUserId(api: Api): Promise<number> {
  const user = (await api.use(Users).showCurrentUser()) as unknown as Author;
  return user.id;
}

/** What happened to the note. */
export interface NoteResult {
  readonly action: "created" | "updated";
  readonly noteId: number;
}

/**
 * Creates the merge request note that starts with `marker`, or updates it in place. Only notes
 * written by the token's own user count, so a note someone else wrote with the marker (anyone who
 * can comment can) is never taken for ours. Notes are read oldest first, every page.
 */
export async function upsertMergeRequestNote(
  api: Api,
  projectId: string | number,
  mergeRequestIid: number,
  marker: string,
  body: string,
): Promise<NoteResult> {
  try {
    const me = await currentUserId(api);
    const notes = api.use(MergeRequestNotes);
    const existing = await findInPages<NoteSchema>(
      (page) =>
        notes.all(projectId, mergeRequestIid, {
          page,
          perPage: PER_PAGE,
          sort: "asc",
          orderBy: "created_at",
          showExpanded: true,
        }) as unknown as Promise<Paged<NoteSchema>>,
      (n) => !n.system && n.author.id === me && n.body.startsWith(marker),
    );
    if (existing !== undefined) {
      await notes.edit(projectId, mergeRequestIid, existing.id, { body });
      return { action: "updated", noteId: existing.id };
    }
    const created = (await notes.create(projectId, mergeRequestIid, body)) as unknown as NoteSchema;
    return { action: "created", noteId: created.id };
  } catch (error) {
    throw explainTokenError(error);
  }
}

/** The label every drift issue carries (created by GitLab on first use). */
export const DRIFT_LABEL = "pulumi-drift";

/** The title of a stack's drift issue. */
export function driftTitle(stack: string): string {
  return `Drift in stack ${stack}`;
}

/** The check's verdict: drift (with the issue description) or none (with the closing comment). */
export type DriftState =
  | { readonly drifted: true; readonly description: string }
  | { readonly drifted: false; readonly comment: string };

/** What happened to the issue. */
export interface DriftIssueResult {
  readonly action: "opened" | "updated" | "closed" | "none";
  readonly iid?: number;
  readonly webUrl?: string;
}

/**
 * Keeps one open issue per drifted stack: finds the open issue labelled `pulumi-drift` whose
 * description starts with `marker` (setting labels takes the Reporter role, so a label plus marker
 * cannot be forged by a passer-by), then opens, updates or closes it. A stack that drifts again
 * after its issue was closed gets a new issue; the closed one keeps the earlier episode.
 */
export async function syncDriftIssue(
  api: Api,
  projectId: string | number,
  stack: string,
  marker: string,
  state: DriftState,
): Promise<DriftIssueResult> {
  try {
    const issues = api.use(Issues);
    const open = await findInPages<IssueSchema>(
      (page) =>
        issues.all({
          projectId,
          labels: DRIFT_LABEL,
          state: "opened",
          orderBy: "created_at",
          sort: "asc",
          page,
          perPage: PER_PAGE,
          showExpanded: true,
        }) as unknown as Promise<Paged<IssueSchema>>,
      (i) => (i.description ?? "").startsWith(marker),
    );
    if (state.drifted) {
      if (open !== undefined) {
        await issues.edit(projectId, open.iid, { description: state.description });
        return { action: "updated", iid: open.iid, webUrl: open.web_url };
      }
      const created = (await issues.create(projectId, driftTitle(stack), {
        description: state.description,
        labels: DRIFT_LABEL,
      })) as unknown as IssueSchema;
      return { action: "opened", iid: created.iid, webUrl: created.web_url };
    }
    if (open === undefined) {
      return { action: "none" };
    }
    await api.use(IssueNotes).create(projectId, open.iid, state.comment);
    await issues.edit(projectId, open.iid, { stateEvent: "close" });
    return { action: "closed", iid: open.iid, webUrl: open.web_url };
  } catch (error) {
    throw explainTokenError(error);
  }
}
