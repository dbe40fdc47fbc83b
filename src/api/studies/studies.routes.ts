import { createRoute, z } from '@hono/zod-openapi';
import { HEAVY_FAMILIES } from '../../domain.ts';
import { MAX_TIME_LIMIT_SECONDS, MAX_TRIALS, studyConfigSchema } from '../../schemas.ts';
import { errorResponse } from '../openapi.ts';
import { pageQuery } from '../paging.ts';

export const createStudyBody = studyConfigSchema
  .extend({
    name: z.string().min(1).max(200),
    datasetId: z.string().min(1),
    // The same field, with a description for /openapi.json: clients choose it, and TSDoc does not reach them.
    // zod's own meta(), not openapi(): that exists only on schemas made after @hono/zod-openapi loaded.
    device: studyConfigSchema.shape.device.meta({
      description:
        `Which workers run the trials. 'auto': heavy families (${HEAVY_FAMILIES.join(', ')}) on GPU workers while one is alive, the rest on CPU workers. ` +
        "'cpu': every trial on CPU workers. 'gpu': every trial on GPU workers, waiting on the GPU queue while none is alive.",
    }),
    promotion: studyConfigSchema.shape.promotion.meta({
      description:
        "Whether the study's best trial, always registered as the next version of the model named by promoteTo, also takes the model's 'champion' alias (what predict serves by default). " +
        "'if-better' (default): only when it beats both the study's baseline (majority class, training mean or last value, scored when the study was created) and the current champion " +
        "on the study's validation rows (the champion is scored on them when it was trained on other data); otherwise the study's message says why, with both numbers. " +
        "'always': whatever its score. 'never': the alias is moved by hand.",
    }),
  })
  .strict()
  .openapi('CreateStudy', {
    example: {
      name: 'digits',
      datasetId: '…',
      objective: { metric: 'val_accuracy', direction: 'maximize' },
      budget: { maxTrials: 6, maxEpochs: 10, parallelism: 2 },
      search: { algorithm: 'random', families: ['mlp', 'cnn'] },
      earlyStopping: { patience: 3, minDelta: 0.001 },
      seed: 42,
      device: 'auto',
      promotion: 'if-better',
    },
  });

const trialSummary = z.object({
  id: z.string(),
  number: z.number().int(),
  family: z.string(),
  params: z.record(z.string(), z.unknown()),
  state: z.string(),
  value: z.number().nullable(),
  metrics: z.record(z.string(), z.number()).nullable(),
  epochs: z.number().int(),
  bestEpoch: z.number().int().nullable(),
  durationMs: z.number().int().nullable(),
  backend: z.string().nullable(),
  worker: z.string().nullable(),
  attempts: z.number().int(),
  retries: z.number().int().openapi({ description: 'Times the trial was found stuck or lost and queued again.' }),
  rung: z.number().int().openapi({ description: 'With a scheduler: the rung the trial trains toward or is paused at (0 = first).' }),
  error: z.string().nullable(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
});

export const studySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    datasetId: z.string(),
    state: z.enum(['queued', 'running', 'completed', 'failed', 'cancelled']),
    message: z.string().nullable(),
    config: z.unknown(),
    counts: z.record(z.string(), z.number().int()),
    epochs: z.number().int().openapi({ description: 'Epochs trained so far, summed over every trial (the budget is maxTrials × maxEpochs).' }),
    best: trialSummary.nullable(),
    model: z.object({ name: z.string(), version: z.number().int() }).nullable(),
    createdAt: z.string(),
    endedAt: z.string().nullable(),
    resumedAt: z.string().nullable().openapi({ description: 'When the study was last continued after it completed; null if never.' }),
    runningSeconds: z.number().openapi({ description: 'Time the study has been queued or running, what its time limit counts: not the time it stayed completed before it was continued.' }),
  })
  .openapi('Study');

const leaderboardEntry = trialSummary.extend({
  rank: z.number().int(),
  front: z.number().int().nullable().optional().openapi({ description: 'Several objectives or constraints: the Pareto front of a finished trial, 0 the best (feasible trials rank ahead of infeasible ones); null for a trial under way or missing a metric.' }),
  crowding: z.number().nullable().optional().openapi({ description: 'Crowding distance within its front (NSGA-II); null at an extreme of the front (infinite) or when not ranked.' }),
  values: z.array(z.number()).nullable().optional().openapi({ description: "The trial's value of each objective, in the order of `objectives`." }),
  violation: z.number().nullable().optional().openapi({ description: 'How far the trial breaks the constraints: the sum of each bound\'s relative excess; 0 meets them all.' }),
  feasible: z.boolean().nullable().optional().openapi({ description: 'Whether the trial meets every constraint (only such trials are promoted).' }),
});
const objectiveSchema = z.object({ metric: z.string(), direction: z.enum(['minimize', 'maximize']) });
const leaderboardSchema = z
  .object({
    objectives: z.array(objectiveSchema).openapi({ description: 'The study\'s objectives, the primary one first.' }),
    constraints: z.array(z.object({ metric: z.string(), max: z.number().optional(), min: z.number().optional() })).optional(),
    pareto: z
      .object({
        hypervolume: z.number().openapi({ description: 'Hypervolume of the feasible Pareto front (objectives read with their directions).' }),
        reference: z.array(z.number()).openapi({ description: 'The reference point: per objective, the worst feasible value seen moved a tenth of the range further.' }),
        size: z.number().int().openapi({ description: 'Trials on the feasible Pareto front.' }),
      })
      .nullable()
      .optional()
      .openapi({ description: 'Several objectives or constraints: the front\'s summary; null while no finished trial is feasible.' }),
    trials: z.array(leaderboardEntry),
  })
  .openapi('Leaderboard');
