import { DEFAULT_CLIENT_SETTINGS } from "../../components/gitlab/client";
import {
  DRIFT_LABEL,
  DriftState,
  driftTitle,
  pipelineApi,
  syncDriftIssue,
} from "../../scripts/ci/gitlab";
import { GITLAB_TEXT_LIMIT, driftMarker } from "../../scripts/ci/markdown";
import { FakeGitLab, startFakeGitLab } from "../gitlab/fake-gitlab";
import { Json } from "../gitlab/fake-gitlab-model";
import { FAST, rejection } from "../gitlab/harness";

let fake: FakeGitLab;
beforeEach(async () => {
  fake = await startFakeGitLab({ tokens: { "glpat-pipeline-bot-0001": ["api"] } });
});
afterEach(async () => {
  await fake.close();
});

const api = () =>
  pipelineApi({ host: fake.url, token: "glpat-pipeline-bot-0001" }, 'Drift issue "production"', {
    ...DEFAULT_CLIENT_SETTINGS,
    ...FAST,
  });
const marker = driftMarker("production");
const drifted = (text: string): DriftState => ({
  drifted: true,
  description: `${marker}\n${text}`,
});
const clean: DriftState = { drifted: false, comment: "No drift any more. Closing." };
const sync = (state: DriftState) => syncDriftIssue(api(), 42, "production", marker, state);
const issues = () => [...fake.state.issues.values()];

/** An issue someone else opened. */
function seedIssue(fields: Json): Json {
  const iid = issues().length + 1;
  const issue: Json = {
    id: 900 + iid,
    iid,
    project_id: 42,
    title: "other",
    description: "",
    state: "opened",
    labels: [],
    author: { id: 1 },
    created_at: `2024-01-01T00:00:${String(iid % 60).padStart(2, "0")}Z`,
    updated_at: "2024-01-01T00:00:00Z",
    web_url: `http://fake/issues/${iid}`,
    ...fields,
  };
  fake.state.issues.set(`42:${iid}`, issue);
  return issue;
}

describe("one drift issue per stack", () => {
  test("drift opens an issue, more drift updates it, no drift closes it with a comment", async () => {
    expect(await sync(drifted("one"))).toEqual({
      action: "opened",
      iid: 1,
      webUrl: "http://fake/projects/42/-/issues/1",
    });
    expect(issues()).toEqual([
      expect.objectContaining({
        iid: 1,
        title: driftTitle("production"),
        description: `${marker}\none`,
        labels: [DRIFT_LABEL],
        state: "opened",
      }),
    ]);

    expect((await sync(drifted("two"))).action).toBe("updated");
    expect(issues().map((i) => [i.iid, i.description, i.state])).toEqual([
      [1, `${marker}\ntwo`, "opened"],
    ]);

    expect(await sync(clean)).toEqual({
      action: "closed",
      iid: 1,
      webUrl: "http://fake/projects/42/-/issues/1",
    });
    expect(issues().map((i) => [i.iid, i.state])).toEqual([[1, "closed"]]);
    expect(fake.state.notes.get("42:issues:1")?.map((n) => n.body)).toEqual([
      "No drift any more. Closing.",
    ]);
  });

  test("no drift and no issue: nothing is written", async () => {
    expect(await sync(clean)).toEqual({ action: "none" });
    expect(fake.log.filter((r) => r.method !== "GET")).toEqual([]);
    expect(fake.requests("GET", /\/issues$/).map((r) => r.query)).toEqual([
      {
        labels: DRIFT_LABEL,
        state: "opened",
        order_by: "created_at",
        sort: "asc",
        page: "1",
        per_page: "100",
      },
    ]);
  });

  test("drift after the issue was closed opens a new one; the old one stays closed", async () => {
    await sync(drifted("first episode"));
    await sync(clean);
    expect((await sync(drifted("second episode"))).action).toBe("opened");
    expect(issues().map((i) => [i.iid, i.state, i.description])).toEqual([
      [1, "closed", `${marker}\nfirst episode`],
      [2, "opened", `${marker}\nsecond episode`],
    ]);
  });

  test("other issues are left alone: other stacks, and the marker without the label", async () => {
    const staging = seedIssue({
      labels: [DRIFT_LABEL],
      description: `${driftMarker("staging")}\nstaging drift`,
    });
    const unlabelled = seedIssue({ description: `${marker}\ncopied by hand` });
    const before = JSON.stringify([staging, unlabelled]);
    expect((await sync(drifted("ours"))).action).toBe("opened");
    await sync(clean);
    expect(JSON.stringify([staging, unlabelled])).toBe(before);
    expect(issues().map((i) => [i.iid, i.state])).toEqual([
      [1, "opened"],
      [2, "opened"],
      [3, "closed"],
    ]);
  });

  test("the stack's issue is found on the second page of drift issues", async () => {
    for (let i = 0; i < 120; i += 1) {
      seedIssue({
        labels: [DRIFT_LABEL],
        description: `${driftMarker(`review-${i}`)}\nx`,
      });
    }
    await sync(drifted("ours"));
    fake.log.length = 0;
    expect(await sync(drifted("again"))).toEqual({
      action: "updated",
      iid: 121,
      webUrl: "http://fake/projects/42/-/issues/121",
    });
    expect(fake.requests("GET", /\/issues$/).map((r) => r.query.page)).toEqual(["1", "2"]);
    expect(fake.requests("POST", /\/issues$/)).toEqual([]);
  });
});

describe("failures name the request, the status and GitLab's message", () => {
  test("a description over GitLab's limit", async () => {
    const state = drifted("x".repeat(GITLAB_TEXT_LIMIT));
    expect(await rejection(sync(state))).toBe(
      'Drift issue "production": POST /projects/42/issues failed with HTTP 400: {"description":["is too long (maximum is 1000000 characters)"]}',
    );
  });

  test("an unknown project", async () => {
    expect(await rejection(syncDriftIssue(api(), 404, "production", marker, clean))).toBe(
      'Drift issue "production": GET /projects/404/issues?labels=pulumi-drift&state=opened&order_by=created_at&sort=asc&page=1&per_page=100 failed with HTTP 404: 404 Project Not Found',
    );
  });
});
