import { main, verdict } from "../../scripts/ci/drift";
import { readPreview } from "../../scripts/ci/preview";
import { FakeGitLab, startFakeGitLab } from "../gitlab/fake-gitlab";
import { Job, makeJob, mergeRequestEnv, policyFlags, withoutTempDir } from "./ci-job";
import { fixturePath, fixtureText } from "./fixtures";

/** `npm run ci:drift -- <stack>` end to end against a fake `pulumi` and the fake GitLab. */

const TOKEN = "glpat-pipeline-bot-0001";

let fake: FakeGitLab;
let job: Job;
beforeEach(async () => {
  fake = await startFakeGitLab({ tokens: { [TOKEN]: ["api"] } });
  job = makeJob();
});
afterEach(async () => {
  await fake.close();
  job.remove();
});

/** A scheduled pipeline: no merge request variables. */
function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const scheduled = mergeRequestEnv(fake.url);
  for (const key of Object.keys(scheduled).filter((k) => k.startsWith("CI_MERGE_REQUEST_"))) {
    delete scheduled[key];
  }
  return {
    ...scheduled,
    PIPELINE_GITLAB_TOKEN: TOKEN,
    PULUMI_BACKEND_URL: "s3://platform-state",
    PULUMI_CONFIG_PASSPHRASE: "correct horse battery staple",
    ...extra,
  };
}

const issues = () => [...fake.state.issues.values()];

/** The command the job log shows for `stack`'s check. */
const command = (stack: string) =>
  `$ pulumi preview --json --refresh --expect-no-changes --non-interactive --stack ${stack} ${policyFlags(job.dir, stack).join(" ")}`;

test("drift fails the job and opens the stack's issue; the next clean check closes it", async () => {
  const drifted = job.io(
    env({ FAKE_PULUMI_STDOUT_FILE: fixturePath("production-drift"), FAKE_PULUMI_EXIT: "7" }),
  );
  expect(await main(["production"], drifted)).toBe(1);
  expect(job.calls().map((c) => c.argv.map(withoutTempDir))).toEqual([
    [
      "preview",
      "--json",
      "--refresh",
      "--expect-no-changes",
      "--non-interactive",
      "--stack",
      "production",
      ...policyFlags(job.dir, "production"),
    ],
  ]);
  expect(job.calls()[0]?.policyConfig?.["runner-not-privileged"]).toEqual({
    enforcementLevel: "mandatory",
    environment: "production",
  });
  expect(withoutTempDir(drifted.out.join(""))).toBe(
    [
      command("production"),
      "Drift in production: 1 to create, 1 to update, 0 to replace, 0 to delete",
      "+ create pulumi-nodejs:dynamic/gitlab:ProjectVariable ci-project:acme/web:KUBE_NAMESPACE:production",
      '+      description: "Kubernetes namespace of web (published by the platform)"',
      '+      environmentScope: "production"',
      '+      key: "KUBE_NAMESPACE"',
      "+      masked: false",
      '+      project: "acme/web"',
      "+      protected: false",
      "+      raw: true",
      '+      resourceName: "ci-project:acme/web:KUBE_NAMESPACE:production"',
      '+      value: "[secret]"',
      '+      variableType: "env_var"',
      "~ update kubernetes:apps/v1:Deployment app-web",
      "-      spec.replicas: 1",
      "+      spec.replicas: 3",
      "Opened drift issue #1: http://fake/projects/42/-/issues/1",
      "",
    ].join("\n"),
  );
  expect(issues().map((i) => [i.iid, i.title, i.labels, i.state])).toEqual([
    [1, "Drift in stack production", ["pulumi-drift"], "opened"],
  ]);
  expect(String(issues()[0]?.description)).toMatch(
    /^<!-- platform-drift:stack=production -->\n### `production` has drifted: 1 to create, 1 to update, 0 to replace, 0 to delete\n/,
  );

  const again = job.io(
    env({ FAKE_PULUMI_STDOUT_FILE: fixturePath("production-drift"), FAKE_PULUMI_EXIT: "7" }),
  );
  expect(await main(["production"], again)).toBe(1);
  expect(again.out.join("")).toContain(
    "Updated drift issue #1: http://fake/projects/42/-/issues/1\n",
  );
  expect(issues()).toHaveLength(1);

  const clean = job.io(env({ FAKE_PULUMI_STDOUT_FILE: fixturePath("dev-no-changes") }));
  expect(await main(["production"], clean)).toBe(0);
  expect(withoutTempDir(clean.out.join(""))).toBe(
    [
      command("production"),
      "No drift in production.",
      "Closed drift issue #1: http://fake/projects/42/-/issues/1",
      "",
    ].join("\n"),
  );
  expect(issues().map((i) => i.state)).toEqual(["closed"]);
  expect(fake.state.notes.get("42:issues:1")?.map((n) => n.body)).toEqual([
    "No drift in `production` any more: the live resources match the program again. Closing.\n\n<sub>Checked by commit `4f2a9c1` · [pipeline #1234](https://gitlab.example.com/acme/platform/-/pipelines/1234) · [job log](https://gitlab.example.com/acme/platform/-/jobs/5678).</sub>",
  ]);
});

