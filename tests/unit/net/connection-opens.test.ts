import type { Connection } from '@libp2p/interface'
import { TypedEventEmitter } from 'main-event'
import { describe, expect, it } from 'vitest'
import { countOpens } from '../../../host/net/connection-opens.ts'

const opening = (direction: Connection['direction']) =>
  new CustomEvent('connection:open', { detail: { direction } as Connection })

describe('countOpens', () => {
  it('counts each connection opened from now on by its direction, read live', () => {
    const events = new TypedEventEmitter<{ 'connection:open': CustomEvent<Connection> }>()
    events.dispatchEvent(opening('inbound'))
    const counts = countOpens(events)
    expect(counts).toEqual({ inbound: 0, outbound: 0 })
    events.dispatchEvent(opening('outbound'))
    events.dispatchEvent(opening('inbound'))
    events.dispatchEvent(opening('outbound'))
    expect(counts).toEqual({ inbound: 1, outbound: 2 })
  })
})
