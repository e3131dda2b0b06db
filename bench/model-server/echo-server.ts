/**
 * The transport floor: a bare grpc-js server whose Predict returns a fixed, pre-serialized
 * response without decoding the request. What one gRPC call costs on this machine with the same
 * client, before any serving work. Prints `listening PORT` when ready.
 *
 *   node --import tsx bench/model-server/echo-server.ts RESPONSE_BASE64
 */
import * as grpc from '@grpc/grpc-js';
import { rawBytesMethod } from '../lib/raw-bytes-method.js';
import { PREDICT_METHOD } from '../lib/requests.js';

const response = Buffer.from(process.argv[2] ?? '', 'base64');
const server = new grpc.Server({ 'grpc.max_receive_message_length': 256 * 1024 * 1024 });
server.addService(
  {
    Predict: rawBytesMethod(PREDICT_METHOD),
  },
  { Predict: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, response) },
);
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) throw error;
  console.log(`listening ${port}`);
});
process.on('SIGTERM', () => server.forceShutdown());