const idParam = z.object({ id: z.string() });

const notFound = errorResponse('No such study');
const badPage = errorResponse('A bad limit or cursor');

export const create = createRoute({
  method: 'post',
  path: '/v1/studies',
  operationId: 'createStudy',
  summary: 'Start a study (a search over families and hyperparameters)',
  request: { body: { required: true, content: { 'application/json': { schema: createStudyBody } } } },
  responses: {
    202: { description: 'Accepted; trials are queued', content: { 'application/json': { schema: studySchema } } },
    400: errorResponse('Invalid input; the message names the field, the value and the rule'),
    429: errorResponse("The project's quota of studies or trials is reached, or the key's rate limit"),
  },
});

export const list = createRoute({
  method: 'get',
  path: '/v1/studies',
  operationId: 'listStudies',
  summary: "List the project's studies, newest first",
  request: { query: pageQuery },
  responses: { 200: { description: 'Studies', content: { 'application/json': { schema: z.object({ studies: z.array(studySchema), nextCursor: z.string().nullable() }) } } }, 400: badPage },
});

export const get = createRoute({
  method: 'get',
  path: '/v1/studies/{id}',
  operationId: 'getStudy',
  summary: 'A study: state, trial counts, best so far',
  request: { params: idParam },
  responses: { 200: { description: 'The study', content: { 'application/json': { schema: studySchema } } }, 404: notFound },
});

export const leaderboard = createRoute({
  method: 'get',
  path: '/v1/studies/{id}/leaderboard',
  operationId: 'getLeaderboard',
  summary: 'Trials ranked by the objective (running trials by their best epoch so far), or by Pareto front for several objectives or constraints',
  request: { params: idParam, query: z.object({ limit: z.coerce.number().int().min(1).max(1000).optional() }) },
  responses: { 200: { description: 'Ranked trials', content: { 'application/json': { schema: leaderboardSchema } } }, 400: errorResponse('A bad limit'), 404: notFound },
});

export const trials = createRoute({
  method: 'get',
  path: '/v1/studies/{id}/trials',
  operationId: 'listTrials',
  summary: 'Trials of a study in creation order, a page at a time',
  request: { params: idParam, query: pageQuery },
  responses: { 200: { description: 'Trials', content: { 'application/json': { schema: z.object({ trials: z.array(trialSummary), nextCursor: z.string().nullable() }) } } }, 400: badPage, 404: notFound },
});

export const trial = createRoute({
  method: 'get',
  path: '/v1/studies/{id}/trials/{trialId}',
  operationId: 'getTrial',
  summary: 'One trial with its per-epoch learning curve',
  request: { params: z.object({ id: z.string(), trialId: z.string() }) },
  responses: {
    200: {
      description: 'The trial',
      content: { 'application/json': { schema: trialSummary.extend({ curve: z.array(z.object({ epoch: z.number().int(), attempt: z.number().int(), metrics: z.record(z.string(), z.number()) })) }) } },
    },
    404: notFound,
  },
});

export const cancel = createRoute({
  method: 'post',
  path: '/v1/studies/{id}/cancel',
  operationId: 'cancelStudy',
  summary: 'Cancel a study: queued trials are dropped, running ones stop after their current epoch',
  request: {
    params: idParam,
    // Every POST carries a JSON body (see create-app.ts), so a cross-site form cannot send one.
    body: { required: true, content: { 'application/json': { schema: z.object({}).openapi({ description: 'An empty object', example: {} }) } } },
  },
  responses: {
    200: { description: 'The study', content: { 'application/json': { schema: studySchema } } },
    404: notFound,
    409: errorResponse('The study has already ended'),
  },
});

export const continueStudyBody = z
  .object({
    maxTrials: z.number().int().min(1).max(MAX_TRIALS).optional().openapi({ description: 'The new trial budget, at least the current one; a completed study needs more than the trials it has' }),
    timeLimitSeconds: z.number().int().min(1).max(MAX_TIME_LIMIT_SECONDS).optional().openapi({ description: 'The new time limit of the whole study, at least the current one and more than the time it has run (its time counts while it is queued or running, not while it stays completed)' }),
  })
  .strict()
  .openapi({ example: { maxTrials: 40 } });

export const continueStudy = createRoute({
  method: 'post',
  path: '/v1/studies/{id}/continue',
  operationId: 'continueStudy',
  summary: 'Raise the budget of a queued, running or completed study; a completed one runs again from its history',
  description:
    'A running study goes on with the new budget. A completed study runs again: new trials are numbered after its last, the sampler learns from every trial it has, and when it ends it registers a new model version only if its best trial changed.',
  request: { params: idParam, body: { required: true, content: { 'application/json': { schema: continueStudyBody } } } },
  responses: {
    200: { description: 'The study', content: { 'application/json': { schema: studySchema } } },
    400: errorResponse('Bad budget: the field and the rule are named'),
    404: notFound,
    409: errorResponse('The study failed or was cancelled, or the new budget leaves it nothing to do'),
    429: errorResponse('A project quota (queued or running studies, trials in flight) would be exceeded'),
  },
});

export const remove = createRoute({
  method: 'delete',
  path: '/v1/studies/{id}',
  operationId: 'deleteStudy',
  summary: 'Delete a study and its trials (an active one is cancelled first)',
  request: { params: idParam },
  responses: {
    204: { description: 'Deleted' },
    404: notFound,
    409: errorResponse('A model version it registered still exists; it is named'),
  },
});
