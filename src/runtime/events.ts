// Kubernetes Events on AgentPlans and AgentSteps, deduplicated as client-go's recorder does: the
// same reason and message on the same object within the window bumps `count` and `lastTimestamp` on
// the existing Event instead of creating another.
import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { isNotFound, KubeClient, type KubeObject } from '../kube/client.ts';
import { RESOURCES } from '../kube/resources.ts';
import type { Logger } from './logger.ts';

export type EventType = 'Normal' | 'Warning';

interface Recorded {
  name: string;
  count: number;
  firstTimestamp: string;
}

export interface EventRecorderOptions {
  component: string;
  host?: string;
  logger: Logger;
  now?: () => Date;
  /** How long a repeated event is folded into the first (client-go: 10 minutes). */
  windowMs?: number;
}

export class EventRecorder {
  private readonly client: KubeClient;
  private readonly options: EventRecorderOptions;
  private readonly seen = new Map<string, Recorded & { at: number }>();

  constructor(config: KubeConfig, options: EventRecorderOptions) {
    this.client = new KubeClient(config);
    this.options = options;
  }

  /** Records an Event; failures are logged, never thrown: events are best effort. */
  async record(object: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const now = this.options.now?.() ?? new Date();
    const meta = object.metadata;
    const namespace = meta.namespace ?? 'default';
    const dedupKey = createHash('sha256')
      .update([meta.uid, object.kind, meta.name, type, reason, message].join('\u0000'))
      .digest('hex')
      .slice(0, 16);
    const windowMs = this.options.windowMs ?? 10 * 60_000;
    const previous = this.seen.get(dedupKey);
    const timestamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
    try {
      if (previous && now.getTime() - previous.at < windowMs) {
        previous.count++;
        previous.at = now.getTime();
        try {
          await this.client.patch(RESOURCES.events, namespace, previous.name, {
            count: previous.count,
            lastTimestamp: timestamp,
          });
          return;
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
      }
      const name = `${meta.name}.${now.getTime().toString(16)}${dedupKey.slice(0, 4)}`;
      await this.client.create(RESOURCES.events, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: {
          apiVersion: object.apiVersion,
          kind: object.kind,
          name: meta.name,
          namespace,
          uid: meta.uid,
          resourceVersion: meta.resourceVersion,
        },
        type,
        reason,
        message: message.slice(0, 1024),
        count: 1,
        firstTimestamp: timestamp,
        lastTimestamp: timestamp,
        source: {
          component: this.options.component,
          ...(this.options.host ? { host: this.options.host } : {}),
        },
        reportingComponent: this.options.component,
        reportingInstance: this.options.host ?? this.options.component,
      });
      this.seen.set(dedupKey, { name, count: 1, firstTimestamp: timestamp, at: now.getTime() });
      if (this.seen.size > 4096) this.seen.delete(this.seen.keys().next().value!);
    } catch (error) {
      this.options.logger.warn(
        { err: error, reason, object: `${object.kind}/${meta.name}` },
        'Could not record an event',
      );
    }
  }
}
