import { Agents } from "@gitbeaker/rest";
import * as pulumi from "@pulumi/pulumi";
import { ClientSettings } from "./client";
import {
  BaseInputs,
  Failure,
  defineProvider,
  failures,
  ifKnown,
  required,
  splitId,
  GitLabResource,
} from "./resource";

const TYPE = "ClusterAgentToken";

interface AgentTokenInputs extends BaseInputs {
  readonly project: string;
  readonly agentId: number;
  readonly name: string;
  readonly description?: string;
}

interface AgentTokenOutputs extends AgentTokenInputs {
  readonly token?: string;
  readonly tokenId: number;
  readonly status: string;
  readonly createdAt: string;
  readonly createdByUserId: number;
}

interface AgentTokenSchema {
  readonly id: number;
  readonly agent_id: number;
  readonly name: string;
  readonly description: string | null;
  readonly status: string;
  readonly created_at: string;
  readonly created_by_user_id: number;
  readonly token?: string;
}

function validateAgentToken(i: Record<string, unknown>): Failure[] {
  return failures(
    ["project", required(i.project)],
    [
      "agentId",
      required(i.agentId) ??
        ifKnown<number>(i.agentId, (id) =>
          Number.isInteger(id) && id > 0 ? undefined : `expected a positive agent id, got ${id}`,
        ),
    ],
    [
      "name",
      required(i.name) ??
        ifKnown<string>(i.name, (n) =>
          n.length >= 1 && n.length <= 255 ? undefined : "expected 1 to 255 characters",
        ),
    ],
  );
}

const fromApi = (project: string, t: AgentTokenSchema): AgentTokenOutputs => ({
  project,
  agentId: t.agent_id,
  name: t.name,
  description: t.description ?? undefined,
  tokenId: t.id,
  status: t.status,
  createdAt: t.created_at,
  createdByUserId: t.created_by_user_id,
});

/** A provider for {@link ClusterAgentToken} with other retry and timeout settings. */
export function createClusterAgentTokenProvider(overrides?: Partial<ClientSettings>) {
  return defineProvider<AgentTokenInputs, AgentTokenOutputs>(
    {
      type: TYPE,
      validate: validateAgentToken,
      normalize: (i) => ({ ...i, project: String(i.project) }),
      // Tokens cannot be edited. The replacement is created before the old token is revoked,
      // which needs a free slot: GitLab allows two active tokens per agent.
      replaceOn: ["project", "agentId", "name", "description"],
      updatable: [],
      create: async (api, i) => {
        // gitbeaker 43.8.0's Agents.createToken sends a GET (and lists tokens); the endpoint is
        // a POST, so it goes through the same client's requester.
        const path = `projects/${encodeURIComponent(i.project)}/cluster_agents/${i.agentId}/tokens`;
        const response = await api
          .use(Agents)
          .requester.post(path, { body: { name: i.name, description: i.description } });
        const created = response.body as unknown as AgentTokenSchema;
        return {
          id: `${i.project}:${i.agentId}:${created.id}`,
          outs: { ...i, ...fromApi(i.project, created), token: created.token },
        };
      },
      read: async (api, id, props) => {
        const [project = "", agentId = "", tokenId = ""] = splitId(
          id,
          3,
          "<project>:<agent_id>:<token_id>",
        );
        const live = (await api
          .use(Agents)
          .showToken(project, Number(agentId), Number(tokenId))) as unknown as AgentTokenSchema;
        return live.status === "revoked"
          ? undefined
          : { ...fromApi(project, live), token: props.token };
      },
      delete: async (api, _id, props) => {
        await api.use(Agents).removeToken(props.project, props.agentId, props.tokenId);
      },
    },
    overrides,
  );
}

/** The dynamic provider {@link ClusterAgentToken} registers with. */
export const ClusterAgentTokenProvider = createClusterAgentTokenProvider();

/** Arguments of {@link ClusterAgentToken}; the names of @pulumi/gitlab's `ClusterAgentTokenArgs`. */
export interface ClusterAgentTokenArgs {
  /** The agent's project (id or full path). */
  readonly project: pulumi.Input<string>;
  /** The agent's id (`ClusterAgent.agentId`). */
  readonly agentId: pulumi.Input<number>;
  /** The token's name. */
  readonly name: pulumi.Input<string>;
  /** A description. Default none. */
  readonly description?: pulumi.Input<string>;
}

/**
 * A token for a GitLab agent for Kubernetes
 * (`/projects/:id/cluster_agents/:agent_id/tokens`), type token
 * `pulumi-nodejs:dynamic/gitlab:ClusterAgentToken`, id `<project>:<agent_id>:<token_id>` (the
 * import id of @pulumi/gitlab). `token` is secret, known only for tokens created here; deleting
 * revokes it; any change replaces it.
 */
export class ClusterAgentToken extends GitLabResource {
  declare public readonly project: pulumi.Output<string>;
  declare public readonly agentId: pulumi.Output<number>;
  declare public readonly name: pulumi.Output<string>;
  declare public readonly description: pulumi.Output<string | undefined>;
  /** The agent token (secret), for the agent's Helm release. */
  declare public readonly token: pulumi.Output<string>;
  /** GitLab's id of the token. */
  declare public readonly tokenId: pulumi.Output<number>;
  /** `active` or `revoked`. */
  declare public readonly status: pulumi.Output<string>;
  declare public readonly createdAt: pulumi.Output<string>;
  declare public readonly createdByUserId: pulumi.Output<number>;

  constructor(name: string, args: ClusterAgentTokenArgs, opts?: pulumi.CustomResourceOptions) {
    const props = {
      project: args.project,
      agentId: args.agentId,
      name: args.name,
      description: args.description,
      token: undefined,
      tokenId: undefined,
      status: undefined,
      createdAt: undefined,
      createdByUserId: undefined,
    };
    super(
      {
        type: TYPE,
        provider: ClusterAgentTokenProvider,
        validate: validateAgentToken,
        secretOutputs: ["token"],
      },
      name,
      args,
      props,
      opts,
    );
  }
}
