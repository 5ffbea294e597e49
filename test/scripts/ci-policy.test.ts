import * as fs from "fs";
import * as path from "path";
import { main as drift } from "../../scripts/ci/drift";
import {
  PolicyViolation,
  eventLogOptions,
  parsePolicyEvents,
  policyDiagnostic,
} from "../../scripts/ci/policy-events";
import { main as preview, reportPath } from "../../scripts/ci/preview";
import { FakeGitLab, startFakeGitLab } from "../gitlab/fake-gitlab";
import { seedMergeRequest } from "../gitlab/fake-gitlab-mr";
import { Job, makeJob, mergeRequestEnv } from "./ci-job";
import { fixturePath } from "./fixtures";

/**
 * Policy violations in the pipeline: `pulumi preview --json` leaves them out of its document, so
 * the CI jobs read them from Pulumi's event log. test/fixtures/policy-events/staging.jsonl is an
 * event log the real engine (Pulumi 3.274.1) wrote while running this pack over a scratch program
 * with one unmasked, unprotected DB_PASSWORD variable and a runner note holding a token, at the
 * staging levels with credential-variables-masked-protected made advisory (shortened to the
 * prelude, the policy events and the summary).
 */

const EVENTS = path.resolve(__dirname, "..", "fixtures", "policy-events", "staging.jsonl");
const URN = "urn:pulumi:staging::policy-smoke::pulumi-nodejs:dynamic/gitlab";

describe("the event log", () => {
  test("--event-log needs PULUMI_DEBUG_COMMANDS", () => {
    expect(eventLogOptions("/tmp/x/events.jsonl")).toEqual({
      env: { PULUMI_DEBUG_COMMANDS: "true" },
      flags: ["--event-log", "/tmp/x/events.jsonl"],
    });
  });

  test("the policy events of a real log, other events and broken lines skipped", () => {
    const text = `${fs.readFileSync(EVENTS, "utf8")}{"sequence":48,"policyEv\nnot json\n`;
    const violations = parsePolicyEvents(text);
    expect(violations.map((v) => [v.policyName, v.enforcementLevel, v.resourceUrn])).toEqual([
      ["credential-variables-masked-protected", "advisory", `${URN}:ProjectVariable::db-password`],
      ["credential-variables-masked-protected", "advisory", `${URN}:ProjectVariable::db-password`],
      ["no-plaintext-credentials", "mandatory", `${URN}:ProjectVariable::db-password`],
      ["no-plaintext-credentials", "mandatory", `${URN}:UserRunner::note`],
      ["no-plaintext-credentials", "mandatory", `${URN}:UserRunner::note`],
    ]);
    expect(violations[0]?.message).toBe(
      'Credential CI/CD variables are masked and protected in staging and production.\nDB_PASSWORD (environment scope "*"): masked: expected true for a credential in staging (its key names a credential), got false\n',
    );
  });

  test("violations become diagnostics: mandatory ones errors, advisory ones warnings", () => {
    const [advisory, , mandatory] = parsePolicyEvents(fs.readFileSync(EVENTS, "utf8"));
    expect(policyDiagnostic(advisory as PolicyViolation)).toEqual({
      urn: `${URN}:ProjectVariable::db-password`,
      severity: "warning",
      message:
        'policy credential-variables-masked-protected (advisory) on pulumi-nodejs:dynamic/gitlab:ProjectVariable "db-password": DB_PASSWORD (environment scope "*"): masked: expected true for a credential in staging (its key names a credential), got false',
    });
    expect(policyDiagnostic(mandatory as PolicyViolation)).toEqual({
      urn: `${URN}:ProjectVariable::db-password`,
      severity: "error",
      message:
        'policy no-plaintext-credentials (mandatory) on pulumi-nodejs:dynamic/gitlab:ProjectVariable "db-password": value: expected a secret output (additionalSecretOutputs: ["value"]), got a plaintext one: the state would hold the credential unencrypted',
    });
    expect(
      policyDiagnostic({
        policyName: "app-namespaces-default-deny",
        policyPackName: "gitlab-k8s-platform",
        enforcementLevel: "advisory",
        message: "one line only",
      }),
    ).toEqual({
      severity: "warning",
      message: "policy app-namespaces-default-deny (advisory) on the stack: one line only",
    });
  });
});

