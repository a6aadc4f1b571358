// A step's conversation with the model, kept in a ConfigMap `<step>-conversation` so that an operator
// restart does not lose what the model was already told. The store writes it after each model call:
// the version it wrote is what it reads next (the operator is its only writer), so a call costs one
// write, not a read and a write; a conflict reads it again.

import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import { LABELS, MANAGED_BY } from '../api/index.ts';
import { ApiError, KubeClient, type KubeObject, type OwnerReference } from '../kube/client.ts';
import { RESOURCES } from '../kube/resources.ts';
import { type ChatTurn, estimateTokens } from './types.ts';

export interface StepRef {
  namespace: string;
  /** The AgentStep's name. */
  step: string;
  /** The AgentPlan's name, when the step belongs to one (adds the fractale.dev/plan label). */
  plan?: string;
  /** Usually the AgentStep, so the conversation is garbage-collected with it. */
  ownerReference?: OwnerReference;
}

type ConfigMap = KubeObject & { data?: Record<string, string> };

/** A bound on the conversations remembered, far above the steps one replica works on at once. */
const MAX_REMEMBERED = 10_000;

export interface ConversationStoreOptions {
  /** Turns kept, in estimated tokens (estimateTokens); oldest go first. Default 100 000 (about 400 KB, under a ConfigMap's 1 MiB). */
  budgetTokens?: number;
  /** Read-modify-write rounds tried when another writer got in between (409). Default 5. */
  maxConflictRetries?: number;
}

export const CONVERSATION_KEY = 'conversation.json';
const DEFAULT_BUDGET_TOKENS = 100_000;
const TRUNCATED_MARK = '[earlier text truncated]\n';

const storedSchema = z.object({
  turns: z.array(z.object({ role: z.enum(['user', 'model']), text: z.string() })),
  droppedTurns: z.int().min(0).default(0),
});
type Stored = z.infer<typeof storedSchema>;

/** `<step>-conversation`, hashed down when the step's name is too long for an object name. */
export function conversationConfigMapName(step: string): string {
  return fitName(`${step}-conversation`, 253);
}

/**
 * Keeps the newest turns whose estimated size fits `budgetTokens`. The result starts with a user turn
 * (Gemini rejects a conversation that opens with the model). A newest turn that alone exceeds the
 * budget keeps its end, where errors and conclusions usually are.
 */
export function truncateTurns(
  turns: readonly ChatTurn[],
  budgetTokens: number,
): { turns: ChatTurn[]; dropped: number } {
  const kept: ChatTurn[] = [];
  let used = 0;
  for (let i = turns.length - 1; i >= 0; i--) {
    const turn = turns[i]!;
    const cost = estimateTokens(turn.text);
    if (used + cost > budgetTokens) {
      if (kept.length === 0) {
        const chars = Math.max(0, budgetTokens * 4 - TRUNCATED_MARK.length);
        kept.unshift({ role: turn.role, text: TRUNCATED_MARK + turn.text.slice(turn.text.length - chars) });
      }
      break;
    }
    kept.unshift(turn);
    used += cost;
  }
  while (kept.length > 1 && kept[0]!.role === 'model') kept.shift();
  return { turns: kept, dropped: turns.length - kept.length };
}

export class ConversationStore {
  readonly #client: KubeClient;
  readonly #budgetTokens: number;
  readonly #maxConflictRetries: number;
  /** By namespace/name: the version last written or read. */
  readonly #known = new Map<string, ConfigMap>();
  /** Conversations known not to exist yet (see markNew). */
  readonly #absent = new Set<string>();

  constructor(kubeConfig: KubeConfig, options: ConversationStoreOptions = {}) {
    this.#client = new KubeClient(kubeConfig);
    this.#budgetTokens = options.budgetTokens ?? DEFAULT_BUDGET_TOKENS;
    this.#maxConflictRetries = options.maxConflictRetries ?? 5;
  }

  /**
   * The stored turns, oldest first; none when there is no ConfigMap yet. A ConfigMap whose content is
   * not a conversation (edited by hand) also reads as none: the next write replaces it.
   */
  async load(ref: StepRef): Promise<ChatTurn[]> {
    // Read from the API: a reader wants what is stored, hand edits included (writes catch up on a conflict).
    const current = await this.#read(ref);
    return current ? decode(current).turns : [];
  }

  /** Records that a new step has no conversation yet, so its first write reads nothing first. */
  markNew(ref: Pick<StepRef, 'namespace' | 'step'>): void {
    this.#absent.add(keyOf(ref));
  }

  /** Forgets what was remembered of a step's conversation (the step finished); the ConfigMap stays. */
  forget(ref: Pick<StepRef, 'namespace' | 'step'>): void {
    this.#known.delete(keyOf(ref));
    this.#absent.delete(keyOf(ref));
  }

