// Lint of the deployment files: compose.yaml against the Compose
// Specification's JSON schema plus the cross-references no schema checks
// (depends_on targets, healthchecks behind service_healthy, files that
// exist, pinned image tags); the Grafana dashboard's shape; prometheus.yml's
// targets. Run by `npm run check` (`deno run --allow-read deploy/lint.ts`);
// deploy/deploy_test.ts runs the same functions and checks every metric the
// dashboard queries against what the service's instruments export.
import { existsSync, readFileSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import Ajv from "ajv";
import { parse } from "yaml";

/** The repository root. */
export const root: string = fileURLToPath(new URL("../", import.meta.url));

/** Reads a file of the repository as text. */
export function readRepoFile(path: string): string {
  return readFileSync(root + path, "utf8");
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

let validateCompose: ReturnType<Ajv["compile"]> | undefined;

/** The problems the Compose Specification schema finds in `compose`. */
export function schemaProblems(compose: unknown): string[] {
  if (validateCompose === undefined) {
    // strict off: the schema uses keywords Ajv does not know ("deprecated")
    const ajv = new Ajv({ allErrors: true, strict: false });
    // The schema names its meta-schema by https, Ajv's copy by http.
    const draft7 = ajv.getSchema("http://json-schema.org/draft-07/schema")!
      .schema as Json;
    ajv.addMetaSchema({
      ...draft7,
      $id: "https://json-schema.org/draft-07/schema",
    });
    validateCompose = ajv.compile(
      JSON.parse(readRepoFile("deploy/schema/compose-spec.json")),
    );
  }
  if (validateCompose(compose)) return [];
  return (validateCompose.errors ?? []).map((e) =>
    `compose.yaml: ${e.instancePath || "/"}: ${e.message}${
      e.params && "additionalProperty" in e.params
        ? ` (${e.params.additionalProperty})`
        : ""
    }`
  );
}

/**
 * Whether an image reference names a fixed version: a digest, or a tag
 * that is not `latest` (and not a bare major such as `15`).
 */
export function pinnedImage(image: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const name = image.slice(image.lastIndexOf("/") + 1);
  const colon = name.lastIndexOf(":");
  if (colon < 0) return false;
  const tag = name.slice(colon + 1);
  return tag !== "" && !/^latest$|^(v?\d+)$/i.test(tag) && !/\$/.test(tag);
}

/**
 * The problems of a Compose file: the schema's, then its cross-references.
 * `exists` says whether a path relative to the repository root exists.
 */
export function lintCompose(
  text: string,
  exists: (path: string) => boolean = (path) => existsSync(root + path),
): string[] {
  let compose: unknown;
  try {
    compose = parse(text);
  } catch (error) {
    return [`compose.yaml: not YAML: ${(error as Error).message}`];
  }
  const problems = schemaProblems(compose);
  if (!isObject(compose) || !isObject(compose.services)) {
    return [...problems, "compose.yaml: no services"];
  }
  const services = compose.services;
  const file = (where: string, path: string) => {
    const relative = path.replace(/^\.\//, "");
    if (path.startsWith("/") || path.startsWith("~")) return;
    if (!exists(relative)) problems.push(`${where}: ${path} does not exist`);
  };
  for (const [name, value] of Object.entries(services)) {
    const where = `compose.yaml: services.${name}`;
    if (!isObject(value)) continue;
    const image = value.image;
    if (typeof image === "string" && !pinnedImage(image)) {
      problems.push(`${where}: image ${image} is not pinned to a version`);
    }
    if (image === undefined && value.build === undefined) {
      problems.push(`${where}: neither image nor build`);
    }
    const build = typeof value.build === "string"
      ? { context: value.build }
      : value.build;
    if (isObject(build)) {
      const context = String(build.context ?? ".").replace(/^\.\/?$/, "");
      const prefix = context === "" ? "" : `${context.replace(/\/$/, "")}/`;
      if (context !== "") file(`${where}.build.context`, context);
      file(
        `${where}.build.dockerfile`,
        prefix + String(build.dockerfile ?? "Dockerfile"),
      );
    }
    const dependsOn = value.depends_on;
    const needs = Array.isArray(dependsOn)
      ? dependsOn.map((d) => [String(d), undefined] as const)
      : isObject(dependsOn)
      ? Object.entries(dependsOn).map(([d, c]) =>
        [d, isObject(c) ? c.condition : undefined] as const
      )
      : [];
    for (const [target, condition] of needs) {
      const other = services[target];
      if (!isObject(other)) {
        problems.push(`${where}.depends_on: no service ${target}`);
      } else if (
        condition === "service_healthy" && !isObject(other.healthcheck)
      ) {
        problems.push(
          `${where}.depends_on.${target}: service_healthy, but ${target} has no healthcheck`,
        );
      }
    }
    for (const volume of Array.isArray(value.volumes) ? value.volumes : []) {
      const source = typeof volume === "string"
        ? volume.split(":")[0]
        : isObject(volume)
        ? String(volume.source ?? "")
        : "";
      const declared = isObject(compose.volumes) ? compose.volumes : {};
      if (/^[./~]/.test(source)) file(`${where}.volumes`, source);
      else if (source !== "" && !(source in declared)) {
        problems.push(`${where}.volumes: named volume ${source} not declared`);
      }
    }
    const envFiles = value.env_file === undefined
      ? []
      : [value.env_file].flat();
    for (const envFile of envFiles) {
      const path = isObject(envFile) ? envFile.path : envFile;
      if (isObject(envFile) && envFile.required === false) continue;
      file(`${where}.env_file`, String(path));
    }
  }
  for (const section of ["configs", "secrets"] as const) {
    const entries = compose[section];
    if (!isObject(entries)) continue;
    for (const [name, entry] of Object.entries(entries)) {
      if (isObject(entry) && typeof entry.file === "string") {
        file(`compose.yaml: ${section}.${name}`, entry.file);
      }
    }
  }
  return problems;
}

/** The problems of a Dockerfile: every `FROM` image pinned to a version. */
export function lintDockerfile(text: string, where = "Dockerfile"): string[] {
  const problems: string[] = [];
  const stages = new Set<string>();
  for (const line of text.split("\n")) {
    const from = /^\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from === null) continue;
    if (!stages.has(from[1]) && !pinnedImage(from[1])) {
      problems.push(`${where}: FROM ${from[1]} is not pinned to a version`);
    }
    if (from[2] !== undefined) stages.add(from[2]);
  }
  if (stages.size === 0 && !/^\s*FROM\s/im.test(text)) {
    problems.push(`${where}: no FROM`);
  }
  return problems;
}

/** Every panel of a dashboard, rows' collapsed panels included. */
export function panelsOf(dashboard: Json): Json[] {
  const top = Array.isArray(dashboard.panels) ? dashboard.panels : [];
  return top.filter(isObject).flatMap((panel) => [
    panel,
    ...(Array.isArray(panel.panels) ? panel.panels.filter(isObject) : []),
  ]);
}

/** The problems of a Grafana dashboard's shape (not of its queries' names). */
export function lintDashboard(text: string): string[] {
  let dashboard: unknown;
  try {
    dashboard = JSON.parse(text);
  } catch (error) {
    return [`dashboard: not JSON: ${(error as Error).message}`];
  }
  if (!isObject(dashboard)) return ["dashboard: not an object"];
  const problems: string[] = [];
  for (const key of ["uid", "title"]) {
    if (typeof dashboard[key] !== "string" || dashboard[key] === "") {
      problems.push(`dashboard: no ${key}`);
    }
  }
  const panels = panelsOf(dashboard);
  if (panels.length === 0) problems.push("dashboard: no panels");
  const variables = new Set(
    (isObject(dashboard.templating) && Array.isArray(dashboard.templating.list)
      ? dashboard.templating.list
      : []).filter(isObject).map((v) => String(v.name)),
  );
  const ids = new Set<unknown>();
  for (const panel of panels) {
    const where = `dashboard: panel ${JSON.stringify(panel.title)}`;
    if (typeof panel.id !== "number") problems.push(`${where}: no numeric id`);
    else if (ids.has(panel.id)) {
      problems.push(`${where}: id ${panel.id} used twice`);
    }
    ids.add(panel.id);
    if (!isObject(panel.gridPos)) problems.push(`${where}: no gridPos`);
    if (panel.type === "row") continue;
    if (!isObject(panel.datasource)) problems.push(`${where}: no datasource`);
    const targets = Array.isArray(panel.targets) ? panel.targets : [];
    if (targets.length === 0) problems.push(`${where}: no targets`);
    const refIds = new Set<unknown>();
    for (const target of targets) {
      if (!isObject(target) || typeof target.expr !== "string") {
        problems.push(`${where}: a target without expr`);
        continue;
      }
      if (refIds.has(target.refId)) {
        problems.push(`${where}: refId ${target.refId} used twice`);
      }
      refIds.add(target.refId);
      for (const [, name] of target.expr.matchAll(/\$\{?(\w+)/g)) {
        if (!name.startsWith("__") && !variables.has(name)) {
          problems.push(`${where}: unknown variable $${name}`);
        }
      }
    }
  }
  return problems;
}

const PROMQL_WORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "and",
  "or",
  "unless",
  "offset",
  "inf",
  "nan",
]);

/**
 * The series names a PromQL expression selects, with `variables`
 * (`$name` or `${name}`) substituted first; function names, keywords,
 * label matchers, grouping labels, ranges and numbers are left out.
 */
export function metricNames(
  expr: string,
  variables: Record<string, string> = {},
): string[] {
  let s = expr.replace(
    /\$\{(\w+)\}|\$(\w+)/g,
    (all, a, b) => variables[a ?? b] ?? all,
  );
  s = s
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, " ")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(
      /\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g,
      " ",
    )
    .replace(/\boffset\s+\S+/g, " ")
    .replace(/(?<![\w:])\d+(?:\.\d+)?(?:e[+-]?\d+)?/gi, " ");
  const names = new Set<string>();
  for (const match of s.matchAll(/[A-Za-z_:][\w:]*(?!\s*\(|[\w:])/g)) {
    if (!PROMQL_WORDS.has(match[0].toLowerCase())) names.add(match[0]);
  }
  return [...names];
}

/**
 * The label names an expression uses: in matchers and grouping clauses,
 * after `variables` are substituted.
 */
export function labelNames(expr: string): string[] {
  const names = new Set<string>();
  const s = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  for (const [, inside] of s.matchAll(/\{([^}]*)\}/g)) {
    for (const [, name] of inside.matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)) {
      names.add(name);
    }
  }
  for (
    const [, list] of s.matchAll(
      /\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g,
    )
  ) {
    for (const name of list.split(",").map((n) => n.trim())) {
      if (name !== "") names.add(name);
    }
  }
  return [...names];
}

