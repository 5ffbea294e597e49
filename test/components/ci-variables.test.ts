import * as pulumi from "@pulumi/pulumi";
import {
  CiVariableEntry,
  CiVariables,
  CiVariablesArgs,
  PUBLISHED_KEYS,
  PublishedAppVariables,
  publishedVariables,
  variableChildName,
} from "../../components/ci-variables";
import { record, waitForRegistrations } from "../harness/component";
import { installRecorder, unwrap } from "../harness/mocks";

const PV = "pulumi-nodejs:dynamic/gitlab:ProjectVariable";
const GV = "pulumi-nodejs:dynamic/gitlab:GroupVariable";

const KUBECONFIG_TEXT = "apiVersion: v1\nkind: Config\n";
const TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ3ZWIifQ.c2lnbmF0dXJl";

function configVariables(): CiVariableEntry[] {
  return [
    {
      key: "DEPLOY_WEBHOOK",
      value: pulumi.secret("https://hooks.example.com/deploy"),
      target: "project",
      variableType: "env_var",
      protected: true,
      masked: false,
      raw: true,
      environmentScope: "production",
      description: "Webhook called after deploys",
    },
    {
      key: "REGISTRY_MIRROR",
      value: pulumi.secret("mirror.example.com"),
      target: "group",
      variableType: "file",
      protected: false,
      masked: false,
      raw: false,
      environmentScope: "*",
      description: undefined,
    },
  ];
}

function published(): PublishedAppVariables[] {
  return [
    {
      app: "web",
      project: "apps/web",
      environmentScope: "production",
      namespace: "web-prod",
      imageRepository: "registry.example.com/apps/web",
      kubeconfig: pulumi.secret(KUBECONFIG_TEXT),
      kubeToken: pulumi.secret(TOKEN),
    },
    {
      app: "api",
      project: "apps/api",
      environmentScope: "production",
      namespace: "api-prod",
      imageRepository: "registry.example.com/apps/api",
      kubeContext: "platform/infra:prod-agent",
    },
    {
      app: "worker",
      project: "apps/worker",
      environmentScope: "production",
      namespace: "worker-prod",
      imageRepository: "registry.example.com/apps/worker",
    },
  ];
}

function args(overrides: Partial<CiVariablesArgs> = {}): CiVariablesArgs {
  return {
    projectPath: "platform/infra",
    groupPath: "platform",
    variables: configVariables(),
    published: published(),
    ...overrides,
  };
}

/** A published plain variable as registered. */
function plain(name: string, project: string, key: string, value: string, description: string) {
  return {
    resourceName: name,
    project,
    key,
    value,
    protected: false,
    masked: false,
    raw: true,
    variableType: "env_var",
    environmentScope: "production",
    description,
  };
}

