// The adoption helpers of components/gitlab/resource.ts: which GitLab answers mean "the name is
// taken", and the error when adoption was not asked for; and what every provider hands the engine.
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { Api, GitLabApiError } from "../../components/gitlab/client";
import {
  ADOPTABLE_KINDS,
  BaseInputs,
  createOrAdopt,
  defineProvider,
  forEngine,
  isTaken,
} from "../../components/gitlab/resource";
import { rejection, stackConfig } from "./harness";

const answer = (status: number, gitlabMessage: string) =>
  new GitLabApiError(`POST /x failed with HTTP ${status}: ${gitlabMessage}`, status, gitlabMessage);

describe("isTaken", () => {
  test.each([
    [400, '{"key":["(DEPLOY_KEY) has already been taken"]}', "variables"],
    [400, '{"name":["has already been taken"]}', "environments, protected environments"],
    [409, "Protected branch 'main' already exists", "protected branches"],
    [409, "Protected tag 'v*' already exists", "protected tags, older GitLab"],
    [422, '["Name has already been taken"]', "protected tags"],
    [422, '["Tag name pattern has already been taken"]', "container tag protection rules"],
  ])("HTTP %i %s is taken (%s)", (status, message) => {
    expect(isTaken(answer(status, message))).toBe(true);
  });

  test.each([
    [400, "name is missing"],
    [404, "404 Project Not Found"],
    [409, "409 Conflict: Resource lock"],
    [422, '["Push access levels access level has already been taken"]'],
    [422, "Maximum number of protection rules have been reached."],
    [500, "has already been taken"],
  ])("HTTP %i %s is not", (status, message) => {
    expect(isTaken(answer(status, message))).toBe(false);
  });

  test("errors that are not GitLab's answers are not", () => {
    expect(isTaken(new Error("has already been taken"))).toBe(false);
    expect(isTaken(new GitLabApiError("timed out", undefined, ""))).toBe(false);
  });
});

describe("createOrAdopt", () => {
  const api = { label: 'BranchProtection "main"' } as Api;

  test("names GitLab's status and message, the object and both ways out; nothing is taken over", async () => {
    const takeOver = jest.fn();
    const message = await rejection(
      createOrAdopt({
        api,
        adopt: undefined,
        kind: "protectedBranches",
        what: 'protection of branch "main" of project "42"',
        create: () => Promise.reject(answer(409, "Protected branch 'main' already exists")),
        takeOver,
      }),
    );
    expect(message).toBe(
      'BranchProtection "main": protection of branch "main" of project "42" already exists and ' +
        "this stack did not create it (GitLab answered HTTP 409: Protected branch 'main' already " +
        "exists). Either adopt it: set adoptExisting on the resource (in this platform's stack " +
        'config, add "protectedBranches" to platform:gitlab.adoptExisting); the stack then ' +
        "overwrites its settings and deletes it on destroy, as if it had created it. Or delete it " +
        "in GitLab, then run again.",
    );
    expect(takeOver).not.toHaveBeenCalled();
  });

  test("takes over only when asked, and passes other failures through", async () => {
    const taken = () => Promise.reject(answer(422, '["Name has already been taken"]'));
    const adopted = await createOrAdopt({
      api,
      adopt: true,
      kind: "protectedTags",
      what: "x",
      create: taken,
      takeOver: () => Promise.resolve("adopted"),
    });
    expect(adopted).toBe("adopted");
    const other = answer(422, '["Name can\'t be blank"]');
    await expect(
      createOrAdopt({
        api,
        adopt: true,
        kind: "protectedTags",
        what: "x",
        create: () => Promise.reject(other),
        takeOver: () => Promise.resolve("adopted"),
      }),
    ).rejects.toBe(other);
  });

  test("the kinds a stack may adopt", () => {
    expect(ADOPTABLE_KINDS).toEqual([
      "environments",
      "variables",
      "protectedBranches",
      "protectedTags",
      "protectedContainerTags",
      "codeOwners",
    ]);
  });
});

describe("what a provider hands the engine", () => {
  // The dynamic provider process sends every result through protobuf's Struct.fromJavaScript,
  // which throws "Unexpected struct type" on undefined: the real engine failed every preview of
  // a stack with a resource whose normalized inputs or outputs left an optional field undefined.
  const toEngine = (value: unknown) =>
    Struct.fromJavaScript(value as Record<string, never>).toJavaScript();

  interface Thing extends BaseInputs {
    readonly name: string;
    readonly note?: string;
    readonly tags?: readonly (string | undefined)[];
    readonly nested?: { readonly a?: number; readonly b: number };
  }
  const provider = defineProvider<Thing, Thing>({
    type: "Thing",
    validate: () => [],
    normalize: (i) => ({ ...i, note: undefined, nested: { a: undefined, b: 1 } }),
    replaceOn: ["name"],
    updatable: ["note"],
    create: async (_api, i) => ({ id: "1", outs: { ...i, tags: ["x", undefined] } }),
    read: async (_api, _id, props) => ({ ...props, name: "n", note: undefined }) as Thing,
    update: async (_api, _id, _olds, news) => ({ ...news, note: undefined }),
    delete: async () => undefined,
  });

  beforeAll(async () => {
    await provider.configure?.(stackConfig({ "gitlab:token": "glpat-unused" }));
  });

  test("check, create, read and update results carry no undefined at any depth", async () => {
    const checked = await provider.check?.({}, { resourceName: "t", name: "n" });
    expect(toEngine(checked?.inputs)).toEqual({ resourceName: "t", name: "n", nested: { b: 1 } });
    const created = await provider.create({ resourceName: "t", name: "n" });
    expect(toEngine(created.outs)).toEqual({ resourceName: "t", name: "n", tags: ["x", null] });
    const read = await provider.read?.("1", { resourceName: "t", name: "n" });
    expect(toEngine(read?.props)).toEqual({ resourceName: "t", name: "n" });
    const imported = await provider.read?.("1", {});
    expect(toEngine(imported?.props)).toEqual({ name: "n" });
    expect(toEngine(imported?.inputs)).toEqual({ name: "n" });
    const updated = await provider.update?.("1", {}, { resourceName: "t", name: "n" });
    expect(toEngine(updated?.outs)).toEqual({ resourceName: "t", name: "n" });
  });

  test.each([
    [
      "drops undefined keys, keeps null, at any depth",
      { a: undefined, b: null, c: [undefined, 1], d: { e: undefined } },
      { b: null, c: [null, 1], d: {} },
    ],
    ["turns undefined array entries into null", [undefined, { x: undefined }], [null, {}]],
    ["keeps scalars", "s", "s"],
  ])("forEngine %s", (_what, value, expected) => {
    expect(forEngine(value)).toStrictEqual(expected);
  });
});
