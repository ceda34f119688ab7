/**
 * Chat messages with tool calls, as the OpenAI API carries them (the engine renders them with the
 * model's own chat template), and the schema that forces a call (`tool_choice` `required` or a
 * name), so that even a weak model answers with a call whose arguments match the tool's parameters.
 */
export interface ToolCall {
  name: string
  /** JSON text, as the OpenAI API carries it. */
  arguments: string
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool'
  content: string
  /** An assistant's calls; each id is answered by a later `tool` message. */
  tool_calls?: (ToolCall & { id: string })[]
  /** A tool message: the call it answers. */
  tool_call_id?: string
  /** A user message's images, as data URLs (vision.ts). */
  images?: string[]
  /**
   * Where each image stands in `content`: the length of the text before it, so the prompt keeps the
   * order the client gave text and images in (the tokens at their edges, the count with them, are
   * llama-server's for that order). Absent: the images come before the text.
   */
  images_at?: number[]
}

export interface Tool {
  name: string
  description?: string
  /** The arguments' JSON schema, which llama-server turns into a grammar; absent: no arguments. */
  parameters?: Record<string, unknown>
}

export type ToolChoice = 'auto' | 'none' | 'required' | { name: string }

/** Thrown when chat messages cannot be turned into a conversation the model can answer. */
export class InvalidMessagesError extends Error {
  static override readonly name = 'InvalidMessagesError'
  constructor(message: string) {
    super(message)
    this.name = 'InvalidMessagesError'
  }
}

const NO_ARGUMENTS = { type: 'object', properties: {} }

/**
 * Checks that the conversation can be answered: it ends with the user, a tool or the system, and every tool
 * message answers a call an earlier assistant message made.
 */
export function checkConversation(messages: readonly ChatMessage[]): void {
  const last = messages.at(-1)
  if (last === undefined || last.role === 'assistant')
    throw new InvalidMessagesError('the last chat message must be from the user, a tool or the system')
  const pending = new Set<string>()
  for (const m of messages) {
    for (const call of m.tool_calls ?? []) pending.add(call.id)
    if (m.role !== 'tool') continue
    if (!pending.has(m.tool_call_id ?? ''))
      throw new InvalidMessagesError(`tool message answers no earlier tool call (id "${m.tool_call_id}")`)
    pending.delete(m.tool_call_id ?? '')
  }
}

/** The tool a forced call must be: the named one, or the only tool with `required`; null when not fixed. */
export function forcedToolName(tools: readonly Tool[], choice: ToolChoice | undefined): string | null {
  if (typeof choice === 'object') return choice.name
  return choice === 'required' && tools.length === 1 ? (tools[0]?.name ?? null) : null
}

/**
 * For a call the request forces: the JSON schema its output must match, and how to read the call from
 * the output. A named tool (or the only tool) is generated as its arguments alone, so they stream as
 * they come and the call's arguments are that very text; a choice among several as
 * `{ "name": ..., "arguments": ... }`.
 */
export function forcedCall(
  tools: readonly Tool[],
  choice: ToolChoice | undefined,
): { schema: unknown; read: (json: unknown, text: string) => ToolCall[] } | null {
  if (choice === undefined || choice === 'auto' || choice === 'none') return null
  const name = forcedToolName(tools, choice)
  if (name !== null) {
    const named = tools.find((t) => t.name === name)
    if (named === undefined)
      throw new InvalidMessagesError(`tool_choice names "${name}", which is not among the tools`)
    return {
      schema: named.parameters ?? NO_ARGUMENTS,
      read: (json, text) => (json === null ? [] : [{ name, arguments: text.trim() }]),
    }
  }
  if (tools.length === 0) throw new InvalidMessagesError('tool_choice "required" needs at least one tool')
  return {
    schema: {
      oneOf: tools.map((t) => ({
        type: 'object',
        properties: { name: { const: t.name }, arguments: t.parameters ?? NO_ARGUMENTS },
        required: ['name', 'arguments'],
      })),
    },
    read: (json) => {
      const call = json as { name?: string; arguments?: unknown } | null
      return call?.name ? [{ name: call.name, arguments: JSON.stringify(call.arguments ?? {}) }] : []
    },
  }
}
