/**
 * The tensors a served version reads and writes, as the inference protocols (KServe v2, TF
 * Serving) describe them, and the protocol-neutral step between those tensors and maas's own
 * predict instances and predictions. Pure: everything comes from the version's preprocessing
 * and input shape, so a protocol request is encoded by the very code that encodes `instances`.
 */
import { PayloadTooLargeError, ValidationError } from '../errors.ts';
import { MAX_INSTANCES, MISSING_CATEGORY, type ClassPrediction, type ForecastPrediction, type Prediction, type Preprocessing, type ValuePrediction } from '../data/index.ts';

/** Element types the served tensors use (KServe v2 names; TF Serving's are in {@link TF_DTYPES}). */
export type TensorDatatype = 'FP32' | 'INT64' | 'BYTES';

/** TF Serving's name of each datatype. */
export const TF_DTYPES: Record<TensorDatatype, string> = { FP32: 'DT_FLOAT', INT64: 'DT_INT64', BYTES: 'DT_STRING' };

/** One named tensor of a signature. */
export interface TensorSpec {
  name: string;
  datatype: TensorDatatype;
  /** Dimensions, the batch first; -1 where any size goes. */
  shape: number[];
}

/** How a version's inputs become maas instances. */
export type InputLayout =
  /** Tabular: one tensor per feature column; an instance is `{column: value}`. */
  | 'columns'
  /** Text: one BYTES tensor; an instance is the raw string. */
  | 'text'
  /** Images, sequences and forecast windows: one FP32 tensor; an instance is its nested slice. */
  | 'tensor';

export interface Signature {
  layout: InputLayout;
  /** What a request sends: every column (tabular), else the one input. */
  inputs: TensorSpec[];
  /**
   * Tabular only: the alternative of one FP32 (or BYTES) tensor holding every feature column of
   * a row, in `inputs` order. Null for other kinds, and when a column has its name.
   */
  rowInput: TensorSpec | null;
  /** What an answer holds, one row per instance. */
  outputs: TensorSpec[];
}

/** Name of the single input of images, sequences and forecasts, and of the tabular row tensor. */
export const ROW_INPUT = 'input';

/** Shape of one instance of the single `tensor` input (the model's input shape, without the batch). */
function instanceShape(pre: Preprocessing, inputShape: readonly number[]): number[] {
  if (pre.kind === 'image' && pre.shape) return [...pre.shape];
  if (pre.kind === 'sequence') return [pre.steps ?? inputShape[0] ?? 1, pre.features ?? inputShape[1] ?? 1];
  if (pre.kind === 'timeseries') return [pre.window ?? inputShape[0] ?? 1, pre.valueColumns?.length ?? inputShape[1] ?? 1];
  return [...inputShape];
}

/** True when every category is an integer, so the column is advertised as INT64. */
function integerCategories(categories: readonly string[]): boolean {
  const seen = categories.filter((c) => c !== MISSING_CATEGORY);
  return seen.length > 0 && seen.every((c) => /^-?\d{1,15}$/.test(c));
}

/** The signature of a version, from its preprocessing and the model's input shape. */
export function signatureOf(pre: Preprocessing, inputShape: readonly number[]): Signature {
  const outputs: TensorSpec[] =
    pre.task === 'classification'
      ? [
          { name: 'label', datatype: 'BYTES', shape: [-1] },
          { name: 'probabilities', datatype: 'FP32', shape: [-1, pre.classes?.length ?? -1] },
        ]
      : pre.task === 'forecasting'
        ? [{ name: 'forecast', datatype: 'FP32', shape: [-1, pre.horizon ?? -1] }]
        : [{ name: 'value', datatype: 'FP32', shape: [-1] }];
  if (pre.kind === 'tabular') {
    const columns = pre.columns ?? [];
    const inputs = columns.map((c): TensorSpec => ({ name: c.name, datatype: c.type === 'numeric' ? 'FP32' : integerCategories(c.categories) ? 'INT64' : 'BYTES', shape: [-1] }));
    const numeric = columns.every((c) => c.type === 'numeric');
    const rowInput = columns.some((c) => c.name === ROW_INPUT) ? null : { name: ROW_INPUT, datatype: numeric ? 'FP32' : 'BYTES', shape: [-1, columns.length] } satisfies TensorSpec;
    return { layout: 'columns', inputs, rowInput, outputs };
  }
  if (pre.kind === 'text') return { layout: 'text', inputs: [{ name: pre.textField ?? 'text', datatype: 'BYTES', shape: [-1] }], rowInput: null, outputs };
  return { layout: 'tensor', inputs: [{ name: ROW_INPUT, datatype: 'FP32', shape: [-1, ...instanceShape(pre, inputShape)] }], rowInput: null, outputs };
}

/** Input names of a signature, for messages. */
export function inputNames(signature: Signature): string {
  const names = signature.inputs.map((i) => i.name);
  const shown = names.slice(0, 20).join(', ') + (names.length > 20 ? ` and ${names.length - 20} more` : '');
  return signature.rowInput ? `${shown} (or one row tensor named "${signature.rowInput.name}" holding them all in this order)` : shown;
}

/**
 * Per-instance values of the request's named inputs (each `rows` entry is one instance's slice),
 * and for each input where it came from, to name in errors.
 */
export interface NamedRows {
  name: string;
  /** How the request names this input, e.g. `inputs[2]` or `inputs.alcohol`. */
  field: string;
  /** Where the request gives its name, e.g. `inputs[2].name`; @defaultValue `field` */
  nameField?: string;
  rows: unknown[];
}

