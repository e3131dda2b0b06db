import { describe, expect, it } from 'vitest';
import { ServingError } from '../../../../src/shared/errors.js';
import { parseDurationMicros, parseDurationMs } from '../../../../src/operator/specs/duration.js';

describe('parseDurationMs', () => {
  it.each([
    ['30s', 30_000],
    ['1m30s', 90_000],
    ['500ms', 500],
    ['1.5h', 5_400_000],
  ])('%s is %d ms', (text, ms) => expect(parseDurationMs(text)).toBe(ms));

  it.each(['', 'soon', '30', '5d', '1m 30s'])('rejects %j with INVALID_ARGUMENT', (text) => {
    let caught: unknown;
    try {
      parseDurationMs(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ServingError);
    expect(caught).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((caught as ServingError).message).toContain('is not a duration');
  });
});

describe('parseDurationMicros', () => {
  it.each([
    ['0s', 0],
    ['500us', 500],
    ['2ms', 2000],
    ['1.5ms', 1500],
    ['1s250ms', 1_250_000],
    ['0.0004ms', 0],
    ['2.5us', 3],
  ])('%s is %d µs', (text, us) => expect(parseDurationMicros(text)).toBe(us));

  it.each(['', '2', '2m', '1h', '5ns', '2 ms'])('rejects %j with INVALID_ARGUMENT', (text) => {
    expect(() => parseDurationMicros(text)).toThrow(/is not a duration such as 500us or 2ms/);
  });

  it('leaves parseDurationMs without microseconds, as pollInterval allows', () => {
    expect(() => parseDurationMs('500us')).toThrow(/is not a duration/);
  });
});
