/**
 * A node's traffic by protocol, counted through libp2p's metrics hook (it sees every protocol stream
 * once its protocol is negotiated): messages and bytes each way. A message out is one `send` on the
 * stream (a length-prefixed frame: one gossipsub RPC, one request, one answer); a message in is one
 * delivery to the stream's reader. Payload bytes only: yamux and noise framing are not counted.
 * Every other metric libp2p's services register is accepted and dropped.
 */
import type { Metrics, Stream } from '@libp2p/interface'

export interface Flow {
  msgsIn: number
  msgsOut: number
  bytesIn: number
  bytesOut: number
}

export const emptyFlow = (): Flow => ({ msgsIn: 0, msgsOut: 0, bytesIn: 0, bytesOut: 0 })

export function addFlow(into: Flow, from: Flow): void {
  into.msgsIn += from.msgsIn
  into.msgsOut += from.msgsOut
  into.bytesIn += from.bytesIn
  into.bytesOut += from.bytesOut
}

/** One node's counters by protocol, readable while the node runs. */
export class TrafficMeter {
  readonly byProtocol = new Map<string, Flow>()

  /** The hook to pass as createRippleNode's `metrics`. */
  readonly hook = (): Metrics => metricsCounting(this)

  flowOf(protocol: string): Flow {
    let flow = this.byProtocol.get(protocol)
    if (flow === undefined) {
      flow = emptyFlow()
      this.byProtocol.set(protocol, flow)
    }
    return flow
  }

  /** Every protocol's flow added up. */
  total(): Flow {
    const sum = emptyFlow()
    for (const flow of this.byProtocol.values()) addFlow(sum, flow)
    return sum
  }
}

const ignored = {
  update() {},
  increment() {},
  decrement() {},
  reset() {},
  observe() {},
  timer: () => () => {},
}

function metricsCounting(meter: TrafficMeter): Metrics {
  // Reads the instance's own methods: wrapping them counts without adding a 'message' listener,
  // which would make the stream deliver data before its protocol's reader is there.
  const track = (stream: Stream) => {
    const flow = meter.flowOf(stream.protocol)
    const send = stream.send.bind(stream)
    stream.send = (data) => {
      flow.msgsOut++
      flow.bytesOut += data.byteLength
      return send(data)
    }
    const dispatch = stream.dispatchEvent.bind(stream)
    stream.dispatchEvent = (event) => {
      if (event.type === 'message') {
        flow.msgsIn++
        flow.bytesIn += (event as Event & { data: { byteLength: number } }).data.byteLength
      }
      return dispatch(event)
    }
  }
  const register = (() => ignored) as never
  return {
    trackMultiaddrConnection() {},
    trackProtocolStream: track,
    registerMetric: register,
    registerMetricGroup: register,
    registerCounter: register,
    registerCounterGroup: register,
    registerHistogram: register,
    registerHistogramGroup: register,
    registerSummary: register,
    registerSummaryGroup: register,
    traceFunction: ((_name: string, fn: unknown) => fn) as never,
    createTrace: () => undefined,
  }
}
