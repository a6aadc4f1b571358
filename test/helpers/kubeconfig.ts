// A KubeConfig for a loopback API server (plain HTTP, as the simulated cluster serves).
import { KubeConfig } from '@kubernetes/client-node';

export function kubeConfigFor(url: string, namespace = 'default'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'test', server: url, skipTLSVerify: true }],
    users: [{ name: 'test', token: 'test-token' }],
    contexts: [{ name: 'test', cluster: 'test', user: 'test', namespace }],
    currentContext: 'test',
  });
  return kc;
}

/**
 * Waits until the check passes (polling; for conditions that no event announces to the test). The
 * default bound is generous, for a loaded 2-core machine: a passing check returns at once anyway.
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  timeoutMs = 20_000,
  intervalMs = 10,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== false && value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(
    `condition not met in ${timeoutMs} ms${lastError ? `: ${(lastError as Error).message}` : ''}`,
  );
}
