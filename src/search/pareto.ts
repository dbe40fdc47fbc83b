/**
 * Pareto ranking for multi-objective studies: domination (plain and Deb's constrained),
 * non-dominated sorting, crowding distance and hypervolume. Pure functions over objective
 * vectors; each objective is read with its own direction, so callers never negate values.
 *
 * A point is `values[k]` for objective k. Points with a NaN value are the caller's to drop:
 * NaN compares false both ways, so such a point neither dominates nor is dominated.
 */
import type { Direction } from '../domain.ts';

/** An objective vector, one value per direction. */
export type Point = readonly number[];

/** `values` turned into a vector to minimize: maximized objectives are negated. */
export function toMinimize(values: Point, directions: readonly Direction[]): number[] {
  return values.map((v, k) => (directions[k] === 'maximize' ? -v : v));
}

/** Whether `a` is no worse than `b` in every objective and better in at least one. */
export function dominates(a: Point, b: Point, directions: readonly Direction[]): boolean {
  let better = false;
  for (let k = 0; k < directions.length; k++) {
    const sign = directions[k] === 'maximize' ? -1 : 1;
    const x = sign * (a[k] as number);
    const y = sign * (b[k] as number);
    if (!(x <= y)) return false;
    if (x < y) better = true;
  }
  return better;
}

/**
 * Deb's constrained domination (Deb et al., 2002, the NSGA-II paper): a feasible point
 * (violation 0) beats an infeasible one; of two infeasible points the smaller total
 * violation wins; two feasible points compare by {@link dominates}.
 */
export function constrainedDominates(
  a: Point,
  violationA: number,
  b: Point,
  violationB: number,
  directions: readonly Direction[],
): boolean {
  const feasibleA = violationA <= 0;
  const feasibleB = violationB <= 0;
  if (feasibleA && feasibleB) return dominates(a, b, directions);
  if (feasibleA !== feasibleB) return feasibleA;
  return violationA < violationB;
}

/**
 * Fast non-dominated sorting (Deb et al., 2002), O(M·N²): the indices of `points` by front,
 * the first front holding the points nothing dominates. With `violations` (one number >= 0
 * per point) domination is Deb's constrained one, so every feasible point ranks ahead of
 * every infeasible one. Indices within a front are ascending.
 */
export function nonDominatedSort(
  points: readonly Point[],
  directions: readonly Direction[],
  violations?: readonly number[],
): number[][] {
  const n = points.length;
  const beats = (i: number, j: number): boolean => violations === undefined
    ? dominates(points[i]!, points[j]!, directions)
    : constrainedDominates(points[i]!, violations[i]!, points[j]!, violations[j]!, directions);
  const dominatedBy = new Array<number>(n).fill(0);
  const dominating: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (beats(i, j)) {
        dominating[i]!.push(j);
        dominatedBy[j]!++;
      } else if (beats(j, i)) {
        dominating[j]!.push(i);
        dominatedBy[i]!++;
      }
    }
  }
  const fronts: number[][] = [];
  let front = dominatedBy.flatMap((count, i) => (count === 0 ? [i] : []));
  while (front.length > 0) {
    fronts.push(front);
    const next: number[] = [];
    for (const i of front) {
      for (const j of dominating[i]!) if (--dominatedBy[j]! === 0) next.push(j);
    }
    front = next.sort((a, b) => a - b);
  }
  return fronts;
}

/**
 * Crowding distance of each point of one front (Deb et al., 2002): per objective, the gap
 * between a point's two neighbours divided by the objective's range, summed. The extreme
 * points of an objective get Infinity; an objective on which all points are equal adds
 * nothing (Optuna's rule). Direction does not matter: the distance is symmetric.
 */
export function crowdingDistance(front: readonly Point[]): number[] {
  const n = front.length;
  const distance = new Array<number>(n).fill(0);
  if (n === 0) return distance;
  const m = front[0]!.length;
  for (let k = 0; k < m; k++) {
    const order = front.map((_, i) => i).sort((i, j) => front[i]![k]! - front[j]![k]! || i - j);
    const lo = front[order[0]!]![k]!;
    const hi = front[order[n - 1]!]![k]!;
    if (lo === hi) continue;
    const width = hi - lo;
    distance[order[0]!] = Infinity;
    distance[order[n - 1]!] = Infinity;
    for (let r = 1; r < n - 1; r++) {
      distance[order[r]!]! += (front[order[r + 1]!]![k]! - front[order[r - 1]!]![k]!) / width;
    }
  }
  return distance;
}

/**
 * The hypervolume of the region that `points` dominate and that dominates `reference`
 * (the region between the front and the reference point), each objective read with its
 * direction. Points that do not strictly beat the reference in every objective add nothing.
 * Exact for any number of objectives: 1 and 2 by a sweep, more by slicing on the last
 * objective (Hypervolume by Slicing Objectives, While et al., 2006), O(N^(M-1) log N) — fine
 * for 3 objectives and thousands of points, slow past 4 objectives and a few hundred.
 */
export function hypervolume(points: readonly Point[], reference: Point, directions: readonly Direction[]): number {
  if (reference.length !== directions.length) {
    throw new RangeError(`hypervolume: the reference point has ${reference.length} values for ${directions.length} objectives`);
  }
  const ref = toMinimize(reference, directions);
  const inside = points
    .map((p) => toMinimize(p, directions))
    .filter((p) => p.length === ref.length && p.every((v, k) => v < ref[k]!));
  return volume(inside, ref);
}

/**
 * How much hypervolume each point adds: the volume lost when it alone is removed. Points
 * dominated by (or equal to) another point add 0.
 */
export function hypervolumeContributions(points: readonly Point[], reference: Point, directions: readonly Direction[]): number[] {
  const total = hypervolume(points, reference, directions);
  return points.map((_, i) => Math.max(0, total - hypervolume(points.filter((__, j) => j !== i), reference, directions)));
}

/** Volume dominated by `points` (minimized, all strictly inside `ref`) up to `ref`. */
function volume(points: number[][], ref: readonly number[]): number {
  const m = ref.length;
  if (points.length === 0) return 0;
  if (m === 1) return ref[0]! - Math.min(...points.map((p) => p[0]!));
  if (m === 2) return sweep2d(points, ref);
  // Slabs between consecutive last-objective levels: every point at or below a slab's floor
  // covers the whole slab with its projection onto the other objectives.
  const last = m - 1;
  const sorted = [...points].sort((a, b) => a[last]! - b[last]!);
  const head = ref.slice(0, last);
  let total = 0;
  for (let i = 0; i < sorted.length; i++) {
    const floor = sorted[i]![last]!;
    const ceiling = i + 1 < sorted.length ? sorted[i + 1]![last]! : ref[last]!;
    if (ceiling === floor) continue;
    total += volume(sorted.slice(0, i + 1).map((p) => p.slice(0, last)), head) * (ceiling - floor);
  }
  return total;
}

/** Area dominated by 2-D points: sweep by the first objective, keeping the best second one. */
function sweep2d(points: number[][], ref: readonly number[]): number {
  const sorted = [...points].sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let area = 0;
  let best = ref[1]!;
  for (const [x, y] of sorted) {
    if (y! < best) {
      area += (ref[0]! - x!) * (best - y!);
      best = y!;
    }
  }
  return area;
}
