import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { workerModels } from '../../../host/node/worker-models.ts'
import { inferEmbedWorker } from '../../../host/workers/infer-embed.ts'
import { type InferGenerateInput, inferGenerateWorker } from '../../../host/workers/infer-generate.ts'
import { type ModelsFixture, modelsFixture, workerContext } from './inference-fixtures.ts'

let fx: ModelsFixture
let sha256: string

beforeAll(async () => {
  fx = await modelsFixture()
  sha256 = (await fx.manager.list()).models[0]?.sha256 ?? ''
})
afterAll(async () => {
  await fx.close()
})

/** Runs infer.generate the way the scheduler does: input checked first, output checked after. */
async function runGenerate(input: InferGenerateInput, ctx = workerContext()) {
  const worker = inferGenerateWorker(workerModels(fx.manager))
  const outcome = await worker.run(worker.input.parse(input), ctx)
  return { output: worker.output.parse(outcome.output), metrics: outcome.metrics, ctx }
}

const tokens = (ctx: ReturnType<typeof workerContext>) =>
  ctx.events.flatMap((e) => (e.type === 'token' ? [e.text] : []))

describe('infer.generate', () => {
  it('loads the model on demand, reporting the load as progress', async () => {
    const { output, ctx } = await runGenerate({ model: 'tiny', prompt: 'Hi', max_tokens: 4 })
    expect(output.timings.load_ms).toBeGreaterThan(0)
    expect(ctx.events.filter((e) => e.type === 'load').at(-1)).toEqual({
      type: 'load',
      model: 'tiny',
      progress: { stage: 'load', done: 100, total: 100, unit: 'percent' },
    })
    expect(fx.manager.loadedNames()).toEqual(['tiny'])
  })

  it('generates the same text twice for the same greedy input, streaming every piece of it', async () => {
    const input = { model: 'tiny', prompt: 'Once upon a time', max_tokens: 24 }
    const first = await runGenerate(input)
    const second = await runGenerate(input)
    expect(second.output.text).toBe(first.output.text)
    expect(first.output.text.length).toBeGreaterThan(0)
    expect(tokens(first.ctx).join('')).toBe(first.output.text)
    expect(first.output).toMatchObject({
      stop_reason: 'max_tokens',
      model: { name: 'tiny', file_hash: sha256, quantisation: 'F32' },
      params: { max_tokens: 24, temperature: 0, constraint: 'none', context_size: 2048, threads: 1 },
      timings: { load_ms: 0, prompt_tokens: 18 },
    })
    // A last token that ends inside a UTF-8 character lets llama.cpp generate one more to finish it.
    expect(first.output.timings.generated_tokens).toBeGreaterThanOrEqual(24)
    expect(first.output.timings.generated_tokens).toBeLessThanOrEqual(25)
    expect(first.output.timings.tokens_per_second).toBeGreaterThan(0)
    expect(first.metrics).toMatchObject({
      tokens_in: first.output.timings.prompt_tokens,
      tokens_out: first.output.timings.generated_tokens,
      model_file_hash: sha256,
      load_ms: 0,
    })
  })

  it('makes the answer whole for a requester that takes it whole: the same output, no text events', async () => {
    // A grammar keeps the generated model's bytes to text (whole-answer.ts).
    const input = { model: 'tiny', prompt: 'Once upon a time', max_tokens: 16, grammar: 'root ::= [a-z ]+' }
    const streamed = await runGenerate(input)
    const whole = await runGenerate(input, { ...workerContext(), whole: true })
    expect(whole.output.text).toBe(streamed.output.text)
    expect(whole.output.timings.generated_tokens).toBe(streamed.output.timings.generated_tokens)
    expect(tokens(streamed.ctx).join('')).toBe(streamed.output.text)
    expect(whole.output.text.length).toBeGreaterThan(0)
    expect(tokens(whole.ctx)).toEqual([])
  })

  it('repeats a sampled generation for the same seed, and reports the seed it picked when none was given', async () => {
    const input = { prompt: 'The', max_tokens: 16, temperature: 0.9, seed: 1234 }
    const [a, b] = [await runGenerate(input), await runGenerate(input)]
    expect(b.output.text).toBe(a.output.text)
    const unseeded = await runGenerate({ prompt: 'The', max_tokens: 4, temperature: 0.9 })
    expect(unseeded.output.params.seed).toEqual(expect.any(Number))
  })

  it('constrains the output to a JSON schema: it parses and matches', async () => {
    const schema = {
      type: 'object',
      properties: { ok: { type: 'boolean' }, size: { enum: ['small', 'large'] }, n: { type: 'integer' } },
      required: ['ok', 'size', 'n'],
    }
    const { output } = await runGenerate({ prompt: 'Answer in JSON:', json_schema: schema, max_tokens: 64 })
    // The grammar, not max_tokens, ended it.
    expect(output.stop_reason).not.toBe('max_tokens')
    expect(output.params.constraint).toBe('json_schema')
    const parsed = JSON.parse(output.text) as Record<string, unknown>
    expect(output.json).toEqual(parsed)
    expect(typeof parsed.ok).toBe('boolean')
    expect(['small', 'large']).toContain(parsed.size)
    expect(Number.isInteger(parsed.n)).toBe(true)
  })

  it('constrains the output with a GBNF grammar', async () => {
    const { output } = await runGenerate({
      prompt: 'Yes or no?',
      grammar: 'root ::= "yes" | "no"',
      max_tokens: 8,
    })
    expect(['yes', 'no']).toContain(output.text)
    expect(output.params.constraint).toBe('grammar')
  })

  it('refuses a broken grammar with a clear error, and keeps working', async () => {
    await expect(runGenerate({ prompt: 'x', grammar: 'root ::= ("unclosed' })).rejects.toThrow(
      /^invalid GBNF grammar: /,
    )
    expect(
      (await runGenerate({ prompt: 'x', max_tokens: 2 })).output.timings.generated_tokens,
    ).toBeGreaterThanOrEqual(2)
  })

  it("answers chat messages through the model's chat template", async () => {
    const messages = [
      { role: 'system' as const, content: 'You are terse.' },
      { role: 'user' as const, content: 'Hello?' },
      { role: 'assistant' as const, content: 'Hi.' },
      { role: 'user' as const, content: 'And now?' },
    ]
    const first = await runGenerate({ messages, max_tokens: 12 })
    const second = await runGenerate({ messages, max_tokens: 12 })
    expect(first.output.text).toBe(second.output.text)
    expect(first.output.timings.generated_tokens).toBeGreaterThan(0)
    // The template wraps the conversation: many more tokens than the words alone.
    expect(first.output.timings.prompt_tokens).toBeGreaterThan(20)
  })

  const weather = {
    name: 'get_weather',
    description: 'the weather in a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, days: { type: 'integer' } },
      required: ['city', 'days'],
    },
  }
  const ask = [{ role: 'user' as const, content: 'Weather in Paris?' }]

  it('forces a named tool call by grammar: arguments that parse and match the parameters', async () => {
    const { output } = await runGenerate({
      messages: ask,
      tools: [weather, { name: 'noop' }],
      tool_choice: { name: 'get_weather' },
      max_tokens: 200,
      temperature: 0.8,
      seed: 3,
    })
    expect(output.stop_reason).toBe('tool_calls')
    expect(output.params.constraint).toBe('tool_call')
    expect(output.tool_calls).toHaveLength(1)
    expect(output.tool_calls[0]?.name).toBe('get_weather')
    const args = JSON.parse(output.tool_calls[0]?.arguments ?? '')
    expect(Object.keys(args).sort()).toEqual(['city', 'days'])
    expect(typeof args.city).toBe('string')
    expect(Number.isInteger(args.days)).toBe(true)
  })

  it('forces one of several tools with tool_choice required', async () => {
    const { output } = await runGenerate({
      messages: ask,
      tools: [
        weather,
        { name: 'noop', parameters: { type: 'object', properties: { why: { type: 'boolean' } } } },
      ],
      tool_choice: 'required',
      max_tokens: 200,
    })
    const [call] = output.tool_calls
    expect(['get_weather', 'noop']).toContain(call?.name)
    const args = JSON.parse(call?.arguments ?? '')
    expect(Object.keys(args).sort()).toEqual(call?.name === 'noop' ? ['why'] : ['city', 'days'])
  })

  it('continues a conversation after a tool answered, and honours stop sequences and top_p', async () => {
    const messages = [
      ...ask,
      {
        role: 'assistant' as const,
        content: '',
        tool_calls: [{ id: 'c1', name: 'get_weather', arguments: '{"city":"Paris","days":1}' }],
      },
      { role: 'tool' as const, content: 'sunny', tool_call_id: 'c1' },
    ]
    const full = await runGenerate({ messages, tools: [weather], max_tokens: 24 })
    expect(full.output.timings.generated_tokens).toBeGreaterThan(0)
    expect(full.output.tool_calls).toEqual([])
    const text = full.output.text
    // A stop sequence taken from the middle of the full answer cuts it there.
    const stop = text.slice(Math.floor(text.length / 2), Math.floor(text.length / 2) + 3)
    const cut = await runGenerate({ messages, tools: [weather], max_tokens: 24, stop: [stop] })
    expect(cut.output.stop_reason).toBe('stop_trigger')
    expect(text.startsWith(cut.output.text)).toBe(true)
    expect(cut.output.text.length).toBeLessThan(text.length)
    const nucleus = await runGenerate({ messages, max_tokens: 8, temperature: 1, top_p: 0.5, seed: 1 })
    expect(nucleus.output.params.top_p).toBe(0.5)
  })

  it('clamps max_tokens past what the context leaves after the prompt, and says max_tokens ended it', async () => {
    // An agent's 32000 on a 2048-token context: the answer takes the rest of the context.
    const { output } = await runGenerate({ messages: ask, max_tokens: 32_000 })
    const room = output.params.context_size - output.timings.prompt_tokens
    expect(output.stop_reason).toBe('max_tokens')
    expect(output.timings.generated_tokens).toBe(room)
    expect(output.params.max_tokens).toBe(room)
    // Within the context, max_tokens is the request's.
    const short = await runGenerate({ messages: ask, max_tokens: 5 })
    expect(short.output.params.max_tokens).toBe(5)
  })

  it('stops when the task is aborted', async () => {
    const ctx = workerContext()
    const running = runGenerate({ prompt: 'Go', max_tokens: 2000 }, ctx)
    while (tokens(ctx).length < 3) await new Promise((r) => setTimeout(r, 5))
    ctx.abort()
    await expect(running).rejects.toThrow('cancelled by the test')
    expect(tokens(ctx).length).toBeLessThan(2000)
  })

  it('refuses inputs that are not one prompt or a conversation ending with the user', () => {
    const worker = inferGenerateWorker(workerModels(fx.manager))
    const issues = (input: unknown) => worker.input.safeParse(input).error?.issues.map((i) => i.message)
    expect(issues({ prompt: 'a', messages: [{ role: 'user', content: 'b' }] })).toEqual([
      'exactly one of prompt and messages must be set',
    ])
    expect(issues({ messages: [{ role: 'assistant', content: 'b' }] })).toEqual([
      'the last message must be from the user, a tool or the system',
    ])
    // An agent's reminder after the user's turn is taken, as llama-server takes it.
    expect(
      issues({
        messages: [
          { role: 'user', content: 'b' },
          { role: 'system', content: 'c' },
        ],
      }),
    ).toBeUndefined()
    expect(issues({ prompt: 'a', tools: [{ name: 'f' }] })).toEqual(['tools go with messages, not a prompt'])
    expect(
      issues({
        messages: [{ role: 'user', content: 'b' }],
        tools: [{ name: 'f' }],
        tool_choice: { name: 'g' },
      }),
    ).toEqual(['tool_choice names a tool that is not among the tools'])
    expect(issues({ messages: [{ role: 'tool', content: 'b' }] })).toEqual([
      'a tool message (and only one) names the call it answers in tool_call_id',
    ])
    expect(issues({ prompt: 'a', json_schema: {}, grammar: 'root ::= "a"' })).toEqual([
      'json_schema and grammar are exclusive',
    ])
    expect(issues({ prompt: 'a', temperature: -1 })).toHaveLength(1)
  })
})

describe('infer.embed', () => {
  it("returns one vector per text, of the model's embedding length; the same text, the same vector", async () => {
    const worker = inferEmbedWorker(workerModels(fx.manager))
    const run = async (input: unknown) =>
      worker.output.parse((await worker.run(worker.input.parse(input), workerContext())).output)
    const many = await run({ model: 'tiny', input: ['alpha', 'beta', 'alpha'] })
    expect(many.dimension).toBe(64)
    expect(many.vectors).toHaveLength(3)
    for (const v of many.vectors) expect(v).toHaveLength(64)
    expect(many.vectors[2]).toEqual(many.vectors[0])
    expect(many.vectors[1]).not.toEqual(many.vectors[0])
    expect(many.model.file_hash).toBe(sha256)
    const one = await run({ input: 'alpha' })
    expect(one.vectors).toEqual([many.vectors[0]])
  })
})
