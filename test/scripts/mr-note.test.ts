import { DEFAULT_CLIENT_SETTINGS } from "../../components/gitlab/client";
import { summarize } from "../../scripts/ci/digest";
import {
  PipelineEnvError,
  pipelineApi,
  pipelineConnection,
  upsertMergeRequestNote,
} from "../../scripts/ci/gitlab";
import { GITLAB_TEXT_LIMIT, previewMarker, renderPreviewNote } from "../../scripts/ci/markdown";
import { FakeGitLab, startFakeGitLab } from "../gitlab/fake-gitlab";
import { seedMergeRequest, seedNote } from "../gitlab/fake-gitlab-mr";
import { FAST, rejection } from "../gitlab/harness";

let fake: FakeGitLab;
const NOTES = "42:merge_requests:7";

beforeEach(async () => {
  fake = await startFakeGitLab({
    tokens: { "glpat-pipeline-bot-0001": ["api"], "glpat-read-only-0001": ["read_api"] },
  });
  seedMergeRequest(fake.state, 42, 7);
});
afterEach(async () => {
  await fake.close();
});

function api(token = "glpat-pipeline-bot-0001") {
  return pipelineApi({ host: fake.url, token }, 'Preview note "dev"', {
    ...DEFAULT_CLIENT_SETTINGS,
    ...FAST,
  });
}

const dev = previewMarker("dev");
const notes = () => fake.state.notes.get(NOTES) ?? [];

describe("one note per stack, updated in place", () => {
  test("the first preview creates the note, later ones edit that same note", async () => {
    expect(await upsertMergeRequestNote(api(), 42, 7, dev, `${dev}\nfirst`)).toEqual({
      action: "created",
      noteId: notes()[0]?.id,
    });
    const id = notes()[0]?.id;
    expect(await upsertMergeRequestNote(api(), 42, 7, dev, `${dev}\nsecond`)).toEqual({
      action: "updated",
      noteId: id,
    });
    expect(await upsertMergeRequestNote(api(), "platform/app", 7, dev, `${dev}\nthird`)).toEqual({
      action: "updated",
      noteId: id,
    });
    expect(notes().map((n) => n.body)).toEqual([`${dev}\nthird`]);
    expect(fake.requests("POST", /\/notes$/)).toHaveLength(1);
    expect(fake.requests("PUT", /\/notes\/\d+$/)).toHaveLength(2);
  });

  test("other notes stay untouched: reviewers', other stacks', and a copied marker", async () => {
    const review = seedNote(fake.state, NOTES, "Looks good, but check the runner.");
    const copied = seedNote(fake.state, NOTES, `${dev}\nquoted by a reviewer`);
    await upsertMergeRequestNote(api(), 42, 7, previewMarker("staging"), "staging note");
    const before = JSON.stringify([review, copied]);

    expect((await upsertMergeRequestNote(api(), 42, 7, dev, `${dev}\nours`)).action).toBe(
      "created",
    );
    expect((await upsertMergeRequestNote(api(), 42, 7, dev, `${dev}\nours again`)).action).toBe(
      "updated",
    );
    expect(JSON.stringify([review, copied])).toBe(before);
    expect(notes().map((n) => n.body)).toEqual([
      "Looks good, but check the runner.",
      `${dev}\nquoted by a reviewer`,
      "staging note",
      `${dev}\nours again`,
    ]);
  });

  test("a note mentioning the marker later in its body is not ours", async () => {
    await upsertMergeRequestNote(api(), 42, 7, dev, `intro\n${dev}`);
    expect((await upsertMergeRequestNote(api(), 42, 7, dev, `${dev}\nreal`)).action).toBe(
      "created",
    );
  });

  test("the note is found on the third page of notes, oldest first", async () => {
    for (let i = 0; i < 230; i += 1) {
      seedNote(fake.state, NOTES, `comment ${i}`);
    }
    await upsertMergeRequestNote(api(), 42, 7, dev, `${dev}\nfirst`);
    fake.log.length = 0;

    expect((await upsertMergeRequestNote(api(), 42, 7, dev, `${dev}\nsecond`)).action).toBe(
      "updated",
    );
    expect(fake.requests("GET", /\/notes$/).map((r) => r.query)).toEqual(
      [1, 2, 3].map((page) => ({
        page: String(page),
        per_page: "100",
        sort: "asc",
        order_by: "created_at",
      })),
    );
    expect(notes().filter((n) => String(n.body).startsWith(dev))).toHaveLength(1);
    expect(notes()).toHaveLength(231);
  });

  test("a note of 1,000,000 characters is accepted, one more is refused with GitLab's message", async () => {
    const exact = `${dev}\n${"x".repeat(GITLAB_TEXT_LIMIT - dev.length - 1)}`;
    expect((await upsertMergeRequestNote(api(), 42, 7, dev, exact)).action).toBe("created");
    expect(await rejection(upsertMergeRequestNote(api(), 42, 7, dev, `${exact}x`))).toMatch(
      /^Preview note "dev": PUT \/projects\/42\/merge_requests\/7\/notes\/\d+ failed with HTTP 400: 400 Bad request - Note \{:note=>\["is too long \(maximum is 1000000 characters\)"\]\}$/,
    );
  });

  test("a rendered note of a preview far over the limit is accepted as it is", async () => {
    const steps = Array.from({ length: 800 }, (_, i) => ({
      op: "create",
      urn: `urn:pulumi:dev::platform::kubernetes:core/v1:ConfigMap::c${i}`,
      newState: { inputs: { data: { blob: "y".repeat(2_000) } } },
    }));
    const body = renderPreviewNote("dev", { ok: true, summary: summarize({ steps }) }, {});
    expect(body.length).toBeLessThanOrEqual(GITLAB_TEXT_LIMIT);
    expect((await upsertMergeRequestNote(api(), 42, 7, dev, body)).action).toBe("created");
    expect(notes()[0]?.body).toBe(body);
  });
});

