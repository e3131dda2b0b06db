import { existsSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTensorProto, decodeTensorProto, type TensorProtoObject } from '../../../../../src/server/servables/tensorflow/codecs/tensor-proto.js';
import { protoRoot } from '../../../../../src/server/servables/tensorflow/proto-root.js';
import { grpcProtoFilePaths, loadTensorflowServingGrpc } from '../../../../../src/server/transports/grpc/proto-loader.js';

describe('the wire contract of our protos', () => {
  // Field numbers and enum values that official clients depend on.
  it.each<[string, string, number]>([
    ['tensorflow.TensorProto', 'dtype', 1],
    ['tensorflow.TensorProto', 'tensor_shape', 2],
    ['tensorflow.TensorProto', 'tensor_content', 4],
    ['tensorflow.TensorProto', 'float_val', 5],
    ['tensorflow.TensorProto', 'double_val', 6],
    ['tensorflow.TensorProto', 'int_val', 7],
    ['tensorflow.TensorProto', 'string_val', 8],
    ['tensorflow.TensorProto', 'int64_val', 10],
    ['tensorflow.TensorProto', 'bool_val', 11],
    ['tensorflow.TensorProto', 'half_val', 13],
    ['tensorflow.TensorProto', 'uint32_val', 16],
    ['tensorflow.TensorProto', 'uint64_val', 17],
    ['tensorflow.TensorShapeProto', 'dim', 2],
    ['tensorflow.TensorShapeProto', 'unknown_rank', 3],
    ['tensorflow.TensorInfo', 'name', 1],
    ['tensorflow.TensorInfo', 'dtype', 2],
    ['tensorflow.TensorInfo', 'tensor_shape', 3],
    ['tensorflow.SignatureDef', 'method_name', 3],
    ['tensorflow.MetaGraphDef', 'signature_def', 5],
    ['tensorflow.SavedModel', 'meta_graphs', 2],
    ['tensorflow.serving.ModelSpec', 'version', 2],
    ['tensorflow.serving.ModelSpec', 'signature_name', 3],
    ['tensorflow.serving.ModelSpec', 'version_label', 4],
    ['tensorflow.serving.PredictRequest', 'inputs', 2],
    ['tensorflow.serving.PredictRequest', 'output_filter', 3],
    ['tensorflow.serving.PredictResponse', 'outputs', 1],
    ['tensorflow.serving.PredictResponse', 'model_spec', 2],
    ['tensorflow.serving.ClassificationResponse', 'model_spec', 2],
    ['tensorflow.serving.RegressionResponse', 'result', 1],
    ['tensorflow.serving.GetModelMetadataResponse', 'metadata', 2],
    ['tensorflow.serving.SignatureDefMap', 'signature_def', 1],
    ['tensorflow.serving.ModelVersionStatus', 'state', 2],
    ['tensorflow.serving.ModelConfig', 'model_version_policy', 7],
    ['tensorflow.serving.ModelConfig', 'version_labels', 8],
    ['tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy', 'specific', 102],
    ['tensorflow.Features', 'feature', 1],
    ['tensorflow.Feature', 'int64_list', 3],
  ])('%s.%s is field %i', (type, field, id) => {
    expect(protoRoot().lookupType(type).fields[field]?.id).toBe(id);
  });

  it.each<[string, string, number]>([
    ['tensorflow.DataType', 'DT_STRING', 7],
    ['tensorflow.DataType', 'DT_INT64', 9],
    ['tensorflow.DataType', 'DT_HALF', 19],
    ['tensorflow.DataType', 'DT_UINT64', 23],
    ['tensorflow.serving.ModelVersionStatus.State', 'AVAILABLE', 30],
    ['tensorflow.error.Code', 'UNAUTHENTICATED', 16],
  ])('%s.%s = %i', (type, name, value) => {
    expect(protoRoot().lookupEnum(type).values[name]).toBe(value);
  });

  it('lists existing proto files for reflection', () => {
    const files = grpcProtoFilePaths();
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(existsSync(file)).toBe(true);
  });
});

describe('loaded services against a real grpc-js server', () => {
  const protos = loadTensorflowServingGrpc();
  const server = new grpc.Server();
  let client: grpc.Client & Record<string, (...args: unknown[]) => unknown>;
  const received: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    server.addService(protos.predictionService, {
      Predict: (call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        received.push(call.request);
        const inputs = call.request['inputs'] as Record<string, TensorProtoObject>;
        const a = decodeTensorProto(inputs['a'] as TensorProtoObject, { maxElements: 100 });
        callback(null, { outputs: { echo: encodeTensorProto(a) }, model_spec: call.request['model_spec'] });
      },
    });
    new ReflectionService(protos.packageDefinition).addToServer(server);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))),
    );
    const Client = grpc.makeGenericClientConstructor(protos.predictionService, 'PredictionService');
    client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as typeof client;
  });

  afterAll(() => {
    client.close();
    server.forceShutdown();
  });

  it('decodes requests with the documented options and returns typed-array outputs intact', async () => {
    const response = await new Promise<Record<string, unknown>>((resolve, reject) =>
      client['Predict']?.(
        {
          model_spec: { name: 'adder', version_label: 'canary' },
          inputs: { a: { dtype: 'DT_INT64', tensor_shape: { dim: [{ size: 2 }] }, int64_val: ['9007199254740993', '-1'] } },
        },
        (error: Error | null, value: Record<string, unknown>) => (error ? reject(error) : resolve(value)),
      ),
    );
    const request = received[0] as { model_spec: Record<string, unknown>; inputs: Record<string, Record<string, unknown>> };
    // Predict's request comes from our wire reader: proto-loader's shape (keepCase, oneofs, enums
    // as names, model_spec defaults) except that int64 values are bigints and absent tensor fields stay absent.
    expect(request.model_spec).toMatchObject({ name: 'adder', version_label: 'canary', version_choice: 'version_label', signature_name: '' });
    expect(request.inputs['a']).toEqual({ dtype: 'DT_INT64', tensor_shape: { dim: [{ size: 2, name: '' }] }, int64_val: [9007199254740993n, -1n] });
    const echo = (response['outputs'] as Record<string, Record<string, unknown>>)['echo'];
    expect(echo).toMatchObject({ dtype: 'DT_INT64', int64_val: ['9007199254740993', '-1'], tensor_shape: { dim: [{ size: '2' }] } });
    expect(response['model_spec']).toMatchObject({ name: 'adder', version_label: 'canary' });
  });
});