describe("CiVariables", () => {
  const build = () => record(() => new CiVariables("ci", args()));

  test("creates one ProjectVariable/GroupVariable per variable, keyed by target, path, key and scope", async () => {
    const { resources } = await build();
    expect(resources.countByType()).toEqual({
      "pulumi:providers:kubernetes": 1,
      "platform:ci:CiVariables": 1,
      [PV]: 10,
      [GV]: 1,
    });
    // Registration order follows when the (secret) values resolve, so compare as sets.
    expect(
      resources
        .ofType(PV)
        .map((r) => r.name)
        .sort(),
    ).toEqual(
      [
        "ci-project:platform/infra:DEPLOY_WEBHOOK:production",
        "ci-project:apps/web:KUBE_NAMESPACE:production",
        "ci-project:apps/web:IMAGE_REPOSITORY:production",
        "ci-project:apps/web:KUBECONFIG:production",
        "ci-project:apps/web:KUBE_TOKEN:production",
        "ci-project:apps/api:KUBE_NAMESPACE:production",
        "ci-project:apps/api:IMAGE_REPOSITORY:production",
        "ci-project:apps/api:KUBE_CONTEXT:production",
        "ci-project:apps/worker:KUBE_NAMESPACE:production",
        "ci-project:apps/worker:IMAGE_REPOSITORY:production",
      ].sort(),
    );
    expect(resources.ofType(GV).map((r) => r.name)).toEqual([
      "ci-group:platform:REGISTRY_MIRROR:%2A",
    ]);
    const component = resources.find("platform:ci:CiVariables", "ci");
    for (const r of [...resources.ofType(PV), ...resources.ofType(GV)]) {
      expect(r.parent).toBe(component.urn);
      // Every value is sent as a secret, credential or not.
      expect(r.secretInputs).toEqual(["value"]);
    }
  });

  test("config variables keep every field, on the platform project or the group", async () => {
    const { resources } = await build();
    expect(
      resources.find(PV, "ci-project:platform/infra:DEPLOY_WEBHOOK:production").inputs,
    ).toEqual({
      resourceName: "ci-project:platform/infra:DEPLOY_WEBHOOK:production",
      project: "platform/infra",
      key: "DEPLOY_WEBHOOK",
      value: "https://hooks.example.com/deploy",
      protected: true,
      masked: false,
      raw: true,
      variableType: "env_var",
      environmentScope: "production",
      description: "Webhook called after deploys",
    });
    expect(resources.find(GV, "ci-group:platform:REGISTRY_MIRROR:%2A").inputs).toEqual({
      resourceName: "ci-group:platform:REGISTRY_MIRROR:%2A",
      group: "platform",
      key: "REGISTRY_MIRROR",
      value: "mirror.example.com",
      protected: false,
      masked: false,
      raw: false,
      variableType: "file",
      environmentScope: "*",
    });
  });

  test("direct apps get KUBE_NAMESPACE, IMAGE_REPOSITORY, a file KUBECONFIG and a masked protected KUBE_TOKEN", async () => {
    const { resources } = await build();
    const input = (key: string) =>
      resources.find(PV, `ci-project:apps/web:${key}:production`).inputs;
    expect(input("KUBE_NAMESPACE")).toEqual(
      plain(
        "ci-project:apps/web:KUBE_NAMESPACE:production",
        "apps/web",
        "KUBE_NAMESPACE",
        "web-prod",
        "Kubernetes namespace of web (published by the platform)",
      ),
    );
    expect(input("IMAGE_REPOSITORY")).toEqual(
      plain(
        "ci-project:apps/web:IMAGE_REPOSITORY:production",
        "apps/web",
        "IMAGE_REPOSITORY",
        "registry.example.com/apps/web",
        "Container image repository of web (published by the platform)",
      ),
    );
    expect(input("KUBECONFIG")).toEqual({
      resourceName: "ci-project:apps/web:KUBECONFIG:production",
      project: "apps/web",
      key: "KUBECONFIG",
      value: KUBECONFIG_TEXT,
      protected: true,
      masked: false,
      // Not expanded: the kubeconfig's `$KUBE_TOKEN` must reach the exec plugin literally.
      raw: true,
      variableType: "file",
      environmentScope: "production",
      description:
        "Kubeconfig of web's deployer; reads the token from KUBE_TOKEN (published by the platform)",
    });
    expect(input("KUBE_TOKEN")).toEqual({
      resourceName: "ci-project:apps/web:KUBE_TOKEN:production",
      project: "apps/web",
      key: "KUBE_TOKEN",
      value: TOKEN,
      protected: true,
      masked: true,
      raw: false,
      variableType: "env_var",
      environmentScope: "production",
      description: "Token of web's deployer ServiceAccount (published by the platform)",
    });
    expect(resources.has(PV, "ci-project:apps/web:KUBE_CONTEXT:production")).toBe(false);
  });

  test("review apps deploy from unprotected merge-request branches: their credentials can be unprotected", async () => {
    const base = args();
    const web = base.published.find((p) => p.app === "web") as PublishedAppVariables;
    const { resources } = await record(
      () =>
        new CiVariables("ci", {
          ...base,
          variables: [],
          published: [{ ...web, protectCredentials: false }],
        }),
    );
    const input = (key: string) =>
      resources.find(PV, `ci-project:apps/web:${key}:production`).inputs;
    expect([input("KUBECONFIG")["protected"], input("KUBE_TOKEN")["protected"]]).toEqual([
      false,
      false,
    ]);
    // Still masked: unprotected is not unmasked.
    expect(input("KUBE_TOKEN")["masked"]).toBe(true);
  });

  test("KUBE_CONTEXT only for agent apps; flux apps get namespace and image repository only", async () => {
    const { resources } = await build();
    expect(resources.find(PV, "ci-project:apps/api:KUBE_CONTEXT:production").inputs).toEqual(
      plain(
        "ci-project:apps/api:KUBE_CONTEXT:production",
        "apps/api",
        "KUBE_CONTEXT",
        "platform/infra:prod-agent",
        "GitLab agent kube context for api (published by the platform)",
      ),
    );
    const keysOf = (project: string) =>
      resources
        .ofType(PV)
        .filter((r) => r.inputs["project"] === project)
        .map((r) => String(r.inputs["key"]))
        .sort();
    expect(keysOf("apps/api")).toEqual(["IMAGE_REPOSITORY", "KUBE_CONTEXT", "KUBE_NAMESPACE"]);
    expect(keysOf("apps/worker")).toEqual(["IMAGE_REPOSITORY", "KUBE_NAMESPACE"]);
  });

  test("outputs the identifiers of every variable created", async () => {
    const { result } = await build();
    expect(await unwrap(result.variableIds)).toEqual([
      "platform/infra:DEPLOY_WEBHOOK:production",
      "platform:REGISTRY_MIRROR:*",
      "apps/web:KUBE_NAMESPACE:production",
      "apps/web:IMAGE_REPOSITORY:production",
      "apps/web:KUBECONFIG:production",
      "apps/web:KUBE_TOKEN:production",
      "apps/api:KUBE_NAMESPACE:production",
      "apps/api:IMAGE_REPOSITORY:production",
      "apps/api:KUBE_CONTEXT:production",
      "apps/worker:KUBE_NAMESPACE:production",
      "apps/worker:IMAGE_REPOSITORY:production",
    ]);
  });

  test("the same key on another scope or on the group is no duplicate", async () => {
    const base = configVariables()[0] as CiVariableEntry;
    const { resources } = await record(
      () =>
        new CiVariables("ci", {
          projectPath: "platform",
          groupPath: "platform",
          variables: [
            base,
            { ...base, environmentScope: "review/*" },
            { ...base, target: "group" },
          ],
          published: [],
        }),
    );
    expect(
      resources
        .ofType(PV)
        .map((r) => r.name)
        .sort(),
    ).toEqual([
      "ci-project:platform:DEPLOY_WEBHOOK:production",
      "ci-project:platform:DEPLOY_WEBHOOK:review/%2A",
    ]);
    expect(resources.ofType(GV).map((r) => r.name)).toEqual([
      "ci-group:platform:DEPLOY_WEBHOOK:production",
    ]);
  });
});

