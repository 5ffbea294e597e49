import { createClusterAgentProvider } from "../../components/gitlab/cluster-agent";
import { createClusterAgentTokenProvider } from "../../components/gitlab/cluster-agent-token";
import { FakeGitLab, startFakeGitLab } from "./fake-gitlab";
import { FAST, checked, configured, createChecked, rejection } from "./harness";

let fake: FakeGitLab;
beforeEach(async () => {
  fake = await startFakeGitLab();
});
afterEach(async () => {
  await fake.close();
});

const agents = () => configured(createClusterAgentProvider(FAST), fake);
const tokens = () => configured(createClusterAgentTokenProvider(FAST), fake);

describe("ClusterAgent", () => {
  test("registers an agent, reads it, imports it by <project>:<agent_id> and unregisters it", async () => {
    const p = await agents();
    const created = await createChecked(p, {
      resourceName: "prod",
      project: "platform/app",
      name: "prod",
    });
    const agentId = created.outs.agentId as number;
    const outs = {
      resourceName: "prod",
      project: "platform/app",
      name: "prod",
      agentId,
      createdAt: "2025-01-01T00:00:00.000Z",
      createdByUserId: 1,
    };
    expect(created).toEqual({ id: `platform/app:${agentId}`, outs });
    expect(await p.read?.(created.id, created.outs)).toEqual({ id: created.id, props: outs });
    const imported = await p.read?.(`42:${agentId}`, {});
    expect(imported?.props).toEqual({ ...outs, project: "42", resourceName: undefined });

    await p.delete?.(created.id, created.outs);
    expect(fake.state.agents.size).toBe(0);
    await expect(p.delete?.(created.id, created.outs)).resolves.toBeUndefined();
    expect(await p.read?.(created.id, created.outs)).toEqual({});
  });

  test("a new name replaces it alongside; the same name in a new project reference deletes first", async () => {
    const p = await agents();
    const olds = await checked(p, { project: "42", name: "prod" });
    expect(await p.diff?.("id", olds, await checked(p, { project: "42", name: "prod-2" }))).toEqual(
      {
        changes: true,
        replaces: ["name"],
        deleteBeforeReplace: false,
      },
    );
    expect(
      await p.diff?.("id", olds, await checked(p, { project: "platform/app", name: "prod" })),
    ).toEqual({ changes: true, replaces: ["project"], deleteBeforeReplace: true });
  });

  test("check rejects a name that is not a DNS label, without a request", async () => {
    const p = await agents();
    const result = await p.check?.({}, { resourceName: "prod", project: "42", name: "Prod_Agent" });
    expect(result?.failures).toEqual([
      {
        property: "name",
        reason:
          "ClusterAgent \"prod\": name: expected lowercase letters, digits and '-', starting and " +
          'ending with a letter or digit, at most 63 characters, got "Prod_Agent"',
      },
    ]);
    expect(fake.log).toEqual([]);
  });

  test("retries a 502 on register and registers once", async () => {
    const p = await agents();
    fake.faults.push({ method: "POST", status: 502 });
    await createChecked(p, { project: "42", name: "prod" });
    expect(fake.requests("POST", /cluster_agents$/)).toHaveLength(2);
    expect(fake.state.agents.size).toBe(1);
  });
});

describe("ClusterAgentToken", () => {
  const agent = async () =>
    (await createChecked(await agents(), { project: "42", name: "prod" })).outs.agentId as number;

  test("creates a token shown once, reads it without the secret and revokes it", async () => {
    const agentId = await agent();
    const p = await tokens();
    const created = await createChecked(p, {
      resourceName: "prod-token",
      project: "42",
      agentId,
      name: "prod",
      description: "for the prod cluster",
    });
    const tokenId = created.outs.tokenId as number;
    expect(created.id).toBe(`42:${agentId}:${tokenId}`);
    expect(created.outs).toEqual({
      resourceName: "prod-token",
      project: "42",
      agentId,
      name: "prod",
      description: "for the prod cluster",
      token: expect.stringMatching(/^glagent-[0-9a-f]{32}$/),
      tokenId,
      status: "active",
      createdAt: "2025-01-01T00:00:00.000Z",
      createdByUserId: 1,
    });
    expect(await p.read?.(created.id, created.outs)).toEqual({
      id: created.id,
      props: created.outs,
    });
    expect((await p.read?.(created.id, {}))?.props?.token).toBeUndefined();

    await p.delete?.(created.id, created.outs);
    expect(fake.state.agentTokens.get(tokenId)?.status).toBe("revoked");
    expect(await p.read?.(created.id, created.outs)).toEqual({});
    await expect(p.delete?.(created.id, created.outs)).resolves.toBeUndefined();
  });

  test("any change replaces the token, the new one first", async () => {
    const p = await tokens();
    const olds = await checked(p, { project: "42", agentId: 5, name: "prod" });
    expect(
      await p.diff?.(
        "id",
        olds,
        await checked(p, { project: "42", agentId: 5, name: "prod", description: "d" }),
      ),
    ).toEqual({ changes: true, replaces: ["description"], deleteBeforeReplace: false });
  });

  test("GitLab's two-active-tokens limit surfaces with the resource name", async () => {
    const agentId = await agent();
    const p = await tokens();
    const args = { resourceName: "third", project: "42", agentId, name: "t" };
    await createChecked(p, args);
    await createChecked(p, args);
    expect(await rejection(createChecked(p, args))).toBe(
      `ClusterAgentToken "third": POST /projects/42/cluster_agents/${agentId}/tokens failed with HTTP 400: ` +
        "An agent can have only two active tokens at a time",
    );
  });

  test("check rejects a missing agent id and an empty name, without a request", async () => {
    const p = await tokens();
    const result = await p.check?.({}, { resourceName: "t", project: "42", name: "" });
    expect(result?.failures).toEqual([
      { property: "agentId", reason: 'ClusterAgentToken "t": agentId: is required' },
      { property: "name", reason: 'ClusterAgentToken "t": name: expected 1 to 255 characters' },
    ]);
    expect(fake.log).toEqual([]);
  });
});
