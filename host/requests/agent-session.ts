/**
 * The coding agents' own session headers (issue 58, point 4), read from a request so its session can
 * keep its runner (its prompt cache), be capped per API key, and be counted in usage. Only the headers
 * the agents are known to send are read, as their own code names them:
 * - Claude Code: `X-Claude-Code-Session-Id` on every request; a subagent's calls add
 *   `x-claude-code-agent-id` and, when its parent is a subagent too, `x-claude-code-parent-agent-id`
 *   (the main conversation sends neither).
 * - Codex: `session-id` (`session_id` and `conversation_id` in older releases) for the session,
 *   `thread-id` for the conversation within it, `x-codex-parent-thread-id` on a subagent's calls.
 * - opencode: `x-opencode-session`.
 * A value must be 1 to 128 characters of ids and separators; anything else (too long, odd characters,
 * a header sent twice) is ignored with a debug line, never an error: the prefix hash stands then. Pure.
 */

export type SessionAgent = 'claude-code' | 'codex' | 'opencode'

export interface AgentSession {
  agent: SessionAgent
  /** The session: what usage and an API key's session caps count by (a subagent's calls included). */
  id: string
  /** The conversation within the session: a subagent's or a thread's own id; null: the main one. */
  thread: string | null
  /** A subagent's parent conversation (null: the main one); meaningful only with `thread`. */
  parent: string | null
}

/** Request headers as Node gives them: names in lower case, a header sent twice as an array. */
export type RequestHeaders = Record<string, string | string[] | undefined>

/** Told of a header that was sent and ignored (a debug line). */
export type IgnoredHeader = (fields: { header: string; why: string }, message: string) => void

interface AgentHeaders {
  agent: SessionAgent
  /** The first of these that is sent names the session. */
  session: readonly string[]
  thread: readonly string[]
  parent: readonly string[]
}

/** Every header read, by agent, in the order tried; the first agent whose session header is sent wins. */
export const SESSION_HEADERS: readonly AgentHeaders[] = [
  {
    agent: 'claude-code',
    session: ['x-claude-code-session-id'],
    thread: ['x-claude-code-agent-id'],
    parent: ['x-claude-code-parent-agent-id'],
  },
  {
    agent: 'codex',
    session: ['session-id', 'session_id', 'conversation_id'],
    thread: ['thread-id', 'thread_id'],
    parent: ['x-codex-parent-thread-id'],
  },
  { agent: 'opencode', session: ['x-opencode-session'], thread: [], parent: [] },
]

export const MAX_SESSION_ID = 128
/** Ids and the separators agents put in them (Claude Code percent-escapes anything else). */
const ID = /^[A-Za-z0-9._:@%+=-]+$/

/** The agent's session of a request, or null when it sent none that reads (the prefix hash stands then). */
export function agentSession(
  headers: RequestHeaders,
  ignored: IgnoredHeader = () => {},
): AgentSession | null {
  const read = (names: readonly string[]) => {
    for (const header of names) {
      const value = headers[header]
      if (value === undefined) continue
      const why = junk(value)
      if (why === null) return value as string
      ignored({ header, why }, 'agent session header ignored')
    }
    return null
  }
  for (const known of SESSION_HEADERS) {
    const id = read(known.session)
    if (id === null) continue
    const thread = read(known.thread)
    // A parent names a conversation within the session: without a thread of its own it says nothing.
    const parent = thread === null ? null : read(known.parent)
    return {
      agent: known.agent,
      id,
      thread: thread === id ? null : thread,
      parent: parent === id ? null : parent,
    }
  }
  return null
}

/** Why a header's value is not an id (null: it is one). */
function junk(value: string | string[]): string | null {
  if (Array.isArray(value)) return 'sent more than once'
  if (value.length === 0) return 'empty'
  if (value.length > MAX_SESSION_ID) return `longer than ${MAX_SESSION_ID} characters`
  if (!ID.test(value)) return 'characters other than letters, digits and . _ : @ % + = -'
  return null
}

/** How a session is named in usage and in a cap's refusal: its agent and its id. */
export const sessionName = (s: Pick<AgentSession, 'agent' | 'id'>): string => `${s.agent}:${s.id}`
