/**
 * A conversation stays where its cache is. An agent loop resends its growing conversation every turn;
 * the runner that served the last turn holds its evaluated prompt (llama-server's prompt cache), and a
 * turn sent elsewhere evaluates it all again (measured: ~1,090 ms to the first token against ~300 ms).
 * Each answered request's messages are remembered by a rolling hash of their prefix; a later request
 * whose messages extend a remembered conversation names that runner as its home (the longest prefix
 * wins). An agent that names its session (agent-session.ts: Claude Code, Codex, opencode) is kept by
 * it instead, whatever its messages: a subagent's first turn goes to its parent conversation's runner
 * (their shared system prompt and tools are cached there), where route-plan.ts puts a home with room
 * first and a full one behind the free runners. Bounded: the newest turns, for a while.
 */
import { createHash } from 'node:crypto'
import type { AgentSession } from '../agent-session.ts'

/**
 * How many answered turns are remembered at most, least recently answered going first: a live
 * conversation's latest turn is among the newest, and its earlier turns (kept for a branch or a retry
 * from them) go before it.
 */
export const MAX_CONVERSATIONS = 4096
/** How long a conversation's home is remembered after its last turn. */
export const AFFINITY_TTL_MS = 15 * 60_000

/** The hash of every prefix of `messages` (index i: the first i + 1 messages). */
export function prefixKeys(messages: readonly unknown[]): string[] {
  const keys: string[] = []
  let previous = ''
  for (const message of messages) {
    previous = createHash('sha256').update(previous).update(JSON.stringify(message)).digest('base64url')
    keys.push(previous)
  }
  return keys
}

const hash = (...parts: string[]) => createHash('sha256').update(parts.join('\n')).digest('base64url')

/**
 * The keys a request's home is looked up by, the one it is remembered by last (see `home`): an agent
 * session's parent conversation, then its own; without a session, every prefix of its messages (null:
 * neither, nothing to keep).
 */
export function affinityKeys(
  model: string,
  messages: readonly unknown[] | null,
  session: AgentSession | null,
): string[] | null {
  if (session !== null) {
    const key = (thread: string | null) => hash('session', model, session.agent, session.id, thread ?? '')
    return session.thread === null ? [key(null)] : [key(session.parent), key(session.thread)]
  }
  return messages === null ? null : prefixKeys([model, ...messages])
}

export class ConversationAffinity {
  /** Conversation key -> its runner and when it last answered; least recently answered first. */
  readonly #homes = new Map<string, { agent: string; at: number }>()

  /** The runner that served the longest remembered prefix (`keys` from prefixKeys), or null. */
  home(keys: readonly string[], now = Date.now()): string | null {
    for (let i = keys.length - 1; i >= 0; i--) {
      const home = this.#homes.get(keys[i]!)
      if (home !== undefined && now - home.at < AFFINITY_TTL_MS) return home.agent
    }
    return null
  }

  /** `agent` answered the messages of `keys`: their next turn (these messages and more) goes home to it. */
  answered(keys: readonly string[], agent: string, now = Date.now()): void {
    const key = keys.at(-1)
    if (key === undefined) return
    this.#homes.delete(key)
    this.#homes.set(key, { agent, at: now })
    for (const oldest of this.#homes.keys()) {
      if (this.#homes.size <= MAX_CONVERSATIONS) break
      this.#homes.delete(oldest)
    }
  }

  get size(): number {
    return this.#homes.size
  }
}
