// The resource classes under Pulumi's unit-test mocks: type tokens, registered inputs, secret
// outputs and merged options, and synchronous validation that stops bad config before
// registration.
import * as pulumi from "@pulumi/pulumi";
import * as gitlab from "../../components/gitlab";

const registered: pulumi.runtime.MockResourceArgs[] = [];
beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registered.push(args);
        // What a provider returns: the inputs plus secrets it computed.
        const state = { ...args.inputs, token: `token-of-${args.name}` };
        return { id: `${args.name}-id`, state };
      },
      call: () => {
        throw new Error("unexpected call");
      },
    },
    "project",
    "stack",
    false,
  );
});

const unwrap = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));
const registration = (name: string) => registered.find((r) => r.name === name);

test.each([
  [
    "ProjectVariable",
    () => new gitlab.ProjectVariable("pv", { project: "42", key: "K", value: "v" }),
  ],
  ["GroupVariable", () => new gitlab.GroupVariable("gv", { group: "7", key: "K", value: "v" })],
  [
    "ProjectDeployToken",
    () =>
      new gitlab.ProjectDeployToken("pdt", { project: "42", name: "n", scopes: ["read_registry"] }),
  ],
  [
    "GroupDeployToken",
    () => new gitlab.GroupDeployToken("gdt", { group: "7", name: "n", scopes: ["read_registry"] }),
  ],
  ["UserRunner", () => new gitlab.UserRunner("ur", { runnerType: "group_type", groupId: 7 })],
  ["UserRunnerSettings", () => new gitlab.UserRunnerSettings("urs", { runnerId: 7, paused: true })],
  ["ClusterAgent", () => new gitlab.ClusterAgent("ca", { project: "42", name: "prod" })],
  [
    "ClusterAgentToken",
    () => new gitlab.ClusterAgentToken("cat", { project: "42", agentId: 1, name: "t" }),
  ],
  [
    "RepositoryFile",
    () =>
      new gitlab.RepositoryFile("rf", {
        project: "42",
        branch: "main",
        filePath: "a.yaml",
        content: "x",
        commitMessage: "m",
      }),
  ],
  [
    "ProjectEnvironment",
    () => new gitlab.ProjectEnvironment("pe", { project: "42", name: "production" }),
  ],
  [
    "ProjectProtectedEnvironment",
    () =>
      new gitlab.ProjectProtectedEnvironment("ppe", {
        project: "42",
        environment: "production",
        deployAccessLevels: [{ accessLevel: "maintainer" }],
      }),
  ],
  ["BranchProtection", () => new gitlab.BranchProtection("bp", { project: "42", branch: "main" })],
  [
    "TagProtection",
    () =>
      new gitlab.TagProtection("tp", { project: "42", tag: "v*", createAccessLevel: "maintainer" }),
  ],
  [
    "ProjectContainerTagProtection",
    () =>
      new gitlab.ProjectContainerTagProtection("pctp", {
        project: "42",
        tagNameRegex: "^production$",
        minimumAccessLevelForPush: "MAINTAINER",
        minimumAccessLevelForDelete: "MAINTAINER",
      }),
  ],
])("%s registers under its type token, naming itself in resourceName", async (type, make) => {
  const resource = make();
  const urn = await unwrap(resource.urn);
  const name = urn.split("::").pop() ?? "";
  expect(urn).toBe(`urn:pulumi:stack::project::pulumi-nodejs:dynamic/gitlab:${type}::${name}`);
  const reg = registration(name);
  expect(reg?.type).toBe(`pulumi-nodejs:dynamic/gitlab:${type}`);
  expect(reg?.inputs.resourceName).toBe(reg?.name);
  expect(typeof reg?.inputs.__provider).toBe("string");
});

test("variable values are secret outputs and secret inputs; keys are not", async () => {
  const v = new gitlab.ProjectVariable("secret-var", {
    project: "42",
    key: "DEPLOY_KEY",
    value: "plain",
  });
  expect(await pulumi.isSecret(v.value)).toBe(true);
  expect(await pulumi.isSecret(v.key)).toBe(false);
  expect(await unwrap(v.value)).toBe("plain");
  const g = new gitlab.GroupVariable("secret-gvar", { group: "7", key: "K", value: "plain" });
  expect(await pulumi.isSecret(g.value)).toBe(true);
});

