/**
 * The Responses door end to end through the official SDK, with Codex's requests: a first turn
 * streamed (a call of its shell tool, in the events Codex reads), the second turn with the result
 * (answered), and `store: false` honoured. The mesh's run is a stand-in that scripts the model's
 * output only (its reasoning, text or calls); the API server, its routes and translation, and the
 * client are real.
 */
import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ApiServer } from '../../../host/api/api-server.ts'
import type { GenerateInput, GenerateOutput } from '../../../host/api/openai/generation.ts'
import type { InferenceAnswer, InferenceRequest, RequestsPort } from '../../../host/requests/requests-port.ts'
import { baseInit, generateOutput } from './fixtures.ts'
import { codexFirstRequest, codexSecondRequest, PATCH } from './responses-codex-fixtures.ts'

interface Turn {
  reasoning?: string
  text?: string
  calls?: { name: string; arguments: string }[]
}

const script: Turn[] = []
const inputs: GenerateInput[] = []
const TASK = 'uhCkkTASKHASH0123456789'

const inference = {
  models: async () => [],
  run: async (request: InferenceRequest): Promise<InferenceAnswer> => {
    inputs.push(request.input as GenerateInput)
    const turn = script.shift() ?? { text: 'ok' }
    request.onEvent?.({ type: 'submitted', task: TASK })
    request.onEvent?.({ type: 'assigned', peer: 'uhCAkPEER' })
    if (turn.reasoning) request.onEvent?.({ type: 'reasoning', text: turn.reasoning })
    if (turn.text) request.onEvent?.({ type: 'token', text: turn.text })
    const output: GenerateOutput = generateOutput({
      text: turn.text ?? '',
      reasoning: turn.reasoning ?? '',
      tool_calls: turn.calls ?? [],
      stop_reason: turn.calls ? 'tool_calls' : 'eos',
    })
    return { task: TASK, peer: 'uhCAkPEER', output }
  },
} as unknown as RequestsPort

let server: ApiServer
let openai: OpenAI

beforeAll(async () => {
  server = new ApiServer(baseInit({ components: { requests: inference } }))
  await server.start()
  openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'the-token', maxRetries: 0 })
})
afterAll(async () => {
  await server?.stop()
})
beforeEach(() => {
  script.length = 0
  inputs.length = 0
})

type Event = { type: string; item?: Record<string, unknown>; response?: Record<string, unknown> }

describe("Codex's turn", () => {
  it('streams the calls as Codex reads them, and answers the turn after with the results', async () => {
    script.push(
      {
        reasoning: 'read it, then patch',
        text: "I'll look.",
        calls: [
          { name: 'exec_command', arguments: '{"cmd":"cat a.txt"}' },
          { name: 'close_agent', arguments: '{"target":"a1"}' },
          { name: 'apply_patch', arguments: JSON.stringify({ input: PATCH }) },
        ],
      },
      { text: 'Done.' },
    )
    const stream = await openai.responses.create(codexFirstRequest() as never)
    const events: Event[] = []
    for await (const event of stream as unknown as AsyncIterable<Event>) events.push(event)
    expect(events.at(-1)?.type).toBe('response.completed')
    expect(events.filter((e) => e.type === 'response.output_item.done').map((e) => e.item)).toMatchObject([
      { type: 'reasoning', content: [{ type: 'reasoning_text', text: 'read it, then patch' }] },
      { type: 'message', content: [{ type: 'output_text', text: "I'll look." }] },
      { type: 'function_call', name: 'exec_command', arguments: '{"cmd":"cat a.txt"}' },
      { type: 'function_call', name: 'close_agent', namespace: 'multi_agent_v1' },
      { type: 'custom_tool_call', name: 'apply_patch', input: PATCH },
    ])
    expect(inputs[0]?.tools?.map((t) => t.name)).toEqual([
      'exec_command',
      'view_image',
      'spawn_agent',
      'close_agent',
      'apply_patch',
    ])

    const second = await openai.responses.create(codexSecondRequest({ stream: false }) as never)
    expect(second).toMatchObject({ status: 'completed', output_text: 'Done.' })
    expect(inputs[1]?.messages?.at(-1)).toEqual({ role: 'tool', content: 'Done!', tool_call_id: 'call_3' })
  })

  it('keeps no response sent with store false, and keeps one sent without', async () => {
    const unkept = await openai.responses.create(codexFirstRequest({ stream: false }) as never)
    const refused = await openai.responses
      .create({ model: 'tiny', input: 'more', previous_response_id: (unkept as { id: string }).id })
      .catch((err: { status: number }) => err)
    expect(refused).toMatchObject({ status: 404 })
    const kept = await openai.responses.create({ model: 'tiny', input: 'hi' })
    await openai.responses.create({ model: 'tiny', input: 'more', previous_response_id: kept.id })
    expect(inputs.at(-1)?.messages?.map((m) => m.content)).toEqual(['hi', 'ok', 'more'])
  })
})
