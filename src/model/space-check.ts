import type { z } from 'zod';
import type { Family, TaskSpec } from '../domain.ts';
import { ValidationError } from '../errors.ts';
import type { SearchSpace } from '../search/index.ts';
import { cnnInput, maxCnnBlocks } from './cnn.ts';
import { cnnParamsSchema, mlpParamsSchema, rnnParamsSchema, transformerParamsSchema } from './params.ts';

const SCHEMAS: Record<Family, z.ZodObject> = { mlp: mlpParamsSchema, cnn: cnnParamsSchema, rnn: rnnParamsSchema, transformer: transformerParamsSchema };

/** The values a parameter's range can produce at its edges: bounds, choices or the constant. */
function edges(spec: unknown): unknown[] {
  if (spec === null || typeof spec !== 'object') return [spec];
  const d = spec as { type: string; low?: number; high?: number; choices?: unknown[] };
  return d.type === 'categorical' ? (d.choices ?? []) : [d.low, d.high];
}

/**
 * Checks, when a study is created, that every value a search space can
 * suggest is one the model builders accept, so that a study is refused with
 * a clear 400 rather than accepted with trials that must all fail.
 */
export function checkSpaceBuildable(space: SearchSpace, spec: TaskSpec): void {
  for (const family of space.families) {
    const shape = SCHEMAS[family].shape as Record<string, z.ZodType>;
    for (const [name, paramSpec] of Object.entries(space.params[family] ?? {})) {
      const schema = shape[name];
      if (!schema) continue;
      for (const value of edges(paramSpec)) {
        const result = schema.safeParse(value);
        if (!result.success) throw new ValidationError(`search.space.${family}.${name}`, value, result.error.issues[0]?.message ?? 'is invalid');
      }
      if (family === 'cnn' && name === 'blocks') {
        const input = cnnInput(spec);
        const maxBlocks = maxCnnBlocks(input);
        // A loop, not Math.max(...edges): a categorical's choices are spread otherwise.
        let highest = -Infinity;
        for (const edge of edges(paramSpec)) highest = Math.max(highest, Number(edge));
        if (highest > maxBlocks) throw new ValidationError(`search.space.cnn.blocks`, highest, `must be at most ${maxBlocks} for ${input.what} (each block halves them)`);
      }
    }
  }
}
