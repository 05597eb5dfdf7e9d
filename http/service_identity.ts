/**
 * Who a service is, the one spelling every module accepts: the logger's
 * `service_name`, the metrics namespace and the trace resource
 * (`service.name`, `service.version`, `deployment.environment.name`) all
 * come from it. The `service` section of `@cqi/config` is one.
 *
 * @example Usage
 * ```ts
 * import type { ServiceIdentity } from "@cqi/http";
 *
 * const service: ServiceIdentity = {
 *   name: "cqpm",
 *   version: "1.4.0",
 *   environment: "production",
 * };
 * ```
 */
export interface ServiceIdentity {
  /** The service name. Required. */
  name: string;
  /** The release version (pass the real one, such as from config). */
  version?: string;
  /** The deployment environment, such as `production`. */
  environment?: string;
}
