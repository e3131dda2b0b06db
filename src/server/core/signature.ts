import type { DType } from './host-tensor.js';

/** A signature's input or output as TensorFlow records it in the SavedModel. */
export interface TensorInfo {
  /** Graph tensor name, e.g. "serving_default_images:0". */
  readonly name: string;
  readonly dtype: DType;
  /** Dimensions with -1 for unknown; undefined when even the rank is unknown. */
  readonly shape: readonly number[] | undefined;
}

export interface SignatureDef {
  /** e.g. "tensorflow/serving/predict", ".../classify", ".../regress". */
  readonly methodName: string;
  readonly inputs: Readonly<Record<string, TensorInfo>>;
  readonly outputs: Readonly<Record<string, TensorInfo>>;
}

export type SignatureMap = Readonly<Record<string, SignatureDef>>;

/** Signature name -> why it cannot be served (e.g. "output c has unsupported dtype DT_COMPLEX64"). */
export type UnservableSignatures = Readonly<Record<string, string>>;

export const DEFAULT_SIGNATURE = 'serving_default';
export const PREDICT_METHOD = 'tensorflow/serving/predict';
export const CLASSIFY_METHOD = 'tensorflow/serving/classify';
export const REGRESS_METHOD = 'tensorflow/serving/regress';
