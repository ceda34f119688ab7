/** The route table, row by row: which way each kind of request goes, and that the first row decides. */
import { describe, expect, it } from 'vitest'
import { ROUTE_TABLE, type RouteAsk, routeFor } from '../../../host/requests/route-table.ts'

const ask = (extra: Partial<RouteAsk> = {}): RouteAsk => ({
  model: 'tiny',
  fanOut: 1,
  images: false,
  ...extra,
})

describe('route table', () => {
  it.each([
    ['images with fan-out', { images: true, fanOut: 3 }, 'refused', /with images goes straight/],
    ['images on route "round"', { images: true, route: 'round' as const }, 'refused', /route "round"/],
    ['images', { images: true }, 'direct', /projector/],
    ['images, route "direct" asked', { images: true, route: 'direct' as const }, 'direct', /projector/],
    ['fan-out', { fanOut: 3 }, 'round', /fan-out/],
    ['route "round"', { route: 'round' as const }, 'round', /asked for/],
    ['no model named', { model: undefined }, 'round', /no model named/],
    ['no model, fan-out (fan-out decides first)', { model: undefined, fanOut: 2 }, 'round', /fan-out/],
    ['one answer from a named model', {}, 'direct', /straight to one runner/],
    ['route "direct" asked', { route: 'direct' as const }, 'direct', /straight to one runner/],
  ])('%s: %s', (_name, extra, route, why) => {
    const row = routeFor(ask(extra))
    expect(row.route).toBe(route)
    expect(row.why).toMatch(why)
  })

  it('reaches each row (none is shadowed by one above it)', () => {
    const asks: RouteAsk[] = [
      ask({ images: true, fanOut: 2 }),
      ask({ images: true }),
      ask({ fanOut: 2 }),
      ask({ route: 'round' }),
      ask({ model: undefined }),
      ask(),
    ]
    expect(asks.map(routeFor)).toEqual([...ROUTE_TABLE.rows, ROUTE_TABLE.otherwise])
  })
})
