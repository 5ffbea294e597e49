import { ProjectVariables } from "@gitbeaker/rest";
import {
  ClientSettings,
  connect,
  normalizeBaseUrl,
  resolveConnection,
  retryDelayMs,
} from "../../components/gitlab/client";
import { FakeGitLab, startFakeGitLab } from "./fake-gitlab";
import { FAST, rejection } from "./harness";

/** Short per-attempt timeouts, for the tests of timing out. */
const HANG: Partial<ClientSettings> = { ...FAST, timeoutMs: 1000 };

describe("connection", () => {
  test.each([
    ["https://gitlab.example.com", "https://gitlab.example.com"],
    ["https://gitlab.example.com/", "https://gitlab.example.com"],
    ["https://gitlab.example.com/api/v4", "https://gitlab.example.com"],
    ["https://gitlab.example.com/api/v4/", "https://gitlab.example.com"],
    ["http://127.0.0.1:8080/gitlab/api/v4/", "http://127.0.0.1:8080/gitlab"],
  ])("base URL %s becomes host %s", (raw, host) => {
    expect(normalizeBaseUrl(raw)).toBe(host);
  });

  test("rejects a base URL that is not http(s)", () => {
    expect(() => normalizeBaseUrl("gitlab.example.com")).toThrow(
      'GitLab base URL: expected an http(s) URL, got "gitlab.example.com"',
    );
  });

  const config = (values: Record<string, string>) => ({ get: (k: string) => values[k] });

  test("stack config wins over the environment", () => {
    const env = { GITLAB_BASE_URL: "https://env.example.com/api/v4/", GITLAB_TOKEN: "env-token" };
    expect(
      resolveConnection(
        config({ "gitlab:baseUrl": "https://cfg.example.com", "gitlab:token": "cfg" }),
        env,
      ),
    ).toEqual({ host: "https://cfg.example.com", token: "cfg" });
  });

  test("falls back to GITLAB_BASE_URL and GITLAB_TOKEN, then to gitlab.com", () => {
    const env = { GITLAB_BASE_URL: "https://env.example.com/api/v4/", GITLAB_TOKEN: "env-token" };
    expect(resolveConnection(undefined, env)).toEqual({
      host: "https://env.example.com",
      token: "env-token",
    });
    expect(resolveConnection(config({}), { GITLAB_TOKEN: "t" })).toEqual({
      host: "https://gitlab.com",
      token: "t",
    });
  });

  test("without a token it says where to put one", () => {
    expect(() => resolveConnection(config({ "gitlab:token": " " }), {})).toThrow(
      "GitLab token missing: set the secret stack config gitlab:token " +
        "(pulumi config set --secret gitlab:token ...) or the GITLAB_TOKEN environment variable",
    );
  });
});

describe("retry delays", () => {
  const settings: ClientSettings = {
    timeoutMs: 1,
    maxAttempts: 5,
    baseDelayMs: 100,
    maxDelayMs: 1000,
  };
  test.each([
    [1, null, 100],
    [2, null, 200],
    [4, null, 800],
    [5, null, 1000],
    [1, "3", 1000],
    [1, "0.25", 250],
    [3, "0", 0],
  ])("retry %i with Retry-After %p waits %i ms", (attempt, retryAfter, delay) => {
    expect(retryDelayMs(settings, attempt, retryAfter)).toBe(delay);
  });

  test("an HTTP-date Retry-After counts from now", () => {
    const inHalfASecond = new Date(Date.now() + 500).toUTCString();
    expect(retryDelayMs(settings, 1, inHalfASecond)).toBeLessThanOrEqual(500);
  });
});

describe("requests", () => {
  let fake: FakeGitLab;
  beforeEach(async () => {
    fake = await startFakeGitLab();
  });
  afterEach(async () => {
    await fake.close();
  });
  const variables = (settings: Partial<ClientSettings> = {}) =>
    connect(
      { host: fake.url, token: fake.token },
      { ...FAST, ...settings } as ClientSettings,
      'Test "t"',
    ).use(ProjectVariables);

  test("sends the token as PRIVATE-TOKEN and JSON bodies in snake_case", async () => {
    await variables().create("42", "K", "v", { variableType: "file", environmentScope: "prod" });
    expect(fake.log[0]).toEqual({
      method: "POST",
      path: "/projects/42/variables",
      query: {},
      body: { key: "K", value: "v", variable_type: "file", environment_scope: "prod" },
    });
  });

  test("waits for Retry-After before retrying a 429", async () => {
    fake.faults.push({ status: 429, retryAfter: "1" });
    const started = Date.now();
    await variables({ maxDelayMs: 5000 }).create("42", "K", "v");
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(fake.log).toHaveLength(2);
  });

  test("a hung GET times out per attempt and is retried", async () => {
    await variables().create("42", "K", "v");
    fake.faults.push({ method: "GET", hang: true, times: 2 });
    expect(await variables(HANG).show("42", "K")).toMatchObject({ key: "K" });
    expect(fake.requests("GET", /variables\/K$/)).toHaveLength(3);
  });

  test("a hung POST is not retried, since it may have been applied", async () => {
    fake.faults.push({ method: "POST", hang: true });
    expect(await rejection(variables(HANG).create("42", "K", "v"))).toBe(
      'Test "t": POST /projects/42/variables timed out after 1000 ms (not retried: a POST may have been applied)',
    );
    expect(fake.log).toHaveLength(1);
  });

  test("a GET that keeps hanging fails after the last attempt", async () => {
    fake.faults.push({ method: "GET", hang: true, times: 3 });
    expect(await rejection(variables(HANG).show("42", "K"))).toBe(
      'Test "t": GET /projects/42/variables/K timed out after 1000 ms after 3 attempts',
    );
  });

  test("a refused connection is retried and then reported", async () => {
    const url = fake.url;
    await fake.close();
    const client = connect({ host: url, token: "t" }, FAST as ClientSettings, 'Test "t"').use(
      ProjectVariables,
    );
    expect(await rejection(client.create("42", "K", "v"))).toMatch(
      /^Test "t": POST \/projects\/42\/variables failed: .*ECONNREFUSED.* after 3 attempts$/,
    );
    fake = await startFakeGitLab();
  });

  test("4xx other than 429 is not retried", async () => {
    expect(await rejection(variables().show("42", "MISSING"))).toBe(
      'Test "t": GET /projects/42/variables/MISSING failed with HTTP 404: 404 Variable Not Found',
    );
    expect(fake.log).toHaveLength(1);
  });

  test("the fake accepts Authorization: Bearer like GitLab", async () => {
    const res = await fetch(`${fake.url}/api/v4/projects/42/variables/NONE`, {
      headers: { Authorization: `Bearer ${fake.token}` },
    });
    expect(res.status).toBe(404);
  });
});
