// Shared helpers for driving the GitLab dynamic providers against the fake server.
import type * as pulumi from "@pulumi/pulumi";
import type { ClientSettings } from "../../components/gitlab/client";
import type { FakeGitLab } from "./fake-gitlab";

/** Retries and timeouts small enough to keep every test fast. */
export const FAST: Partial<ClientSettings> = {
  // Generous: a loaded CI machine running test files in parallel must not turn a slow first
  // request into a timeout. Tests of the timeout itself set their own.
  timeoutMs: 5000,
  maxAttempts: 3,
  baseDelayMs: 5,
  maxDelayMs: 50,
};

/** Stack config as the dynamic provider process hands it to `configure`. */
export function stackConfig(values: Record<string, string>): pulumi.dynamic.ConfigureRequest {
  const get = (key: string) => values[key];
  return {
    config: {
      get,
      require: (key) => {
        const value = get(key);
        if (value === undefined) {
          throw new Error(`Missing required configuration key: ${key}`);
        }
        return value;
      },
    },
  };
}

/** Configures a provider for the fake, the way `pulumi up` would with stack config. */
export async function configured<P extends pulumi.dynamic.ResourceProvider>(
  provider: P,
  fake: FakeGitLab,
  token: string = fake.token,
): Promise<P> {
  await provider.configure?.(
    stackConfig({ "gitlab:baseUrl": `${fake.url}/api/v4/`, "gitlab:token": token }),
  );
  return provider;
}

/** Runs `check` as the engine does; throws on failures so tests read like `pulumi up`. */
export async function checked(
  provider: pulumi.dynamic.ResourceProvider,
  inputs: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const result = await provider.check?.({}, inputs);
  if (result === undefined) {
    throw new Error("provider has no check");
  }
  if (result.failures !== undefined && result.failures.length > 0) {
    throw new Error(result.failures.map((f) => f.reason).join("\n"));
  }
  return result.inputs as Record<string, unknown>;
}

/** check + create: what the engine does for a new resource. */
export async function createChecked(
  provider: pulumi.dynamic.ResourceProvider,
  inputs: Record<string, unknown>,
): Promise<pulumi.dynamic.CreateResult> {
  return provider.create(await checked(provider, inputs));
}

/** The rejection message of a promise. */
export async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  throw new Error("expected a rejection");
}
