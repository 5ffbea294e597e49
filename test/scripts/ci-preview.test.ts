import * as fs from "fs";
import * as path from "path";
import { main, reportPath } from "../../scripts/ci/preview";
import { REPO_ROOT } from "../../scripts/pulumi";
import { FakeGitLab, startFakeGitLab } from "../gitlab/fake-gitlab";
import { seedMergeRequest } from "../gitlab/fake-gitlab-mr";
import { Job, makeJob, mergeRequestEnv, policyFlags, withoutTempDir } from "./ci-job";
import { fixturePath, fixtureText } from "./fixtures";

/**
 * `npm run ci:preview -- <stack>` end to end: a fake `pulumi` prints a recorded preview document,
 * the loopback fake GitLab receives the note.
 */

const TOKEN = "glpat-pipeline-bot-0001";
const PASSPHRASE = "correct horse battery staple";

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

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...mergeRequestEnv(fake.url),
    PIPELINE_GITLAB_TOKEN: TOKEN,
    PULUMI_BACKEND_URL: "s3://platform-state",
    PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
    ...extra,
  };
}

const notes = () => fake.state.notes.get("42:merge_requests:7") ?? [];
const report = (stack: string) => fs.readFileSync(reportPath(stack, job.dir), "utf8");

test("a preview with changes: report, log, and the note created then updated", async () => {
  const first = job.io(env({ FAKE_PULUMI_STDOUT_FILE: fixturePath("dev-changes") }));
  expect(await main(["dev"], first)).toBe(0);
  expect(job.calls().map((c) => ({ ...c, argv: c.argv.map(withoutTempDir) }))).toEqual([
    {
      argv: [
        "preview",
        "--json",
        "--refresh",
        "--non-interactive",
        "--stack",
        "dev",
        ...policyFlags(job.dir, "dev"),
      ],
      backend: "s3://platform-state",
      passphrase: PASSPHRASE,
      debugCommands: "true",
      policyConfig: expect.objectContaining({
        "runner-not-privileged": { enforcementLevel: "mandatory", environment: "dev" },
      }),
    },
  ]);
  expect(report("dev")).toBe('{"create":3,"update":2,"delete":3}\n');
  const out = withoutTempDir(first.out.join(""));
  const command = `$ pulumi preview --json --refresh --non-interactive --stack dev ${policyFlags(job.dir, "dev").join(" ")}`;
  expect(out.split("\n").slice(0, 4)).toEqual([
    command,
    "Preview of dev: 2 to create, 2 to update, 1 to replace, 2 to delete",
    "! replace pulumi-nodejs:dynamic/gitlab:UserRunner runner-runner (replaced because of maintenanceNote)",
    '-      maintenanceNote: "Managed by Pulumi (platform/dev, GitLabRunner runner); token rotation 1"',
  ]);
  const noteId = notes()[0]?.id;
  expect(
    out.endsWith(`Created the preview note of dev on merge request !7 (note ${noteId}).\n`),
  ).toBe(true);
  expect(String(notes()[0]?.body)).toMatch(
    /^<!-- platform-preview:stack=dev -->\n### Pulumi preview of `dev`: 2 to create, 2 to update, 1 to replace, 2 to delete\n/,
  );
  expect(first.err).toEqual([]);

  const second = job.io(env({ FAKE_PULUMI_STDOUT_FILE: fixturePath("dev-no-changes") }));
  expect(await main(["dev"], second)).toBe(0);
  expect(report("dev")).toBe('{"create":0,"update":0,"delete":0}\n');
  expect(withoutTempDir(second.out.join(""))).toBe(
    [
      command,
      "Preview of dev: no changes",
      `Updated the preview note of dev on merge request !7 (note ${noteId}).`,
      "",
    ].join("\n"),
  );
  expect(notes()).toHaveLength(1);
  expect(String(notes()[0]?.body)).toContain("### Pulumi preview of `dev`: no changes\n");
});

test("a failed preview updates the note with the error, writes no report, exits with pulumi's code", async () => {
  fs.mkdirSync(path.dirname(reportPath("staging", job.dir)), { recursive: true });
  fs.writeFileSync(reportPath("staging", job.dir), '{"create":0,"update":0,"delete":0}\n');
  const io = job.io(
    env({
      FAKE_PULUMI_STDOUT_FILE: fixturePath("staging-failed"),
      FAKE_PULUMI_STDERR:
        "\u001b[31merror:\u001b[0m an unhandled error occurred: Program exited with non-zero exit code: 1\n",
      FAKE_PULUMI_EXIT: "255",
    }),
  );
  expect(await main(["staging"], io)).toBe(255);
  expect(fs.existsSync(reportPath("staging", job.dir))).toBe(false);
  const err = io.err.join("");
  expect(err).toContain(
    "error: an unhandled error occurred: Program exited with non-zero exit code: 1\n",
  );
  expect(err).toContain(
    "Preview of staging failed:\nerror: Running program '/builds/acme/platform' failed with an unhandled exception:\n",
  );
  expect(err).not.toContain("\u001b");
  const body = String(notes()[0]?.body);
  expect(body).toContain("### Pulumi preview of `staging` failed\n");
  expect(body).toContain("  - apps[0].port: expected a port 1-65535, got 80800\n");
  expect(body).toContain(
    "pulumi preview exited with code 255:\nerror: an unhandled error occurred: Program exited with non-zero exit code: 1\n```",
  );
});

