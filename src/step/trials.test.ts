// Reading a failed trial's log: a busy API server is asked again, a container without a log is not.
import { describe, expect, it } from 'vitest';
import { ApiError, type KubeClient } from '../kube/client.ts';
import { podLog } from './trials.ts';

const pod = {
  metadata: { name: 'run-1-abcde', namespace: 'default' },
  spec: { containers: [{ name: 'lammps' }] },
};

function client(answers: (string | Error)[]) {
  const calls: string[] = [];
  const fake = {
    async logs(_namespace: string, name: string) {
      calls.push(name);
      const next = answers.shift();
      if (next instanceof Error) throw next;
      return next ?? '';
    },
  };
  return { client: fake as unknown as KubeClient, calls };
}

describe('podLog', () => {
  it('asks again when the API server answers 429 or 500, and returns the log', async () => {
    const { client: c, calls } = client([
      new ApiError(429, 'TooManyRequests', 'try again later'),
      new ApiError(500, 'InternalError', 'Internal error occurred'),
      'sh: 1: lmp: not found\n',
    ]);
    expect(await podLog(c, pod as never, 1000)).toBe('sh: 1: lmp: not found\n');
    expect(calls).toHaveLength(3);
  });

  it('does not ask again for a container that has no log yet (400)', async () => {
    const { client: c, calls } = client([
      new ApiError(
        400,
        'BadRequest',
        'container "lammps" in pod "run-1-abcde" is waiting to start: ErrImagePull',
      ),
    ]);
    expect(await podLog(c, pod as never, 1000)).toMatch(/^\(no log: .*waiting to start/);
    expect(calls).toHaveLength(1);
  });

  it('gives up after five tries and says why', async () => {
    const { client: c, calls } = client(
      Array.from({ length: 6 }, () => new ApiError(503, 'ServiceUnavailable', 'the server is shutting down')),
    );
    expect(await podLog(c, pod as never, 1000)).toBe('(no log: the server is shutting down)');
    expect(calls).toHaveLength(5);
  }, 30_000);
});
