import {
  PreviewParseError,
  changeKindOf,
  parsePreview,
  parseUrn,
  summarize,
  terraformReport,
} from "../../scripts/ci/digest";
import { fixture, step } from "./fixtures";

describe("reading pulumi preview --json", () => {
  test.each<[string, string]>([
    ["", "pulumi preview --json printed no JSON document ("],
    ["error: no stack named 'dev' found", "pulumi preview --json printed no JSON document ("],
    ["[]", "pulumi preview --json printed JSON that is not an object"],
    ['{"steps": {}}', "steps: expected an array"],
    ['{"steps": [{"op": "create"}]}', "steps[0]: expected an object with string op and urn"],
    ['{"diagnostics": "boom"}', "diagnostics: expected an array"],
    [
      '{"diagnostics": [{"message": "x"}]}',
      "diagnostics[0]: expected an object with string message and severity",
    ],
  ])("rejects %j", (text, message) => {
    expect(() => parsePreview(text)).toThrow(PreviewParseError);
    expect(() => parsePreview(text)).toThrow(message);
  });

  test("accepts the empty document Pulumi prints when it fails early", () => {
    expect(summarize(parsePreview("{}"))).toEqual({
      counts: { create: 0, update: 0, replace: 0, delete: 0 },
      changes: [],
      errors: [],
      warnings: [],
    });
  });
});

describe("URNs", () => {
  test.each([
    [
      "urn:pulumi:dev::platform::platform:apps:AppDeployment$kubernetes:apps/v1:Deployment::app-web",
      { stack: "dev", project: "platform", type: "kubernetes:apps/v1:Deployment", name: "app-web" },
    ],
    [
      "urn:pulumi:production::platform::platform:ci:CiVariables$pulumi-nodejs:dynamic/gitlab:ProjectVariable::ci-project:acme/web:KUBE_NAMESPACE:production",
      {
        stack: "production",
        project: "platform",
        type: "pulumi-nodejs:dynamic/gitlab:ProjectVariable",
        name: "ci-project:acme/web:KUBE_NAMESPACE:production",
      },
    ],
    [
      "urn:pulumi:dev::platform::pulumi:pulumi:Stack::platform-dev",
      { stack: "dev", project: "platform", type: "pulumi:pulumi:Stack", name: "platform-dev" },
    ],
    [
      "urn:pulumi:dev::platform::x:y:Z::a::b",
      { stack: "dev", project: "platform", type: "x:y:Z", name: "a::b" },
    ],
  ])("%s", (urn, parts) => {
    expect(parseUrn(urn)).toEqual(parts);
  });
});

describe("kinds of change", () => {
  test.each([
    ["create", "create"],
    ["import", "create"],
    ["update", "update"],
    ["replace", "replace"],
    ["create-replacement", "replace"],
    ["delete-replaced", "replace"],
    ["delete", "delete"],
    ["same", null],
    ["read", null],
    ["refresh", null],
    ["discard", null],
    ["remove-pending-replace", null],
    // A newer engine's op is shown, never hidden.
    ["frobnicate", "update"],
  ])("%s counts as %p", (op, kind) => {
    expect(changeKindOf(op)).toBe(kind);
  });
});

describe("summaries of real previews", () => {
  test("a merge request's changes: counts, and replaced/deleted resources first", () => {
    const summary = summarize(fixture("dev-changes"));
    expect(summary.counts).toEqual({ create: 2, update: 2, replace: 1, delete: 2 });
    expect(summary.changes.map((c) => [c.kind, c.type, c.name])).toEqual([
      ["replace", "pulumi-nodejs:dynamic/gitlab:UserRunner", "runner-runner"],
      ["delete", "kubernetes:networking.k8s.io/v1:Ingress", "app-web"],
      [
        "delete",
        "pulumi-nodejs:dynamic/gitlab:ProjectVariable",
        "ci-project:acme/platform:LOG_LEVEL:dev",
      ],
      ["create", "kubernetes:policy/v1:PodDisruptionBudget", "app-web"],
      [
        "create",
        "pulumi-nodejs:dynamic/gitlab:ProjectVariable",
        "ci-project:acme/platform:FEATURE_FLAGS:dev",
      ],
      ["update", "kubernetes:apps/v1:Deployment", "app-web"],
      ["update", "kubernetes:core/v1:Secret", "runner-token"],
    ]);
    expect(summary.errors).toEqual([]);
    expect(summary.warnings).toHaveLength(1);
    expect(summary.warnings[0]).toContain(
      "Attempting to deploy or update resources with 1 pending operations from previous deployment.",
    );
  });

  test("no changes: 62 same steps count nothing", () => {
    const doc = fixture("dev-no-changes");
    expect(doc.steps).toHaveLength(62);
    expect(summarize(doc)).toEqual({
      counts: { create: 0, update: 0, replace: 0, delete: 0 },
      changes: [],
      errors: [],
      warnings: [],
    });
  });

  test("a failed program: its error diagnostics, not the program's stderr echo", () => {
    const summary = summarize(fixture("staging-failed"));
    expect(summary.counts).toEqual({ create: 0, update: 0, replace: 0, delete: 0 });
    expect(summary.errors).toHaveLength(1);
    expect(summary.errors[0]).toContain("- apps[0].port: expected a port 1-65535, got 80800");
  });

  test("drift: a resource deleted by hand comes back as a create", () => {
    const summary = summarize(fixture("production-drift"));
    expect(summary.counts).toEqual({ create: 1, update: 1, replace: 0, delete: 0 });
    expect(summary.changes.map((c) => [c.kind, c.name])).toEqual([
      ["create", "ci-project:acme/web:KUBE_NAMESPACE:production"],
      ["update", "app-web"],
    ]);
  });
});

describe("replacements shown as separate steps (--show-replacement-steps)", () => {
  const type = "kubernetes:core/v1:Namespace";
  test("replace, create-replacement and delete-replaced of one URN are one replacement", () => {
    const summary = summarize({
      steps: [
        step("create-replacement", type, "apps", { replaceReasons: ["metadata"] }),
        step("replace", type, "apps", { replaceReasons: ["metadata"], diffReasons: ["metadata"] }),
        step("delete-replaced", type, "apps"),
      ],
    });
    expect(summary.counts).toEqual({ create: 0, update: 0, replace: 1, delete: 0 });
    expect(summary.changes).toHaveLength(1);
    expect(summary.changes[0]?.step.op).toBe("replace");
  });

  test("without the replace step, the pair still counts once", () => {
    const summary = summarize({
      steps: [step("create-replacement", type, "apps"), step("delete-replaced", type, "apps")],
    });
    expect(summary.counts.replace).toBe(1);
    expect(summary.changes[0]?.step.op).toBe("create-replacement");
  });
});

describe("GitLab's Terraform report", () => {
  test("a replacement is one create and one delete, as in Terraform", () => {
    const report = terraformReport(summarize(fixture("dev-changes")).counts);
    expect(JSON.stringify(report)).toBe('{"create":3,"update":2,"delete":3}');
  });

  test("no changes", () => {
    expect(JSON.stringify(terraformReport(summarize(fixture("dev-no-changes")).counts))).toBe(
      '{"create":0,"update":0,"delete":0}',
    );
  });

  test("counts above GitLab's maximum of 999999 are capped", () => {
    expect(terraformReport({ create: 999_999, update: 1_000_000, replace: 1, delete: 3 })).toEqual({
      create: 999_999,
      update: 999_999,
      delete: 4,
    });
  });
});
