/**
 * Grid search: every combination of the searched values, each tried once. The family is an
 * axis of the grid, and each family's own grid is the product of its parameters' values:
 * every choice of a categorical, every integer of an int (every `step`-th one with a step;
 * every integer in the range with `log: true` as well), a constant as given. A float has no
 * grid and is refused, as is a grid of more than {@link MAX_GRID_POINTS} points.
 *
 * Which point a trial gets follows from the history alone, so any coordinator agrees: a
 * point is taken by any trial in the history that has it, in whatever state (a failed
 * trial's point is not retried), and the trial gets an untaken point chosen uniformly by
 * `ctx.rng` (the order is a seeded shuffle, as in Optuna's GridSampler). When every point
 * is taken the sampler throws {@link SearchSpaceExhaustedError}, and the coordinator then
 * completes the study once its running trials end.
 */
import { z } from 'zod';
import type { Family, Params } from '../../domain.ts';
import { SearchSpaceExhaustedError, ValidationError } from '../../errors.ts';
import { isConstant, type Constant, type ParamSpec } from '../distribution.ts';
import { parseOptions } from '../options.ts';
import type { Sampler } from '../sampler.ts';
import type { SearchSpace } from '../space.ts';

/** The largest grid a study may search. */
export const MAX_GRID_POINTS = 1_000_000;

/** One family's block of the grid: its axes, and where its points start. */
interface Block {
  family: Family;
  offset: number;
  size: number;
  /** Searched parameters in name order; the last one varies fastest. */
  axes: Array<{ name: string } & Axis>;
}

/**
 * One parameter's values, computed rather than listed: an int range of a million values is
 * one object, and the grid's size is a product of counts, never an enumeration.
 */
interface Axis {
  count: number;
  /** The `i`-th value, for 0 <= i < count. */
  at(i: number): Constant;
  /** The position of `value`, or -1 when it is not on this axis. */
  indexOf(value: unknown): number;
}

/** The `grid` sampler takes no options. */
export function createGridSampler(options: Record<string, never> = {}): Sampler {
  parseOptions('grid', z.strictObject({}), options);
  return {
    name: 'grid',
    checkSpace(space) {
      blocksOf(space);
    },
    sample(space, history, { rng }) {
      const blocks = blocksOf(space);
      const total = blocks.reduce((n, b) => n + b.size, 0);
      const taken = new Set<number>();
      for (const t of history) {
        const index = indexOf(blocks, t.params);
        if (index !== null) taken.add(index);
      }
      if (taken.size >= total) throw new SearchSpaceExhaustedError(total);
      // The k-th untaken point, found by walking past the taken ones in order.
      let index = rng.int(0, total - taken.size - 1);
      for (const t of [...taken].sort((a, b) => a - b)) {
        if (t <= index) index++;
        else break;
      }
      return pointAt(blocks, space, index);
    },
  };
}

/** The grid's blocks; a ValidationError for a float or a grid over MAX_GRID_POINTS. */
function blocksOf(space: SearchSpace): Block[] {
  const blocks: Block[] = [];
  let offset = 0;
  for (const family of space.families) {
    const specs = space.params[family] ?? {};
    const axes: Block['axes'] = [];
    let size = 1;
    for (const name of Object.keys(specs).sort()) {
      const axis = axisOf(`search.space.${family}.${name}`, specs[name]!);
      if (axis === null) continue;
      axes.push({ name, ...axis });
      size *= axis.count;
      if (offset + size > MAX_GRID_POINTS) break;
    }
    if (offset + size > MAX_GRID_POINTS) {
      throw new ValidationError(
        'search.space',
        space.families,
        `has more than ${MAX_GRID_POINTS.toLocaleString('en-US')} grid points (at ${family}.${axes.at(-1)?.name ?? ''}); grid search needs fewer choices, narrower int ranges or larger steps`,
      );
    }
    blocks.push({ family, offset, size, axes });
    offset += size;
  }
  return blocks;
}

/** A searched parameter's axis, or null for a constant. */
function axisOf(field: string, spec: ParamSpec): Axis | null {
  if (isConstant(spec)) return null;
  switch (spec.type) {
    case 'float':
      throw new ValidationError(field, spec, 'is a continuous float; grid search needs categorical or int parameters (or a constant)');
    case 'categorical': {
      const { choices } = spec;
      const positions = new Map<unknown, number>(choices.map((c, i) => [c, i]));
      return { count: choices.length, at: (i) => choices[i]!, indexOf: (v) => positions.get(v) ?? -1 };
    }
    case 'int': {
      const { low } = spec;
      const step = spec.step ?? 1;
      const count = Math.floor((spec.high - low) / step) + 1;
      if (count > MAX_GRID_POINTS) {
        throw new ValidationError(field, spec, `has ${count.toLocaleString('en-US')} values; grid search allows at most ${MAX_GRID_POINTS.toLocaleString('en-US')} points`);
      }
      return {
        count,
        at: (i) => low + i * step,
        indexOf: (v) => {
          const i = typeof v === 'number' ? (v - low) / step : -1;
          return Number.isInteger(i) && i >= 0 && i < count ? i : -1;
        },
      };
    }
  }
}

/** The grid index of `params`, or null when they are not a point of this grid. */
function indexOf(blocks: readonly Block[], params: Params): number | null {
  const block = blocks.find((b) => b.family === params.family);
  if (block === undefined) return null;
  let index = 0;
  for (const axis of block.axes) {
    const i = axis.indexOf(params[axis.name]);
    if (i < 0) return null;
    index = index * axis.count + i;
  }
  return block.offset + index;
}

function pointAt(blocks: readonly Block[], space: SearchSpace, index: number): Params {
  const block = blocks.find((b) => index < b.offset + b.size) as Block;
  const chosen = new Map<string, Constant>();
  let rest = index - block.offset;
  for (let a = block.axes.length - 1; a >= 0; a--) {
    const axis = block.axes[a]!;
    chosen.set(axis.name, axis.at(rest % axis.count));
    rest = Math.floor(rest / axis.count);
  }
  const specs = space.params[block.family] ?? {};
  const params: Params = { family: block.family };
  for (const name of Object.keys(specs).sort()) {
    const spec = specs[name]!;
    params[name] = isConstant(spec) ? spec : (chosen.get(name) as Constant);
  }
  return params;
}
