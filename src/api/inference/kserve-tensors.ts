/**
 * KServe v2 (Open Inference Protocol) tensors: a request's `inputs` (name, shape, datatype and
 * row-major data) to maas instances, and predictions to `outputs`. The values themselves are
 * checked afterwards by the encoder of maas's own predict, with its errors renamed to `inputs[k]`.
 */
import { z } from '@hono/zod-openapi';
import { MAX_INSTANCES, type Prediction, type Preprocessing } from '../../data/index.ts';
import { PayloadTooLargeError, ValidationError } from '../../errors.ts';
import { instancesOf, outputsOf, relabel, type NamedRows, type Signature, type TensorSpec } from '../../serving/signature.ts';

/** The protocol's tensor data types. */
export const V2_DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'] as const;
type Datatype = (typeof V2_DATATYPES)[number];
const NUMBER_TYPES: readonly Datatype[] = V2_DATATYPES.filter((d) => d !== 'BOOL' && d !== 'BYTES');

/** Most dimensions of a request tensor; maas's inputs have at most four (a batch of images). */
const MAX_DIMS = 8;

const parametersSchema = z.record(z.string(), z.unknown()).openapi({ description: 'Accepted and ignored: maas defines no parameters' });

export const requestInputSchema = z
  .object({
    name: z.string().min(1).max(200),
    shape: z.array(z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)).min(1).max(MAX_DIMS),
    datatype: z.enum(V2_DATATYPES),
    parameters: parametersSchema.optional(),
    data: z.array(z.unknown()).openapi({ description: 'The elements in row-major order, flat or nested' }),
  })
  .strict();
export type RequestInput = z.infer<typeof requestInputSchema>;

export const responseOutputSchema = z.object({
  name: z.string(),
  datatype: z.string(),
  shape: z.array(z.number().int()),
  data: z.array(z.union([z.string(), z.number()])),
});
export type ResponseOutput = z.infer<typeof responseOutputSchema>;

/**
 * Datatypes a request may send for a model input; the server coerces, as the protocol allows.
 * Text is strings only; numeric columns and tensors take any number type; a categorical column
 * (and a row tensor holding one) also takes strings and booleans, as maas's own predict does.
 */
function acceptedTypes(signature: Signature, spec: TensorSpec): readonly Datatype[] {
  if (signature.layout === 'text') return ['BYTES'];
  return spec.datatype === 'FP32' ? NUMBER_TYPES : [...NUMBER_TYPES, 'BYTES', 'BOOL'];
}

/** Whether one element is of `datatype`; null stands for a missing tabular cell. */
function fits(value: unknown, datatype: Datatype, nullable: boolean): boolean {
  if (value === null) return nullable;
  if (datatype === 'BYTES') return typeof value === 'string';
  if (datatype === 'BOOL') return typeof value === 'boolean';
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  if (datatype.startsWith('FP')) return true;
  return Number.isInteger(value) && (!datatype.startsWith('U') || value >= 0);
}

/**
 * Row-major elements of natural (nested) or flat data, at most `dims` deep. Stops after `max + 1`
 * elements: data longer than its shape is refused without copying it all.
 */
function flatten(data: unknown[], dims: number, field: string, max: number): unknown[] {
  const out: unknown[] = [];
  const walk = (items: unknown[], depth: number): void => {
    for (const item of items) {
      if (out.length > max) return;
      if (!Array.isArray(item)) out.push(item);
      else if (depth >= dims) throw new ValidationError(field, item, `is nested deeper than the ${dims} dimensions of the shape`);
      else walk(item, depth + 1);
    }
  };
  walk(data, 1);
  return out;
}

/** The per-instance dimensions a request may use for a model input of `model` per-instance dimensions. */
function dimsFit(given: readonly number[], model: readonly number[]): boolean {
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, k) => d === b[k]);
  if (same(given, model)) return true;
  const size = model.reduce((a, b) => a * b, 1);
  // Flattened, or without trailing unit dimensions ([n, 8, 8] for [n, 8, 8, 1]).
  if (given.length === 1 && given[0] === size) return true;
  const trimmed = [...model];
  while (trimmed.length > 0 && trimmed[trimmed.length - 1] === 1) trimmed.pop();
  return same(given, trimmed);
}

/** `flat[offset…]` nested to `dims` (a scalar for no dimensions). */
function nest(flat: readonly unknown[], offset: number, dims: readonly number[]): unknown {
  if (dims.length === 0) return flat[offset];
  const [first = 0, ...rest] = dims;
  const stride = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: first }, (_, k) => nest(flat, offset + k * stride, rest));
}

