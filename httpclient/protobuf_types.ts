// protobuf-es's own types, under their own names, for the public signatures
// of this module. `deno doc --lint` wants every type that a public signature
// names to be exported by an entry point, and re-exporting protobuf-es's
// would pull in its whole descriptor model; marked @ignore, these aliases
// pass, and the docs show the names protobuf-es users know.
import type * as pb from "@bufbuild/protobuf";

/**
 * A protobuf-es v2 message schema (`DescMessage`): a generated
 * `GenMessage<T>` such as `AssetSchema`, or a descriptor from a registry.
 *
 * @ignore
 */
export type DescMessage = pb.DescMessage;

/**
 * The message type of a protobuf-es v2 schema (`MessageShape`): `Asset` for
 * `AssetSchema`.
 *
 * @ignore
 */
export type MessageShape<S extends pb.DescMessage> = pb.MessageShape<S>;