/**
 * The problems of prometheus.yml: it parses, and every static target is a
 * Compose service (on its PORT, when it sets one) or Prometheus itself.
 */
export function lintPrometheus(text: string, composeText: string): string[] {
  let config: unknown;
  try {
    config = parse(text);
  } catch (error) {
    return [`prometheus.yml: not YAML: ${(error as Error).message}`];
  }
  const compose = parse(composeText) as Json;
  const services = isObject(compose?.services) ? compose.services : {};
  if (!isObject(config) || !Array.isArray(config.scrape_configs)) {
    return ["prometheus.yml: no scrape_configs"];
  }
  const problems: string[] = [];
  let scraped = 0;
  for (const job of config.scrape_configs.filter(isObject)) {
    const where = `prometheus.yml: job ${job.job_name}`;
    const statics = Array.isArray(job.static_configs) ? job.static_configs : [];
    for (const entry of statics.filter(isObject)) {
      for (const target of Array.isArray(entry.targets) ? entry.targets : []) {
        const [host, port] = String(target).split(":");
        if (host === "localhost" && port === "9090") continue;
        const service = services[host];
        if (!isObject(service)) {
          problems.push(`${where}: ${target} is not a compose service`);
          continue;
        }
        const env = isObject(service.environment) ? service.environment : {};
        if (env.PORT !== undefined && String(env.PORT) !== port) {
          problems.push(
            `${where}: ${target}, but ${host} listens on PORT ${env.PORT}`,
          );
        }
        if (service.build !== undefined) scraped++;
      }
    }
  }
  if (scraped === 0) {
    problems.push("prometheus.yml: scrapes no service built by compose.yaml");
  }
  return problems;
}