describe("the CI jobs", () => {
  const TOKEN = "glpat-pipeline-bot-0001";
  let fake: FakeGitLab;
  let job: Job;
  beforeEach(async () => {
    fake = await startFakeGitLab({ tokens: { [TOKEN]: ["api"] } });
    seedMergeRequest(fake.state, 42, 7);
    job = makeJob();
  });
  afterEach(async () => {
    await fake.close();
    job.remove();
  });

  function env(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    return {
      ...mergeRequestEnv(fake.url),
      PIPELINE_GITLAB_TOKEN: TOKEN,
      PULUMI_BACKEND_URL: "s3://platform-state",
      PULUMI_CONFIG_PASSPHRASE: "pw",
      ...extra,
    };
  }

  /** What `pulumi preview --json` printed in that run: the document without policy events. */
  function failedDocument(): string {
    const file = path.join(job.dir, "failed.json");
    fs.writeFileSync(
      file,
      JSON.stringify({
        steps: [],
        diagnostics: [{ message: "error: preview failed\n", severity: "error" }],
      }),
    );
    return file;
  }

  const body = () => String(fake.state.notes.get("42:merge_requests:7")?.[0]?.body);

  test("a mandatory violation fails the preview and the note names it, advisory ones too", async () => {
    const io = job.io(
      env({
        FAKE_PULUMI_STDOUT_FILE: failedDocument(),
        FAKE_PULUMI_EVENTS_FILE: EVENTS,
        FAKE_PULUMI_EXIT: "255",
      }),
    );
    expect(await preview(["staging"], io)).toBe(255);
    expect(job.calls()[0]?.debugCommands).toBe("true");
    expect(fs.existsSync(reportPath("staging", job.dir))).toBe(false);
    expect(body()).toContain("### Pulumi preview of `staging` failed\n");
    expect(body()).toContain(
      [
        'policy no-plaintext-credentials (mandatory) on pulumi-nodejs:dynamic/gitlab:ProjectVariable "db-password": value: expected a secret output (additionalSecretOutputs: ["value"]), got a plaintext one: the state would hold the credential unencrypted',
        'policy no-plaintext-credentials (mandatory) on pulumi-nodejs:dynamic/gitlab:UserRunner "note": token: expected a secret output (additionalSecretOutputs: ["token"]), got a plaintext one: the state would hold the credential unencrypted',
        'policy no-plaintext-credentials (mandatory) on pulumi-nodejs:dynamic/gitlab:UserRunner "note": description: expected no credential in a plaintext input, got a GitLab token: keep it in a Secret and pass the Secret\'s name',
        "error: preview failed",
        "pulumi preview exited with code 255",
      ].join("\n"),
    );
  });

  test("advisory violations of a passing preview are the note's warnings", async () => {
    const advisoryOnly = path.join(job.dir, "advisory.jsonl");
    fs.writeFileSync(
      advisoryOnly,
      fs
        .readFileSync(EVENTS, "utf8")
        .split("\n")
        .filter((l) => !l.includes('"enforcementLevel":"mandatory"'))
        .join("\n"),
    );
    const io = job.io(
      env({
        FAKE_PULUMI_STDOUT_FILE: fixturePath("dev-no-changes"),
        FAKE_PULUMI_EVENTS_FILE: advisoryOnly,
      }),
    );
    expect(await preview(["staging"], io)).toBe(0);
    expect(body()).toContain(
      [
        "**Warnings**",
        "",
        "```text",
        'policy credential-variables-masked-protected (advisory) on pulumi-nodejs:dynamic/gitlab:ProjectVariable "db-password": DB_PASSWORD (environment scope "*"): masked: expected true for a credential in staging (its key names a credential), got false',
        'policy credential-variables-masked-protected (advisory) on pulumi-nodejs:dynamic/gitlab:ProjectVariable "db-password": DB_PASSWORD (environment scope "*"): protected: expected true for a credential in staging (its key names a credential), got false',
      ].join("\n"),
    );
  });

  test("levels the pack refuses: no preview, and the note says why", async () => {
    fs.writeFileSync(
      path.join(job.dir, "Pulumi.production.yaml"),
      "config:\n  platform:environment: production\n  platform:policy:\n    advisory: [containers-restricted]\n",
    );
    const io = job.io(env({}));
    expect(await preview(["production"], io)).toBe(1);
    expect(job.calls()).toEqual([]);
    expect(body()).toContain(
      'Pulumi.production.yaml: policy.advisory[0]: expected a policy production may make advisory (containers-requests-limits), got the security policy "containers-restricted"\nThe preview did not run: the policy pack refuses these levels for production.',
    );
  });

  test("a mandatory violation fails the drift check and leaves the issue alone", async () => {
    const io = job.io(
      env({
        FAKE_PULUMI_STDOUT_FILE: failedDocument(),
        FAKE_PULUMI_EVENTS_FILE: EVENTS,
        FAKE_PULUMI_EXIT: "255",
      }),
    );
    expect(await drift(["staging"], io)).toBe(255);
    expect(io.err.join("")).toContain(
      'The drift check of staging failed (exit code 255); its drift issue is left as it is.\npolicy no-plaintext-credentials (mandatory) on pulumi-nodejs:dynamic/gitlab:ProjectVariable "db-password": value: expected a secret output',
    );
    expect([...fake.state.issues.values()]).toEqual([]);
  });
});
