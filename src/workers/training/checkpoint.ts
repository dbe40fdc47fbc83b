import * as tf from '@tensorflow/tfjs';

export type { TrainCheckpoint } from '../../domain.ts';

/** A tensor with the name it is packed under. */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

// A packed list: 4-byte little-endian length of a JSON header (names, shapes, dtypes), the header, then tfjs's encoded data.
export async function packTensors(tensors: NamedTensor[]): Promise<Uint8Array> {
  const { data, specs } = await tf.io.encodeWeights(tensors);
  const header = new TextEncoder().encode(JSON.stringify(specs));
  const out = new Uint8Array(4 + header.length + data.byteLength);
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, 4);
  out.set(new Uint8Array(data), 4 + header.length);
  return out;
}

/** The tensors of {@link packTensors}, in their packed order; the caller disposes them. */
export function unpackTensors(bytes: Uint8Array): NamedTensor[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(0, true);
  const specs = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length))) as tf.io.WeightsManifestEntry[];
  // Copied: the bytes may sit at any offset of a larger buffer, and decodeWeights reads a whole ArrayBuffer.
  const data = bytes.slice(4 + length).buffer;
  const map = tf.io.decodeWeights(data, specs);
  return specs.map((spec) => ({ name: spec.name, tensor: map[spec.name] as tf.Tensor }));
}

/** Packs plain tensors under their positions as names. */
export function packList(tensors: tf.Tensor[]): Promise<Uint8Array> {
  return packTensors(tensors.map((tensor, i) => ({ name: String(i), tensor })));
}
