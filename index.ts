import * as k8s from "@pulumi/kubernetes";
import { loadEnvironmentConfig } from "./stacks";

// Composition only: which components this stack gets, wired how. Config is read and validated
// once, up front; a bad config throws here before any resource is registered.
const config = loadEnvironmentConfig();

// An explicit provider for the stack's own context. Default providers are disabled in Pulumi.yaml,
// so nothing in this program can reach another cluster by accident.
const cluster = new k8s.Provider("cluster", {
  context: config.kubeContext,
  enableServerSideApply: true,
});

export const environment = config.environment;
export const kubeContext = config.kubeContext;
export const clusterProvider = cluster.urn;