test.each([
  [
    "ProjectDeployToken",
    () =>
      new gitlab.ProjectDeployToken("s-pdt", {
        project: "42",
        name: "n",
        scopes: ["read_registry"],
      }),
  ],
  [
    "GroupDeployToken",
    () =>
      new gitlab.GroupDeployToken("s-gdt", { group: "7", name: "n", scopes: ["read_registry"] }),
  ],
  ["UserRunner", () => new gitlab.UserRunner("s-ur", { runnerType: "instance_type" })],
  [
    "ClusterAgentToken",
    () => new gitlab.ClusterAgentToken("s-cat", { project: "42", agentId: 1, name: "t" }),
  ],
])("%s token is a secret output", async (_type, make) => {
  const resource = make() as pulumi.Resource & { token: pulumi.Output<string> };
  expect(await pulumi.isSecret(resource.token)).toBe(true);
  expect(await unwrap(resource.token)).toMatch(/^token-of-s-/);
});

test("additionalSecretOutputs is merged with the caller's options", async () => {
  const seen: pulumi.ResourceOptions[] = [];
  const capture = (args: pulumi.ResourceTransformationArgs) => {
    seen.push(args.opts);
    return undefined;
  };
  new gitlab.ProjectVariable(
    "merged",
    { project: "42", key: "K", value: "v" },
    { additionalSecretOutputs: ["description"], transformations: [capture] },
  );
  new gitlab.UserRunner(
    "merged-runner",
    { runnerType: "instance_type" },
    { transformations: [capture] },
  );
  expect(seen.map((o) => (o as pulumi.CustomResourceOptions).additionalSecretOutputs)).toEqual([
    ["description", "value"],
    ["token"],
  ]);
});

test.each([
  [
    () =>
      new gitlab.ProjectVariable("bad-var", {
        project: "42",
        key: "MY-KEY",
        value: "short",
        masked: true,
      }),
    'ProjectVariable "bad-var": key: expected 1 to 255 characters from [A-Za-z0-9_], got "MY-KEY"\n' +
      'ProjectVariable "bad-var": value: a masked value needs at least 8 characters',
  ],
  [
    () => new gitlab.UserRunner("bad-runner", { runnerType: "project_type", groupId: 7 }),
    'UserRunner "bad-runner": projectId: is required when runnerType is project_type',
  ],
  [
    () =>
      new gitlab.ProjectDeployToken("bad-token", {
        project: "42",
        name: "n",
        scopes: ["api"] as never,
      }),
    'ProjectDeployToken "bad-token": scopes: unknown scope "api" for a project deploy token; expected one of ' +
      "read_repository, read_registry, write_registry, read_package_registry, write_package_registry, " +
      "read_virtual_registry, write_virtual_registry",
  ],
  [
    () => new gitlab.ClusterAgent("bad-agent", { project: "42", name: "Prod" }),
    "ClusterAgent \"bad-agent\": name: expected lowercase letters, digits and '-', starting and ending " +
      'with a letter or digit, at most 63 characters, got "Prod"',
  ],
  [
    () =>
      new gitlab.ProjectProtectedEnvironment("bad-pe", {
        project: "42",
        environment: "production",
        deployAccessLevels: [],
      }),
    'ProjectProtectedEnvironment "bad-pe": deployAccessLevels: expected at least one entry',
  ],
  [
    () =>
      new gitlab.BranchProtection("bad-bp", {
        project: "42",
        branch: "main",
        unprotectAccessLevel: "no one" as never,
      }),
    'BranchProtection "bad-bp": unprotectAccessLevel: expected one of "developer", "maintainer", "admin", got "no one"',
  ],
  [
    () =>
      new gitlab.ProjectContainerTagProtection("bad-pctp", {
        project: "42",
        tagNameRegex: "*",
        minimumAccessLevelForPush: "MAINTAINER",
        minimumAccessLevelForDelete: "MAINTAINER",
      }),
    'ProjectContainerTagProtection "bad-pctp": tagNameRegex: expected an RE2 regular expression, not a glob',
  ],
])(
  "bad plain arguments throw in the constructor, before registration (%#)",
  async (make, message) => {
    expect(make).toThrow(message);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(registered.filter((r) => r.name.startsWith("bad-"))).toEqual([]);
  },
);

test("arguments that are Outputs are left to the provider's check", () => {
  expect(
    () =>
      new gitlab.ProjectVariable("later", {
        project: "42",
        key: pulumi.output("MY-KEY"),
        value: "v",
      }),
  ).not.toThrow();
  expect(
    () =>
      new gitlab.ProjectProtectedEnvironment("later-pe", {
        project: "42",
        environment: "production",
        deployAccessLevels: [{ accessLevel: pulumi.output("maintainer") as never }],
      }),
  ).not.toThrow();
});
