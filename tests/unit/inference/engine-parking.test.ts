/**
 * Parking a generation for a higher band's request (issue 58, point 2): the engine saves its slot,
 * gives it up, and once given one again restores it and goes on from the prompt + the tokens already
 * sent. The caller's text is the unparked greedy answer, each piece once; a slot file gone or corrupt
 * costs the prompt's evaluation again and says so in a log line; an engine killed while it holds a
 * parked generation fails it with the crash, never leaves it waiting.
 */
import { execFileSync } from 'node:child_process'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EngineModel } from '../../../host/inference/engine/engine-model.ts'
import { FileHashCache } from '../../../host/inference/file-hash-cache.ts'
import { TINY_MODEL, writeLlamaModel } from '../../../host/inference/gguf-gen/llama-generator.ts'
import { ModelManager } from '../../../host/inference/model-manager.ts'
import type { SlotYield } from '../../../host/interface/slot-yield.ts'

let dir: string
let manager: ModelManager
let model: EngineModel
const lines: string[] = []

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ripple-parking-'))
  await writeLlamaModel(join(dir, 'tiny.gguf'), TINY_MODEL)
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) })
  manager = new ModelManager({
    modelsDir: dir,
    hashCache: new FileHashCache(null),
    threads: 1,
    contextSize: 1024,
    logger,
  })
  model = await manager.load('tiny')
})
afterAll(async () => {
  await manager?.stop()
  await rm(dir, { recursive: true, force: true })
})

// Long enough that a park asked after a few pieces takes hold before the answer ends, on a loaded
// machine too (the tiny model writes ~3,000 tokens a second: 40 ended before a loaded test's park).
const greedy = { max_tokens: 400, temperature: 0, seed: 3 }
const chat = { ...greedy, messages: [{ role: 'user' as const, content: 'Tell me about the mesh, please.' }] }

/** The answer on the same path, never parked (a parkable generation runs on /completion). */
const unparked = (request: Parameters<EngineModel['generate']>[0]) =>
  model.generate(request, { yielding: { parkable: () => {}, resume: async () => {} } })

/** The engine's parked slot files (its --slot-save-path; this process's only loaded model). */
async function slotFiles(): Promise<string[]> {
  const own = (await readdir(tmpdir())).filter((n) => n.startsWith(`ripple-engine-slots-${process.pid}-`))
  const files = await Promise.all(
    own.map(async (d) => (await readdir(join(tmpdir(), d))).map((f) => join(tmpdir(), d, f))),
  )
  return files.flat()
}

/**
 * A runner stand-in that parks the generation once `after` pieces of text went out, and, parked,
 * runs `meanwhile` (another request on the slot, a file removed) before it gives a slot back.
 */
function parkOnce(after: number, meanwhile: () => Promise<void> = async () => {}) {
  let park: (() => Promise<void>) | null = null
  let pieces = 0
  let text = ''
  let parked = 0
  const yielding: SlotYield = {
    parkable: (p) => {
      park = p
    },
    resume: async () => {
      await meanwhile()
    },
  }
  return {
    yielding,
    text: () => text,
    parked: () => parked,
    onEvent: (event: { type: string; text?: string }) => {
      if (event.type !== 'token') return
      text += event.text
      pieces += 1
      if (pieces === after && park) {
        parked += 1
        void park()
      }
    },
  }
}

