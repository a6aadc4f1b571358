// Writes the CRDs generated from src/api to crds/ (and the chart's copy when the chart exists).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crdFiles } from '../src/api/crd.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CRD_DIRS = ['crds', 'charts/fractale/crds', 'config/crd/bases'];

for (const dir of CRD_DIRS) {
  const target = join(root, dir);
  if (dir !== 'crds' && !existsSync(dirname(target))) continue;
  mkdirSync(target, { recursive: true });
  for (const [file, text] of Object.entries(crdFiles())) writeFileSync(join(target, file), text);
  console.log(`Wrote CRDs to ${dir}/`);
}
