/**
 * A study's objectives and constraints read from a trial's metrics: the objective vector a
 * multi-objective sampler or scheduler compares, the constraint violation (Deb's rule), and
 * the Pareto ranking the leaderboard and promotion use. Pure functions over plain metrics.
 */
import type { Direction } from '../domain.ts';
import { crowdingDistance, dominates, toMinimize, type Point } from './pareto.ts';


/** One objective of a study. */
export interface Objective {
  metric: string;
  direction: Direction;
}

/** A bound on one metric: at most `max`, at least `min` (one or both). */
export interface Constraint {
  metric: string;
  max?: number | undefined;
  min?: number | undefined;
}

/** The parts of a stored study config these functions read. */
export interface ObjectiveConfig {
  objective: Objective;
  /** Two or more objectives, the first equal to `objective`; absent for a single objective. */
  objectives?: Objective[] | undefined;
  constraints?: Constraint[] | undefined;
}

/** Every objective of a study, the primary one first. */
export function objectivesOf(config: ObjectiveConfig): Objective[] {
  return config.objectives !== undefined && config.objectives.length > 0 ? config.objectives : [config.objective];
}

/** Whether a study ranks trials by more than one number: several objectives, or constraints. */
export function ranksByFront(config: ObjectiveConfig): boolean {
  return objectivesOf(config).length > 1 || (config.constraints?.length ?? 0) > 0;
}

/** The objective vector in `metrics`, or null when one of its values is missing or not finite. */
export function valuesOf(metrics: Readonly<Record<string, number>> | null | undefined, objectives: readonly Objective[]): number[] | null {
  if (!metrics) return null;
  const values = objectives.map((o) => metrics[o.metric]);
  return values.every((v): v is number => v !== undefined && Number.isFinite(v)) ? values : null;
}

/**
 * How far `metrics` break the constraints, summed over them: each bound's excess relative to
 * the bound (an absolute excess for a bound of 0), so a 10 ms latency against `max: 5` counts
 * 1 whatever the unit. 0 is feasible. A metric that was not measured counts as Infinity: a
 * trial cannot be shown to meet it.
 */
export function violationOf(metrics: Readonly<Record<string, number>> | null | undefined, constraints: readonly Constraint[] | undefined): number {
  let total = 0;
  for (const c of constraints ?? []) {
    const v = metrics?.[c.metric];
    if (v === undefined || !Number.isFinite(v)) return Infinity;
    if (c.max !== undefined && v > c.max) total += (v - c.max) / (c.max === 0 ? 1 : Math.abs(c.max));
    if (c.min !== undefined && v < c.min) total += (c.min - v) / (c.min === 0 ? 1 : Math.abs(c.min));
  }
  return total;
}

/**
 * The first fronts of `points` under Deb's constrained domination, best first, until they hold
 * at least `need` points (all fronts when `need` is left out): feasible points by Pareto
 * domination, then infeasible ones by violation, each distinct violation a front of its own.
 * Indices within a front are ascending.
 *
 * Peeled one front at a time, each in O(N·F) for a front of F points: in lexicographic order
 * (every objective to be minimized) a point's dominators all come before it, and one of them
 * is on the current front. A leaderboard of 100 over 10,000 trials costs about a million
 * comparisons, where a full non-dominated sort costs fifty million.
 */
