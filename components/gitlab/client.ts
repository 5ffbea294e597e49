// The connection to GitLab for the dynamic resources: configuration (stack config or
// environment), gitbeaker's transport replaced by one with bounded retries and per-attempt
// timeouts, and error mapping.
//
// Everything a provider method reaches from here is serialized into the Pulumi state with the
// provider (closure serialization captures local modules by value), so this module keeps no
// handles, imports nothing at run time, and reads the token only at call time.

// ---------------------------------------------------------------------------------------------
// Connection

/** Where configuration comes from: `req.config` in `configure`, or anything with a `get`. */
export interface ConfigSource {
  get(key: string): string | undefined;
}

/** A resolved connection. `host` is the instance URL without `/api/v4`. */
export interface Connection {
  readonly host: string;
  readonly token: string;
}

/** The official provider's default instance. */
export const DEFAULT_GITLAB_HOST = "https://gitlab.com";

/** Accepts `https://host`, `https://host/`, `https://host/api/v4` and `https://host/api/v4/`. */
export function normalizeBaseUrl(raw: string): string {
  const trimmed = raw.trim().replace(/\/+$/, "");
  const host = trimmed.replace(/\/api\/v4$/, "");
  let parsed: URL;
  try {
    parsed = new URL(host);
  } catch {
    throw new Error(`GitLab base URL: expected an http(s) URL, got "${raw}"`);
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new Error(`GitLab base URL: expected an http(s) URL, got "${raw}"`);
  }
  return host;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== "" ? value.trim() : undefined;
}

/**
 * Resolves the connection like the official provider: stack config `gitlab:baseUrl` and the
 * secret `gitlab:token` first, then `GITLAB_BASE_URL` and `GITLAB_TOKEN`. Called at request time,
 * never at construction, so no token ends up in a serialized closure.
 */
export function resolveConnection(
  config: ConfigSource | undefined,
  env: Record<string, string | undefined> = process.env,
): Connection {
  const baseUrl =
    nonEmpty(config?.get("gitlab:baseUrl")) ?? nonEmpty(env.GITLAB_BASE_URL) ?? DEFAULT_GITLAB_HOST;
  const token = nonEmpty(config?.get("gitlab:token")) ?? nonEmpty(env.GITLAB_TOKEN);
  if (token === undefined) {
    throw new Error(
      "GitLab token missing: set the secret stack config gitlab:token " +
        "(pulumi config set --secret gitlab:token ...) or the GITLAB_TOKEN environment variable",
    );
  }
  return { host: normalizeBaseUrl(baseUrl), token };
}

// ---------------------------------------------------------------------------------------------
// HTTP: gitbeaker's requesterFn, with our retries instead of its own

/**
 * Retry and timeout settings. gitbeaker's default handler retries 429/502 ten times within about
 * a quarter of a second and ignores `Retry-After`; we replace its requester entirely (its
 * `requesterFn` option), so every request is retried exactly once by the policy below.
 */
export interface ClientSettings {
  /** Timeout of one HTTP attempt, in milliseconds. Default 30 000. */
  readonly timeoutMs: number;
  /** Tries per request, the first included. Default 4. */
  readonly maxAttempts: number;
  /** First backoff delay in milliseconds; it doubles on every retry. Default 1 000. */
  readonly baseDelayMs: number;
  /** Upper bound of one delay, including an honoured `Retry-After`. Default 60 000. */
  readonly maxDelayMs: number;
}

/** The settings used by the exported providers. */
export const DEFAULT_CLIENT_SETTINGS: ClientSettings = {
  timeoutMs: 30_000,
  maxAttempts: 4,
  baseDelayMs: 1_000,
  maxDelayMs: 60_000,
};

/**
 * An HTTP failure, or a request that never got an answer (`status` undefined).
 *
 * The constructor sets `message` itself: in the dynamic provider process this class is Pulumi's
 * closure serialization of it, whose `super(message)` became `Error.call(this, message)`, which
 * returns a new Error and sets nothing on `this`; the engine then showed "error: undefined".
 */