/** Every problem of the repository's deployment files. */
export function lintAll(): string[] {
  const compose = readRepoFile("compose.yaml");
  const problems = [
    ...lintCompose(compose),
    ...lintDashboard(
      readRepoFile("deploy/grafana/dashboards/cqi-service.json"),
    ),
    ...lintPrometheus(readRepoFile("deploy/prometheus.yml"), compose),
  ];
  // The Dockerfiles compose.yaml builds from.
  const services = (parse(compose) as Json).services as Record<string, Json>;
  for (const service of Object.values(services)) {
    const build = service.build;
    if (!isObject(build)) continue;
    const context = String(build.context ?? ".").replace(/^\.\/?$/, "");
    const path = (context === "" ? "" : `${context.replace(/\/$/, "")}/`) +
      String(build.dockerfile ?? "Dockerfile");
    if (existsSync(root + path)) {
      problems.push(...lintDockerfile(readRepoFile(path), path));
    }
  }
  // The other configuration files the containers read: YAML that parses.
  for (const path of YAML_FILES) {
    try {
      if (!isObject(parse(readRepoFile(path)))) {
        problems.push(`${path}: not a YAML mapping`);
      }
    } catch (error) {
      problems.push(`${path}: ${(error as Error).message}`);
    }
  }
  return problems;
}

