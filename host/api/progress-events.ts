/**
 * Progress on the wire: the `progress` events of a model load (`{ fraction }`) and of a pull
 * (`{ downloaded_bytes, total_bytes }`) kept the shapes the dashboard and older clients read. The
 * routes make them of a Progress and the client makes a Progress of them again. A leaf: the client
 * (and so the browser) loads it.
 */
import type { PullProgress } from '../inference/model-pull.ts'
import { type Progress, progressFraction } from '../interface/progress.ts'

export interface LoadProgressEvent {
  fraction: number
}

export function loadProgressEvent(progress: Progress): LoadProgressEvent {
  return { fraction: progressFraction(progress) ?? 0 }
}

/** llama.cpp counts a load in whole percents, so the fraction's two digits are all there is. */
export function progressOfLoad({ fraction }: LoadProgressEvent): Progress {
  return { stage: 'load', done: Math.round(fraction * 100), total: 100, unit: 'percent' }
}

export function pullProgressEvent({ done, total }: Progress): PullProgress {
  return { downloaded_bytes: done, total_bytes: total ?? 0 }
}

export function progressOfPull({ downloaded_bytes, total_bytes }: PullProgress): Progress {
  return {
    stage: 'download',
    done: downloaded_bytes,
    total: total_bytes > 0 ? total_bytes : null,
    unit: 'bytes',
  }
}