test("Pulumi printing nothing (no stack in the backend) still updates the note", async () => {
  const io = job.io(
    env({
      FAKE_PULUMI_STDERR: "error: no stack named 'production' found\n",
      FAKE_PULUMI_EXIT: "255",
    }),
  );
  expect(await main(["production"], io)).toBe(255);
  expect(String(notes()[0]?.body)).toMatch(
    /```text\npulumi preview --json printed no JSON document \(.+\)\npulumi preview exited with code 255:\nerror: no stack named 'production' found\n```/,
  );
});

test("the passphrase and tokens reach pulumi but never the log, the note or the report", async () => {
  const leaky = path.join(job.dir, "leaky.json");
  fs.writeFileSync(
    leaky,
    fixtureText("dev-changes")
      .replace('"key": "FEATURE_FLAGS"', `"key": "${TOKEN}"`)
      .replace("Attempting to deploy", `Attempting (${PASSPHRASE}) to deploy`),
  );
  const io = job.io(
    env({
      FAKE_PULUMI_STDOUT_FILE: leaky,
      FAKE_PULUMI_STDERR: `warning: passphrase was ${PASSPHRASE}; job token job-token-0123456789\n`,
    }),
  );
  expect(await main(["dev"], io)).toBe(0);
  expect(job.calls()[0]?.passphrase).toBe(PASSPHRASE);
  const everything = [io.out.join(""), io.err.join(""), String(notes()[0]?.body), report("dev")];
  for (const text of everything) {
    expect(text).not.toContain(PASSPHRASE);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain("job-token-0123456789");
  }
  expect(io.err.join("")).toBe("warning: passphrase was [secret]; job token [secret]\n");
  expect(String(notes()[0]?.body)).toContain('+      key: "[secret]"');
});

test("a preview that worked but a note that could not be written fails the job", async () => {
  const io = job.io(
    env({ FAKE_PULUMI_STDOUT_FILE: fixturePath("dev-changes"), CI_MERGE_REQUEST_IID: "99" }),
  );
  expect(await main(["dev"], io)).toBe(1);
  expect(report("dev")).toBe('{"create":3,"update":2,"delete":3}\n');
  expect(io.err.join("")).toBe(
    'error: Preview note "dev": GET /projects/42/merge_requests/99/notes?page=1&per_page=100&sort=asc&order_by=created_at failed with HTTP 404: 404 MergeRequest Not Found\n',
  );
});

describe("a job that cannot preview says why and runs nothing", () => {
  test.each<[string, NodeJS.ProcessEnv, string[], string]>([
    [
      "without the pipeline's token",
      { PIPELINE_GITLAB_TOKEN: undefined },
      ["dev"],
      "error: PIPELINE_GITLAB_TOKEN is not set: add a project access token (role Reporter, scope api) as a masked CI/CD variable of that name. CI_JOB_TOKEN cannot post notes or write issues.\n",
    ],
    [
      "without a shared backend",
      { PULUMI_BACKEND_URL: undefined },
      ["dev"],
      "error: PULUMI_BACKEND_URL is not set: CI jobs need the shared state backend the stacks live in (s3://…, azblob://…, gs://…, https://api.pulumi.com); the local file backend would be empty in every job\n",
    ],
    [
      "outside a merge request pipeline",
      { CI_MERGE_REQUEST_IID: undefined },
      ["dev"],
      "error: CI_MERGE_REQUEST_IID is not set: previews run in merge request pipelines\n",
    ],
    ["for a stack without a config file", {}, ["qa"], "error: no Pulumi.qa.yaml in "],
  ])("%s", async (_, extra, argv, message) => {
    const io = job.io(env(extra));
    expect(await main(argv, io)).toBe(1);
    expect(io.err.join("")).toContain(message);
    expect(io.err.join("").startsWith(message)).toBe(true);
    expect(job.calls()).toEqual([]);
    expect(notes()).toEqual([]);
  });

  test("without Pulumi on PATH", async () => {
    const io = job.io(env());
    const noPulumi = { ...io, env: { ...io.env, PATH: path.join(job.dir, "empty") } };
    expect(await main(["dev"], noPulumi)).toBe(1);
    expect(io.err.join("")).toBe(
      "error: the Pulumi CLI was not found on PATH (the pipeline's image pulumi/pulumi-nodejs-22 has it)\n",
    );
  });
});

test("`npm run ci:preview` runs the script through ts-node and exits 1 on a missing token", () => {
  const { spawnSync } = jest.requireActual<typeof import("child_process")>("child_process");
  const result = spawnSync(
    process.execPath,
    [require.resolve("ts-node/dist/bin.js"), "--transpile-only", "scripts/ci/preview.ts", "dev"],
    {
      cwd: REPO_ROOT,
      env: { PATH: path.dirname(process.execPath), ...mergeRequestEnv(fake.url) },
      encoding: "utf8",
    },
  );
  expect(result.stderr).toBe(
    "error: PIPELINE_GITLAB_TOKEN is not set: add a project access token (role Reporter, scope api) as a masked CI/CD variable of that name. CI_JOB_TOKEN cannot post notes or write issues.\n",
  );
  expect(result.status).toBe(1);
});