describe('a parked generation', { timeout: 120_000 }, () => {
  it('resumes where it stopped: the caller gets the unparked greedy answer, each piece once', async () => {
    const alone = await unparked({ ...chat })
    expect(alone.generated_tokens).toBeGreaterThan(10)
    // Parked after a few pieces; meanwhile another prompt runs on the engine (the slot's cache moves on).
    const run = parkOnce(4, async () => {
      await model.generate({ ...greedy, prompt: 'Something else entirely, to take a slot.' })
    })
    const parked = await model.generate({ ...chat }, { onEvent: run.onEvent, yielding: run.yielding })
    expect(run.parked()).toBe(1)
    expect(parked.text).toBe(alone.text)
    expect(run.text()).toBe(alone.text)
    expect(parked.generated_tokens).toBe(alone.generated_tokens)
    expect(parked.prompt_tokens).toBe(alone.prompt_tokens)
    expect(lines.some((l) => l.includes('resumes by re-running'))).toBe(false)
    // Its slot file is removed once it is answered.
    expect(await slotFiles()).toEqual([])
  })

  it('a raw prompt too, parked twice', async () => {
    const prompt = 'Once upon a time'
    const alone = await unparked({ ...greedy, prompt })
    let park: (() => Promise<void>) | null = null
    let pieces = 0
    const parked = await model.generate(
      { ...greedy, prompt },
      {
        onEvent: (e) => {
          if (e.type === 'token' && [3, 9].includes(++pieces)) void park?.()
        },
        yielding: {
          parkable: (p) => {
            park = p
          },
          resume: async () => {},
        },
      },
    )
    expect(pieces).toBeGreaterThan(9)
    expect(parked.text).toBe(alone.text)
    // A park asked as the answer ends saves nothing: no slot file outlives the run.
    expect(await slotFiles()).toEqual([])
  })

  it('restores its file when every slot of the engine is busy as it resumes, however long', async () => {
    const alone = await unparked({ ...chat })
    const before = lines.length
    const busy: Promise<unknown>[] = []
    const run = parkOnce(4, async () => {
      // Every slot taken by long answers when its runner slot comes back (the engine's count lags).
      for (let i = 0; i < model.slots; i++)
        busy.push(model.generate({ ...greedy, max_tokens: 900, prompt: `Busy ${i}:` }))
      await new Promise((r) => setTimeout(r, 100))
    })
    const parked = await model.generate({ ...chat }, { onEvent: run.onEvent, yielding: run.yielding })
    await Promise.all(busy)
    expect(run.parked()).toBe(1)
    expect(parked.text).toBe(alone.text)
    expect(lines.slice(before).some((l) => l.includes('resumes by re-running'))).toBe(false)
  })

  it('parked again the moment it resumes, it goes on from its file: the unparked answer, no re-run', async () => {
    const alone = await unparked({ ...chat })
    const before = lines.length
    let parts = 0
    let pieces = 0
    const parked = await model.generate(
      { ...chat },
      {
        onEvent: (e) => {
          if (e.type === 'token') pieces += 1
        },
        yielding: {
          // The first part parked after a few pieces, the resumed one the moment it may be.
          parkable: (park) => {
            if (park === null) return
            parts += 1
            if (parts === 1) {
              const wait = setInterval(() => {
                if (pieces < 4) return
                clearInterval(wait)
                void park()
              }, 1)
            } else if (parts === 2) void park()
          },
          resume: async () => {},
        },
      },
    )
    expect(parts).toBeGreaterThanOrEqual(3)
    expect(parked.text).toBe(alone.text)
    expect(lines.slice(before).some((l) => l.includes('resumes by re-running'))).toBe(false)
  })

  for (const [what, spoil] of [
    ['gone', (file: string) => rm(file)],
    ['corrupt', (file: string) => writeFile(file, 'not a slot file')],
  ] as const) {
    it(`with its slot file ${what}, re-runs its prompt and the tokens it sent, and says so`, async () => {
      const alone = await unparked({ ...chat })
      const before = lines.length
      const run = parkOnce(5, async () => {
        const files = await slotFiles()
        expect(files).toHaveLength(1)
        await spoil(files[0]!)
      })
      const parked = await model.generate({ ...chat }, { onEvent: run.onEvent, yielding: run.yielding })
      expect(run.parked()).toBe(1)
      expect(parked.text).toBe(alone.text)
      const said = lines.slice(before).filter((l) => l.includes('resumes by re-running'))
      expect(said).toHaveLength(1)
      expect(JSON.parse(said[0]!)).toMatchObject({ level: 30, tokens: expect.any(Number) })
    })
  }

  it('fails with the engine crash when the engine dies while it is parked', async () => {
    const run = parkOnce(3, async () => {
      // The engine process (the only llama-server child of this test's model) killed while parked.
      const child = execFileSync('pgrep', ['-P', String(process.pid), 'llama-server'])
        .toString()
        .trim()
      process.kill(Number(child.split('\n')[0]), 'SIGKILL')
      await new Promise((r) => setTimeout(r, 300))
    })
    await expect(
      model.generate({ ...chat }, { onEvent: run.onEvent, yielding: run.yielding }),
    ).rejects.toThrow(/llama-server|engine/)
    expect(run.parked()).toBe(1)
  })
})
