// Requests gitbeaker has no method for, or sends differently than GitLab needs, through the
// requester `connect` gives every gitbeaker resource: the same retries, timeouts and errors
// (GitLabApiError with GitLab's message, the request and the status).
import { Metadata } from "@gitbeaker/rest";
import type { Api } from "./client";

/** The HTTP methods of gitbeaker's requester. */
export type Method = "get" | "post" | "put" | "patch" | "delete";

type Send = (endpoint: string, options?: { body?: unknown }) => Promise<{ body: unknown }>;

/**
 * Sends one request and returns GitLab's answer (`null` for 204). `endpoint` is relative to
 * `/api/v4/` with its path segments already encoded (see {@link segment}); `body` goes as JSON,
 * keys converted to snake_case like every gitbeaker body.
 */
export async function request<T>(
  api: Api,
  method: Method,
  endpoint: string,
  body?: Record<string, unknown>,
): Promise<T> {
  // Every gitbeaker resource carries the requester built by `connect`; any class will do.
  const { requester } = api.use(Metadata) as unknown as { requester: Record<Method, Send> };
  const response = await requester[method](endpoint, body === undefined ? {} : { body });
  return response.body as T;
}

/** One path segment: a project path `group/app` or a branch `release/*` becomes one segment. */
export const segment = (value: string | number): string => encodeURIComponent(String(value));
