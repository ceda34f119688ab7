/**
 * `previous_response_id` on `/v1/responses`: the peer that answered a response keeps its conversation
 * (the messages it was asked, without the instructions, and the answer) for a while, so the next turn
 * may send only what is new. The turn then carries the whole conversation again, so it goes home to
 * the runner holding its prompt cache like any other (conversation-affinity.ts). Bounded: the newest.
 */
import type { ChatMessage } from '../../inference/tool-calls.ts'
import { EndpointError } from './endpoint-error.ts'
import type { GenerateOutput } from './generation.ts'
import { responseCallId, responseId } from './responses.ts'
import type { TaskIdentity } from './serve-task.ts'

const MAX_RESPONSES = 1024
/** Images kept in all (as sent, data URLs up to 10 MiB each request): past it the oldest go first. */
const MAX_IMAGE_CHARS = 256 * 1024 * 1024
const KEPT_MS = 60 * 60_000

interface Kept {
  model: string
  messages: ChatMessage[]
  at: number
  /** Characters of the images its messages carry. */
  imageChars: number
}

export class ResponseStore {
  readonly #kept = new Map<string, Kept>()
  #imageChars = 0

  /** The conversation a previous response ended (its answer included); a 404 when it is not kept here. */
  conversation(id: string | null | undefined, model: string, now = Date.now()): ChatMessage[] {
    if (id === null || id === undefined) return []
    const kept = this.#kept.get(id)
    if (kept === undefined || now - kept.at > KEPT_MS) {
      throw new EndpointError(
        'not_found',
        'previous_response_not_found',
        `previous response ${id} is not kept on this peer (responses are kept for an hour, on the peer that answered them): send the whole conversation as input`,
        'previous_response_id',
      )
    }
    if (kept.model !== model) {
      throw new EndpointError(
        'invalid',
        'invalid_value',
        `previous response ${id} was answered by model "${kept.model}", not "${model}"`,
        'model',
      )
    }
    return kept.messages
  }

  /** Keeps what response `task` was asked (`history`: without the instructions) and answered. */
  remember(
    task: TaskIdentity,
    history: readonly ChatMessage[],
    output: GenerateOutput,
    now = Date.now(),
  ): void {
    const calls = output.tool_calls.map((c, i) => ({
      id: responseCallId(task, i),
      name: c.name,
      arguments: c.arguments,
    }))
    const answer: ChatMessage = {
      role: 'assistant',
      content: output.text,
      ...(calls.length > 0 ? { tool_calls: calls } : {}),
    }
    const id = responseId(task)
    this.#forget(id)
    const imageChars = history.reduce((n, m) => n + (m.images ?? []).reduce((c, url) => c + url.length, 0), 0)
    this.#kept.set(id, { model: task.model, messages: [...history, answer], at: now, imageChars })
    this.#imageChars += imageChars
    for (const oldest of this.#kept.keys()) {
      if (this.#kept.size <= MAX_RESPONSES && this.#imageChars <= MAX_IMAGE_CHARS) break
      this.#forget(oldest)
    }
  }

  #forget(id: string): void {
    this.#imageChars -= this.#kept.get(id)?.imageChars ?? 0
    this.#kept.delete(id)
  }
}
