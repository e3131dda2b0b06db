/** Deterministic float inputs shared by the ceiling and the load generators (same values, same answers). */
export function benchInput(shape: readonly number[]): Float32Array {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = ((i * 7919) % 1000) / 1000;
  return values;
}
