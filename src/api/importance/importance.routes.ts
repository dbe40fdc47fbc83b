import { createRoute, z } from '@hono/zod-openapi';
import { errorResponse } from '../openapi.ts';

/** The most completed trials one answer reads: the latest ones, so the work per request is bounded. */
export const MAX_IMPORTANCE_TRIALS = 1000;

/** Completed trials needed before importances mean anything (PedAnovaOptions.minTrials). */
export const MIN_IMPORTANCE_TRIALS = 10;

export const importanceSchema = z
  .object({
    method: z.literal('ped-anova').openapi({
      description:
        "PED-ANOVA (Watanabe et al. 2023): a parameter's importance is the Pearson divergence between its distribution over the best 10% of the trials and over all of them.",
    }),
    trials: z.number().int().openapi({ description: `Completed trials read: the latest ${MAX_IMPORTANCE_TRIALS} at most.` }),
    params: z
      .array(
        z.object({
          name: z.string().openapi({
            description:
              "'family'; a parameter every family of the space has alike (learningRate); or '<family>.<name>' (mlp.units) for one family's own, measured over that family's trials only.",
          }),
          importance: z.number().openapi({ description: 'Share of the importance, in [0, 1]; the listed ones sum to 1.' }),
          trials: z.number().int().openapi({ description: 'Completed trials it was measured over: all of them, or those of its family.' }),
        }),
      )
      .openapi({
        description: `Most important first. Constants are not listed, nor a family's parameters while that family has fewer than ${MIN_IMPORTANCE_TRIALS} completed trials.`,
      }),
  })
  .openapi('StudyImportance', {
    example: {
      method: 'ped-anova',
      trials: 40,
      params: [
        { name: 'learningRate', importance: 0.61, trials: 40 },
        { name: 'mlp.units', importance: 0.24, trials: 22 },
        { name: 'family', importance: 0.1, trials: 40 },
        { name: 'optimizer', importance: 0.05, trials: 40 },
      ],
    },
  });

export const getImportance = createRoute({
  method: 'get',
  path: '/v1/studies/{id}/importance',
  operationId: 'getStudyImportance',
  summary: "How much each hyperparameter mattered to reaching the study's best trials",
  description: `Read from the study's completed trials so far (the latest ${MAX_IMPORTANCE_TRIALS}), with the study's objective direction. Deterministic: the same trials give the same answer.`,
  request: { params: z.object({ id: z.string() }) },
  responses: {
    200: { description: 'Importances, most important first', content: { 'application/json': { schema: importanceSchema } } },
    404: errorResponse('No such study'),
    409: errorResponse(`The study has fewer than ${MIN_IMPORTANCE_TRIALS} completed trials; the message says how many`),
  },
});
