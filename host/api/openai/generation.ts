/**
 * What the four text APIs (chat completions, completions, responses, Anthropic messages) share once
 * a request is read: Ripple's `ripple` extension, how the output streams (text, a forced call's
 * arguments, or a call known only at the end), call ids, and token usage.
 */
import { z } from 'zod'
import { KEEP_FOREVER, parseKeepAlive } from '../../inference/keep-alive.ts'
import { forcedToolName } from '../../inference/tool-calls.ts'
import {
  type InferGenerateInput,
  InferGenerateInputSchema,
  type InferGenerateOutput,
} from '../../workers/infer-generate.ts'
import { EndpointError } from './endpoint-error.ts'

export type GenerateInput = InferGenerateInput
export type GenerateOutput = InferGenerateOutput

/**
 * `{"ripple": {"fan_out": 3}}`: the answer most of 3 peers agree on. `route`: `direct` (default) sends
 * the request straight to its runner with the signed record following; `round` makes it a task of the
 * scheduling round (claims, an assignment with a lease, retries) before anything runs. Fan-out always
 * takes the round.
 */
export const RippleExtensionSchema = z
  .strictObject({
    fan_out: z.number().int().min(1).max(16).default(1),
    route: z.enum(['direct', 'round']).default('direct'),
  })
  .default({ fan_out: 1, route: 'direct' })
export type RippleRoute = 'direct' | 'round'

/** The part of a call that the request's `ripple` extension decides. */
export function rippleOptions(ripple: z.output<typeof RippleExtensionSchema>): {
  fanOut: number
  route: RippleRoute
} {
  return { fanOut: ripple.fan_out, route: ripple.route }
}

/** A request read into the task input and how it is answered. */
export interface GenerateCall {
  model: string
  input: GenerateInput
  fanOut: number
  route: RippleRoute
  stream: boolean
  /**
   * What the request asked that Ripple leaves out (fields it does not use, tools no peer can run,
   * content it cannot show the model), each in a few words: logged at debug, never refused, so a
   * client's next version does not break the mesh.
   */
  ignored?: string[]
}

/** The most tokens one generation takes: the worker's own bound (its schema always sets one). */
export const MAX_TOKENS =
  InferGenerateInputSchema.shape.max_tokens.unwrap().maxValue ?? Number.MAX_SAFE_INTEGER

/**
 * Any positive count, clamped to MAX_TOKENS rather than refused: agents ask for more than a model
 * gives (Claude Code 32000, others 64k), and the runner clamps further to what its context leaves.
 */
export const MaxTokensSchema = z
  .number()
  .int()
  .min(1)
  .transform((n) => Math.min(n, MAX_TOKENS))

/** Bounds shared with the worker's input, so a bad value is a 400 naming the API's own field. */
export const TemperatureSchema = z.number().min(0).max(2)
export const TopPSchema = z.number().gt(0).max(1)
export const SeedSchema = z.number().int().min(0).max(0xffffffff)

/**
 * Ollama's `keep_alive` on any /v1 request: seconds, or a duration ("10m"); 0 unloads the model right
 * after, -1 never; past a week, a week. Carried to the runner as `keep_alive_ms` (-1: never), which
 * holds it to its operator's `--keep-alive`.
 */
export const KeepAliveSchema = z.union([z.string().max(32), z.number()]).transform((value, ctx) => {
  try {
    const ms = parseKeepAlive(value)
    return ms === KEEP_FOREVER ? -1 : ms
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message })
    return z.NEVER
  }
})
export const StopSchema = z.union([z.string().min(1), z.array(z.string().min(1)).max(8)])

export function stopList(stop: string | string[] | null | undefined): string[] | undefined {
  if (stop === null || stop === undefined) return undefined
  return typeof stop === 'string' ? [stop] : stop.length > 0 ? stop : undefined
}

/** The sampling fields the four text APIs name alike. */
interface SamplingFields {
  temperature?: number | null | undefined
  top_p?: number | null | undefined
  seed?: number | null | undefined
  keep_alive?: number | undefined
}

/**
 * The worker's sampling input from a request: the fields every API names alike, and the stop list
 * and reasoning budget each API reads in its own words first.
 */
