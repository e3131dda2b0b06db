import { describe, expect, it } from 'vitest';
import { downloadFailedText, downloadFailures } from '../../../src/shared/model-status-text.js';

describe('download failure words', () => {
  it('say how many attempts failed in a row, and read back', () => {
    expect(downloadFailedText(1, 'socket hang up')).toBe(', which failed 1 time in a row (socket hang up)');
    expect(downloadFailedText(4, 'AccessDenied')).toBe(', which failed 4 times in a row (AccessDenied)');
    expect(downloadFailures(`downloading version 3 from s3://m/${downloadFailedText(12, 'x (y)')}; retrying`)).toBe(12);
    expect(downloadFailures('downloading version 3 from s3://m/ (version 3: 1 of 2 MB)')).toBeUndefined();
  });
});
