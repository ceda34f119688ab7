/**
 * A generation request in llama-server's terms. Chat messages are rendered by the model's own chat
 * template (tools included, so the model sees them as its family expects). Plain chat, and a request
 * the model may answer with a call of its own choosing (`tool_choice` auto), go to the chat endpoint,
 * where llama.cpp renders the template (and parses a call in its family's format) in one trip; a
 * constrained one is rendered first (`/apply-template`) and goes to `/completion` with the rendered
 * prompt, where a JSON schema, a grammar or a forced call's schema
 * constrains the output and nothing but the end of the grammar ends it (no template stop string can
 * cut it short). On a model whose template thinks, a JSON schema or a forced call's schema goes to the
 * chat endpoint instead: llama.cpp's parser for the template lets the reasoning come first and
 * constrains the answer after it, and the reasoning is bounded so the answer gets its tokens (where
 * the parser makes no grammar of a schema, the schema constrains the whole answer, thinking off). The
 * chat endpoint carries the reasoning apart (`reasoning_format: deepseek`); a budget of 0 turns
 * thinking off with the template's own switch (`enable_thinking`), or, where the template opens the
 * block whatever the switch says, by beginning the reply with the block closed empty. A stream whose
 * reasoning runs past its budget (llama.cpp's own did not start) goes on in a second request: the
 * reply begun with that reasoning, closed. Sampling is OpenAI's: temperature and nucleus only.
 * Prompts are cached, so a later request sharing a prefix reuses its evaluated tokens. Pure: no I/O.
 */
import type { GenerateRequest, ToolCall } from '../generate.ts'
import { type ChatMessage, forcedCall, type Tool } from '../tool-calls.ts'
import { multimodalData, wireContent } from '../vision.ts'
import type { ReasoningLimit } from './server-stream.ts'

/** The output is JSON (a schema or a forced call): parse it; with a forced call, read the call(s) from it. */
interface JsonOutput {
  json: boolean
  calls: ((json: unknown, text: string) => ToolCall[]) | null
}

export type ServerPlan =
  | ({
      kind: 'chat'
      body: Record<string, unknown>
      /** The reasoning's budget the stream is held to (null: none, or the block is closed). */
      limit: Omit<ReasoningLimit, 'contextSize'> | null
      /**
       * The plan that goes on after the reasoning so far, closed, for the tokens left: where the
       * stream stopped a reasoning past its budget.
       */
      closed: (reasoning: string, used: number) => ServerPlan
    } & JsonOutput)
  | ({
      kind: 'completion'
      /** The body for `/apply-template` (chat messages), or null for a raw prompt. */
      template: Record<string, unknown> | null
      /** The `/completion` body, given the rendered chat prompt (null for a raw prompt). */
      completion: (rendered: string | null) => Record<string, unknown>
    } & JsonOutput)

export interface PlanOptions {
  /**
   * false renders the same prompt (tools included) for `/completion`, as plain text: the fallback when
   * the model's output does not fit its family's tool-call format, or llama.cpp has no parser for it.
   */
  parseCalls?: boolean
  /** How the model's template thinks; default `no`. */
  thinking?: Thinking
  /**
   * false where llama.cpp's parser for the template makes no grammar of a JSON schema after its
   * reasoning (Kimi K2's): the schema constrains the whole answer, on the prompt rendered with the
   * block closed.
   */
  schemaAfterReasoning?: boolean
  /** The reasoning so far, closed: the reply goes on after it (the block is not opened again). */
  reasoned?: string
}

/**
 * How a template thinks: `no`; `switchable`, a block its `enable_thinking` switch turns off (Qwen 3,
 * the DeepSeek-R1 distill); `always`, a block it opens whatever the switch says (MiniMax-M2).
 */
export type Thinking = 'no' | 'switchable' | 'always'

