/**
 * TF Serving's predict bodies: the row format (`instances`, one entry per instance, objects keyed
 * by input name when there are several) and the columnar format (`inputs`, one tensor or an object
 * of named tensors, each holding the whole batch), to maas instances; predictions to the answer's
 * `predictions` (row) or `outputs` (columnar). The values themselves are checked by the encoder of
 * maas's own predict, with its errors renamed to the request's fields.
 */
import type { Prediction, Preprocessing } from '../../data/index.ts';
import { ValidationError } from '../../errors.ts';
import { instancesOf, outputsOf, relabel, ROW_INPUT, type NamedRows, type Signature } from '../../serving/signature.ts';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Maas instances, and how to rename an encoder error to the request's fields. */
export interface TfRequest {
  instances: unknown[];
  relabel(err: unknown): unknown;
}

/**
 * The row format. maas's own instances are already TF Serving rows (objects keyed by column, raw
 * texts, nested tensors); on top of them a tabular row may be a bare list of every column's value
 * (the single row-tensor input), and an object holding only the single input is unwrapped.
 */
export function fromRows(signature: Signature, instances: unknown[]): TfRequest {
  const single = signature.layout === 'columns' ? signature.rowInput?.name : signature.inputs[0]?.name;
  const columns = signature.inputs.map((i) => i.name);
  const out = instances.map((instance, i) => {
    let value = instance;
    if (single !== undefined && isObject(value) && Object.keys(value).length === 1 && Object.hasOwn(value, single)) value = value[single];
    // maas refuses a list as a tabular instance, so reading one as a row of every column is unambiguous.
    if (signature.layout !== 'columns' || !Array.isArray(value)) return value;
    if (value.length !== columns.length) {
      throw new ValidationError(`instances[${i}]`, value, `must be a row of ${columns.length} values, one per column in this order: ${columns.slice(0, 20).join(', ')}${columns.length > 20 ? ' and more' : ''} (or an object keyed by column name)`);
    }
    const row = value;
    return Object.fromEntries(columns.map((c, k) => [c, row[k]]));
  });
  // Fields of the row format are maas's own: `instances[i].column`.
  return { instances: out, relabel: (err) => err };
}

/** The columnar format: one tensor (the single input, or the tabular row tensor) or an object of named tensors. */
export function fromColumns(signature: Signature, inputs: unknown): TfRequest {
  let named: NamedRows[];
  let bare = false;
  if (Array.isArray(inputs)) {
    bare = true;
    const columns = signature.inputs;
    // A bare tensor is the single input; for a tabular model, the row tensor (or the one column's values).
    const name = signature.layout !== 'columns' ? (signature.inputs[0]?.name as string) : columns.length === 1 && !inputs.some(Array.isArray) ? (columns[0]?.name as string) : (signature.rowInput?.name ?? ROW_INPUT);
    named = [{ name, field: 'inputs', rows: inputs }];
  } else if (isObject(inputs)) {
    named = Object.keys(inputs).map((name) => {
      const rows = inputs[name];
      if (!Array.isArray(rows)) throw new ValidationError(`inputs.${name}`, rows, 'must be a list holding one entry per instance (the batch is the first dimension)');
      return { name, field: `inputs.${name}`, rows };
    });
  } else {
    throw new ValidationError('inputs', inputs, "must be the model's single input tensor, or an object of named input tensors");
  }
  const instances = instancesOf(signature, named);
  const row = signature.rowInput && named.some((n) => n.name === signature.rowInput?.name);
  const fieldOf = (i: number, column: string | null, rest: string) => {
    if (column !== null && row) return `${bare ? 'inputs' : `inputs.${ROW_INPUT}`}[${i}][${signature.inputs.findIndex((c) => c.name === column)}] (column ${column})${rest}`;
    if (column !== null) return `inputs.${column}[${i}]${rest}`;
    return `${bare ? 'inputs' : `inputs.${named[0]?.name}`}[${i}]${rest}`;
  };
  return { instances, relabel: (err) => relabel(signature, err, fieldOf) };
}

/**
 * The answer: with one output, its values alone; with several (a classifier's `label` and
 * `probabilities`), one object per instance (row format) or one list per output (columnar).
 */
export function tfAnswer(pre: Preprocessing, signature: Signature, predictions: readonly Prediction[], format: 'row' | 'columnar') {
  const outputs = outputsOf(pre, signature, predictions);
  if (outputs.length === 1) {
    const rows = (outputs[0] as (typeof outputs)[number]).rows;
    return format === 'row' ? { predictions: rows } : { outputs: rows };
  }
  if (format === 'columnar') return { outputs: Object.fromEntries(outputs.map((o) => [o.spec.name, o.rows])) };
  return { predictions: predictions.map((_, i) => Object.fromEntries(outputs.map((o) => [o.spec.name, o.rows[i]]))) };
}
