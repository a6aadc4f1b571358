import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { estimateTokens } from '../../kube/logfilter.ts';
import { miniclusterSchemaOutline, type OpenApiSchema, schemaOutline } from './schema.ts';

const crd = parse(
  readFileSync(new URL('../../../test/fixtures/crds/minicluster.yaml', import.meta.url), 'utf8'),
);

describe('MiniCluster schema outline', () => {
  const outline = miniclusterSchemaOutline(crd)!;

  it.each([
    '  size: integer (default 1)',
    '  containers[]:',
    '    command: string',
    '      pre: string',
    '    launcher: boolean',
    '    strict: boolean (default false)',
    '      image: string (default ghcr.io/converged-computing/flux-view-ubuntu:tag-noble)',
  ])('shows %j', (line) => {
    expect(outline.split('\n')).toContain(line);
  });

  it.each([
    'securityContext',
    'status',
    'services',
    'bursting',
    'hostPID',
    'mungeSecret',
    'imagePullSecret',
    'secrets',
  ])('leaves out %s', (field) => {
    expect(outline).not.toMatch(new RegExp(`^\\s*${field}\\b`, 'm'));
  });

  it('costs far fewer tokens than the CRD', () => {
    const raw = readFileSync(
      new URL('../../../test/fixtures/crds/minicluster.yaml', import.meta.url),
      'utf8',
    );
    expect(estimateTokens(outline)).toBeLessThan(estimateTokens(raw) / 10);
  });

  it('returns nothing for a CRD without the v1alpha2 version', () => {
    expect(miniclusterSchemaOutline({ spec: { versions: [{ name: 'v1alpha1' }] } })).toBeUndefined();
    expect(miniclusterSchemaOutline(null)).toBeUndefined();
  });

  it.each<{ name: string; schema: OpenApiSchema; want: string }>([
    {
      name: 'int-or-string and enums',
      schema: {
        properties: {
          port: { 'x-kubernetes-int-or-string': true },
          mode: { type: 'string', enum: ['a', 'b'], default: 'a' },
        },
      },
      want: 'mode: string (one of a|b, default a)\nport: int-or-string',
    },
    {
      name: 'lists of scalars and depth limits',
      schema: {
        properties: {
          deep: {
            type: 'object',
            properties: { x: { type: 'object', properties: { y: { type: 'string' } } } },
          },
          tags: { type: 'array', items: { type: 'string' } },
        },
      },
      want: 'deep:\n  x: object\ntags: list of string',
    },
  ])('renders $name', ({ schema, want }) => {
    expect(schemaOutline(schema, { omit: [], maxDepth: 1 })).toBe(want);
  });
});
