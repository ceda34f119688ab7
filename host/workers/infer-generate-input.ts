/**
 * What `infer.generate` takes, bounded as real agents send it: tool descriptions of several thousand
 * characters (Claude Code's run past 6,000), dozens of tools named as MCP and namespaced tools are
 * (`mcp__server__tool`, `namespace.tool`), long sessions of thousands of messages. Each part is
 * bounded loosely; the request as a whole is bounded by its text, its tools and its images, each
 * refusal naming what was over and by how much.
 */
import { z } from 'zod'
import { ModelNameSchema } from '../../zomes-bindings/index.ts'
import { imageRefusal } from '../inference/image-size.ts'
import {
  ImageDataUrlSchema,
  imageBytes,
  imageData,
  MAX_IMAGE_BYTES,
  MAX_IMAGES,
} from '../inference/vision.ts'
import { formatBytes } from '../text/byte-size.ts'
import { KeepAliveMsSchema } from './model-facts.ts'

export const SEED_MAX = 0xffffffff
/**
 * The most tokens of output one request asks for; the runner clamps it further to what its context
 * leaves after the prompt (the APIs clamp larger asks to this).
 */
export const MAX_TOKENS = 32_768
const TOKENS = z.number().int().min(0).max(MAX_TOKENS)

export const MAX_STOPS = 32
export const MAX_TOOLS = 512
export const MAX_MESSAGES = 16_384
/** One tool's description. */
export const MAX_DESCRIPTION_CHARS = 64 * 1024
/** All the text of a request: messages, calls' arguments, tools, schemas, grammar, stop strings. */
export const MAX_TEXT_BYTES = 8 * 1024 * 1024
const MAX_ID_CHARS = 1024
const MAX_NAME_CHARS = 256

/**
 * A function's name: as the OpenAI and Anthropic APIs have them, with the dots and colons MCP and
 * namespaced tools add; no spaces, quotes or brackets, which templates write unescaped.
 */
const FunctionNameSchema = z
  .string()
  .regex(
    new RegExp(`^[A-Za-z0-9_.:-]{1,${MAX_NAME_CHARS}}$`),
    `letters, digits, _ - . and :, at most ${MAX_NAME_CHARS}`,
  )

export const ToolCallSchema = z.strictObject({
  name: z.string().min(1).max(MAX_NAME_CHARS),
  /** JSON text. */
  arguments: z.string(),
})

const ChatMessageSchema = z
  .strictObject({
    role: z.enum(['system', 'user', 'assistant', 'tool']),
    content: z.string(),
    /** An assistant's calls, answered by later `tool` messages with the same id. */
    tool_calls: z
      .array(ToolCallSchema.extend({ id: z.string().min(1).max(MAX_ID_CHARS) }))
      .max(MAX_TOOLS)
      .optional(),
    tool_call_id: z.string().min(1).max(MAX_ID_CHARS).optional(),
    /** A user message's images (data URLs); the model needs a projector (vision.ts). */
    images: z.array(ImageDataUrlSchema).min(1).max(MAX_IMAGES).optional(),
    /** Where each image stands in `content` (the text before it); absent: before the text. */
    images_at: z.array(z.number().int().min(0)).max(MAX_IMAGES).optional(),
  })
  .refine(
    (m) =>
      m.images_at === undefined ||
      (m.images_at.length === (m.images?.length ?? 0) &&
        m.images_at.every((at, i) => at <= m.content.length && at >= (m.images_at?.[i - 1] ?? 0))),
    {
      message: 'images_at places each image in the content, in order: one offset per image',
      path: ['images_at'],
    },
  )
  .refine((m) => m.images === undefined || m.role === 'user', {
    message: 'only user messages carry images',
    path: ['images'],
  })
  .refine((m) => m.tool_calls === undefined || m.role === 'assistant', {
    message: 'only assistant messages carry tool_calls',
    path: ['tool_calls'],
  })
  .refine((m) => (m.role === 'tool') === (m.tool_call_id !== undefined), {
    message: 'a tool message (and only one) names the call it answers in tool_call_id',
    path: ['tool_call_id'],
  })

const ToolSchema = z.strictObject({
  name: FunctionNameSchema,
  description: z.string().max(MAX_DESCRIPTION_CHARS).optional(),
  /** The arguments' JSON schema: llama-server makes a grammar of it, and refuses one it cannot. */
  parameters: z.record(z.string(), z.json()).optional(),
})

