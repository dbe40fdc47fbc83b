import type { OpenAPIHono } from '@hono/zod-openapi';
import { ConflictError, NotFoundError } from '../../errors.ts';
import { searchSpaceSchema } from '../../search/index.ts';
import { pedAnova } from '../../search/importance/index.ts';
import type { Repository } from '../../storage/index.ts';
import { principalOf } from '../auth.ts';
import { getImportance, MAX_IMPORTANCE_TRIALS, MIN_IMPORTANCE_TRIALS } from './importance.routes.ts';

/** GET /v1/studies/{id}/importance: hyperparameter importance of a study's completed trials. */
export function registerImportance(app: OpenAPIHono, deps: { repo: Repository }): void {
  app.openapi(getImportance, async (c) => c.json(await importanceOf(deps.repo, principalOf(c).projectId, c.req.valid('param').id), 200));
}

async function importanceOf(repo: Repository, projectId: string, id: string) {
  const study = await repo.studies.get(id);
  // Another project's study is answered exactly like a missing one.
  if (!study || study.projectId !== projectId) throw new NotFoundError('study', id);
  const space = searchSpaceSchema.safeParse(study.config.search.space);
  if (!space.success) throw new ConflictError(`study '${id}' has a stored search space that cannot be read, so its parameters cannot be measured`);
  const trials = await repo.trials.completed(id, MAX_IMPORTANCE_TRIALS);
  const result = pedAnova(space.data, trials.map((t) => ({ ...t, state: 'completed' as const })), { direction: study.config.objective.direction, minTrials: MIN_IMPORTANCE_TRIALS });
  if (result.status === 'too-few-trials') {
    throw new ConflictError(`study '${id}' has ${result.trials} completed trial${result.trials === 1 ? '' : 's'}; importance needs at least ${result.needed}`);
  }
  return { method: result.method, trials: result.trials, params: result.params };
}
