import type { RunProgress, WorkerEvent } from '../../interface/run-event.ts'

/**
 * A runner's events relayed to the caller: its answer begins with its first reasoning, text or output
 * (the caller hears `assigned` then); a model's load comes before and begins nothing, so a runner that
 * fails while loading still passes the request on.
 */
export function answerStart(call: { onEvent?: (event: RunProgress) => void }, peer: string) {
  const state = {
    began: false,
    begin() {
      if (state.began) return
      state.began = true
      call.onEvent?.({ type: 'assigned', peer })
    },
    relay(event: WorkerEvent) {
      if (event.type !== 'load') state.begin()
      call.onEvent?.(event)
    },
  }
  return state
}
