import * as k8s from "@pulumi/kubernetes";
import { dockerConfig, dockerConfigJson } from "../../components/docker-config";
import { GroupDeployTokenProvider, ProjectDeployTokenProvider } from "../../components/gitlab";
import {
  RegistryAuth,
  RegistryAuthArgs,
  addDays,
  encodedDockerConfig,
  resolveExpiry,
} from "../../components/registry-auth";
import { record } from "../harness/component";
import { RecordedResource, isSecret, unwrap } from "../harness/mocks";

const PROJECT_TOKEN = "pulumi-nodejs:dynamic/gitlab:ProjectDeployToken";
const GROUP_TOKEN = "pulumi-nodejs:dynamic/gitlab:GroupDeployToken";
const SECRET = "kubernetes:core/v1:Secret";
const COMPONENT = "platform:registry:RegistryAuth";

const base: RegistryAuthArgs = {
  scope: "project",
  project: "acme/platform",
  registryHost: "registry.gitlab.example.com",
  namespaces: { web: "web", flux: "flux-system" },
  lifetimeDays: 30,
  today: "2026-01-15",
};

function b64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

/** The `.dockerconfigjson` a recorded Secret carries, decoded and parsed. */
function pullConfig(secret: RecordedResource): unknown {
  const data = secret.inputs["data"] as Record<string, string>;
  expect(Object.keys(data)).toEqual([".dockerconfigjson"]);
  return JSON.parse(Buffer.from(data[".dockerconfigjson"] as string, "base64").toString("utf8"));
}

/** Records a RegistryAuth; the error message instead when the constructor throws. */
function build(args: RegistryAuthArgs, name = "auth") {
  return record((provider) => {
    try {
      return new RegistryAuth(name, args, { provider });
    } catch (err) {
      return (err as Error).message;
    }
  });
}

async function built(args: RegistryAuthArgs, name = "auth") {
  const { resources, result } = await build(args, name);
  if (typeof result === "string") {
    throw new Error(result);
  }
  return { resources, auth: result };
}