export function peelFronts(points: readonly Point[], violations: readonly number[], directions: readonly Direction[], need = Infinity): number[][] {
  const fronts: number[][] = [];
  let covered = 0;
  const m = directions.length;
  const minimized = points.map((p) => toMinimize(p, directions));
  const lexicographic = (a: number, b: number): number => {
    for (let k = 0; k < m; k++) {
      const d = minimized[a]![k]! - minimized[b]![k]!;
      if (d !== 0) return d;
    }
    return a - b;
  };
  // j comes before i in lexicographic order: it dominates i unless i beats it somewhere or they are equal.
  const dominatesLater = (j: number, i: number): boolean => {
    const a = minimized[j]!;
    const b = minimized[i]!;
    let strictly = false;
    for (let k = 0; k < m; k++) {
      if (a[k]! > b[k]!) return false;
      if (a[k]! < b[k]!) strictly = true;
    }
    return strictly;
  };
  let remaining = points.map((_, i) => i).filter((i) => violations[i]! <= 0).sort(lexicographic);
  while (remaining.length > 0 && covered < need) {
    const front: number[] = [];
    const rest: number[] = [];
    for (const i of remaining) {
      // With two objectives the front's last member has its lowest second value so far: one comparison.
      const beaten = m === 2 && front.length > 0 ? dominatesLater(front[front.length - 1]!, i) : front.some((j) => dominatesLater(j, i));
      (beaten ? rest : front).push(i);
    }
    fronts.push(front.sort((a, b) => a - b));
    covered += front.length;
    remaining = rest;
  }
  const infeasible = points.map((_, i) => i).filter((i) => !(violations[i]! <= 0)).sort((a, b) => violations[a]! - violations[b]! || a - b);
  for (let i = 0; i < infeasible.length && covered < need; ) {
    const v = violations[infeasible[i]!]!;
    const front: number[] = [];
    // NaN never equals itself: an unknown violation is a front alone, last.
    while (i < infeasible.length && (front.length === 0 || violations[infeasible[i]!] === v)) front.push(infeasible[i++]!);
    fronts.push(front);
    covered += front.length;
  }
  return fronts;
}

/** A trial's place on the leaderboard of a study ranked by its front. */
export interface FrontPlace {
  /** Non-dominated front, from 0 (the Pareto front); feasible trials rank ahead of infeasible ones. */
  front: number;
  /** Crowding distance within its front (Infinity at an objective's extremes; 0 on a front of one or two equal points). */
  crowding: number;
}

/**
 * The best `need` points (all when left out), as [index, place] pairs best first: by front, and
 * within a front by the primary objective (the first), then by `ties` (trial numbers). `first`
 * is the whole first front, however small `need` is.
 */
export function frontRanking(points: readonly Point[], violations: readonly number[], directions: readonly Direction[], ties: readonly number[], need = Infinity): { order: [number, FrontPlace][]; first: number[] } {
  const sign = directions[0] === 'maximize' ? -1 : 1;
  const order: [number, FrontPlace][] = [];
  const fronts = peelFronts(points, violations, directions, need);
  for (const [f, members] of fronts.entries()) {
    const crowding = crowdingDistance(members.map((i) => points[i]!));
    const ordered = members.map((i, k): [number, FrontPlace] => [i, { front: f, crowding: crowding[k]! }]);
    ordered.sort(([a], [b]) => sign * (points[a]![0]! - points[b]![0]!) || ties[a]! - ties[b]!);
    order.push(...ordered);
  }
  return { order: order.slice(0, need), first: fronts[0] ?? [] };
}

/**
 * The point a study promotes: the best primary objective (the first) among the feasible
 * points, ties going to one that no other feasible point dominates, then to the lower `ties`
 * value. It is always on the Pareto front. Null when no point is feasible.
 */
export function bestFeasible(points: readonly Point[], violations: readonly number[], directions: readonly Direction[], ties: readonly number[]): number | null {
  const feasible = points.map((_, i) => i).filter((i) => violations[i]! <= 0);
  if (feasible.length === 0) return null;
  const sign = directions[0] === 'maximize' ? -1 : 1;
  const best = Math.min(...feasible.map((i) => sign * points[i]![0]!));
  const tied = feasible.filter((i) => sign * points[i]![0]! === best);
  const front = tied.filter((i) => !tied.some((j) => dominates(points[j]!, points[i]!, directions)));
  return front.sort((a, b) => ties[a]! - ties[b]!)[0] ?? null;
}

/**
 * A reference point for the hypervolume of `points`: per objective the worst value seen, moved
 * a tenth of the observed range further (or a tenth of its size, or 1, when all are equal), so
 * the front's extreme points still add volume.
 */
export function referencePoint(points: readonly Point[], directions: readonly Direction[]): number[] {
  return directions.map((d, k) => {
    const column = points.map((p) => p[k]!);
    const lo = Math.min(...column);
    const hi = Math.max(...column);
    const margin = hi > lo ? (hi - lo) / 10 : Math.abs(hi) / 10 || 1;
    return d === 'maximize' ? lo - margin : hi + margin;
  });
}