/**
 * Builds maas predict instances from a request's named inputs. Tabular instances are objects
 * keyed by column (from the column inputs, or from the row tensor); others are the input's slices.
 * The values themselves are checked by `encodeInstances`, exactly as for maas's own predict.
 * @throws ValidationError naming the input that is unknown, missing, repeated or of another batch
 * size; PayloadTooLargeError (413, as maas's own predict) naming an input of more than MAX_INSTANCES.
 */
export function instancesOf(signature: Signature, named: readonly NamedRows[]): unknown[] {
  if (named.length === 0) throw new ValidationError('inputs', [], `must hold the model's inputs: ${inputNames(signature)}`);
  // Before anything is built from the rows: the encoder's own limit comes only after n instances exist.
  for (const input of named) {
    if (input.rows.length > MAX_INSTANCES) throw new PayloadTooLargeError(input.field, `${input.rows.length} instances`, `is more instances than the ${MAX_INSTANCES} one request may carry`);
  }
  const seen = new Set<string>();
  const known = new Set(signature.inputs.map((i) => i.name));
  for (const input of named) {
    const where = input.nameField ?? input.field;
    if (seen.has(input.name)) throw new ValidationError(where, input.name, 'is given twice; send each input once');
    seen.add(input.name);
    if (!known.has(input.name) && input.name !== signature.rowInput?.name) {
      throw new ValidationError(where, input.name, `is not an input of this model; inputs are ${inputNames(signature)}`);
    }
  }
  const first = named[0] as NamedRows;
  const n = first.rows.length;
  for (const input of named) {
    if (input.rows.length !== n) throw new ValidationError(input.field, `${input.rows.length} instances`, `must have the batch size of ${first.field} (${n} instances); every input holds one entry per instance`);
  }
  if (signature.layout !== 'columns') return first.rows;

  const row = signature.rowInput && named.find((i) => i.name === signature.rowInput?.name);
  const columns = signature.inputs.map((i) => i.name);
  if (row) {
    if (named.length > 1) throw new ValidationError(row.field, row.name, `is the row tensor holding every column; send it alone, or send the columns as separate inputs (${columns.length})`);
    return row.rows.map((values, i) => {
      if (!Array.isArray(values) || values.length !== columns.length) {
        throw new ValidationError(`${row.field}[${i}]`, values, `must be a row of ${columns.length} values, one per column in this order: ${inputNames({ ...signature, rowInput: null })}`);
      }
      return Object.fromEntries(columns.map((c, k) => [c, values[k]]));
    });
  }
  const missing = columns.filter((c) => !seen.has(c));
  if (missing.length > 0) {
    const others = missing.length > 1 ? ` (also missing: ${missing.slice(1, 21).join(', ')}${missing.length > 21 ? ' and more' : ''})` : '';
    throw new ValidationError(`inputs.${missing[0]}`, undefined, `is required: every column of the model is an input; send null values to ask for imputation${others}`);
  }
  const byName = new Map(named.map((i) => [i.name, i.rows]));
  return Array.from({ length: n }, (_, i) => Object.fromEntries(columns.map((c) => [c, (byName.get(c) as unknown[])[i]])));
}

/** One output of an answer: its spec and one value per instance (a label, a number, or a row of numbers). */
export interface OutputRows {
  spec: TensorSpec;
  rows: (string | number | number[])[];
}

/** maas predictions as the signature's outputs, in `signature.outputs` order; probabilities in class order. */
export function outputsOf(pre: Preprocessing, signature: Signature, predictions: readonly Prediction[]): OutputRows[] {
  const rowsOf = (name: string): OutputRows['rows'] => {
    if (name === 'label') return predictions.map((p) => (p as ClassPrediction).label);
    if (name === 'probabilities') return predictions.map((p) => (pre.classes ?? []).map((c) => (p as ClassPrediction).probabilities[c] as number));
    if (name === 'forecast') return predictions.map((p) => (p as ForecastPrediction).forecast);
    return predictions.map((p) => (p as ValuePrediction).value);
  };
  return signature.outputs.map((spec) => ({ spec, rows: rowsOf(spec.name) }));
}

/**
 * Says where in a protocol request an instance's field came from. `column` is the tabular
 * column the field names (null for other kinds), `rest` what follows the instance (and column)
 * in maas's field, e.g. `[3][1]`.
 */
export type FieldOf = (instance: number, column: string | null, rest: string) => string;

/**
 * A ValidationError that `encodeInstances` raised about `instances[i]…`, renamed to the field of
 * the protocol request it came from; any other error is returned unchanged.
 */
export function relabel(signature: Signature, err: unknown, fieldOf: FieldOf): unknown {
  if (!(err instanceof ValidationError)) return err;
  const match = /^instances\[(\d+)\](.*)$/s.exec(err.field);
  if (!match) return err;
  const instance = Number(match[1]);
  let rest = match[2] as string;
  let column: string | null = null;
  if (signature.layout === 'columns') {
    // Column names may hold dots or brackets: the longest column the field starts with is the one.
    for (const c of signature.inputs) {
      const after = rest.charAt(c.name.length + 1);
      if (rest.startsWith(`.${c.name}`) && (after === '' || after === '.' || after === '[') && (column === null || c.name.length > column.length)) column = c.name;
    }
    if (column !== null) rest = rest.slice(column.length + 1);
  }
  const Type = err.constructor as typeof ValidationError;
  return new Type(fieldOf(instance, column, rest), err.value, err.rule);
}
