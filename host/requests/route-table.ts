/**
 * Which way a request runs, as one ordered table: the first row whose `when` holds decides. Routing is
 * changed here; what each route then plans is its planners' (the README's "Where a request runs").
 * `direct` goes straight to one runner (direct/); `round` submits a task to the scheduling round
 * (scheduler/), which serves a `direct` request too where this host reaches no runner straight (no
 * direct route built, or the Holochain backend, which carries no streams to peers).
 */
export type Route = 'direct' | 'round' | 'refused'

/** What the table reads of a request. */
export interface RouteAsk {
  model?: string
  fanOut: number
  route?: 'direct' | 'round'
  /** It carries image parts (inference/vision.ts). */
  images: boolean
}

export interface RouteRow {
  when: (ask: RouteAsk) => boolean
  route: Route
  /** Why it goes this way; for `refused`, what the caller is told. */
  why: string
}

export const ROUTE_TABLE: { rows: readonly RouteRow[]; otherwise: RouteRow } = {
  rows: [
    {
      when: (a) => a.images && (a.fanOut > 1 || a.route === 'round'),
      route: 'refused',
      why: 'a request with images goes straight to one runner: not with ripple.fan_out above 1 or ripple.route "round"',
    },
    {
      when: (a) => a.images,
      route: 'direct',
      why: "to a peer that serves the model with its projector (image-route.ts): a task of the round would hand every attempt's runner the picture",
    },
    {
      when: (a) => a.fanOut > 1,
      route: 'round',
      why: 'fan-out: the round hands the task to several peers and accepts one Result',
    },
    {
      when: (a) => a.route === 'round',
      route: 'round',
      why: 'asked for: route "round" keeps the scheduling round for one answer too',
    },
    {
      when: (a) => a.model === undefined,
      route: 'round',
      why: 'no model named: only a model is routed straight; any peer with a model of its own claims the task',
    },
  ],
  otherwise: {
    when: () => true,
    route: 'direct',
    why: 'one answer from a named model: straight to one runner, its signed record following the answer',
  },
}

/** The row that decides `ask`'s route. */
export function routeFor(ask: RouteAsk): RouteRow {
  return ROUTE_TABLE.rows.find((row) => row.when(ask)) ?? ROUTE_TABLE.otherwise
}
