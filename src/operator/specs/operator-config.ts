/** What the operator renders that is not in a ServedModel: chosen by whoever runs the operator. */
export interface RenderConfig {
  /** Default model server image when a ServedModel names none. */
  readonly image: string;
  readonly imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
}

export const DEFAULT_IMAGE = 'tensorfleet/tensorfleet:0.1.0';
export const DEFAULT_RENDER_CONFIG: RenderConfig = { image: DEFAULT_IMAGE };
