import * as pulumi from "@pulumi/pulumi";

/**
 * Recording mocks: every resource the program registers, with its inputs (secrets unwrapped, as
 * `setMocks` hands them over), the paths of its secret inputs, and the resource options that the
 * plain `Mocks` interface does not show (parent, dependencies, additionalSecretOutputs, …).
 */

/** Marker Pulumi uses in serialized properties for secret values. */
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const SPECIAL_SIG_KEY = "4dabf18193072939515e22adb298388d";

/** One registered resource as the engine saw it. */
export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly id: string | undefined;
  readonly custom: boolean;
  /** Inputs with secrets unwrapped; for dynamic resources without `__provider`. */
  readonly inputs: Record<string, unknown>;
  /** Dotted paths of the inputs sent as secrets (`data..dockerconfigjson`, `value`). */
  readonly secretInputs: readonly string[];
  readonly parent: string;
  readonly provider: string;
  readonly dependencies: readonly string[];
  readonly additionalSecretOutputs: readonly string[];
  readonly ignoreChanges: readonly string[];
  readonly replaceOnChanges: readonly string[];
  readonly deleteBeforeReplace: boolean;
  /** The `replacementTrigger` option's value; undefined when not set. */
  readonly replacementTrigger: unknown;
  readonly protect: boolean;
  /** For dynamic resources: the serialized provider's source text. */
  readonly serializedProvider: string | undefined;
}

/** Computes extra outputs a real provider would return for a resource type. */
export type OutputsFor = (args: pulumi.runtime.MockResourceArgs) => Record<string, unknown>;

/** Plausible provider outputs for the resource types the program uses. */
export const DEFAULT_OUTPUTS: Readonly<Record<string, OutputsFor>> = {
  "kubernetes:core/v1:Secret": (args) =>
    args.inputs.type === "kubernetes.io/service-account-token"
      ? {
          data: {
            token: Buffer.from(`sa-token-${args.name}`).toString("base64"),
            "ca.crt": Buffer.from(`ca-${args.name}`).toString("base64"),
            namespace: Buffer.from(String(args.inputs.metadata?.namespace ?? "")).toString(
              "base64",
            ),
          },
        }
      : {},
  // What GitLab returns on create for the dynamic GitLab resources (components/gitlab).
  "pulumi-nodejs:dynamic/gitlab:UserRunner": (args) => ({
    token: `glrt-mock-${args.name}`,
    runnerId: 101,
    tokenExpiresAt: undefined,
  }),
  "pulumi-nodejs:dynamic/gitlab:ClusterAgent": () => ({ agentId: 7 }),
  "pulumi-nodejs:dynamic/gitlab:ClusterAgentToken": (args) => ({
    token: `glagent-mock-${args.name}`,
    tokenId: 9,
  }),
  "pulumi-nodejs:dynamic/gitlab:ProjectDeployToken": (args) => ({
    token: `gldt-mock-${args.name}`,
    deployTokenId: 5,
    username: args.inputs.username ?? "gitlab+deploy-token-5",
  }),
  "pulumi-nodejs:dynamic/gitlab:GroupDeployToken": (args) => ({
    token: `gldt-mock-${args.name}`,
    deployTokenId: 6,
    username: args.inputs.username ?? "gitlab+deploy-token-6",
  }),
  "pulumi-nodejs:dynamic/gitlab:ProjectEnvironment": (args) => ({
    environmentId: 11,
    slug: String(args.inputs.name ?? "").replace(/[^a-z0-9]+/g, "-"),
  }),
};

/**
 * What the mocks answer for a new resource: its inputs plus the outputs a real provider would add,
 * and an id (a Kubernetes object's name, else `<name>-id`).
 */
export function mockResource(
  args: pulumi.runtime.MockResourceArgs,
  outputs: Readonly<Record<string, OutputsFor>> = DEFAULT_OUTPUTS,
): { id: string; state: Record<string, unknown> } {
  const extra = outputs[args.type]?.(args) ?? {};
  const dynamic = args.type.startsWith("pulumi-nodejs:dynamic");
  return {
    id: dynamic ? `${args.name}-id` : (args.inputs.metadata?.name ?? `${args.name}-id`),
    state: { ...args.inputs, ...extra },
  };
}

/** The options of a mocks run. */
export interface RecorderOptions {
  readonly outputs?: Readonly<Record<string, OutputsFor>>;
  /** Invokes the program may make, by token. Any other invoke fails the run. */
  readonly calls?: Readonly<
    Record<string, (args: pulumi.runtime.MockCallArgs) => Record<string, unknown>>
  >;
}

/** What a recorder collects while the program runs. */
export interface Recording {
  readonly resources: RecordedResource[];
  /** Tokens of invokes no mock answered (each also failed the invoke itself). */
  readonly unmockedCalls: string[];
}

