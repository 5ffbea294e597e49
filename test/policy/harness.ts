import * as policySdk from "@pulumi/policy";
import {
  PolicyResource,
  PolicyResourceOptions,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { Environment } from "../../stacks/model";
import { EnforcementLevel, PolicyName, policyPackConfig } from "../../policy/levels";
import { policies } from "../../policy/policies";
import { RecordedResource } from "../harness/mocks";

/**
 * Runs the pack's policies the way @pulumi/policy's analyzer server does (policy/ runs under the
 * real engine in no test): props wrapped in its unknown-checking proxy, `getConfig` answering the
 * policy's entry of the config file the wrapper writes, `UnknownValueError` turned into the
 * advisory "can't run … during preview" Pulumi reports instead of a violation.
 */

/** The value Pulumi gives an input of type string that is not known during a preview. */
export const UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

const sdk = policySdk as unknown as {
  unknownCheckingProxy<T extends object>(value: T): T;
  UnknownValueError: new (...args: never[]) => Error;
};

/** What one policy said about one resource or stack. */
export interface Outcome {
  /** Violation messages, in order. */
  readonly messages: string[];
  /** URNs the violations were reported against (stack policies), in order. */
  readonly urns: (string | undefined)[];
  /** Set when a value was not known: what Pulumi would print as "can't run … during preview". */
  readonly unknown?: string;
}

function policyNamed(name: PolicyName): ResourceValidationPolicy | StackValidationPolicy {
  const found = policies.find((p) => p.name === name);
  if (found === undefined) {
    throw new Error(`no policy ${name}`);
  }
  return found;
}

/** Resource options as the engine passes them, with what a test sets. */
export function options(overrides: Partial<PolicyResourceOptions> = {}): PolicyResourceOptions {
  return {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
    ...overrides,
  };
}

/** A hand-made resource for a policy. */
export interface TestResource {
  readonly type: string;
  readonly props: Record<string, unknown>;
  readonly name?: string;
  /** Default `urn:pulumi:<stack>::platform::<type>::<name>`. */
  readonly urn?: string;
  readonly opts?: Partial<PolicyResourceOptions>;
}

/** Where a policy runs: the environment in its config (none: the config file was not passed). */
export interface RunContext {
  readonly environment?: Environment;
  /** The stack name in URNs; default `test`. */
  readonly stack?: string;
}

function urnOf(r: TestResource, stack: string): string {
  return r.urn ?? `urn:pulumi:${stack}::platform::${r.type}::${r.name ?? "test"}`;
}

function config(context: RunContext): () => object {
  return () => (context.environment === undefined ? {} : { environment: context.environment });
}

async function capture(run: (report: policySdk.ReportViolation) => Promise<void> | void) {
  const messages: string[] = [];
  const urns: (string | undefined)[] = [];
  try {
    await run((message, urn) => {
      messages.push(message);
      urns.push(urn);
    });
  } catch (error) {
    if (error instanceof sdk.UnknownValueError) {
      return { messages, urns, unknown: error.message };
    }
    throw error;
  }
  return { messages, urns };
}

/** Runs a resource policy on one resource. */
export function validateResource(
  name: PolicyName,
  resource: TestResource,
  context: RunContext = {},
): Promise<Outcome> {
  const policy = policyNamed(name);
  if (!("validateResource" in policy) || policy.validateResource === undefined) {
    throw new Error(`${name} is not a resource policy`);
  }
  const validate = policy.validateResource;
  const props = sdk.unknownCheckingProxy({ ...resource.props });
  const args: ResourceValidationArgs = {
    type: resource.type,
    props,
    urn: urnOf(resource, context.stack ?? "test"),
    name: resource.name ?? "test",
    opts: options(resource.opts),
    stackTags: new Map(),
    isType: () => false,
    asType: () => undefined,
    getConfig: config(context) as ResourceValidationArgs["getConfig"],
    notApplicable: (reason?: string) => {
      throw new Error(`notApplicable: ${reason ?? ""}`);
    },
  };
  const validations = Array.isArray(validate) ? validate : [validate];
  return capture(async (report) => {
    for (const v of validations) {
      await v(args, report);
    }
  });
}

/** Runs a stack policy on a list of resources. */
export function validateStack(
  name: PolicyName,
  resources: readonly TestResource[],
  context: RunContext = {},
): Promise<Outcome> {
  const policy = policyNamed(name);
  if (!("validateStack" in policy)) {
    throw new Error(`${name} is not a stack policy`);
  }
  const stack = context.stack ?? "test";
  const policyResources: PolicyResource[] = resources.map((r) => ({
    type: r.type,
    props: sdk.unknownCheckingProxy({ ...r.props }),
    urn: urnOf(r, stack),
    name: r.name ?? "test",
    opts: options(r.opts),
    dependencies: [],
    propertyDependencies: {},
    isType: () => false,
    asType: () => undefined,
  }));
  const args: StackValidationArgs = {
    resources: policyResources,
    stackTags: new Map(),
    getConfig: config(context) as StackValidationArgs["getConfig"],
    notApplicable: (reason?: string) => {
      throw new Error(`notApplicable: ${reason ?? ""}`);
    },
  };
  return capture((report) => policy.validateStack(args, report));
}

/** One violation of a whole-pack run. */
export interface PackViolation {
  readonly policy: PolicyName;
  readonly level: EnforcementLevel;
  /** `<type>::<name>` of the resource, or `stack`. */
  readonly resource: string;
  readonly message: string;
}

/**
 * Every policy of the pack over a program run's resources, at the levels and with the
 * environment the wrapper's config file gives a stack of `environment`. Values unknown during a
 * preview do not occur under mocks; one would fail the run.
 */
export async function runPack(
  resources: readonly RecordedResource[],
  environment: Environment,
  stack: string,
): Promise<PackViolation[]> {
  const packConfig = policyPackConfig(environment, undefined);
  const violations: PackViolation[] = [];
  const asTest = (r: RecordedResource): TestResource => ({
    type: r.type,
    name: r.name,
    urn: r.urn,
    props: r.inputs,
    opts: {
      protect: r.protect,
      ignoreChanges: [...r.ignoreChanges],
      deleteBeforeReplace: r.deleteBeforeReplace,
      additionalSecretOutputs: [...r.additionalSecretOutputs],
      ...(r.parent === "" ? {} : { parent: r.parent }),
    },
  });
  const byUrn = new Map(resources.map((r) => [r.urn, `${r.type}::${r.name}`]));
  for (const p of policies) {
    const name = p.name as PolicyName;
    const { enforcementLevel: level } = packConfig[name];
    const context = { environment, stack };
    const outcomes: { outcome: Outcome; resource?: string }[] = [];
    if ("validateStack" in p) {
      outcomes.push({ outcome: await validateStack(name, resources.map(asTest), context) });
    } else {
      for (const r of resources) {
        outcomes.push({
          outcome: await validateResource(name, asTest(r), context),
          resource: `${r.type}::${r.name}`,
        });
      }
    }
    for (const { outcome, resource } of outcomes) {
      if (outcome.unknown !== undefined) {
        throw new Error(`${name}: unexpected unknown value under mocks: ${outcome.unknown}`);
      }
      outcome.messages.forEach((message, i) => {
        const urn = outcome.urns[i];
        violations.push({
          policy: name,
          level,
          resource: resource ?? (urn === undefined ? "stack" : (byUrn.get(urn) ?? urn)),
          message,
        });
      });
    }
  }
  return violations;
}
