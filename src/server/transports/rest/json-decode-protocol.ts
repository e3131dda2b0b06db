import type { ErrorCode } from '../../../shared/errors.js';
import type { HostTensor } from '../../core/host-tensor.js';
import type { TensorInfo } from '../../core/signature.js';
import type { JsonPredictFormat } from '../../servables/tensorflow/codecs/json-tensor.js';
import type { TensorLimits } from '../../servables/tensorflow/codecs/tensor-proto.js';

/** A REST predict body for a JSON decode thread, with the inputs of every signature of the version it goes to. */
export interface JsonDecodeRequest {
  readonly id: number;
  /** The body's bytes, or its chunks in order as Node received them (moved, not copied). */
  readonly body: Uint8Array | readonly Uint8Array[];
  readonly signatureInputs: Readonly<Record<string, Readonly<Record<string, TensorInfo>>>>;
  readonly limits: TensorLimits;
  /**
   * Set for an Open Inference Protocol (/v2) body: its JSON is the first `jsonLength` bytes, binary
   * tensors follow. Otherwise the body is TF Serving's (/v1) JSON.
   */
  readonly openInference?: { readonly jsonLength: number };
}

/** Outputs of a REST predict to write as TF Serving's JSON response (copied, not moved: logging may read them after). */
export interface JsonEncodeRequest {
  readonly id: number;
  readonly encode: { readonly outputs: Readonly<Record<string, HostTensor>>; readonly format: JsonPredictFormat };
}

/** Outputs of an Open Inference Protocol infer to write as its response (copied, as JsonEncodeRequest's). */
export interface InferEncodeRequest {
  readonly id: number;
  readonly encodeInfer: {
    readonly model: string;
    readonly version: number;
    readonly outputs: Readonly<Record<string, HostTensor>>;
    readonly asks: { readonly id?: string; readonly binaryOutputs?: ReadonlySet<string> | 'all' };
  };
}

/** The body's `signature_name` and, when the version has that signature, its decoded inputs. */
export interface DecodedPredictBody {
  readonly signatureName: string | undefined;
  readonly decoded?: { readonly format: JsonPredictFormat; readonly inputs: Record<string, HostTensor> };
}

/** What an Open Inference Protocol body asks besides its inputs. */
export interface OpenInferenceAsks {
  readonly requestId?: string;
  readonly outputs: string[];
  readonly binaryOutputs: ReadonlySet<string> | 'all';
}

export type JsonDecodeResponse =
  | ({ readonly id: number; readonly openInference?: OpenInferenceAsks } & DecodedPredictBody)
  /** A response body as UTF-8 (moved). */
  | { readonly id: number; readonly encoded: Uint8Array; readonly binary?: readonly Uint8Array[] }
  | { readonly id: number; readonly error: { readonly code: ErrorCode; readonly message: string; readonly httpStatus?: number } };
