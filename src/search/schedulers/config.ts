/**
 * A study's multi-fidelity settings: which scheduler spends its epochs (ASHA, Hyperband) or
 * which pruner stops its trials (median), read from `search` and checked once, at creation.
 */
import { ValidationError } from '../../errors.ts';
import { DEFAULT_MEDIAN_PRUNER, type MedianPrunerOptions } from '../pruners/median.ts';
import { createAsha } from './asha.ts';
import { createHyperband } from './hyperband.ts';
import type { ResourceOptions, Scheduler } from './scheduler.ts';

export const SCHEDULERS = ['asha', 'hyperband'] as const;
export const PRUNERS = ['median'] as const;

/** The settings as stored with the study, every default filled in. */
export interface Scheduling {
  /** @defaultValue null: every trial trains to `budget.maxEpochs` (or stops early) */
  scheduler: (typeof SCHEDULERS)[number] | null;
  /** With a scheduler: the rungs. */
  resources: ResourceOptions | null;
  /** @defaultValue null: no pruner */
  pruner: ({ type: 'median' } & MedianPrunerOptions) | null;
}

/** What a client may send under `search`. */
export interface SchedulingInput {
  scheduler?: unknown;
  minResource?: unknown;
  maxResource?: unknown;
  reductionFactor?: unknown;
  pruner?: unknown;
}

/**
 * Reads and checks the settings.
 * @throws ValidationError naming the field, e.g. "search.reductionFactor: 1 must be an integer >= 2".
 */
export function parseScheduling(input: SchedulingInput, maxEpochs: number): Scheduling {
  const { scheduler, pruner } = input;
  if (scheduler !== undefined && !(SCHEDULERS as readonly unknown[]).includes(scheduler)) {
    throw new ValidationError('search.scheduler', scheduler, `must be one of ${SCHEDULERS.join(', ')} (or left out)`);
  }
  if (scheduler === undefined) {
    for (const field of ['minResource', 'maxResource', 'reductionFactor'] as const) {
      if (input[field] !== undefined) throw new ValidationError(`search.${field}`, input[field], 'applies only with search.scheduler asha or hyperband');
    }
  }
  const parsedPruner = parsePruner(pruner);
  if (scheduler !== undefined && parsedPruner !== null) {
    throw new ValidationError('search.pruner', pruner, `cannot be combined with search.scheduler ${String(scheduler)}, which already stops trials at its rungs`);
  }
  if (scheduler === undefined) return { scheduler: null, resources: null, pruner: parsedPruner };

  const minResource = integer('search.minResource', input.minResource ?? 1, 1, maxEpochs, `budget.maxEpochs (${maxEpochs})`);
  const maxResource = integer('search.maxResource', input.maxResource ?? maxEpochs, 1, maxEpochs, `budget.maxEpochs (${maxEpochs})`);
  if (maxResource <= minResource) {
    throw new ValidationError('search.maxResource', maxResource, `must be greater than search.minResource (${minResource})`);
  }
  const reductionFactor = integer('search.reductionFactor', input.reductionFactor ?? 3, 2, 100, '100');
  return { scheduler: scheduler as Scheduling['scheduler'], resources: { minResource, maxResource, reductionFactor }, pruner: null };
}

/** The scheduler of a study's settings, or null when trials run to the end. */
export function schedulerFor(scheduling: Scheduling | undefined, seed: number): Scheduler | null {
  if (!scheduling?.scheduler || !scheduling.resources) return null;
  return scheduling.scheduler === 'asha' ? createAsha(scheduling.resources) : createHyperband(scheduling.resources, seed);
}

function parsePruner(pruner: unknown): Scheduling['pruner'] {
  if (pruner === undefined || pruner === 'none') return null;
  if (pruner === 'median') return { type: 'median', ...DEFAULT_MEDIAN_PRUNER };
  if (typeof pruner !== 'object' || pruner === null || Array.isArray(pruner) || (pruner as { type?: unknown }).type !== 'median') {
    throw new ValidationError('search.pruner', pruner, `must be 'median', 'none', or { type: 'median', nStartupTrials?, nWarmupSteps?, intervalSteps? }`);
  }
  const given = pruner as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!['type', 'nStartupTrials', 'nWarmupSteps', 'intervalSteps'].includes(key)) {
      throw new ValidationError(`search.pruner.${key}`, given[key], 'is not an option of the median pruner (known: nStartupTrials, nWarmupSteps, intervalSteps)');
    }
  }
  return {
    type: 'median',
    nStartupTrials: integer('search.pruner.nStartupTrials', given['nStartupTrials'] ?? DEFAULT_MEDIAN_PRUNER.nStartupTrials, 0, 10_000, '10000'),
    nWarmupSteps: integer('search.pruner.nWarmupSteps', given['nWarmupSteps'] ?? DEFAULT_MEDIAN_PRUNER.nWarmupSteps, 0, 10_000, '10000'),
    intervalSteps: integer('search.pruner.intervalSteps', given['intervalSteps'] ?? DEFAULT_MEDIAN_PRUNER.intervalSteps, 1, 10_000, '10000'),
  };
}

function integer(field: string, value: unknown, min: number, max: number, maxName: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
  const upper = String(max) === maxName ? '' : ` and at most ${maxName}`;
  throw new ValidationError(field, value, `must be an integer >= ${min}${upper || ` and <= ${max}`}`);
}
