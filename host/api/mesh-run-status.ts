import type { MeshRunFailure } from '../scheduler/mesh-errors.ts'

/** HTTP statuses of the ways a run on the mesh can fail, for `/api` and `/v1` alike. */
export const MESH_RUN_STATUS: Record<MeshRunFailure, number> = {
  model_not_found: 404,
  invalid_input: 400,
  busy: 429,
  no_capacity: 503,
  failed: 502,
}
