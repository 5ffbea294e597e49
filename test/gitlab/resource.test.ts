// The adoption helpers of components/gitlab/resource.ts: which GitLab answers mean "the name is
// taken", and the error when adoption was not asked for.
import { Api, GitLabApiError } from "../../components/gitlab/client";
import { ADOPTABLE_KINDS, createOrAdopt, isTaken } from "../../components/gitlab/resource";
import { rejection } from "./harness";

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
    ]);
  });
});
