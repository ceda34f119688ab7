import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { ModelPins } from '../../../host/memory/model-pins.ts'
import { tempDirs } from './fixtures/temp-dirs.ts'

const dir = tempDirs('ripple-pins-')
const quiet = pino({ level: 'silent' })
const [A, B, C] = ['a', 'b', 'c'].map((x) => x.repeat(64)) as [string, string, string]

/** A pin as the previous version kept it: a side file in the collection's folder. */
function legacyPin(memoryDir: string, collection: string, content: string): string {
  mkdirSync(join(memoryDir, collection), { recursive: true })
  const file = join(memoryDir, collection, 'embedding-model.json')
  writeFileSync(file, content)
  return file
}

describe('ModelPins', () => {
  it('keeps the first model file of a collection, in memory.sqlite, across a reopen', async () => {
    const d = await dir()
    const pins = new ModelPins(d, quiet)
    expect(pins.pin('uhCkk-one', 'tiny', A)).toBe(A)
    expect(pins.pin('uhCkk-one', 'tiny', B)).toBe(A)
    expect(pins.pin('uhCkk-two', 'tiny', B)).toBe(B)
    pins.close()
    expect(existsSync(join(d, 'memory.sqlite'))).toBe(true)

    const reopened = new ModelPins(d, quiet)
    expect(reopened.pin('uhCkk-one', 'tiny', C)).toBe(A)
    expect(reopened.pin('uhCkk-two', 'tiny', C)).toBe(B)
    reopened.close()
  })

  it('moves the side files of the previous version in and removes them; a pin already kept wins', async () => {
    const d = await dir()
    const kept = new ModelPins(d, quiet)
    kept.pin('uhCkk-kept', 'tiny', A)
    kept.close()
    const old = legacyPin(d, 'uhCkk-old', JSON.stringify({ model: 'tiny', file_hash: B }))
    const stale = legacyPin(d, 'uhCkk-kept', JSON.stringify({ model: 'tiny', file_hash: C }))
    const damaged = legacyPin(d, 'uhCkk-damaged', '{ not json')

    const pins = new ModelPins(d, quiet)
    expect(pins.pin('uhCkk-old', 'tiny', C)).toBe(B)
    expect(pins.pin('uhCkk-kept', 'tiny', C)).toBe(A)
    // An unreadable side file pinned nothing: the next embedding pins.
    expect(pins.pin('uhCkk-damaged', 'tiny', C)).toBe(C)
    for (const file of [old, stale, damaged]) expect(existsSync(file)).toBe(false)
    pins.close()
  })
})
