import type { Service } from "./service.ts";

/**
 * Sorts services so that each comes after everything it depends on, keeping
 * the given order where dependencies allow. Throws a TypeError naming a
 * duplicate name, a missing dependency or a dependency cycle.
 */
export function startOrder<T>(
  items: readonly T[],
  serviceOf: (item: T) => Service,
): T[] {
  const services = items.map(serviceOf);
  const byName = new Map<string, number>();
  for (const [index, service] of services.entries()) {
    if (typeof service?.name !== "string" || service.name === "") {
      throw new TypeError("runner: every service needs a non-empty name");
    }
    if (byName.has(service.name)) {
      throw new TypeError(
        `runner: two services are named "${service.name}"`,
      );
    }
    byName.set(service.name, index);
  }
  for (const service of services) {
    for (const dep of service.dependsOn ?? []) {
      if (!byName.has(dep)) {
        throw new TypeError(
          `runner: service "${service.name}" depends on "${dep}", which is not in this runner`,
        );
      }
    }
  }
  const sorted: T[] = [];
  const state = new Map<string, "visiting" | "done">();
  const path: string[] = [];
  const visit = (index: number) => {
    const service = services[index];
    const seen = state.get(service.name);
    if (seen === "done") return;
    if (seen === "visiting") {
      const cycle = path.slice(path.indexOf(service.name));
      throw new TypeError(
        `runner: dependency cycle: ${[...cycle, service.name].join(" → ")}`,
      );
    }
    state.set(service.name, "visiting");
    path.push(service.name);
    for (const dep of service.dependsOn ?? []) visit(byName.get(dep)!);
    path.pop();
    state.set(service.name, "done");
    sorted.push(items[index]);
  };
  for (let i = 0; i < items.length; i++) visit(i);
  return sorted;
}
