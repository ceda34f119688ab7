/** A request's priority band (issue 58, point 2): its header, capped by its key's setting. */
import { describe, expect, it } from 'vitest'
import { requestBand } from '../../../host/requests/priority.ts'

describe('requestBand', () => {
  it.each([
    // The owner's own (no key): interactive, or what it asks for.
    ['owner, no header', undefined, null, { band: 'interactive', capped: false }],
    ['owner asks batch', 'batch', null, { band: 'batch', capped: false }],
    // A key with no setting: agent, any band asked for.
    ['key, no header', undefined, { cap: undefined }, { band: 'agent', capped: false }],
    ['key asks interactive', 'interactive', { cap: undefined }, { band: 'interactive', capped: false }],
    // A key set to a band: that band, and no higher (clamped, not refused).
    ['batch key, no header', undefined, { cap: 'batch' }, { band: 'batch', capped: false }],
    ['batch key asks interactive', 'interactive', { cap: 'batch' }, { band: 'batch', capped: true }],
    ['agent key asks interactive', 'Interactive ', { cap: 'agent' }, { band: 'agent', capped: true }],
    ['agent key asks batch', 'batch', { cap: 'agent' }, { band: 'batch', capped: false }],
  ] as const)('%s', (_, header, key, band) => {
    expect(requestBand(header, key)).toEqual(band)
  })

  it.each([
    ['junk', 'urgent!!'],
    ['a number', '1'],
    ['empty', ''],
    ['twice', ['batch', 'agent']],
    ['very long', 'x'.repeat(10_000)],
  ])('refuses a header that names no band: %s', (_, header) => {
    const choice = requestBand(header, null)
    expect(choice).toEqual({
      invalid: expect.stringMatching(/^x-ripple-priority must be one of interactive, agent, batch \(got /),
    })
    expect(('invalid' in choice && choice.invalid.length) || 0).toBeLessThan(120)
  })
})