const YAML_FILES = [
  "deploy/otel-collector.yaml",
  "deploy/grafana/provisioning/datasources/prometheus.yaml",
  "deploy/grafana/provisioning/dashboards/cqi.yaml",
];

/**
 * The dashboard's expressions as a Prometheus rules file, the variables
 * replaced by values (`$__rate_interval` by 5m, `$job` and `$instance` by
 * `.*`), for `promtool check rules` to parse the PromQL.
 */
export function dashboardRules(text: string): string {
  const values: Record<string, string> = {
    namespace: "quickstart",
    __rate_interval: "5m",
    job: ".*",
    instance: ".*",
  };
  const rules = panelsOf(JSON.parse(text)).flatMap((panel, p) =>
    ((panel.targets ?? []) as { expr: string }[]).map((target, t) => {
      const expr = target.expr.replace(
        /\$\{(\w+)\}|\$(\w+)/g,
        (all, a, b) => values[a ?? b] ?? all,
      );
      return `      - record: dashboard:panel${p}:target${t}\n        expr: ${
        JSON.stringify(expr)
      }`;
    })
  );
  return `groups:\n  - name: dashboard\n    rules:\n${rules.join("\n")}\n`;
}

if (import.meta.main && process.argv.includes("--rules")) {
  process.stdout.write(
    dashboardRules(readRepoFile("deploy/grafana/dashboards/cqi-service.json")),
  );
} else if (import.meta.main) {
  const problems = lintAll();
  for (const problem of problems) console.error(problem);
  if (problems.length > 0) process.exit(1);
  console.log(
    "deploy lint: compose.yaml (schema and references), dashboard, prometheus.yml: no problems",
  );
}
