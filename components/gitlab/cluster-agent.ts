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

const TYPE = "ClusterAgent";

/** GitLab's agent name rule: a DNS label (lowercase letters, digits, `-`), at most 63. */
export function validateClusterAgentName(name: string): string | undefined {
  return typeof name === "string" &&
    name.length <= 63 &&
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)
    ? undefined
    : "expected lowercase letters, digits and '-', starting and ending with a letter or digit, " +
        `at most 63 characters, got ${JSON.stringify(name)}`;
}

interface AgentInputs extends BaseInputs {
  readonly project: string;
  readonly name: string;
}

interface AgentOutputs extends AgentInputs {
  readonly agentId: number;
  readonly createdAt: string;
  readonly createdByUserId: number;
}

interface AgentSchema {
  readonly id: number;
  readonly name: string;
  readonly created_at: string;
  readonly created_by_user_id: number;
}

function validateAgent(i: Record<string, unknown>): Failure[] {
  return failures(
    ["project", required(i.project)],
    ["name", required(i.name) ?? ifKnown(i.name, validateClusterAgentName)],
  );
}

const fromApi = (project: string, a: AgentSchema): AgentOutputs => ({
  project,
  name: a.name,
  agentId: a.id,
  createdAt: a.created_at,
  createdByUserId: a.created_by_user_id,
});

/** A provider for {@link ClusterAgent} with other retry and timeout settings. */
export function createClusterAgentProvider(overrides?: Partial<ClientSettings>) {
  return defineProvider<AgentInputs, AgentOutputs>(
    {
      type: TYPE,
      validate: validateAgent,
      normalize: (i) => ({ ...i, project: String(i.project) }),
      replaceOn: ["project", "name"],
      collidesIfSame: ["name"],
      updatable: [],
      create: async (api, i) => {
        const agent = (await api.use(Agents).register(i.project, i.name)) as unknown as AgentSchema;
        return { id: `${i.project}:${agent.id}`, outs: { ...i, ...fromApi(i.project, agent) } };
      },
      read: async (api, id) => {
        const [project = "", agentId = ""] = splitId(id, 2, "<project>:<agent_id>");
        const agent = (await api
          .use(Agents)
          .show(project, Number(agentId))) as unknown as AgentSchema;
        return fromApi(project, agent);
      },
      delete: async (api, _id, props) => {
        await api.use(Agents).unregister(props.project, props.agentId);
      },
    },
    overrides,
  );
}

/** The dynamic provider {@link ClusterAgent} registers with. */
export const ClusterAgentProvider = createClusterAgentProvider();

/** Arguments of {@link ClusterAgent}; the names of @pulumi/gitlab's `ClusterAgentArgs`. */
export interface ClusterAgentArgs {
  /** The agent's configuration project (id or full path). Changing it replaces the agent. */
  readonly project: pulumi.Input<string>;
  /** The agent's name, a DNS label; its config lives in `.gitlab/agents/<name>/config.yaml`. */
  readonly name: pulumi.Input<string>;
}

/**
 * A GitLab agent for Kubernetes registration (`/projects/:id/cluster_agents`), type token
 * `pulumi-nodejs:dynamic/gitlab:ClusterAgent`, id `<project>:<agent_id>` (the import id of
 * @pulumi/gitlab). It only registers the agent: commit its config with a RepositoryFile.
 */
export class ClusterAgent extends GitLabResource {
  declare public readonly project: pulumi.Output<string>;
  declare public readonly name: pulumi.Output<string>;
  /** GitLab's id of the agent; ClusterAgentToken and ProjectEnvironment take it. */
  declare public readonly agentId: pulumi.Output<number>;
  declare public readonly createdAt: pulumi.Output<string>;
  declare public readonly createdByUserId: pulumi.Output<number>;

  constructor(name: string, args: ClusterAgentArgs, opts?: pulumi.CustomResourceOptions) {
    const props = {
      project: args.project,
      name: args.name,
      agentId: undefined,
      createdAt: undefined,
      createdByUserId: undefined,
    };
    super(
      { type: TYPE, provider: ClusterAgentProvider, validate: validateAgent },
      name,
      args,
      props,
      opts,
    );
  }
}