describe("CiVariables, invalid arguments", () => {
  const rejects = async (build: () => CiVariablesArgs, message: string) => {
    const recording = await installRecorder("platform", "test");
    expect(() => new CiVariables("ci", build())).toThrow(new Error(message));
    await waitForRegistrations();
    expect(recording.resources).toEqual([]);
  };

  test("a config variable colliding with a published one", async () => {
    const clash: CiVariableEntry = {
      ...(configVariables()[0] as CiVariableEntry),
      key: "KUBE_NAMESPACE",
    };
    await rejects(
      () => args({ projectPath: "apps/web", variables: [clash] }),
      'CiVariables "ci": published[0] (app "web") KUBE_NAMESPACE duplicates variables[0] ' +
        '(KUBE_NAMESPACE): both set KUBE_NAMESPACE on project "apps/web" for environment scope ' +
        '"production"',
    );
  });

  test("two config variables with the same target, path, key and scope", async () => {
    const first = configVariables()[1] as CiVariableEntry;
    await rejects(
      () => args({ variables: [first, { ...first, value: pulumi.secret("other") }] }),
      'CiVariables "ci": variables[1] (REGISTRY_MIRROR) duplicates variables[0] ' +
        '(REGISTRY_MIRROR): both set REGISTRY_MIRROR on group "platform" for environment scope "*"',
    );
  });

  test("a group variable without groupPath", async () => {
    await rejects(
      () => args({ groupPath: undefined }),
      'CiVariables "ci": variables[1] (REGISTRY_MIRROR): target "group" needs groupPath, which ' +
        "is not set",
    );
  });

  test("bad keys and scopes, and a kubeconfig without its token", async () => {
    const bad: CiVariableEntry = {
      ...(configVariables()[0] as CiVariableEntry),
      key: "DEPLOY-HOOK",
      environmentScope: "prod:eu",
    };
    const [web] = published();
    await rejects(
      () =>
        args({
          variables: [bad],
          published: [{ ...(web as PublishedAppVariables), kubeToken: undefined }],
        }),
      [
        'CiVariables "ci": variables[0] (DEPLOY-HOOK): key: expected 1 to 255 characters from ' +
          '[A-Za-z0-9_], got "DEPLOY-HOOK"',
        'CiVariables "ci": variables[0] (DEPLOY-HOOK): environmentScope: expected 1 to 255 ' +
          "letters, digits, '-', '_', '/', '$', '{', '}', '.', '*' or spaces, got \"prod:eu\"",
        'CiVariables "ci": published[0] (app "web"): kubeconfig and kubeToken go together ' +
          "(direct apps get both)",
      ].join("\n"),
    );
  });

  test("an app published both through the agent and directly", async () => {
    const [web] = published();
    await rejects(
      () =>
        args({
          variables: [],
          published: [{ ...(web as PublishedAppVariables), kubeContext: "platform/infra:prod" }],
        }),
      'CiVariables "ci": published[0] (app "web"): kubeContext (agent) and kubeconfig (direct) ' +
        "exclude each other: an app deploys one way",
    );
  });
});

