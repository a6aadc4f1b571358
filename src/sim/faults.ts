// A fault-injecting HTTP proxy in front of the simulated API server: what a loaded or restarting
// control plane does to its clients, at set rates. Writes fail with 500 (half of them before the write
// reaches the server, half after it was applied, as when an answer is lost), updates and patches with
// 409 Conflict, any request with 429 and Retry-After, and every watch is cut after a random 5-20 s.
// The chaos harness (bench/chaos.ts) runs the operator through it.

import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface FaultRates {
  /** Share of writes (POST, PUT, PATCH, DELETE) answered 500 Internal Server Error. */
  writeError: number;
  /** Share of updates and patches (PUT, PATCH) answered 409 Conflict. */
  conflict: number;
  /** Share of all requests answered 429 Too Many Requests with Retry-After. */
  tooManyRequests: number;
  /** Every watch is cut after a random time in this range (ms); undefined leaves watches alone. */
  watchCutMs?: [number, number];
  /** The Retry-After of a 429, in seconds. */
  retryAfterSeconds: number;
}

export const DEFAULT_FAULT_RATES: FaultRates = {
  writeError: 0.1,
  conflict: 0.05,
  tooManyRequests: 0.02,
  watchCutMs: [5_000, 20_000],
  retryAfterSeconds: 1,
};

export interface FaultCounts {
  requests: number;
  writes: number;
  /** 500s sent without forwarding the write. */
  errorsBefore: number;
  /** 500s sent after the write was applied (the client cannot know it was). */
  errorsAfter: number;
  conflicts: number;
  tooManyRequests: number;
  watches: number;
  watchesCut: number;
}

export interface FaultProxy {
  url: string;
  counts: FaultCounts;
  /** Turns injection on or off (on at start); forwarding goes on either way. */
  setEnabled(enabled: boolean): void;
  close(): Promise<void>;
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function status(
  res: ServerResponse,
  code: number,
  reason: string,
  message: string,
  headers: Record<string, string> = {},
) {
  const body = JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
    ...(headers['Retry-After'] ? { details: { retryAfterSeconds: Number(headers['Retry-After']) } } : {}),
  });
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(body)),
    ...headers,
  });
  res.end(body);
}

/**
 * Starts the proxy on a free loopback port in front of `target` (an http:// API server URL).
 * `random` decides every fault, so a seeded generator reproduces a run's faults.
 */
export async function startFaultProxy(
  target: string,
  rates: FaultRates = DEFAULT_FAULT_RATES,
  random: () => number = Math.random,
): Promise<FaultProxy> {
  const upstream = new URL(target);
  const counts: FaultCounts = {
    requests: 0,
    writes: 0,
    errorsBefore: 0,
    errorsAfter: 0,
    conflicts: 0,
    tooManyRequests: 0,
    watches: 0,
    watchesCut: 0,
  };
  let enabled = true;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const forward = (req: IncomingMessage, res: ServerResponse, replace?: () => void) => {
    const proxied = httpRequest(
      {
        hostname: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        if (replace) {
          // The write was applied; its answer is lost and a 500 sent instead.
          answer.resume();
          answer.on('end', replace);
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    proxied.on('error', (error) => {
      if (!res.headersSent) status(res, 502, 'ServiceUnavailable', `proxy: ${error.message}`);
      else res.destroy();
    });
    req.pipe(proxied);
    res.on('close', () => proxied.destroy());
  };

  const server = createServer((req, res) => {
    counts.requests++;
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://proxy');
    const isWatch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    const isWrite = WRITES.has(method);
    if (isWrite) counts.writes++;
    if (!enabled || url.pathname === '/version' || url.pathname.startsWith('/openapi')) {
      forward(req, res);
      return;
    }
    if (random() < rates.tooManyRequests) {
      counts.tooManyRequests++;
      req.resume();
      status(
        res,
        429,
        'TooManyRequests',
        'the server has received too many requests and has asked us to try again later',
        {
          'Retry-After': String(rates.retryAfterSeconds),
        },
      );
      return;
    }
    if ((method === 'PUT' || method === 'PATCH') && random() < rates.conflict) {
      counts.conflicts++;
      req.resume();
      status(
        res,
        409,
        'Conflict',
        'Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again',
      );
      return;
    }
    if (isWrite && random() < rates.writeError) {
      const internal = () =>
        status(res, 500, 'InternalError', 'Internal error occurred: injected by the fault proxy');
      if (random() < 0.5) {
        counts.errorsBefore++;
        req.resume();
        internal();
      } else {
        counts.errorsAfter++;
        forward(req, res, internal);
      }
      return;
    }
    if (isWatch) {
      counts.watches++;
      if (rates.watchCutMs) {
        const [low, high] = rates.watchCutMs;
        const timer = setTimeout(
          () => {
            timers.delete(timer);
            counts.watchesCut++;
            res.destroy();
          },
          low + random() * (high - low),
        );
        timers.add(timer);
        res.on('close', () => {
          clearTimeout(timer);
          timers.delete(timer);
        });
      }
    }
    forward(req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    setEnabled: (value) => {
      enabled = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
