import {
  anyOf,
  apiKey,
  type ApiKeyRecord,
  generateApiKey,
  jwt,
  type JwtOptions,
} from "@cqi/auth";
import type { Middleware } from "@cqi/http";
import type { Logger } from "@cqi/logging";

/**
 * The `auth` section `bootstrap()`'s `auth()` reads: the `auth` section of
 * `@cqi/config` fits.
 *
 * @example Usage
 * ```ts
 * import type { AuthSection } from "@cqi/service";
 *
 * const auth: AuthSection = { apiKeys: [{ id: "billing", key: "k-0123456789abcdef" }] };
 * ```
 */
export interface AuthSection {
  /** API keys accepted as `Authorization: Bearer <key>` or `X-API-Key`. */
  apiKeys?: readonly ApiKeyRecord[];
  /** JWT verification: a secret, public keys or a JWKS URL. */
  jwt?: JwtOptions;
}

/**
 * The auth middleware a config describes: `apiKey` for its API keys, `jwt`
 * for its JWT section, `anyOf` both when it has both. With neither, a
 * `development` service gets one freshly generated API key, printed on
 * stderr (never logged: the logger would redact it) with a warning line;
 * any other environment throws, so that a service meant to be guarded
 * never starts open.
 *
 * @param section The `auth` section (absent: nothing configured).
 * @param environment The service's environment.
 * @param logger Where the development-key warning goes.
 * @returns The middleware.
 * @throws {Error} When nothing is configured outside `development`.
 */
export function authFromConfig(
  section: AuthSection | undefined,
  environment: string | undefined,
  logger: Logger,
): Middleware {
  const keys = section?.apiKeys ?? [];
  const methods: Middleware[] = [];
  if (keys.length > 0) methods.push(apiKey({ keys }));
  if (section?.jwt !== undefined) methods.push(jwt(section.jwt));
  if (methods.length === 1) return methods[0];
  if (methods.length > 1) return anyOf(...methods);
  if (environment !== "development") {
    throw new Error(
      `auth: no API keys or JWT configured (set CQI_AUTH_API_KEYS or the auth section); only a development service gets a generated key, this one is ${
        JSON.stringify(environment ?? "unset")
      }`,
    );
  }
  const key = generateApiKey();
  logger.warn("no API keys configured: generated a development API key");
  console.error(`development API key: ${key}`);
  return apiKey({ keys: [{ id: "dev", key, serviceId: "dev" }] });
}
