/**
 * The model's chat template, rendered by llama-server (`/apply-template`), and how it thinks (asked
 * once per loaded model). A template that raises (a role order it refuses, a call id it cannot
 * render...) is a limit of the model's template, said as such, not a failure of the engine.
 */
import type { EngineResponse } from './engine-http.ts'
import { replyBegun, type Thinking } from './server-request.ts'
import { EngineRequestError, refusal } from './server-stream.ts'

/** llama.cpp's words when it cannot build a parser for the template (with this conversation). */
export const NO_PARSER = /Unable to generate parser/

/** The template raised on the conversation: a 400 naming the template's problem. */
export class TemplateRenderError extends EngineRequestError {
  static override readonly name = 'TemplateRenderError'
  constructor(model: string, why: string) {
    super(
      400,
      'invalid_request_error',
      `the chat template of model "${model}" cannot render this conversation: ${why}`,
    )
    this.name = 'TemplateRenderError'
  }
}

/** A POST to the model's llama-server (a broken connection already said as the engine's failure). */
export type ServerPost = (
  path: string,
  body: Record<string, unknown>,
  signal: AbortSignal,
) => Promise<EngineResponse>

export class TemplateRender {
  readonly #model: string
  readonly #post: ServerPost
  #thinking: Promise<Thinking> | null = null
  #toolTurns: Promise<boolean> | null = null

  constructor(model: string, post: ServerPost) {
    this.#model = model
    this.#post = post
  }

  async render(body: Record<string, unknown>, signal: AbortSignal): Promise<string> {
    const response = await this.#post('/apply-template', body, signal)
    if (response.ok) return ((await response.json()) as { prompt: string }).prompt
    const refused = await refusal(response)
    // A template that raised, or one llama.cpp could not render the conversation with while building
    // its parser (it says so in a 400).
    if (refused.status < 500 && !NO_PARSER.test(refused.message)) throw refused
    throw new TemplateRenderError(this.#model, refused.message)
  }

  /**
   * How the template thinks: it renders a turn differently with `enable_thinking` off (a switch), or
   * the turn with the reply begun empty extends it by the block's closing (llama.cpp's continuation
   * closes a block the template opened). A template that cannot render says so on the request itself.
   */
  thinking(signal: AbortSignal): Promise<Thinking> {
    this.#thinking ??= (async (): Promise<Thinking> => {
      const messages = [{ role: 'user', content: 'hi' }]
      const [on, off, begun] = await Promise.all([
        this.render({ messages, chat_template_kwargs: { enable_thinking: true } }, signal),
        this.render({ messages, chat_template_kwargs: { enable_thinking: false } }, signal),
        this.render(replyBegun(messages), signal),
      ])
      if (on !== off) return 'switchable'
      // Templates without a block garble the continuation or leave it as it was.
      return begun.startsWith(on) && begun.slice(on.length).trim() !== '' ? 'always' : 'no'
    })().catch(() => {
      this.#thinking = null
      return 'no'
    })
    return this.#thinking
  }

  /**
   * Whether the template writes a conversation's tool turns: a call and its result rendered show
   * both. Phi-3.5's renders only system, user and assistant messages, dropping the calls and their
   * results without a word (the model would answer as if no tool had run); Gemma 2's raises.
   */
  takesToolTurns(signal: AbortSignal): Promise<boolean> {
    this.#toolTurns ??= (async () => {
      const prompt = await this.render({ messages: TOOL_TURN_PROBE, add_generation_prompt: true }, signal)
      return prompt.includes(PROBE_TOOL) && prompt.includes(PROBE_RESULT)
    })().catch((err: unknown) => {
      // The template raised on them: the same as dropping them. An engine that failed is asked again.
      if (err instanceof TemplateRenderError) return false
      this.#toolTurns = null
      throw err
    })
    return this.#toolTurns
  }
}

const PROBE_TOOL = 'ripple_probe_tool'
const PROBE_RESULT = 'ripple-probe-result'
/** A call and its result (the id as Mistral's template takes them: 9 letters and digits). */
const TOOL_TURN_PROBE = [
  { role: 'user', content: 'hi' },
  {
    role: 'assistant',
    content: '',
    tool_calls: [{ id: 'call00001', type: 'function', function: { name: PROBE_TOOL, arguments: '{}' } }],
  },
  { role: 'tool', tool_call_id: 'call00001', content: PROBE_RESULT },
]