const InputFieldsSchema = z.strictObject({
  /** Default: the only loaded model, else the only model of the peer. */
  model: ModelNameSchema.optional(),
  prompt: z.string().min(1).optional(),
  messages: z.array(ChatMessageSchema).min(1).max(MAX_MESSAGES).optional(),
  /** The most tokens of output; more than the context leaves after the prompt is clamped to that. */
  max_tokens: TOKENS.min(1).default(256),
  /** 0 is greedy: the same model and input give the same text. */
  temperature: z.number().min(0).max(2).default(0),
  /** Default: a random seed (reported in the output). */
  seed: z.number().int().min(0).max(SEED_MAX).optional(),
  /** How long the model stays loaded once idle, from now on (Ollama's keep_alive); -1: never. */
  keep_alive_ms: KeepAliveMsSchema.optional(),
  /** Constrain the output to JSON matching this schema (llama-server makes a grammar of it). */
  json_schema: z.record(z.string(), z.json()).optional(),
  /** Constrain the output with a GBNF grammar. */
  grammar: z.string().min(1).optional(),
  /** Nucleus sampling: only the most likely tokens adding up to this probability. */
  top_p: z.number().gt(0).max(1).optional(),
  /** Generation stops before any of these texts (not part of the output). */
  stop: z.array(z.string().min(1).max(1024)).max(MAX_STOPS).optional(),
  /** Functions the model may call (with messages only). */
  tools: z.array(ToolSchema).min(1).max(MAX_TOOLS).optional(),
  /** `auto` (default): the model's own function calling; `required` or a name: forced by a grammar. */
  tool_choice: z
    .union([z.enum(['auto', 'none', 'required']), z.strictObject({ name: z.string().min(1) })])
    .optional(),
  /**
   * Tokens a thinking model may reason before answering, as a share of `max_tokens` (kept when that
   * is clamped); 0 turns thinking off.
   */
  reasoning_budget: TOKENS.optional(),
})
type InputFields = z.output<typeof InputFieldsSchema>

export const InferGenerateInputSchema = InputFieldsSchema.superRefine((input, ctx) => {
  const text = textBytes(input)
  if (text > MAX_TEXT_BYTES)
    ctx.addIssue({
      code: 'custom',
      message: `the request's text (messages, tools, schemas) is ${formatBytes(text)}: at most ${formatBytes(MAX_TEXT_BYTES)}`,
      path: ['messages'],
    })
  const images = (input.messages ?? []).flatMap((m) => m.images ?? [])
  if (images.length > MAX_IMAGES)
    ctx.addIssue({
      code: 'custom',
      message: `${images.length} images in the request: at most ${MAX_IMAGES}`,
      path: ['messages'],
    })
  const decoded = images.reduce((sum, url) => sum + imageBytes(url), 0)
  if (decoded > MAX_IMAGE_BYTES)
    ctx.addIssue({
      code: 'custom',
      message: `the request's images are ${formatBytes(decoded)} decoded: at most ${formatBytes(MAX_IMAGE_BYTES)}`,
      path: ['messages'],
    })
  // Checked here too, not only where the request came in: a peer may send what its own API would refuse.
  images.forEach((url, i) => {
    const refusal = decoded > MAX_IMAGE_BYTES ? null : imageRefusal(imageData(url))
    if (refusal !== null)
      ctx.addIssue({ code: 'custom', message: `image ${i + 1} is ${refusal.why}`, path: ['messages'] })
  })
})
  .refine((i) => (i.prompt === undefined) !== (i.messages === undefined), {
    message: 'exactly one of prompt and messages must be set',
    path: ['prompt'],
  })
  .refine((i) => i.json_schema === undefined || i.grammar === undefined, {
    message: 'json_schema and grammar are exclusive',
    path: ['grammar'],
  })
  // A system message may come last (an agent's reminder after the user's turn, as llama-server takes
  // it); an assistant's would be a reply to continue, which is not what a caller means by a request.
  .refine((i) => i.messages === undefined || i.messages.at(-1)?.role !== 'assistant', {
    message: 'the last message must be from the user, a tool or the system',
    path: ['messages'],
  })
  .refine((i) => i.tools === undefined || i.messages !== undefined, {
    message: 'tools go with messages, not a prompt',
    path: ['tools'],
  })
  .refine(
    (i) =>
      typeof i.tool_choice !== 'object' ||
      (i.tools ?? []).some((t) => t.name === (i.tool_choice as { name: string }).name),
    { message: 'tool_choice names a tool that is not among the tools', path: ['tool_choice'] },
  )
  .refine((i) => i.tool_choice !== 'required' || i.tools !== undefined, {
    message: 'tool_choice "required" needs tools',
    path: ['tool_choice'],
  })
  .refine(
    (i) =>
      i.tool_choice === undefined ||
      i.tool_choice === 'auto' ||
      i.tool_choice === 'none' ||
      (i.json_schema === undefined && i.grammar === undefined),
    {
      message: 'a forced tool call has its own grammar: no json_schema or grammar with it',
      path: ['tool_choice'],
    },
  )
export type InferGenerateInput = z.input<typeof InferGenerateInputSchema>

/** The UTF-8 bytes of a request's text: what it asks the engine to read besides its images. */
export function textBytes(input: InputFields): number {
  const bytes = (text: string | undefined) => (text === undefined ? 0 : Buffer.byteLength(text))
  const json = (value: unknown) => (value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value)))
  let sum = bytes(input.prompt) + bytes(input.grammar) + json(input.json_schema)
  for (const m of input.messages ?? []) {
    sum += bytes(m.content) + bytes(m.tool_call_id)
    for (const call of m.tool_calls ?? []) sum += bytes(call.id) + bytes(call.name) + bytes(call.arguments)
  }
  for (const tool of input.tools ?? [])
    sum += bytes(tool.name) + bytes(tool.description) + json(tool.parameters)
  for (const stop of input.stop ?? []) sum += bytes(stop)
  return sum
}