export function samplingInput(
  request: SamplingFields,
  read: { stop?: string[] | undefined; reasoningBudget?: number | undefined } = {},
): Pick<GenerateInput, 'temperature' | 'top_p' | 'seed' | 'keep_alive_ms' | 'stop' | 'reasoning_budget'> {
  return {
    // 1 when absent: every API's default (Anthropic's scale runs 0..1, OpenAI's 0..2).
    temperature: request.temperature ?? 1,
    ...optional('top_p', request.top_p),
    ...optional('seed', request.seed),
    ...optional('keep_alive_ms', request.keep_alive),
    ...optional('stop', read.stop),
    ...optional('reasoning_budget', read.reasoningBudget),
  }
}

/**
 * How the running peer's tokens reach the client: as text; as the arguments of a call whose tool is
 * fixed in advance (a named choice, or `required` with one tool); or not at all until the end (a
 * forced choice among several tools, whose name is only known from the whole output).
 */
export type StreamMode = { kind: 'text' } | { kind: 'arguments'; name: string } | { kind: 'buffered' }

export function streamMode(input: GenerateInput): StreamMode {
  const choice = input.tool_choice
  if (choice === undefined || choice === 'auto' || choice === 'none') return { kind: 'text' }
  const name = forcedToolName(input.tools ?? [], choice)
  return name === null ? { kind: 'buffered' } : { kind: 'arguments', name }
}

/** A call's id, derived from the task that made it, so it traces back to the signed Result. */
export function toolCallId(prefix: string, task: string, index: number): string {
  return `${prefix}${task.slice(-20).replace(/[^A-Za-z0-9]/g, '')}${index}`
}

/** The text part of an output: none when it is a forced call's arguments (a cut call's text stays). */
export function answerText(output: GenerateOutput): string {
  return output.params.constraint === 'tool_call' && output.tool_calls.length > 0 ? '' : output.text
}

/**
 * The guard at the edge, for any engine: constrained output (a JSON schema, a forced call) that did
 * not complete is said to be incomplete. Cut by max_tokens it is a `length` answer with the text as
 * produced; ended any other way without parsing it is an error, never an empty answer with `stop`.
 */
export function incompleteOutput(output: GenerateOutput): EndpointError | null {
  const { constraint } = output.params
  if ((constraint !== 'json_schema' && constraint !== 'tool_call') || output.stop_reason === 'max_tokens')
    return null
  const complete = constraint === 'tool_call' ? output.tool_calls.length > 0 : output.json !== null
  if (complete) return null
  const what = constraint === 'tool_call' ? 'tool call' : 'JSON output'
  return new EndpointError(
    'failed/upstream',
    'incomplete_output',
    `the model stopped (${output.stop_reason}) before its ${what} was complete: ${JSON.stringify(output.text.slice(0, 200))}`,
  )
}

/**
 * OpenAI's `reasoning_effort` as a budget of reasoning tokens: a share of `max_tokens`, so the answer
 * always keeps the rest; `none` turns thinking off where the template can. Absent: the model's own way.
 */
export const ReasoningEffortSchema = z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh'])
const EFFORT_SHARE: Record<z.infer<typeof ReasoningEffortSchema>, number> = {
  none: 0,
  minimal: 1 / 16,
  low: 1 / 8,
  medium: 1 / 4,
  high: 1 / 2,
  xhigh: 3 / 4,
}

export function effortBudget(
  effort: z.infer<typeof ReasoningEffortSchema> | null | undefined,
  maxTokens: number,
): number | undefined {
  if (effort === null || effort === undefined) return undefined
  return Math.floor(maxTokens * EFFORT_SHARE[effort])
}

/** Tokens in and out; `reasoning` is the part of those out spent reasoning. */
export function usage(output: GenerateOutput): { prompt: number; completion: number; reasoning: number } {
  const { prompt_tokens: prompt, generated_tokens: completion, reasoning_tokens: reasoning } = output.timings
  return { prompt, completion, reasoning }
}

/** Usage as chat completions and completions give it. */
export function openaiUsage(output: GenerateOutput) {
  const { prompt, completion, reasoning } = usage(output)
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    // The prompt's tokens the runner's cache held (llama-server says the same).
    prompt_tokens_details: { cached_tokens: output.timings.cached_tokens },
    completion_tokens_details: { reasoning_tokens: reasoning },
  }
}

/** `{ key: value }` when the value is set, else `{}` (the worker's input takes no nulls). */
export function optional<K extends string, V>(key: K, value: V | null | undefined): { [P in K]?: V } {
  return (value === null || value === undefined ? {} : { [key]: value }) as { [P in K]?: V }
}