describe("RegistryAuth", () => {
  test("project scope: a read_registry project deploy token and one pull secret per namespace", async () => {
    const { resources, result } = await record((provider) => {
      // The namespace arrives as an Output of its resource, as index.ts passes it.
      const ns = new k8s.core.v1.Namespace("apps", { metadata: { name: "apps" } }, { provider });
      const auth = new RegistryAuth(
        "auth",
        { ...base, namespaces: { web: ns.metadata.name, flux: "flux-system" } },
        { provider },
      );
      return { ns, auth };
    });
    expect(resources.countByType()).toEqual({
      "pulumi:providers:kubernetes": 1,
      "kubernetes:core/v1:Namespace": 1,
      [COMPONENT]: 1,
      [PROJECT_TOKEN]: 1,
      [SECRET]: 2,
    });
    const component = resources.find(COMPONENT, "auth");
    const token = resources.find(PROJECT_TOKEN, "auth-deploy-token");
    expect(token.inputs).toEqual({
      resourceName: "auth-deploy-token",
      project: "acme/platform",
      name: "gitlab-cd-platform/test/auth",
      scopes: ["read_registry"],
      // today + 30 days, at 00:00 UTC, in the provider's canonical form.
      expiresAt: "2026-02-14T00:00:00.000Z",
    });
    // Computed from today: fixed at creation, never drifting to a later date.
    expect(token.ignoreChanges).toEqual(["expiresAt"]);
    expect(token.parent).toBe(component.urn);
    expect(token.additionalSecretOutputs).toEqual(["token"]);

    const expectedConfig = {
      auths: {
        "registry.gitlab.example.com": {
          username: "gitlab+deploy-token-5",
          password: "gldt-mock-auth-deploy-token",
          auth: b64("gitlab+deploy-token-5:gldt-mock-auth-deploy-token"),
        },
      },
    };
    const namespaceUrn = resources.find("kubernetes:core/v1:Namespace", "apps").urn;
    for (const [key, namespace] of [
      ["web", "apps"],
      ["flux", "flux-system"],
    ] as const) {
      const secret = resources.find(SECRET, `auth-${key}`);
      expect(secret.inputs["type"]).toBe("kubernetes.io/dockerconfigjson");
      expect(secret.inputs["metadata"]).toEqual({
        name: "gitlab-registry-auth",
        namespace,
        labels: {
          "app.kubernetes.io/managed-by": "pulumi",
          "app.kubernetes.io/part-of": "gitlab-cd-platform",
          "app.kubernetes.io/component": "registry-auth",
        },
      });
      expect(secret.inputs["stringData"]).toBeUndefined();
      expect(pullConfig(secret)).toEqual(expectedConfig);
      expect(secret.secretInputs).toContain("data");
      expect(secret.dependencies).toContain(token.urn);
      expect(secret.parent).toBe(component.urn);
      expect(secret.provider).toContain("pulumi:providers:kubernetes::cluster");
    }
    // The Output namespace carries its resource: that Secret waits for the namespace.
    expect(resources.find(SECRET, "auth-web").dependencies).toContain(namespaceUrn);
    expect(resources.find(SECRET, "auth-flux").dependencies).not.toContain(namespaceUrn);

    const { auth } = result;
    expect(await unwrap(auth.secretName)).toBe("gitlab-registry-auth");
    expect(await unwrap(auth.username)).toBe("gitlab+deploy-token-5");
    expect(await unwrap(auth.expiresAt)).toBe("2026-02-14");
    expect(await unwrap(auth.deployTokenId)).toBe(5);
    expect(Object.keys(auth.secrets)).toEqual(["web", "flux"]);
  });

  test("group scope: a group deploy token with the explicit expiry, name, username and secret name", async () => {
    const { resources, auth } = await built({
      scope: "group",
      group: "acme",
      // Ignored for a group token, so index.ts can pass both paths straight through.
      project: "acme/platform",
      registryHost: "registry.example.com:5050",
      secretName: "acme-pull",
      namespaces: { flux: "flux-system" },
      tokenName: "acme registry pull",
      username: "acme-puller",
      expiresAt: "2026-06-30",
      lifetimeDays: 365,
      today: "2026-01-15",
    });
    expect(resources.countByType()).toEqual({
      "pulumi:providers:kubernetes": 1,
      [COMPONENT]: 1,
      [GROUP_TOKEN]: 1,
      [SECRET]: 1,
    });
    const token = resources.find(GROUP_TOKEN, "auth-deploy-token");
    expect(token.inputs).toEqual({
      resourceName: "auth-deploy-token",
      group: "acme",
      name: "acme registry pull",
      username: "acme-puller",
      scopes: ["read_registry"],
      expiresAt: "2026-06-30T00:00:00.000Z",
    });
    // An explicit date is compared on every run, so changing it rotates the token.
    expect(token.ignoreChanges).toEqual([]);
    const secret = resources.find(SECRET, "auth-flux");
    expect(secret.inputs["metadata"]).toMatchObject({
      name: "acme-pull",
      namespace: "flux-system",
    });
    expect(secret.inputs["type"]).toBe("kubernetes.io/dockerconfigjson");
    expect(pullConfig(secret)).toEqual({
      auths: {
        "registry.example.com:5050": {
          username: "acme-puller",
          password: "gldt-mock-auth-deploy-token",
          auth: b64("acme-puller:gldt-mock-auth-deploy-token"),
        },
      },
    });
    expect(secret.secretInputs).toContain("data");
    expect(secret.dependencies).toContain(token.urn);
    expect(await unwrap(auth.secretName)).toBe("acme-pull");
    expect(await unwrap(auth.username)).toBe("acme-puller");
    expect(await unwrap(auth.expiresAt)).toBe("2026-06-30");
    expect(await unwrap(auth.deployTokenId)).toBe(6);
  });

  test.each([
    { scope: "project" as const, type: PROJECT_TOKEN, provider: ProjectDeployTokenProvider },
    { scope: "group" as const, type: GROUP_TOKEN, provider: GroupDeployTokenProvider },
  ])(
    "$scope scope: a new expiresAt is a new input that the token's provider replaces; the same one changes nothing",
    async ({ scope, type, provider }) => {
      const tokenInputs = async (expiresAt: string) => {
        const { resources } = await built({ ...base, scope, group: "acme", expiresAt });
        return resources.find(type, "auth-deploy-token").inputs;
      };
      const first = await tokenInputs("2026-06-30");
      const second = await tokenInputs("2026-12-31");
      expect(first["expiresAt"]).toBe("2026-06-30T00:00:00.000Z");
      expect(second["expiresAt"]).toBe("2026-12-31T00:00:00.000Z");

      // What the engine does: check the inputs, then diff them against the state of the live token.
      const checked = async (inputs: Record<string, unknown>) => {
        const result = await provider.check?.({}, inputs);
        expect(result?.failures).toBeUndefined();
        return result?.inputs as Record<string, unknown>;
      };
      const state = {
        ...(await checked(first)),
        username: "gitlab+deploy-token-5",
        token: "gldt-old",
        deployTokenId: 5,
        expired: false,
        revoked: false,
      };
      expect(await provider.diff?.(`${scope}:5`, state, await checked(second))).toEqual({
        changes: true,
        replaces: ["expiresAt"],
        // The new token exists before the old one is revoked: pulls keep working meanwhile.
        deleteBeforeReplace: false,
      });
      expect(await provider.diff?.(`${scope}:5`, state, await checked(first))).toEqual({
        changes: false,
        replaces: [],
        deleteBeforeReplace: false,
      });
    },
  );

  test("a lifetime gives a date from today that is ignored after creation, so it never drifts", async () => {
    const later = await built({ ...base, today: "2026-03-01", lifetimeDays: 365 });
    const token = later.resources.find(PROJECT_TOKEN, "auth-deploy-token");
    expect(token.inputs["expiresAt"]).toBe("2027-03-01T00:00:00.000Z");
    expect(token.ignoreChanges).toEqual(["expiresAt"]);
  });

  test("without namespaces only the deploy token is created", async () => {
    const { resources, auth } = await built({ ...base, namespaces: {} });
    expect(resources.countByType()).toEqual({
      "pulumi:providers:kubernetes": 1,
      [COMPONENT]: 1,
      [PROJECT_TOKEN]: 1,
    });
    expect(await unwrap(auth.secretName)).toBe("gitlab-registry-auth");
    expect(Object.keys(auth.secrets)).toEqual([]);
  });

  test("consumers of secretName wait for every pull secret", async () => {
    const { resources } = await record((provider) => {
      const auth = new RegistryAuth("auth", base, { provider });
      return new k8s.core.v1.ServiceAccount(
        "web",
        {
          metadata: { name: "web", namespace: "web" },
          imagePullSecrets: [{ name: auth.secretName }],
        },
        { provider },
      );
    });
    const sa = resources.find("kubernetes:core/v1:ServiceAccount", "web");
    expect(sa.inputs["imagePullSecrets"]).toEqual([{ name: "gitlab-registry-auth" }]);
    expect(sa.dependencies).toEqual(
      expect.arrayContaining([
        resources.find(SECRET, "auth-web").urn,
        resources.find(SECRET, "auth-flux").urn,
      ]),
    );
  });

  const label = 'RegistryAuth "auth": ';
  test.each<{ case: string; args: Partial<RegistryAuthArgs>; error: string }>([
    {
      case: "project scope without project",
      args: { scope: "project", project: undefined },
      error: `${label}project: expected a GitLab project path when scope is "project", got nothing`,
    },
    {
      case: "project scope with an empty project",
      args: { scope: "project", project: " " },
      error: `${label}project: expected a GitLab project path when scope is "project", got " "`,
    },
    {
      case: "group scope without group",
      args: { scope: "group" },
      error: `${label}group: expected a GitLab group path when scope is "group", got nothing`,
    },
    {
      case: "an unknown scope",
      args: { scope: "instance" as "group" },
      error: `${label}scope: expected "project" or "group", got "instance"`,
    },
    {
      case: "a date that is not a calendar day",
      args: { expiresAt: "2026-02-30" },
      error: `${label}expiresAt: expected a date YYYY-MM-DD, got "2026-02-30"`,
    },
    {
      case: "a timestamp instead of a date",
      args: { expiresAt: "2026-06-30T00:00:00Z" },
      error: `${label}expiresAt: expected a date YYYY-MM-DD, got "2026-06-30T00:00:00Z"`,
    },
    {
      case: "an expiry that is not in the future",
      args: { expiresAt: "2026-01-15" },
      error: `${label}expiresAt: expected a date after today (2026-01-15), got "2026-01-15"`,
    },
    {
      case: "lifetimeDays < 1",
      args: { lifetimeDays: 0 },
      error: `${label}lifetimeDays: expected a whole number of days from 1 to 3650, got 0`,
    },
    {
      case: "lifetimeDays over ten years",
      args: { lifetimeDays: 36500 },
      error: `${label}lifetimeDays: expected a whole number of days from 1 to 3650, got 36500`,
    },
    {
      case: "fractional lifetimeDays",
      args: { lifetimeDays: 1.5 },
      error: `${label}lifetimeDays: expected a whole number of days from 1 to 3650, got 1.5`,
    },
    {
      case: "a bad today",
      args: { today: "15.01.2026" },
      error: `${label}today: expected a date YYYY-MM-DD, got "15.01.2026"`,
    },
    {
      case: "a registry URL instead of a host",
      args: { registryHost: "https://registry.example.com" },
      error: `${label}registryHost: expected a host name with an optional port and no scheme or path (registry.example.com, registry.example.com:5050), got "https://registry.example.com"`,
    },
    {
      case: "a registry host with a path",
      args: { registryHost: "registry.example.com/acme" },
      error: `${label}registryHost: expected a host name with an optional port and no scheme or path (registry.example.com, registry.example.com:5050), got "registry.example.com/acme"`,
    },
    {
      case: "a secret name Kubernetes rejects",
      args: { secretName: "Registry_Auth" },
      error: `${label}secretName: expected a DNS-1123 subdomain, got "Registry_Auth"`,
    },
    {
      case: "a namespace name Kubernetes rejects",
      args: { namespaces: { web: "Web" } },
      error: `${label}namespaces.web: expected a namespace name (DNS-1123 label), got "Web"`,
    },
    {
      case: "one namespace under two keys",
      args: { namespaces: { web: "apps", api: "apps" } },
      error: `${label}namespaces.api: namespace "apps" is already listed as namespaces.web`,
    },
    {
      case: "an empty namespace key",
      args: { namespaces: { "": "apps" } },
      error: `${label}namespaces: expected non-empty keys (they name the Secrets' resources)`,
    },
    {
      case: "an empty token name",
      args: { tokenName: "" },
      error: `${label}tokenName: expected a non-empty name, got ""`,
    },
    {
      case: "a username GitLab rejects",
      args: { username: "has space" },
      error: `${label}username: expected 1 to 255 letters, digits, '.', '+', '_' or '-', got "has space"`,
    },
    {
      case: "several problems at once",
      args: { scope: "group", lifetimeDays: 0 },
      error: [
        `${label}group: expected a GitLab group path when scope is "group", got nothing`,
        `${label}lifetimeDays: expected a whole number of days from 1 to 3650, got 0`,
      ].join("\n"),
    },
  ])("rejects $case before registering anything", async ({ args, error }) => {
    const { resources, result } = await build({ ...base, ...args });
    expect(result).toBe(error);
    expect(resources.countByType()).toEqual({ "pulumi:providers:kubernetes": 1 });
  });
});