export function serverPlan(request: GenerateRequest, options: PlanOptions = {}): ServerPlan {
  const sampling = {
    temperature: request.temperature,
    seed: request.seed,
    top_p: request.top_p ?? 1,
    top_k: 0,
    min_p: 0,
    stream: true,
    cache_prompt: true,
  }
  const choice = request.tool_choice ?? 'auto'
  const tools = request.tools ?? []
  const forced = request.messages ? forcedCall(tools, choice) : null
  const schema = forced?.schema ?? request.json_schema
  const constrained = schema !== undefined || request.grammar !== undefined
  const callsOfItsOwn = tools.length > 0 && choice === 'auto'
  const plain = tools.length === 0 || choice === 'none'
  const images = multimodalData(request.messages ?? [])
  const json = { json: schema !== undefined, calls: forced?.read ?? null }
  const { reasoned } = options
  // Thinking first, then the schema's answer: only where the template thinks (a grammar of the
  // request's own constrains the whole output, thinking off) and llama.cpp's parser for it takes one.
  const thinking = options.thinking ?? 'no'
  const reasonedSchema = thinking !== 'no' && schema !== undefined && request.grammar === undefined
  const schemaOnChat = reasonedSchema && options.schemaAfterReasoning !== false && reasoned === undefined
  const budget = request.reasoning_budget ?? (reasonedSchema ? Math.floor(request.max_tokens / 2) : undefined)
  if (
    request.messages !== undefined &&
    ((!constrained && (plain || callsOfItsOwn)) || schemaOnChat) &&
    options.parseCalls !== false
  ) {
    return {
      kind: 'chat',
      body: {
        ...conversation(request.messages, budget === 0 ? thinking : 'no', reasoned),
        max_tokens: request.max_tokens,
        ...sampling,
        ...(request.stop?.length && !constrained ? { stop: request.stop } : {}),
        stream_options: { include_usage: true },
        // Its llama.cpp-native part says why generation stopped (end of text or a stop string).
        verbose: true,
        // Each chunk counts the tokens so far: how many went to the reasoning.
        timings_per_token: true,
        ...reasoning(reasoned === undefined ? budget : undefined),
        ...(callsOfItsOwn
          ? { tools: wireTools(tools), tool_choice: 'auto', parallel_tool_calls: false }
          : {}),
        ...(schemaOnChat ? { json_schema: schema } : {}),
      },
      limit:
        reasoned === undefined && budget !== undefined ? { budget, maxTokens: request.max_tokens } : null,
      closed: (text, used) =>
        serverPlan({ ...request, max_tokens: request.max_tokens - used }, { ...options, reasoned: text }),
      ...json,
    }
  }
  // A schema on a thinking template that does not come after the reasoning comes with it off.
  const thinkingOff = budget === 0 || request.grammar !== undefined || reasonedSchema
  return {
    kind: 'completion',
    template:
      request.messages === undefined
        ? null
        : {
            ...conversation(request.messages, thinkingOff ? thinking : 'no', reasoned),
            ...(tools.length > 0 && choice !== 'none' ? { tools: wireTools(tools) } : {}),
          },
    completion: (rendered) => ({
      // A rendered prompt names each image by a media marker; the images go beside it, in order.
      prompt:
        images.length > 0
          ? { prompt_string: rendered, multimodal_data: images }
          : (rendered ?? request.prompt ?? ''),
      n_predict: request.max_tokens,
      ...sampling,
      // The fallback evaluates its prompt afresh: what the failed attempt left in the slot's cache
      // must not change its answer.
      ...(options.parseCalls === false ? { cache_prompt: false } : {}),
      // A stop string would cut constrained output into something that does not parse.
      ...(request.stop?.length && !constrained ? { stop: request.stop } : {}),
      ...(schema !== undefined ? { json_schema: schema } : {}),
      ...(request.grammar !== undefined ? { grammar: request.grammar } : {}),
    }),
    ...json,
  }
}

/** The reasoning apart from the answer, bounded by a budget. */
function reasoning(budget: number | undefined): Record<string, unknown> {
  return {
    reasoning_format: 'deepseek',
    ...(budget !== undefined ? { reasoning_budget_tokens: budget } : {}),
  }
}

/**
 * The messages, with thinking turned off for a template that thinks (`off`): by its own switch, or,
 * where it opens the block whatever the switch says, by continuing an empty reply, which llama.cpp
 * renders with the block closed (a budget of 0 cannot end it: llama.cpp spends the forced end tag on
 * the prompt's line break after the opening tag). With the reasoning so far (`reasoned`), the reply
 * goes on after it, the block closed.
 */
function conversation(
  messages: readonly ChatMessage[],
  off: Thinking,
  reasoned: string | undefined,
): Record<string, unknown> {
  const wire = wireMessages(messages)
  if (reasoned !== undefined) return replyBegun(wire, reasoned)
  if (off === 'switchable') return { messages: wire, chat_template_kwargs: { enable_thinking: false } }
  return off === 'no' ? { messages: wire } : replyBegun(wire)
}

/**
 * The messages with a reply begun after them, continued by the model: empty, or after its reasoning
 * (llama.cpp writes the block closed, with the template's own tags, whatever its tokenizer).
 */
export function replyBegun(
  messages: readonly Record<string, unknown>[],
  reasoning = '',
): Record<string, unknown> {
  const reply = {
    role: 'assistant',
    // An empty text part: a reply with no content at all is not continued.
    content: [{ type: 'text', text: '' }],
    ...(reasoning === '' ? {} : { reasoning_content: reasoning }),
  }
  return { messages: [...messages, reply], continue_final_message: 'content', add_generation_prompt: false }
}

/**
 * Call ids as every template takes them: 9 letters and digits, by order of appearance (Mistral's
 * template refuses others; ids mean nothing to a model, and the same conversation gets the same ones,
 * so its prompt stays a cached prefix).
 */
function wireMessages(messages: readonly ChatMessage[]): Record<string, unknown>[] {
  const ids = new Map<string, string>()
  const idOf = (id: string) => {
    if (!ids.has(id)) ids.set(id, `call${String(ids.size).padStart(5, '0')}`)
    return ids.get(id) as string
  }
  return messages.map((m) => ({
    role: m.role,
    content: wireContent(m),
    ...(m.tool_calls?.length
      ? {
          tool_calls: m.tool_calls.map((c) => ({
            id: idOf(c.id),
            type: 'function',
            function: { name: c.name, arguments: c.arguments },
          })),
        }
      : {}),
    ...(m.tool_call_id !== undefined ? { tool_call_id: idOf(m.tool_call_id) } : {}),
  }))
}

function wireTools(tools: readonly Tool[]): Record<string, unknown>[] {
  return tools.map((t) => ({
    type: 'function',
    function: {
      name: t.name,
      ...(t.description ? { description: t.description } : {}),
      parameters: t.parameters ?? { type: 'object', properties: {} },
    },
  }))
}