/** Installs recording mocks for `project`/`stack`; returns the live recording. */
export async function installRecorder(
  project: string,
  stack: string,
  options: RecorderOptions = {},
): Promise<Recording> {
  const recorded: RecordedResource[] = [];
  const unmockedCalls: string[] = [];
  const outputs = { ...DEFAULT_OUTPUTS, ...options.outputs };
  const mocks: pulumi.runtime.Mocks = {
    newResource: (args) => mockResource(args, outputs),
    call(args) {
      const handler = options.calls?.[args.token];
      if (handler === undefined) {
        unmockedCalls.push(args.token);
        throw new Error(`unmocked invoke: ${args.token}`);
      }
      return handler(args);
    },
  };
  await pulumi.runtime.setMocks(mocks, project, stack, false);
  const monitor = (pulumi.runtime as unknown as { getMonitor(): MockMonitorLike }).getMonitor();
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) =>
    original(req, (err, response) => {
      if (!err && response !== undefined) {
        recorded.push(record(req, response));
      }
      callback(err, response);
    });
  return { resources: recorded, unmockedCalls };
}

interface MockMonitorLike {
  registerResource(
    req: RegisterRequest,
    callback: (err: unknown, response?: RegisterResponse) => void,
  ): Promise<void>;
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getProvider(): string;
  getProtect(): boolean;
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
  getDependenciesList(): string[];
  getAdditionalsecretoutputsList(): string[];
  getIgnorechangesList(): string[];
  getReplaceonchangesList(): string[];
  getDeletebeforereplace(): boolean;
  hasReplacementTrigger(): boolean;
  getReplacementTrigger(): { toJavaScript(): unknown } | undefined;
}

interface RegisterResponse {
  getUrn(): string;
  getId(): string;
}

function record(req: RegisterRequest, response: RegisterResponse): RecordedResource {
  const serialized = req.getObject()?.toJavaScript() ?? {};
  const secretInputs: string[] = [];
  const inputs = reveal(serialized, "", secretInputs) as Record<string, unknown>;
  const provider = inputs["__provider"];
  delete inputs["__provider"];
  return {
    type: req.getType(),
    name: req.getName(),
    urn: response.getUrn(),
    id: response.getId() || undefined,
    custom: req.getCustom(),
    inputs,
    secretInputs: secretInputs.filter((p) => p !== "__provider"),
    parent: req.getParent(),
    provider: req.getProvider(),
    dependencies: req.getDependenciesList(),
    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
    ignoreChanges: req.getIgnorechangesList(),
    replaceOnChanges: req.getReplaceonchangesList(),
    deleteBeforeReplace: req.getDeletebeforereplace(),
    replacementTrigger: req.hasReplacementTrigger()
      ? req.getReplacementTrigger()?.toJavaScript()
      : undefined,
    protect: req.getProtect(),
    serializedProvider: typeof provider === "string" ? provider : undefined,
  };
}

/** Strips Pulumi's serialization wrappers, collecting the paths of secret values. */
function reveal(value: unknown, path: string, secrets: string[]): unknown {
  if (Array.isArray(value)) {
    return value.map((v, i) => reveal(v, `${path}[${i}]`, secrets));
  }
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (obj[SPECIAL_SIG_KEY] === SECRET_SIG) {
      secrets.push(path);
      return reveal(obj["value"], path, []);
    }
    return Object.fromEntries(
      Object.entries(obj).map(([k, v]) => [
        k,
        reveal(v, path === "" ? k : `${path}.${k}`, secrets),
      ]),
    );
  }
  return value;
}

/** Resolves an Output (or plain value) to its value. */
export function unwrap<T>(value: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(value).apply((v) => resolve(v as T)));
}

/** Whether an Output is marked secret. */
export function isSecret(value: pulumi.Input<unknown>): Promise<boolean> {
  return pulumi.isSecret(pulumi.output(value));
}

/** Finders over a list of recorded resources. */
export class Resources {
  constructor(readonly all: readonly RecordedResource[]) {}

  /** The one resource of `type` named `name`; throws when there is none or several. */
  find(type: string, name: string): RecordedResource {
    const matches = this.all.filter((r) => r.type === type && r.name === name);
    if (matches.length !== 1) {
      const names = this.ofType(type).map((r) => r.name);
      throw new Error(
        `expected one ${type} named "${name}", found ${matches.length} (${type} names: ${names.join(", ") || "none"})`,
      );
    }
    return matches[0] as RecordedResource;
  }

  /** Whether a resource of `type` named `name` exists. */
  has(type: string, name: string): boolean {
    return this.all.some((r) => r.type === type && r.name === name);
  }

  /** Every resource of `type`, in registration order. */
  ofType(type: string): RecordedResource[] {
    return this.all.filter((r) => r.type === type);
  }

  /** The resource with `urn`. */
  byUrn(urn: string): RecordedResource {
    const found = this.all.find((r) => r.urn === urn);
    if (found === undefined) {
      throw new Error(`no resource with URN ${urn}`);
    }
    return found;
  }

  /** Type counts, for asserting the exact set of children. */
  countByType(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of this.all) {
      counts[r.type] = (counts[r.type] ?? 0) + 1;
    }
    return counts;
  }
}
