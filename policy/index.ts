import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

/**
 * The platform's policy pack, which `npm run preview|up` and the repository's pipeline run with
 * every preview and deploy (`pulumi preview --policy-pack policy --policy-pack-config <file>`).
 * Policies fail the run (`mandatory`) unless the default in levels.ts or the stack's
 * `platform:policy` makes them `advisory`; docs/policy.md lists them. Constructing the pack starts
 * the analyzer server the engine talks to, so only the engine loads this file: tests import
 * policies.ts.
 */
new PolicyPack("gitlab-k8s-platform", { policies, enforcementLevel: "mandatory" });