  /** Adds turns after the stored ones, truncating to the budget; returns what is now stored. */
  async append(ref: StepRef, turns: readonly ChatTurn[]): Promise<ChatTurn[]> {
    return this.#update(ref, (stored) => [...stored, ...turns]);
  }

  /** Replaces the stored conversation; returns what is now stored (after truncation). */
  async save(ref: StepRef, turns: readonly ChatTurn[]): Promise<ChatTurn[]> {
    return this.#update(ref, () => [...turns]);
  }

  /** Forgets the conversation (e.g. when the manager resets a step). */
  async clear(ref: StepRef): Promise<void> {
    this.#known.delete(keyOf(ref));
    try {
      await this.#client.delete(RESOURCES.configMaps, ref.namespace, conversationConfigMapName(ref.step));
    } catch (error) {
      if (statusCode(error) !== 404) throw error;
    }
  }

  async #update(ref: StepRef, change: (stored: ChatTurn[]) => ChatTurn[]): Promise<ChatTurn[]> {
    const name = conversationConfigMapName(ref.step);
    const key = keyOf(ref);
    for (let round = 0; ; round++) {
      const absent = round === 0 && this.#absent.delete(key);
      const current = absent
        ? undefined
        : ((round === 0 ? this.#known.get(key) : undefined) ?? (await this.#read(ref)));
      const before = current ? decode(current) : { turns: [], droppedTurns: 0 };
      const { turns, dropped } = truncateTurns(change(before.turns), this.#budgetTokens);
      const stored: Stored = { turns, droppedTurns: before.droppedTurns + dropped };
      const body = this.#build(ref, name, stored, current);
      try {
        const written = current
          ? await this.#client.replace<ConfigMap>(RESOURCES.configMaps, body)
          : await this.#client.create<ConfigMap>(RESOURCES.configMaps, body);
        this.#remember(key, written as ConfigMap);
        return turns;
      } catch (error) {
        // 409 is a conflict on replace, or AlreadyExists on create: someone else wrote; 404, it was
        // deleted. Read it again.
        this.#known.delete(key);
        const code = statusCode(error);
        if ((code !== 409 && code !== 404) || round >= this.#maxConflictRetries) throw error;
      }
    }
  }

  async #read(ref: StepRef): Promise<ConfigMap | undefined> {
    try {
      const read = await this.#client.get<ConfigMap>(
        RESOURCES.configMaps,
        ref.namespace,
        conversationConfigMapName(ref.step),
      );
      this.#remember(keyOf(ref), read);
      return read;
    } catch (error) {
      if (statusCode(error) === 404) return undefined;
      throw error;
    }
  }

  #remember(key: string, object: ConfigMap): void {
    this.#known.delete(key);
    this.#known.set(key, object);
    if (this.#known.size > MAX_REMEMBERED) this.#known.delete(this.#known.keys().next().value!);
  }

  #build(ref: StepRef, name: string, stored: Stored, current: ConfigMap | undefined): ConfigMap {
    const labels: Record<string, string> = {
      ...(current?.metadata?.labels ?? {}),
      [LABELS.managedBy]: MANAGED_BY,
      [LABELS.step]: fitName(ref.step, 63),
    };
    if (ref.plan) labels[LABELS.plan] = fitName(ref.plan, 63);
    const ownerReferences =
      current?.metadata?.ownerReferences ?? (ref.ownerReference ? [ref.ownerReference] : undefined);
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name,
        namespace: ref.namespace,
        labels,
        ...(current?.metadata?.annotations ? { annotations: current.metadata.annotations } : {}),
        ...(ownerReferences ? { ownerReferences } : {}),
        // Replacing with the resourceVersion we read makes a concurrent write a 409, not a lost update.
        ...(current?.metadata?.resourceVersion ? { resourceVersion: current.metadata.resourceVersion } : {}),
      },
      data: { [CONVERSATION_KEY]: JSON.stringify(stored) },
    };
  }
}

function decode(configMap: ConfigMap): Stored {
  const raw = configMap.data?.[CONVERSATION_KEY];
  if (!raw) return { turns: [], droppedTurns: 0 };
  try {
    const parsed = storedSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : { turns: [], droppedTurns: 0 };
  } catch {
    return { turns: [], droppedTurns: 0 };
  }
}

function statusCode(error: unknown): number | undefined {
  return error instanceof ApiError ? error.code : undefined;
}

const keyOf = (ref: Pick<StepRef, 'namespace' | 'step'>) =>
  `${ref.namespace}/${conversationConfigMapName(ref.step)}`;

/** `name` if it fits `max`, else a prefix and a short hash of the whole, still a valid DNS name. */
function fitName(name: string, max: number): string {
  if (name.length <= max) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, max - 9).replace(/[-.]+$/, '')}-${hash}`;
}
