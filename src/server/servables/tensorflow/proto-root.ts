/**
 * Our .proto files (repository `protos/`) loaded once into a protobufjs Root. Used where we
 * encode or decode messages ourselves: saved_model.pb, tf.Example, google.protobuf.Any payloads,
 * and the fast response serializers in the gRPC transport.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/** Every proto file the server speaks, relative to the protos directory (service files first). */
export const PROTO_FILES: readonly string[] = [
  'tensorflow_serving/apis/prediction_service.proto',
  'tensorflow_serving/apis/model_service.proto',
  'inference/grpc_predict_v2.proto',
  'tensorflow/core/protobuf/saved_model.proto',
];

let cachedDir: string | undefined;

/** The repository's `protos/` directory, found by walking up from this module (src or dist). */
export function protoDir(): string {
  if (cachedDir !== undefined) return cachedDir;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'protos');
    if (existsSync(join(candidate, 'tensorflow_serving', 'apis', 'prediction_service.proto'))) {
      cachedDir = candidate;
      return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('protos/ directory not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** Absolute paths of PROTO_FILES (their imports are found relative to protoDir()). */
export function protoFilePaths(): string[] {
  return PROTO_FILES.map((file) => join(protoDir(), file));
}

let cachedRoot: protobuf.Root | undefined;

/** The loaded, resolved Root; field names keep their proto spelling (snake_case). */
export function protoRoot(): protobuf.Root {
  if (cachedRoot !== undefined) return cachedRoot;
  const dir = protoDir();
  const root = new protobuf.Root();
  // Imports are written relative to protos/ (like upstream); google/protobuf/* are bundled.
  root.resolvePath = (_origin: string, target: string) => (isAbsolute(target) ? target : join(dir, target));
  root.loadSync(protoFilePaths(), { keepCase: true });
  root.resolveAll();
  cachedRoot = root;
  return root;
}

/** A message type by full name without the leading dot, e.g. "tensorflow.TensorProto". */
export function protoType(fullName: string): protobuf.Type {
  return protoRoot().lookupType(fullName);
}