test("a clean check with no open issue writes nothing", async () => {
  const io = job.io(env({ FAKE_PULUMI_STDOUT_FILE: fixturePath("dev-no-changes") }));
  expect(await main(["dev"], io)).toBe(0);
  expect(withoutTempDir(io.out.join(""))).toBe(`${command("dev")}\nNo drift in dev.\n`);
  expect(fake.log.filter((r) => r.method !== "GET")).toEqual([]);
});

test("a check that fails leaves the open issue as it is and fails with pulumi's code", async () => {
  await main(
    ["staging"],
    job.io(
      env({ FAKE_PULUMI_STDOUT_FILE: fixturePath("production-drift"), FAKE_PULUMI_EXIT: "7" }),
    ),
  );
  const before = JSON.stringify(issues());
  fake.log.length = 0;

  const io = job.io(
    env({ FAKE_PULUMI_STDOUT_FILE: fixturePath("staging-failed"), FAKE_PULUMI_EXIT: "255" }),
  );
  expect(await main(["staging"], io)).toBe(255);
  expect(JSON.stringify(issues())).toBe(before);
  expect(fake.log).toEqual([]);
  expect(io.err.join("")).toContain(
    "The drift check of staging failed (exit code 255); its drift issue is left as it is.\nerror: Running program '/builds/acme/platform' failed with an unhandled exception:\n",
  );
});

test("a check that printed no document is a failure, not a clean result", async () => {
  const io = job.io(
    env({ FAKE_PULUMI_STDERR: "error: no stack named 'dev' found\n", FAKE_PULUMI_EXIT: "255" }),
  );
  expect(await main(["dev"], io)).toBe(255);
  expect(io.err.join("")).toMatch(
    /The drift check of dev failed \(exit code 255\); its drift issue is left as it is\.\npulumi preview --json printed no JSON document \(.+\)\nerror: no stack named 'dev' found\n$/,
  );
});

test("a job without the pipeline's token refuses before running pulumi", async () => {
  const io = job.io(env({ PIPELINE_GITLAB_TOKEN: "" }));
  expect(await main(["dev"], io)).toBe(1);
  expect(io.err.join("")).toBe(
    "error: PIPELINE_GITLAB_TOKEN is not set: add a project access token (role Reporter, scope api) as a masked CI/CD variable of that name. CI_JOB_TOKEN cannot post notes or write issues.\n",
  );
  expect(job.calls()).toEqual([]);
});

describe("verdicts", () => {
  const doc = (name: Parameters<typeof fixtureText>[0]) => readPreview(fixtureText(name), []);
  test.each<[string, number, ReturnType<typeof readPreview>, string]>([
    ["changes with --expect-no-changes' exit code", 7, doc("production-drift"), "drift"],
    ["changes from an older CLI (exit 255)", 255, doc("production-drift"), "drift"],
    ["no changes, exit 0", 0, doc("dev-no-changes"), "clean"],
    ["no changes but a non-zero exit", 255, readPreview("{}", []), "failed"],
    ["error diagnostics", 255, doc("staging-failed"), "failed"],
    ["no document", 255, readPreview("", []), "failed"],
  ])("%s: %s", (_, code, read, expected) => {
    expect(verdict(code, read)).toBe(expected);
  });
});
