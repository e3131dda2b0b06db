import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../../../src/server/config/model-config.js';
import type { SourceListing, VersionSource } from '../../../../src/server/core/version-source.js';
import { VersionSourceRouter } from '../../../../src/server/sources/version-source-router.js';

/** A source that records what it was asked. */
function recordingSource(calls: string[], name: string): VersionSource {
  return {
    list: (model: ModelConfig): Promise<SourceListing> => (calls.push(`${name}.list ${model.name}`), Promise.resolve(new Map())),
    forget: (model: string): void => void calls.push(`${name}.forget ${model}`),
  };
}

const model = (basePath: string): ModelConfig => ({ name: 'm', basePath, versionPolicy: { kind: 'latest', numVersions: 1 }, versionLabels: {}, routing: {} });

describe('VersionSourceRouter', () => {
  it('routes by scheme, and a model that moves off S3 is forgotten there (its download stops)', async () => {
    const calls: string[] = [];
    const router = new VersionSourceRouter({ directory: recordingSource(calls, 'dir'), s3: () => recordingSource(calls, 's3') });
    const signal = new AbortController().signal;
    await router.list(model('s3://bucket/m'), signal);
    await router.list(model('/models/m'), signal);
    router.forget('m');
    expect(calls).toEqual(['s3.list m', 's3.forget m', 'dir.list m', 'dir.forget m', 's3.forget m']);
  });

  it('refuses a scheme it does not serve, naming it', async () => {
    const router = new VersionSourceRouter({ directory: recordingSource([], 'dir') });
    await expect(router.list(model('gs://bucket/m'), new AbortController().signal)).rejects.toMatchObject({ code: 'UNIMPLEMENTED', message: expect.stringContaining('gs://') as unknown });
  });
});