describe("dockerConfig", () => {
  test.each([
    {
      host: "registry.gitlab.example.com",
      username: "gitlab+deploy-token-5",
      password: "gldt-abc",
      auth: "Z2l0bGFiK2RlcGxveS10b2tlbi01OmdsZHQtYWJj",
    },
    {
      host: "registry.example.com:5050",
      username: "puller",
      password: "s3cr:et",
      auth: "cHVsbGVyOnMzY3I6ZXQ=",
    },
    { host: "localhost:5000", username: "u", password: "p", auth: "dTpw" },
  ])("logs in to $host as $username", ({ host, username, password, auth }) => {
    expect(dockerConfig(host, username, password)).toEqual({
      auths: { [host]: { username, password, auth } },
    });
    expect(JSON.parse(dockerConfigJson(host, username, password))).toEqual({
      auths: { [host]: { username, password, auth } },
    });
  });

  test("serialises exactly the .dockerconfigjson layout", () => {
    expect(dockerConfigJson("registry.example.com:5050", "u", "p")).toBe(
      '{"auths":{"registry.example.com:5050":{"username":"u","password":"p","auth":"dTpw"}}}',
    );
  });

  test("the encoded config is a secret even when the password is handed over as a plain value", async () => {
    const encoded = encodedDockerConfig("registry.example.com", "u", "p");
    expect(await isSecret(encoded)).toBe(true);
    expect(await unwrap(encoded)).toBe(b64(dockerConfigJson("registry.example.com", "u", "p")));
  });
});

describe("expiry", () => {
  test.each([
    { today: "2026-01-15", days: 30, date: "2026-02-14" },
    { today: "2026-12-31", days: 1, date: "2027-01-01" },
    { today: "2028-02-28", days: 1, date: "2028-02-29" },
    { today: "2026-03-01", days: 365, date: "2027-03-01" },
  ])("$today + $days days is $date", ({ today, days, date }) => {
    expect(addDays(today, days)).toBe(date);
    expect(resolveExpiry(undefined, days, today)).toEqual({ date, fixedAtCreation: true });
  });

  test("an explicit expiresAt wins over the lifetime and is compared on every run", () => {
    expect(resolveExpiry("2026-06-30", 30, "2026-01-15")).toEqual({
      date: "2026-06-30",
      fixedAtCreation: false,
    });
  });
});
