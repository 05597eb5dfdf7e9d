import type { ConnectRouter } from "@cqi/grpc";
import { notFound } from "@cqi/errors";
import { PositionService } from "../../proto/gen/cqc/quickstart/v1/positions_pb.ts";
import { checkId, type PositionStore } from "./store.ts";

/**
 * `PositionService` over Connect, gRPC-Web and gRPC: `GetPosition` reads
 * through the same store (and cache) as `GET /api/positions/:id`. Serve it
 * with `connectHandler` behind `grpcStack`.
 */
export function positionService(
  store: PositionStore,
): (router: ConnectRouter) => ConnectRouter {
  return (router: ConnectRouter) =>
    router.service(PositionService, {
      async getPosition({ id }) {
        checkId(id);
        const position = await store.get(id);
        if (position === undefined) throw notFound("position", id);
        return { position: { id, ...position } };
      },
    });
}
