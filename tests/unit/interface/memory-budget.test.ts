/**
 * The memory promised on a peer: reservations and standing claims count within the limit, a promise
 * past it is refused naming who holds the memory, and without a limit the machine's free memory is
 * the bound and nothing is refused.
 */
import { describe, expect, it } from 'vitest'
import { failureOf } from '../../../host/interface/failure-kind.ts'
import { MemoryBudget, MemoryOverBudgetError } from '../../../host/interface/memory-budget.ts'

const MiB = 1024 ** 2

describe('MemoryBudget.free', () => {
  const cases: {
    name: string
    limit?: number
    machine: number
    reserved: number[]
    claimed: number[]
    free: number
  }[] = [
    { name: 'no limit: what the machine has free', machine: 900, reserved: [500], claimed: [300], free: 900 },
    {
      name: 'the limit less what is reserved',
      limit: 1000,
      machine: 5000,
      reserved: [200, 300],
      claimed: [],
      free: 500,
    },
    {
      name: 'claims count as reservations do',
      limit: 1000,
      machine: 5000,
      reserved: [200],
      claimed: [300],
      free: 500,
    },
    {
      name: 'never more than the machine has free',
      limit: 1000,
      machine: 100,
      reserved: [],
      claimed: [],
      free: 100,
    },
    { name: 'never below nothing', limit: 1000, machine: 5000, reserved: [], claimed: [1500], free: 0 },
  ]
  it.each(cases)('$name', ({ limit, machine, reserved, claimed, free }) => {
    const budget = new MemoryBudget({ limitBytes: limit, freeMemory: () => machine })
    for (const [i, bytes] of claimed.entries()) budget.claim(`claim ${i}`, () => bytes)
    // Reserved after the claims, so that none is refused (checked on its own below).
    for (const [i, bytes] of reserved.entries()) budget.reserve(`model ${i}`, Math.min(bytes, budget.free()))
    expect(budget.free()).toBe(free)
  })
})

describe('MemoryBudget.reserve', () => {
  it('refuses a promise past the limit, naming what is asked, what is free and who holds the rest', () => {
    const budget = new MemoryBudget({ limitBytes: 1024 * MiB, freeMemory: () => 8192 * MiB })
    budget.reserve('model a', 512 * MiB)
    budget.claim('split shares', () => 256 * MiB)
    const refused = (() => {
      try {
        budget.reserve('model b', 300 * MiB)
      } catch (err) {
        return err
      }
    })()
    expect(refused).toBeInstanceOf(MemoryOverBudgetError)
    expect((refused as Error).message).toBe(
      'cannot promise 300 MiB to model b: 256 MiB free; held by model a (512 MiB), split shares (256 MiB)',
    )
    expect(failureOf(refused)).toBe('unavailable/no_room')
    expect(budget.promised()).toBe(768 * MiB)
  })

  it('gives the memory back when released, and counts what a holder settled on', () => {
    const budget = new MemoryBudget({ limitBytes: 1000, freeMemory: () => 5000 })
    const model = budget.reserve('model a', 400)
    model.settle(600)
    expect(model.bytes).toBe(600)
    expect(budget.free()).toBe(400)
    model.release()
    expect(budget.free()).toBe(1000)
    expect(budget.holders()).toEqual([])
  })

  it('refuses nothing without a limit (a load takes from the free memory itself)', () => {
    const budget = new MemoryBudget({ freeMemory: () => 100 })
    expect(budget.reserve('model a', 1000).bytes).toBe(1000)
  })

  it('reads a claim when asked, and drops it when withdrawn', () => {
    const budget = new MemoryBudget({ limitBytes: 1000, freeMemory: () => 5000 })
    let held = 100
    const withdraw = budget.claim('split shares', () => held)
    held = 700
    expect(budget.free()).toBe(300)
    withdraw()
    expect(budget.free()).toBe(1000)
  })
})
