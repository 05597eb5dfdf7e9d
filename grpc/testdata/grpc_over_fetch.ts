// Calls the fetch handler with a gRPC (HTTP/2) client and prints the
// outcome; run in its own process because on Deno the call aborts the
// process (an nghttp2 assertion in node:http2).
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { EchoService } from "../../proto/gen/cqc/test/v1/echo_pb.ts";
import { fetchServer } from "./echo.ts";

await using server = fetchServer([]);
const client = createClient(
  EchoService,
  createGrpcTransport({ baseUrl: server.baseUrl }),
);
try {
  await client.echo({ text: "g" });
  console.log("served");
} catch (error) {
  console.log(`rejected ${(error as { code?: number }).code}`);
}