describe("failures name the request, the status and GitLab's message", () => {
  test("an unknown merge request", async () => {
    expect(await rejection(upsertMergeRequestNote(api(), 42, 99, dev, "x"))).toBe(
      'Preview note "dev": GET /projects/42/merge_requests/99/notes?page=1&per_page=100&sort=asc&order_by=created_at failed with HTTP 404: 404 MergeRequest Not Found',
    );
  });

  test("a revoked token: the pipeline's variable is named, not the program's", async () => {
    expect(await rejection(upsertMergeRequestNote(api("glpat-revoked"), 42, 7, dev, "x"))).toBe(
      'Preview note "dev": GET /user failed with HTTP 401: 401 Unauthorized (PIPELINE_GITLAB_TOKEN is missing, expired or revoked)',
    );
  });

  test("a token that may only read (like CI_JOB_TOKEN) cannot post", async () => {
    expect(
      await rejection(upsertMergeRequestNote(api("glpat-read-only-0001"), 42, 7, dev, "x")),
    ).toBe(
      'Preview note "dev": POST /projects/42/merge_requests/7/notes failed with HTTP 403: insufficient_scope: The request requires higher privileges than provided by the access token. (PIPELINE_GITLAB_TOKEN needs the api scope and at least the Reporter role in the project)',
    );
    expect(notes()).toEqual([]);
  });

  test("a GitLab hiccup (502) on reading notes is retried", async () => {
    fake.faults.push({ method: "GET", path: /\/notes$/, status: 502, times: 2 });
    expect((await upsertMergeRequestNote(api(), 42, 7, dev, `${dev}\nx`)).action).toBe("created");
    expect(fake.requests("GET", /\/notes$/)).toHaveLength(3);
  });
});

describe("the pipeline's connection", () => {
  test("instance from CI_API_V4_URL, token from PIPELINE_GITLAB_TOKEN", () => {
    expect(
      pipelineConnection({
        CI_API_V4_URL: "https://gitlab.example.com/api/v4",
        PIPELINE_GITLAB_TOKEN: " glpat-x ",
        GITLAB_TOKEN: "glpat-the-programs",
      }),
    ).toEqual({ host: "https://gitlab.example.com", token: "glpat-x" });
  });

  test.each<[Record<string, string>, string]>([
    [
      { PIPELINE_GITLAB_TOKEN: "glpat-x" },
      "CI_API_V4_URL is not set: this command runs in a GitLab CI/CD job (or set CI_API_V4_URL to the instance's API URL)",
    ],
    [
      { CI_API_V4_URL: "https://gitlab.example.com/api/v4", CI_JOB_TOKEN: "job-token-value" },
      "PIPELINE_GITLAB_TOKEN is not set: add a project access token (role Reporter, scope api) as a masked CI/CD variable of that name. CI_JOB_TOKEN cannot post notes or write issues.",
    ],
  ])("refuses %j", (env, message) => {
    expect(() => pipelineConnection(env)).toThrow(PipelineEnvError);
    expect(() => pipelineConnection(env)).toThrow(message);
  });
});
