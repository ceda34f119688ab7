/**
 * The Responses API's tools as Codex sends them, offered to the model as functions: a `function` as it
 * is; a `namespace`'s functions as the functions they are, under their own names (qualified by the
 * namespace only where another tool has the name); a `custom` tool (free-form text, such as a patch)
 * as a function of one text argument, `input`, a regex grammar becoming a `pattern` on it, which
 * llama.cpp applies (a lark grammar it cannot: noted). Built-in tools no peer runs (web search, file
 * search, MCP servers...) are left out with a note. A call comes back as the client named its tool: a
 * `function_call` carrying the `namespace` its tool came from (Codex finds the tool by both), or a
 * `custom_tool_call` whose input is the text.
 */
import { z } from 'zod'
import type { ToolCall, ToolChoice } from '../../inference/tool-calls.ts'
import { byType, isOther, note } from './chat-typed-parts.ts'
import { type GenerateInput, optional } from './generation.ts'

const FunctionToolSchema = z.object({
  type: z.literal('function'),
  name: z.string().min(1),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.json()).nullish(),
  strict: z.boolean().nullish(),
})

const CustomToolSchema = z.object({
  type: z.literal('custom'),
  name: z.string().min(1),
  description: z.string().nullish(),
  /** `{type: 'text'}`, or `{type: 'grammar', syntax: 'lark' | 'regex', definition}`. */
  format: z
    .object({ type: z.string(), syntax: z.string().nullish(), definition: z.string().nullish() })
    .nullish(),
})

const NamespaceToolSchema = z.object({
  type: z.literal('namespace'),
  name: z.string().min(1),
  description: z.string().nullish(),
  tools: z.array(byType({ function: FunctionToolSchema })),
})

export const ResponseToolsSchema = z.array(
  byType({ function: FunctionToolSchema, custom: CustomToolSchema, namespace: NamespaceToolSchema }),
)

const NamedChoiceSchema = z.object({ name: z.string().min(1), namespace: z.string().nullish() })

export const ResponseToolChoiceSchema = z.union([
  z.enum(['auto', 'none', 'required']),
  byType({
    function: NamedChoiceSchema,
    custom: NamedChoiceSchema,
    allowed_tools: z.object({
      mode: z.enum(['auto', 'required']),
      tools: z.array(z.object({ name: z.string().nullish() })),
    }),
  }),
])

/** A tool as the client named it, found by the name the model was offered it under. */
export interface ClientTool {
  kind: 'function' | 'custom'
  name: string
  namespace?: string
}
export type ClientTools = ReadonlyMap<string, ClientTool>
export const NO_TOOLS: ClientTools = new Map()

/** A function the model is offered, as the worker takes it. */
type Tool = NonNullable<GenerateInput['tools']>[number]

/** What the model is offered, and how its calls go back to the client's tools. */
export interface OfferedTools {
  tools?: Tool[]
  tool_choice?: ToolChoice
  clientTools: ClientTools
}

type ToolEntry = ClientTool & Omit<Tool, 'name'>

/** The tools and the tool choice for the model; what it cannot be offered goes to `ignored`. */
export function offerTools(
  tools: z.output<typeof ResponseToolsSchema> | null | undefined,
  choice: z.output<typeof ResponseToolChoiceSchema> | null | undefined,
  ignored: string[],
): OfferedTools {
  const entries: ToolEntry[] = []
  for (const tool of tools ?? []) {
    if (isOther(tool)) note(ignored, `tool ${tool.other}: built in, no peer runs it`)
    else if (tool.type === 'function') entries.push(functionEntry(tool))
    else if (tool.type === 'custom') entries.push(customEntry(tool, ignored))
    else
      for (const inner of tool.tools) {
        if (isOther(inner)) note(ignored, `tool ${tool.name}.${inner.other}: only functions are read`)
        else entries.push({ ...functionEntry(inner), namespace: tool.name })
      }
  }
  const clientTools = new Map<string, ClientTool>()
  const taken = new Set(entries.filter((e) => e.namespace === undefined).map((e) => e.name))
  const offered: Tool[] = []
  for (const { kind, name, namespace, ...tool } of entries) {
    const shared = entries.filter((e) => e.name === name).length > 1
    const as = namespace !== undefined && (taken.has(name) || shared) ? qualified(namespace, name) : name
    clientTools.set(as, { kind, name, ...optional('namespace', namespace) })
    offered.push({ name: as, ...tool })
  }
  const allowed = typeof choice === 'object' && choice !== null && !isOther(choice) && 'mode' in choice
  const kept = allowed
    ? offered.filter((t) => choice.tools.some((c) => c.name && offeredName(clientTools, c.name) === t.name))
    : offered
  return {
    ...optional('tools', kept.length > 0 ? kept : undefined),
    ...optional('tool_choice', toolChoice(choice, clientTools, ignored)),
    clientTools,
  }
}