export class GitLabApiError extends Error {
  constructor(
    message: string,
    /** HTTP status; undefined when the request timed out or the connection failed. */
    readonly status: number | undefined,
    /** GitLab's own message from the response body. */
    readonly gitlabMessage: string,
  ) {
    super(message);
    this.message = message;
    this.name = "GitLabApiError";
  }
}

interface RequestOptions {
  readonly body?: unknown;
  readonly searchParams?: Record<string, unknown>;
}
interface RawResponse {
  readonly body: unknown;
  readonly headers: Record<string, string>;
  readonly status: number;
}
type Send = (endpoint: string, options?: RequestOptions) => Promise<RawResponse>;
interface ResourceOptions {
  readonly url: string;
  readonly authHeaders: Record<string, () => Promise<string>>;
}

/** `tagList` -> `tag_list`, deeply, as gitbeaker's own requester does before sending. */
function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(snakeKeys);
  }
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase(), snakeKeys(v)]),
    );
  }
  return value;
}

/** Rails-style query: `filter[environment_scope]=x`, `tag_list[]=a`. */
function appendQuery(query: URLSearchParams, key: string, value: unknown): void {
  if (value === undefined || value === null) {
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v) => appendQuery(query, `${key}[]`, v));
  } else if (typeof value === "object") {
    Object.entries(value).forEach(([k, v]) => appendQuery(query, `${key}[${k}]`, v));
  } else {
    query.append(key, String(value));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Delay before retry number `attempt` (1-based): `Retry-After` if given, else exponential. */
export function retryDelayMs(
  settings: ClientSettings,
  attempt: number,
  retryAfter: string | null,
): number {
  let delay = settings.baseDelayMs * 2 ** (attempt - 1);
  if (retryAfter !== null && retryAfter.trim() !== "") {
    const seconds = Number(retryAfter);
    const date = Date.parse(retryAfter);
    if (Number.isFinite(seconds)) {
      delay = seconds * 1000;
    } else if (!Number.isNaN(date)) {
      delay = date - Date.now();
    }
  }
  return Math.min(Math.max(delay, 0), settings.maxDelayMs);
}

function gitlabMessageOf(body: unknown): string {
  if (typeof body === "string") {
    return body.trim();
  }
  if (body !== null && typeof body === "object") {
    const b = body as Record<string, unknown>;
    if (b.message !== undefined) {
      return typeof b.message === "string" ? b.message : JSON.stringify(b.message);
    }
    if (typeof b.error === "string") {
      return typeof b.error_description === "string"
        ? `${b.error}: ${b.error_description}`
        : b.error;
    }
    return JSON.stringify(body);
  }
  return "";
}

async function parseBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if ((response.headers.get("content-type") ?? "").includes("application/json") && text !== "") {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/** The token scope an endpoint needs; `create_runner` for registering runners. */
function requiredScope(method: string, path: string, body: unknown): string {
  const granted = (body as Record<string, unknown> | null)?.scope;
  if (typeof granted === "string" && granted !== "") {
    return granted;
  }
  return method === "POST" && /\/user\/runners$/.test(path) ? "create_runner" : "api";
}

function authHint(status: number, method: string, path: string, body: unknown): string {
  const scope = requiredScope(method, path, body);
  if (status === 401) {
    return ` (the token from gitlab:token or GITLAB_TOKEN is missing, expired or revoked; it needs the ${scope} scope)`;
  }
  if (status === 403) {
    return ` (the token needs the ${scope} scope and a role that allows this; see docs/gitlab.md, Token scopes and roles)`;
  }
  return "";
}

interface Attempt {
  readonly method: string;
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
}

/**
 * Sends one request with the retry policy: 429 and 5xx are retried for every method (honouring
 * `Retry-After`), timeouts and dropped connections only for GET/PUT/DELETE, because a POST that
 * timed out may have been applied and a second one could create a duplicate.
 */
async function sendWithRetries(
  settings: ClientSettings,
  label: string,
  req: Attempt,
): Promise<RawResponse> {
  const path = req.url.pathname.replace(/^\/api\/v4/, "") + req.url.search;
  const what = `${label}: ${req.method} ${path}`;
  const idempotent = req.method !== "POST" && req.method !== "PATCH";
  for (let attempt = 1; ; attempt += 1) {
    const tries = attempt > 1 ? ` after ${attempt} attempts` : "";
    let response: Response;
    try {
      response = await fetch(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        signal: AbortSignal.timeout(settings.timeoutMs),
      });
    } catch (err) {
      // Checked by name: the DOMException may come from another realm than this module's Error.
      const timedOut = (err as { name?: unknown }).name === "TimeoutError";
      const refused = /ECONNREFUSED/.test(String((err as { cause?: unknown }).cause));
      if (attempt < settings.maxAttempts && (idempotent || refused)) {
        await sleep(retryDelayMs(settings, attempt, null));
        continue;
      }
      const why = timedOut
        ? `timed out after ${settings.timeoutMs} ms`
        : `failed: ${String((err as { cause?: unknown }).cause ?? err)}`;
      const note = idempotent || refused ? tries : " (not retried: a POST may have been applied)";
      throw new GitLabApiError(`${what} ${why}${note}`, undefined, "");
    }
    const body = await parseBody(response);
    if (response.ok) {
      return {
        body: response.status === 204 ? null : body,
        headers: Object.fromEntries(response.headers.entries()),
        status: response.status,
      };
    }
    const retryable = response.status === 429 || response.status >= 500;
    if (retryable && attempt < settings.maxAttempts) {
      await sleep(retryDelayMs(settings, attempt, response.headers.get("retry-after")));
      continue;
    }
    const message = gitlabMessageOf(body);
    const hint = authHint(response.status, req.method, path, body);
    throw new GitLabApiError(
      `${what} failed with HTTP ${response.status}${tries}: ${message}${hint}`,
      response.status,
      message,
    );
  }
}

/** gitbeaker's `requesterFn`: builds URL, auth header and JSON body, then sends with retries. */
function requesterFn(settings: ClientSettings, label: string) {
  return (options: ResourceOptions) => {
    const send =
      (method: string): Send =>
      async (endpoint, request = {}) => {
        const base = options.url.endsWith("/") ? options.url : `${options.url}/`;
        const url = new URL(endpoint, base);
        Object.entries((snakeKeys(request.searchParams ?? {}) as object) ?? {}).forEach(([k, v]) =>
          appendQuery(url.searchParams, k, v),
        );
        const headers: Record<string, string> = { accept: "application/json" };
        for (const [name, value] of Object.entries(options.authHeaders)) {
          headers[name] = await value();
        }
        const hasBody =
          request.body !== undefined &&
          request.body !== null &&
          Object.keys(request.body as object).length > 0;
        if (hasBody) {
          headers["content-type"] = "application/json";
        }
        const body = hasBody ? JSON.stringify(snakeKeys(request.body)) : undefined;
        return sendWithRetries(settings, label, { method, url, headers, body });
      };
    return {
      get: send("GET"),
      post: send("POST"),
      put: send("PUT"),
      patch: send("PATCH"),
      delete: send("DELETE"),
    };
  };
}

/** Options for any gitbeaker resource class (`new ProjectVariables(options)`). */
export interface GitbeakerOptions {
  readonly host: string;
  readonly token: string;
  readonly requesterFn: never;
  readonly queryTimeout: null;
}

/** What a provider operation talks to GitLab through. */
export interface Api {
  /** `Type "name"`, the prefix of every error. */
  readonly label: string;
  /** A gitbeaker resource client bound to this connection, e.g. `api.use(ProjectVariables)`. */
  use<T>(resource: new (options: GitbeakerOptions) => T): T;
}

/** Binds a connection, the settings and an error label. */
export function connect(connection: Connection, settings: ClientSettings, label: string): Api {
  const options: GitbeakerOptions = {
    host: connection.host,
    token: connection.token,
    // gitbeaker's requester typings are generic over the body type; ours returns `unknown`
    // bodies and each call site states what it expects.
    requesterFn: requesterFn(settings, label) as never,
    // A per-attempt timeout is ours; gitbeaker's would span all retries of a request.
    queryTimeout: null,
  };
  return { label, use: (resource) => new resource(options) };
}

/** True for a GitLabApiError with one of the given statuses. */
export function isStatus(err: unknown, ...statuses: number[]): boolean {
  return err instanceof GitLabApiError && err.status !== undefined && statuses.includes(err.status);
}