/** One request input as per-instance rows of the model input it names. */
function rowsOf(input: RequestInput, k: number, signature: Signature): NamedRows {
  const field = `inputs[${k}]`;
  const row = signature.rowInput?.name === input.name;
  const spec = row ? signature.rowInput : signature.inputs.find((i) => i.name === input.name);
  // Unknown names are refused by instancesOf with the list of inputs; their rows are never read.
  if (!spec) return { name: input.name, field, nameField: `${field}.name`, rows: [] };
  const accepted = acceptedTypes(signature, spec);
  if (!accepted.includes(input.datatype)) {
    throw new ValidationError(`${field}.datatype`, input.datatype, `does not fit input "${input.name}" (${spec.datatype}); send one of ${accepted.join(', ')}`);
  }
  const [n = 0, ...dims] = input.shape;
  const modelDims = spec.shape.slice(1);
  if (n === 0) throw new ValidationError(`${field}.shape`, input.shape, 'must start with the batch size, at least 1');
  if (n > MAX_INSTANCES) throw new PayloadTooLargeError(`${field}.shape`, input.shape, `is a batch of more instances than the ${MAX_INSTANCES} one request may carry`);
  if (!dimsFit(dims, modelDims)) {
    throw new ValidationError(`${field}.shape`, input.shape, `does not fit input "${input.name}", whose shape is [${spec.shape.join(', ')}] (-1: the batch size)`);
  }
  const size = dims.reduce((a, b) => a * b, 1);
  const data = flatten(input.data, input.shape.length, `${field}.data`, n * size);
  if (data.length !== n * size) {
    const given = data.length > n * size ? `more than ${n * size} elements` : `${data.length} elements`;
    throw new ValidationError(`${field}.data`, given, `does not match shape [${input.shape.join(', ')}], which holds ${n * size}; data is the tensor's elements in row-major order`);
  }
  const nullable = signature.layout === 'columns';
  const bad = data.findIndex((v) => !fits(v, input.datatype, nullable));
  if (bad >= 0) throw new ValidationError(`${field}.data[${bad}]`, data[bad], `is not a ${input.datatype} value${nullable ? ' (or null, to ask for imputation)' : ''}`);
  // A row tensor stays a flat row; other inputs take the model's own nesting.
  const rows = Array.from({ length: n }, (_, i) => (row ? data.slice(i * size, (i + 1) * size) : nest(data, i * size, modelDims)));
  return { name: input.name, field, nameField: `${field}.name`, rows };
}

/** Maas instances from a v2 request's inputs. */
export function v2Instances(signature: Signature, inputs: readonly RequestInput[]): unknown[] {
  return instancesOf(signature, inputs.map((input, k) => rowsOf(input, k, signature)));
}

/** Renames an encoder error about `instances[i]…` to the v2 input and element it came from. */
export function v2Error(signature: Signature, inputs: readonly RequestInput[], err: unknown): unknown {
  const index = (name: string) => inputs.findIndex((x) => x.name === name);
  const row = signature.rowInput ? index(signature.rowInput.name) : -1;
  return relabel(signature, err, (i, column, rest) => {
    if (column !== null && row >= 0) return `inputs[${row}].data[${i * signature.inputs.length + signature.inputs.findIndex((c) => c.name === column)}] (column ${column})${rest}`;
    if (column !== null) return `inputs[${index(column)}].data[${i}]${rest}`;
    if (signature.layout === 'text') return `inputs[0].data[${i}]${rest}`;
    return `inputs[0].data (instance ${i}${rest ? `, at ${rest}` : ''})`;
  });
}

/**
 * Checks the outputs a request asks for, before any work is done.
 * @throws ValidationError naming a requested output the model does not have, or one asked twice.
 */
export function checkRequestedOutputs(signature: Signature, requested: readonly { name: string }[] | undefined): void {
  const names = signature.outputs.map((o) => o.name);
  requested?.forEach((r, k) => {
    if (!names.includes(r.name)) throw new ValidationError(`outputs[${k}].name`, r.name, `is not an output of this model; outputs are ${names.join(', ')}`);
    if (requested.findIndex((x) => x.name === r.name) < k) throw new ValidationError(`outputs[${k}].name`, r.name, 'is asked for twice');
  });
}

/** The answer's outputs: every one, or those `requested` names (see checkRequestedOutputs), flat in row-major order. */
export function v2Outputs(pre: Preprocessing, signature: Signature, predictions: readonly Prediction[], requested?: readonly { name: string }[]): ResponseOutput[] {
  return outputsOf(pre, signature, predictions)
    .filter((o) => !requested || requested.some((r) => r.name === o.spec.name))
    .map(({ spec, rows }) => {
      const width = Array.isArray(rows[0]) ? rows[0].length : 0;
      return { name: spec.name, datatype: spec.datatype, shape: width > 0 ? [rows.length, width] : [rows.length], data: rows.flat() };
    });
}