function toolChoice(
  choice: z.output<typeof ResponseToolChoiceSchema> | null | undefined,
  tools: ClientTools,
  ignored: string[],
): ToolChoice | undefined {
  if (typeof choice === 'string' || choice === null || choice === undefined) return choice ?? undefined
  if (isOther(choice)) {
    note(ignored, `tool_choice ${choice.other}: built in, no peer runs it`)
    return 'auto'
  }
  return 'mode' in choice ? choice.mode : { name: offeredName(tools, choice.name, choice.namespace) }
}

function functionEntry(tool: z.output<typeof FunctionToolSchema>): ToolEntry {
  return {
    kind: 'function',
    name: tool.name,
    ...optional('description', tool.description),
    ...optional('parameters', tool.parameters),
  }
}

function customEntry(tool: z.output<typeof CustomToolSchema>, ignored: string[]): ToolEntry {
  const { format } = tool
  const regex = format?.type === 'grammar' && format.syntax === 'regex' ? format.definition : undefined
  const pattern = regex === undefined || regex === null ? undefined : anchored(regex)
  if (format?.type === 'grammar' && pattern === undefined)
    note(ignored, `tool ${tool.name}: its ${format.syntax ?? 'unnamed'} grammar is not applied`)
  const input = { type: 'string', description: 'The whole input, as text', ...optional('pattern', pattern) }
  return {
    kind: 'custom',
    name: tool.name,
    ...optional('description', tool.description),
    parameters: { type: 'object', properties: { input }, required: ['input'], additionalProperties: false },
  }
}

/** A regex as a JSON-schema pattern llama.cpp applies (anchored at both ends); none when it is no regex. */
function anchored(regex: string): string | undefined {
  try {
    new RegExp(regex)
  } catch {
    return undefined
  }
  return regex.startsWith('^') && regex.endsWith('$') ? regex : `^(?:${regex})$`
}

function qualified(namespace: string, name: string): string {
  return `${namespace.replace(/_+$/, '')}__${name}`
}

/** The name a client's tool was offered under (a call sent back names it as the client does). */
export function offeredName(tools: ClientTools, name: string, namespace?: string | null): string {
  for (const [as, tool] of tools)
    if (tool.name === name && (tool.namespace ?? null) === (namespace ?? null)) return as
  return namespace ? qualified(namespace, name) : name
}

/** A custom tool's input as the arguments of the function it was offered as. */
export const customArguments = (input: string): string => JSON.stringify({ input })

/** A call of the model, as the client's tool takes it. */
export type ClientCall =
  | { type: 'function_call'; name: string; namespace?: string; arguments: string }
  | { type: 'custom_tool_call'; name: string; input: string }

export function clientCall(call: ToolCall, tools: ClientTools): ClientCall {
  const tool = tools.get(call.name)
  if (tool?.kind === 'custom') return { type: 'custom_tool_call', name: tool.name, input: customInput(call) }
  return {
    type: 'function_call',
    name: tool?.name ?? call.name,
    ...optional('namespace', tool?.namespace),
    arguments: call.arguments,
  }
}

/** The text of a custom call: its `input` argument; the arguments as they are when they are not that. */
function customInput(call: ToolCall): string {
  try {
    const parsed = JSON.parse(call.arguments) as { input?: unknown }
    if (typeof parsed?.input === 'string') return parsed.input
  } catch {
    // A call cut short (max_tokens) is not JSON: its text is what the model gave.
  }
  return call.arguments
}