describe("variableChildName", () => {
  test.each([
    ["production", "ci-project:apps/web:KEY:production"],
    ["*", "ci-project:apps/web:KEY:%2A"],
    ["review/*", "ci-project:apps/web:KEY:review/%2A"],
    ["review/${CI_COMMIT_REF_SLUG}", "ci-project:apps/web:KEY:review/%24%7BCI_COMMIT_REF_SLUG%7D"],
    ["a b", "ci-project:apps/web:KEY:a%20b"],
  ])("scope %j gives %s", (scope, expected) => {
    expect(
      variableChildName("ci", {
        target: "project",
        owner: "apps/web",
        key: "KEY",
        environmentScope: scope,
      }),
    ).toBe(expected);
  });
});

describe("PUBLISHED_KEYS", () => {
  test("names every key published to an agent app or a direct app, and no other", () => {
    const base = { project: "acme/web", environmentScope: "dev", imageRepository: "r/acme/web" };
    const keys = [
      ...publishedVariables({ ...base, app: "web", namespace: "web", kubeContext: "a:dev" }, 0),
      ...publishedVariables(
        {
          ...base,
          app: "api",
          namespace: "api",
          kubeconfig: pulumi.output(KUBECONFIG_TEXT),
          kubeToken: pulumi.output(TOKEN),
        },
        1,
      ),
    ].map((v) => v.key);
    expect([...new Set(keys)].sort()).toEqual([...PUBLISHED_KEYS].sort());
  });
});
