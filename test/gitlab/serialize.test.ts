// The providers as Pulumi ships them: serialized with closure serialization into the state and
// evaluated in another module context (the dynamic provider process). The text must not carry
// the token, and the evaluated provider must still work once `configure` hands it stack config.
import Module from "node:module";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as gitlab from "../../components/gitlab";
import { FakeGitLab, startFakeGitLab } from "./fake-gitlab";
import { FAST, checked, stackConfig } from "./harness";

const ENV_TOKEN = "glpat-env-token-must-not-leak";

let fake: FakeGitLab;
beforeAll(async () => {
  fake = await startFakeGitLab({ tokens: { "glpat-stack-config-token": ["api"] } });
});
afterAll(async () => {
  await fake.close();
});

const serialize = async (provider: pulumi.dynamic.ResourceProvider) =>
  (await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: false })).text;

/** Loads serialized provider text the way @pulumi/pulumi's dynamic provider host does. */
function load(text: string): pulumi.dynamic.ResourceProvider {
  const filename = path.join(process.cwd(), "serialized-provider.js");
  const host = Module as unknown as {
    new (id: string): { filename: string; paths: string[]; exports: { handler(): unknown } };
    _nodeModulePaths(dir: string): string[];
  };
  const m = new host(filename);
  m.filename = filename;
  m.paths = host._nodeModulePaths(process.cwd());
  (m as unknown as { _compile(code: string, file: string): void })._compile(text, filename);
  return m.exports.handler() as pulumi.dynamic.ResourceProvider;
}

test.each([
  ["ProjectVariableProvider", gitlab.ProjectVariableProvider],
  ["GroupVariableProvider", gitlab.GroupVariableProvider],
  ["ProjectDeployTokenProvider", gitlab.ProjectDeployTokenProvider],
  ["GroupDeployTokenProvider", gitlab.GroupDeployTokenProvider],
  ["UserRunnerProvider", gitlab.UserRunnerProvider],
  ["UserRunnerSettingsProvider", gitlab.UserRunnerSettingsProvider],
  ["ClusterAgentProvider", gitlab.ClusterAgentProvider],
  ["ClusterAgentTokenProvider", gitlab.ClusterAgentTokenProvider],
  ["RepositoryFileProvider", gitlab.RepositoryFileProvider],
  ["ProjectEnvironmentProvider", gitlab.ProjectEnvironmentProvider],
  ["ProjectProtectedEnvironmentProvider", gitlab.ProjectProtectedEnvironmentProvider],
  ["BranchProtectionProvider", gitlab.BranchProtectionProvider],
  ["TagProtectionProvider", gitlab.TagProtectionProvider],
  ["ProjectContainerTagProtectionProvider", gitlab.ProjectContainerTagProtectionProvider],
])("%s serializes without any token and requires gitbeaker by name", async (_name, provider) => {
  process.env.GITLAB_TOKEN = ENV_TOKEN;
  try {
    const text = await serialize(provider);
    expect(text).not.toContain(ENV_TOKEN);
    expect(text).toContain('require("@gitbeaker/rest")');
    expect(text).not.toContain('require("@pulumi/pulumi")');
  } finally {
    delete process.env.GITLAB_TOKEN;
  }
});

test("a serialized provider, evaluated elsewhere and configured with stack config, creates and deletes", async () => {
  const text = await serialize(gitlab.createProjectVariableProvider(FAST));
  expect(text).not.toContain("glpat-stack-config-token");
  const provider = load(text);
  await provider.configure?.(
    stackConfig({
      "gitlab:baseUrl": `${fake.url}/api/v4/`,
      "gitlab:token": "glpat-stack-config-token",
    }),
  );
  const inputs = await checked(provider, {
    resourceName: "serialized",
    project: "platform/app",
    key: "FROM_SERIALIZED",
    value: "value",
  });
  const created = await provider.create(inputs);
  expect(created.id).toBe("platform/app:FROM_SERIALIZED:*");
  expect(fake.state.variables.get("projects:42")).toEqual([
    expect.objectContaining({ key: "FROM_SERIALIZED", value: "value" }),
  ]);
  await provider.delete?.(created.id, created.outs);
  expect(fake.state.variables.get("projects:42")).toEqual([]);
});

test("a serialized provider holds no connection: unconfigured and without GITLAB_TOKEN it asks for a token", async () => {
  delete process.env.GITLAB_TOKEN;
  const provider = gitlab.createUserRunnerProvider(FAST);
  const before = await serialize(provider);
  expect(before).not.toContain("glpat-stack-config-token");
  const evaluated = load(before);
  await expect(
    evaluated.create({ resourceName: "r", runnerType: "instance_type" }),
  ).rejects.toThrow("GitLab token missing");
});

test("a serialized provider's GitLab failure reaches the engine with its message", async () => {
  // The dynamic provider host sends `err.message` to the engine. Closure serialization turns a
  // class extending Error into a function calling `Error.call(this, …)`, which sets nothing on
  // `this`: the real engine showed "error: undefined" for a GitLab 500.
  const provider = load(await serialize(gitlab.createProjectVariableProvider(FAST)));
  await provider.configure?.(
    stackConfig({
      "gitlab:baseUrl": `${fake.url}/api/v4/`,
      "gitlab:token": "glpat-stack-config-token",
    }),
  );
  const inputs = await checked(provider, {
    resourceName: "faulty",
    project: "platform/app",
    key: "FAULTY",
    value: "value",
  });
  fake.faults.push({
    method: "POST",
    path: "/projects/platform%2Fapp/variables",
    status: 500,
    times: 10,
  });
  try {
    const err = await provider.create(inputs).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeDefined();
    expect(err?.message).toMatch(
      /^ProjectVariable "faulty": POST \/projects\/platform%2Fapp\/variables failed with HTTP 500 after \d+ attempts: fault$/,
    );
  } finally {
    fake.faults.length = 0;
  }
});
