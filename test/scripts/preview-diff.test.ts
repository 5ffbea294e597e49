import { summarize } from "../../scripts/ci/digest";
import {
  MAX_VALUE_LENGTH,
  changeLines,
  formatPropertyPath,
  formatValue,
  parsePropertyPath,
} from "../../scripts/ci/diff-text";
import { fixture, step } from "./fixtures";

describe("property paths", () => {
  test.each<[string, (string | number)[]]>([
    ["spec.replicas", ["spec", "replicas"]],
    [
      "spec.template.spec.containers[0].image",
      ["spec", "template", "spec", "containers", 0, "image"],
    ],
    ['metadata.labels["app.kubernetes.io/name"]', ["metadata", "labels", "app.kubernetes.io/name"]],
    ['stringData["runner-token"]', ["stringData", "runner-token"]],
    ['["a.b"].c', ["a.b", "c"]],
    ['data[".dockerconfigjson"]', ["data", ".dockerconfigjson"]],
  ])("%s", (text, segments) => {
    expect(parsePropertyPath(text)).toEqual(segments);
  });

  test.each(["", ".a", "a..b", "a[x]", 'a["b', "a[1"])("%j is not a path", (text) => {
    expect(parsePropertyPath(text)).toBeUndefined();
  });

  test.each([
    [["spec", "replicas"], "spec.replicas"],
    [["metadata", "labels", "app.kubernetes.io/name"], 'metadata.labels["app.kubernetes.io/name"]'],
    [["containers", 0, "image"], "containers[0].image"],
    [["stringData", "runner-token"], "stringData.runner-token"],
    [["with space"], '["with space"]'],
  ])("formats %j as %s", (segments, text) => {
    expect(formatPropertyPath(segments)).toBe(text);
  });

  test("formatting and parsing agree", () => {
    const segments = ["metadata", "annotations", "pulumi.com/skipAwait", "x", 3];
    expect(parsePropertyPath(formatPropertyPath(segments))).toEqual(segments);
  });
});

describe("values", () => {
  test("one line of JSON", () => {
    expect(formatValue({ a: [1, "b"], c: null })).toBe('{"a":[1,"b"],"c":null}');
  });

  test(`cut after ${MAX_VALUE_LENGTH} characters, saying how much is left`, () => {
    const text = formatValue("x".repeat(1500));
    expect(text).toBe(`"${"x".repeat(MAX_VALUE_LENGTH - 1)}… (502 more characters)`);
  });
});

describe("a resource's diff lines", () => {
  const changes = summarize(fixture("dev-changes")).changes;
  const change = (type: string, name: string) => {
    const found = changes.find((c) => c.type === type && c.name === name);
    if (found === undefined) {
      throw new Error(`no change for ${type} ${name}`);
    }
    return found;
  };

  test("an update shows each path of detailedDiff with its old and new value", () => {
    expect(changeLines(change("kubernetes:apps/v1:Deployment", "app-web"))).toEqual([
      "~ update kubernetes:apps/v1:Deployment app-web",
      "-      spec.replicas: 1",
      "+      spec.replicas: 2",
      '-      spec.template.spec.containers[0].image: "registry.gitlab.example.com/acme/web:1.4.2"',
      '+      spec.template.spec.containers[0].image: "registry.gitlab.example.com/acme/web:1.5.0"',
    ]);
  });

  test("a secret that changed shows the path and the kind of change, never a value", () => {
    expect(changeLines(change("kubernetes:core/v1:Secret", "runner-token"))).toEqual([
      "~ update kubernetes:core/v1:Secret runner-token",
      '!      stringData["runner-token"]: update',
    ]);
  });

  test("a replacement without detailedDiff is diffed from its inputs, with the reason", () => {
    expect(changeLines(change("pulumi-nodejs:dynamic/gitlab:UserRunner", "runner-runner"))).toEqual(
      [
        "! replace pulumi-nodejs:dynamic/gitlab:UserRunner runner-runner (replaced because of maintenanceNote)",
        '-      maintenanceNote: "Managed by Pulumi (platform/dev, GitLabRunner runner); token rotation 1"',
        '+      maintenanceNote: "Managed by Pulumi (platform/dev, GitLabRunner runner); token rotation 2"',
      ],
    );
  });

  test("a create lists every input; the dynamic provider's serialized code is left out", () => {
    const lines = changeLines(
      change(
        "pulumi-nodejs:dynamic/gitlab:ProjectVariable",
        "ci-project:acme/platform:FEATURE_FLAGS:dev",
      ),
    );
    expect(lines).toEqual([
      "+ create pulumi-nodejs:dynamic/gitlab:ProjectVariable ci-project:acme/platform:FEATURE_FLAGS:dev",
      "+      description: null",
      '+      environmentScope: "dev"',
      '+      key: "FEATURE_FLAGS"',
      "+      masked: false",
      '+      project: "acme/platform"',
      "+      protected: false",
      "+      raw: true",
      '+      resourceName: "ci-project:acme/platform:FEATURE_FLAGS:dev"',
      '+      value: "[secret]"',
      '+      variableType: "env_var"',
    ]);
    expect(lines.join("\n")).not.toContain("__provider");
  });

  test("a create's nested keys use Pulumi's path syntax", () => {
    expect(changeLines(change("kubernetes:policy/v1:PodDisruptionBudget", "app-web"))).toContain(
      '+      spec.selector.matchLabels["app.kubernetes.io/instance"]: "web"',
    );
  });

  test("a delete is its header alone", () => {
    expect(changeLines(change("kubernetes:networking.k8s.io/v1:Ingress", "app-web"))).toEqual([
      "- delete kubernetes:networking.k8s.io/v1:Ingress app-web",
    ]);
  });

  test("drift: the live value is the old one", () => {
    const drift = summarize(fixture("production-drift")).changes.find((c) => c.kind === "update");
    expect(drift && changeLines(drift)).toEqual([
      "~ update kubernetes:apps/v1:Deployment app-web",
      "-      spec.replicas: 1",
      "+      spec.replicas: 3",
    ]);
  });

  test("replacement paths of a detailedDiff are marked, and unknown paths keep their kind", () => {
    const [c] = summarize({
      steps: [
        step("replace", "kubernetes:core/v1:Namespace", "apps", {
          replaceReasons: ["metadata"],
          oldState: { inputs: { metadata: { name: "apps" } } },
          newState: { inputs: { metadata: { name: "apps-v2" } } },
          detailedDiff: {
            "metadata.name": { kind: "update-replace", inputDiff: true },
            "status.phase": { kind: "delete", inputDiff: false },
          },
        }),
      ],
    }).changes;
    expect(c && changeLines(c)).toEqual([
      "! replace kubernetes:core/v1:Namespace apps (replaced because of metadata)",
      '-      metadata.name: "apps"',
      '+      metadata.name: "apps-v2" (forces replacement)',
      "!      status.phase: delete",
    ]);
  });
});
