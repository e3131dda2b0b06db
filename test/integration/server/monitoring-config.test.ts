/**
 * TF Serving's --monitoring_config_file on the real server: metrics are also served at the path
 * it names (Prometheus scrape configs made for TF Serving keep working), and a file the server
 * cannot use stops it with a message naming the problem.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { REPO_ROOT } from '../../helpers/server/build-check.js';
import { FIXTURES_DIR } from '../../helpers/server/fixture-tensors.js';
import { tempDir, type TempDir } from '../../helpers/server/model-dirs.js';
import { rest } from '../../helpers/server/rest-client.js';
import { startServer, type ServerProcess } from '../../helpers/server/server-process.js';

let dir: TempDir;
let server: ServerProcess;

beforeAll(async () => {
  dir = tempDir('tensorfleet-monitoring-');
  const config = join(dir.path, 'monitoring.config');
  writeFileSync(config, 'prometheus_config {\n  enable: true,\n  path: "/custom/prometheus"\n}\n');
  server = await startServer({
    config: `model_config_list:\n  - {name: tiny, base_path: ${JSON.stringify(join(FIXTURES_DIR, 'models', 'tiny'))}}\n`,
    args: [`--monitoring_config_file=${config}`],
  });
});

afterAll(async () => {
  if (server) expect(await server.stop()).toEqual({ code: 0, signal: null });
  dir?.remove();
});

test('metrics are served at the configured path as well as at /metrics and TF Serving\'s default path', async () => {
  await rest(server.restUrl, '/v1/models/tiny:predict', { body: JSON.stringify({ instances: [[1, 2, 3, 4]] }) });
  for (const path of ['/custom/prometheus', '/metrics', '/monitoring/prometheus/metrics']) {
    const reply = await rest(server.restUrl, path);
    expect(reply.status, path).toBe(200);
    expect(reply.text, path).toMatch(/^:tensorflow:serving:request_count\{model_name="tiny",status="OK"\} 1$/m);
  }
  expect((await rest(server.restUrl, '/custom/other')).status).toBe(404);
});

test('a monitoring config the server cannot use stops it with a message naming the problem', () => {
  const cases: [string, RegExp][] = [
    ['prometheus_config { enable: true path: "metrics" }\n', /prometheus_config.path must be a URL path starting with "\/"/],
    ['prometheus_config { enable: true port: 1 }\n', /unsupported field "prometheus_config.port"/],
  ];
  for (const [text, message] of cases) {
    const file = join(dir.path, 'bad.config');
    writeFileSync(file, text);
    const run = spawnSync(
      process.execPath,
      [join(REPO_ROOT, 'bin', 'tensorfleet.js'), 'serve', `--model_base_path=${join(FIXTURES_DIR, 'models', 'tiny')}`, '--port=0', '--rest_api_port=0', `--monitoring_config_file=${file}`],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 1, stderr: expect.stringMatching(message) as unknown });
  }
});
