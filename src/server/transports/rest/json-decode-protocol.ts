import type { ErrorCode } from '../../../shared/errors.js';
import type { HostTensor } from '../../core/host-tensor.js';
import type { TensorInfo } from '../../core/signature.js';
import type { JsonPredictFormat } from '../../servables/tensorflow/codecs/json-tensor.js';
import type { TensorLimits } from '../../servables/tensorflow/codecs/tensor-proto.js';

/** A REST predict body for a JSON decode thread, with the inputs of every signature of the version it goes to. */
export interface JsonDecodeRequest {
  readonly id: number;
  /** The body's bytes (moved, not copied). */
  readonly body: Uint8Array;
  readonly signatureInputs: Readonly<Record<string, Readonly<Record<string, TensorInfo>>>>;
  readonly limits: TensorLimits;
}

/** The body's `signature_name` and, when the version has that signature, its decoded inputs. */
export interface DecodedPredictBody {
  readonly signatureName: string | undefined;
  readonly decoded?: { readonly format: JsonPredictFormat; readonly inputs: Record<string, HostTensor> };
}

export type JsonDecodeResponse =
  | ({ readonly id: number } & DecodedPredictBody)
  | { readonly id: number; readonly error: { readonly code: ErrorCode; readonly message: string; readonly httpStatus?: number } };
