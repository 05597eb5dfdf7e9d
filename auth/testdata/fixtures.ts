// Test fixtures for @cqi/auth: generated keys, token forging, a local JWKS
// endpoint and an app on a real server that records its access-log fields.
// Not published.
import {
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWK,
  SignJWT,
} from "jose";
import {
  applyMiddleware,
  getLogFields,
  type Middleware,
  serve,
  type Server,
  withRequestScope,
} from "@cqi/http";
import { findAuthContext } from "../mod.ts";

export type Alg = "RS256" | "ES256" | "EdDSA";

/** A generated key pair with its public forms. */
export interface TestKey {
  alg: Alg;
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  pem: string;
  jwk: JWK;
}

export async function makeKey(alg: Alg, kid = `${alg}-1`): Promise<TestKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg);
  return {
    alg,
    kid,
    privateKey,
    publicKey,
    pem: await exportSPKI(publicKey),
    jwk: { ...(await exportJWK(publicKey)), kid },
  };
}

/** One key of each type, generated once per test file. */
export async function makeKeys(): Promise<Record<Alg, TestKey>> {
  const [RS256, ES256, EdDSA] = await Promise.all([
    makeKey("RS256"),
    makeKey("ES256"),
    makeKey("EdDSA"),
  ]);
  return { RS256, ES256, EdDSA };
}

export const ISSUER = "https://auth.test/";
export const AUDIENCE = "orders";
export const now = (): number => Math.floor(Date.now() / 1000);

/** Signs claims (defaults: sub u-1, iss, aud, iat now, exp +5 min). */
export function sign(
  key: TestKey,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  const t = now();
  const body: Record<string, unknown> = {
    sub: "u-1",
    iss: ISSUER,
    aud: AUDIENCE,
    iat: t,
    exp: t + 300,
    ...claims,
  };
  for (const [name, value] of Object.entries(body)) {
    if (value === undefined) delete body[name];
  }
  return new SignJWT(body)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, ...header })
    .sign(key.privateKey);
}

const encoder = new TextEncoder();

export function b64url(data: string | Uint8Array): string {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-")
    .replaceAll("/", "_").replace(/=+$/, "");
}

/** A token with the given header and claims, signed with HMAC over `secret`. */
export async function hmacToken(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  secret: Uint8Array,
): Promise<string> {
  const input = `${b64url(JSON.stringify(header))}.${
    b64url(JSON.stringify(claims))
  }`;
  const key = await crypto.subtle.importKey(
    "raw",
    secret as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(input));
  return `${input}.${b64url(new Uint8Array(mac))}`;
}

/** Default claims for forged tokens. */
export function claims(
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const t = now();
  return {
    sub: "u-1",
    iss: ISSUER,
    aud: AUDIENCE,
    iat: t,
    exp: t + 300,
    ...extra,
  };
}

const local = { port: 0, hostname: "127.0.0.1", handleSignals: false };

/** A JWKS endpoint on a real server; `mode` switches what it answers. */
export interface JwksServer extends AsyncDisposable {
  url: string;
  /** Requests received so far. */
  readonly requests: number;
  keys: JWK[];
  mode: "ok" | "error" | "garbage" | "hang";
  /** Lets hanging requests finish. */
  release(): void;
}

export function jwksServer(keys: JWK[]): JwksServer {
  let requests = 0;
  let release!: () => void;
  const hung = new Promise<void>((r) => release = r);
  const state: JwksServer = {
    url: "",
    get requests() {
      return requests;
    },
    keys,
    mode: "ok",
    release: () => release(),
    [Symbol.asyncDispose]: async () => {
      release();
      await server.shutdown();
    },
  };
  const server: Server = serve(async () => {
    requests++;
    switch (state.mode) {
      case "error":
        return new Response("upstream down", { status: 500 });
      case "garbage":
        return new Response("<html>not json</html>", { status: 200 });
      case "hang":
        await hung;
        return new Response("too late", { status: 500 });
      default:
        return Response.json({ keys: state.keys });
    }
  }, local);
  state.url = `http://127.0.0.1:${server.addr.port}/jwks.json`;
  return state;
}

/** A URL on which nothing listens: a server's port after it shut down. */
export async function deadUrl(): Promise<string> {
  const server = serve(() => new Response(), local);
  const port = server.addr.port;
  await server.shutdown();
  return `http://127.0.0.1:${port}/jwks.json`;
}

/** What one request to a {@linkcode TestApp} produced. */
export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  // deno-lint-ignore no-explicit-any
  json: any;
  /** The access-log fields the request ended with. */
  log: Record<string, unknown>;
}

/** A real server running middleware in front of a handler that echoes the caller. */
export interface TestApp extends AsyncDisposable {
  base: string;
  get(path: string, headers?: HeadersInit): Promise<Reply>;
}

export function startApp(...middleware: Middleware[]): TestApp {
  const logs: Array<Record<string, unknown>> = [];
  // Stands in for accessLog: opens the request scope and reads the fields.
  const accessLog: Middleware = (req, next) =>
    withRequestScope(async () => {
      const res = await next(req);
      logs.push({ ...getLogFields() });
      return res;
    });
  const handler = applyMiddleware(
    () => Response.json({ caller: findAuthContext() ?? null }),
    accessLog,
    ...middleware,
  );
  const server = serve(handler, local);
  const base = `http://127.0.0.1:${server.addr.port}`;
  return {
    base,
    async get(path, headers) {
      const before = logs.length;
      const res = await fetch(base + path, { headers });
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return {
        status: res.status,
        headers: res.headers,
        text,
        json,
        log: logs.length > before ? logs[logs.length - 1] : {},
      };
    },
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

export const bearer = (token: string): HeadersInit => ({
  authorization: `Bearer ${token}`,
});
