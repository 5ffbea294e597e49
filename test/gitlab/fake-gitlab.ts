// A fake GitLab REST API (v4) on loopback, written from GitLab's API documentation for exactly the
// endpoints components/gitlab and scripts/ci use. It authenticates like GitLab (`PRIVATE-TOKEN` or
// `Authorization: Bearer`, 401 otherwise, 403 `insufficient_scope` for a token without the
// scope), accepts project and group ids as numbers or URL-encoded full paths, logs every
// request, and injects faults (429 with Retry-After, 5xx, requests that never answer).
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { ciRoutes } from "./fake-gitlab-ci";
import { deployRoutes } from "./fake-gitlab-deploy";
import { DEFAULT_METADATA, connectAgent, instanceRoutes } from "./fake-gitlab-instance";
import { mrRoutes } from "./fake-gitlab-mr";
import { protectionRoutes } from "./fake-gitlab-protection";
import {
  FakeGitLab,
  FakeState,
  Fault,
  Json,
  LoggedRequest,
  Owner,
  Reply,
  Route,
  reply,
} from "./fake-gitlab-model";

export type { FakeGitLab, FakeState, Fault, LoggedRequest, Owner } from "./fake-gitlab-model";

function matches(fault: Fault, method: string, path: string): boolean {
  if (fault.method !== undefined && fault.method !== method) {
    return false;
  }
  if (fault.path === undefined) {
    return true;
  }
  return typeof fault.path === "string" ? fault.path === path : fault.path.test(path);
}

function send(res: http.ServerResponse, r: Reply, headers: Record<string, string> = {}): void {
  if (r.status === 204 || r.body === undefined) {
    res.writeHead(r.status, headers).end();
    return;
  }
  res
    .writeHead(r.status, { "content-type": "application/json", ...r.headers, ...headers })
    .end(JSON.stringify(r.body));
}

export interface FakeOptions {
  /** Tokens and their scopes. Default: the returned `token` with `api`. */
  readonly tokens?: Record<string, string[]>;
  readonly projects?: Owner[];
  readonly groups?: Owner[];
  /** Fields of `GET /metadata` to change (e.g. `version`, `kas`). */
  readonly metadata?: Json;
}

/** Starts the fake on 127.0.0.1 and a random port. */
export async function startFakeGitLab(options: FakeOptions = {}): Promise<FakeGitLab> {
  const token = "glpat-fake-api-token-0001";
  const tokens = options.tokens ?? { [token]: ["api"] };
  const state: FakeState = {
    projects: options.projects ?? [{ id: 42, fullPath: "platform/app" }],
    groups: options.groups ?? [{ id: 7, fullPath: "platform" }],
    variables: new Map(),
    deployTokens: new Map(),
    runners: new Map(),
    agents: new Map(),
    agentTokens: new Map(),
    files: new Map(),
    environments: new Map(),
    protectedEnvironments: new Map(),
    userAccess: new Map(),
    metadata: { ...DEFAULT_METADATA, ...options.metadata },
    users: new Map(),
    mergeRequests: new Map(),
    issues: new Map(),
    notes: new Map(),
    nextId: 100,
  };
  const routes: Route[] = [
    ...ciRoutes,
    ...deployRoutes,
    ...instanceRoutes,
    ...mrRoutes,
    ...protectionRoutes,
  ];
  const log: LoggedRequest[] = [];
  const faults: Fault[] = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://fake");
      const path = url.pathname.replace(/^\/api\/v4/, "");
      const query = Object.fromEntries(url.searchParams.entries());
      const text = Buffer.concat(chunks).toString("utf8");
      const body = text === "" ? undefined : (JSON.parse(text) as Record<string, unknown>);
      const method = req.method ?? "GET";
      log.push({ method, path, query, body });

      const fault = faults.find((f) => (f.times ?? 1) > 0 && matches(f, method, path));
      if (fault !== undefined) {
        fault.times = (fault.times ?? 1) - 1;
        if (fault.hang === true) {
          return;
        }
        const headers: Record<string, string> =
          fault.retryAfter !== undefined ? { "retry-after": fault.retryAfter } : {};
        send(res, reply(fault.status ?? 500, fault.body ?? { message: "fault" }), headers);
        return;
      }

      const presented =
        req.headers["private-token"] ??
        /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ??
        undefined;
      const scopes = typeof presented === "string" ? tokens[presented] : undefined;
      if (scopes === undefined) {
        send(res, reply(401, { message: "401 Unauthorized" }));
        return;
      }
      for (const route of routes) {
        const m = route.method === method ? route.pattern.exec(path) : null;
        if (m === null) {
          continue;
        }
        const allowed = [route.scope ?? "api"].flat();
        const anyScope = allowed.includes("*");
        // read_api grants every GET that api grants (lib/api/api.rb: allow_access_with_scope
        // :read_api if the request is a GET or HEAD).
        const readOnly = method === "GET" && scopes.includes("read_api");
        const granted = scopes.includes("api") || allowed.some((s) => scopes.includes(s));
        if (!anyScope && !granted && !readOnly) {
          const scope = allowed.join(" ");
          send(
            res,
            reply(403, {
              error: "insufficient_scope",
              error_description:
                "The request requires higher privileges than provided by the access token.",
              scope,
            }),
          );
          return;
        }
        const params = m.slice(1).map((p) => decodeURIComponent(p));
        send(
          res,
          route.handle({
            method,
            params,
            query,
            input: { ...query, ...body },
            state,
            token: String(presented),
            scopes,
          }),
        );
        return;
      }
      send(res, reply(404, { error: "404 Not Found" }));
    });
  });
  // Idle keep-alive sockets stay open until close(): with Node's 5 s server timeout, a client
  // reusing a socket as the server drops it (a loaded machine delays the client's own 4 s
  // timer) got ECONNRESET on a POST, which it rightly does not retry.
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    log,
    faults,
    state,
    requests: (method, path) => log.filter((r) => r.method === method && path.test(r.path)),
    connectAgent: (agentId) => connectAgent(state, agentId),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
