import * as path from "path";
import { chartSource, chartSourceProblem } from "../../components/helm-source";

test.each([
  [
    "https://charts.gitlab.io",
    { chart: "gitlab-runner", repositoryOpts: { repo: "https://charts.gitlab.io" } },
  ],
  [
    "oci://registry.example.com/charts/",
    { chart: "oci://registry.example.com/charts/gitlab-runner" },
  ],
  ["test/e2e/charts/gitlab-runner", { chart: path.resolve("test/e2e/charts/gitlab-runner") }],
  ["/srv/charts/gitlab-runner", { chart: "/srv/charts/gitlab-runner" }],
])("chartSource(gitlab-runner, %s)", (repository, expected) => {
  expect(chartSource("gitlab-runner", repository)).toEqual(expected);
  expect(chartSourceProblem(repository)).toBeUndefined();
});

test.each(["", "ftp://mirror.example.com/charts", "s3://bucket/charts"])(
  "chartSourceProblem(%j) names what is expected",
  (repository) => {
    expect(chartSourceProblem(repository)).toBe(
      `expected an https:// chart repository, an oci:// registry path or a local chart directory, got ${JSON.stringify(repository)}`,
    );
  },
);
