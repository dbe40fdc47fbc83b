import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/model/index.ts';

describe('selectBackend', () => {
  it('falls back to wasm when the native packages are absent', async () => {
    const selected = await selectBackend();
    expect(selected.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(selected.detail).toMatch(/@tensorflow\/tfjs-node-gpu/);
    expect(selected.detail).toMatch(/@tensorflow\/tfjs-node:/);
  });

  it('tries tfjs-node-gpu, then tfjs-node, then webgpu, then wasm, then cpu', async () => {
    const tried: string[] = [];
    const selected = await selectBackend(undefined, async (specifier) => {
      tried.push(specifier);
      throw Object.assign(new Error(`Cannot find package '${specifier}'`), { code: 'ERR_MODULE_NOT_FOUND' });
    });
    // webgpu is asked for only when navigator.gpu is not installed yet (an earlier test may have).
    expect(tried.filter((t) => t !== 'webgpu')).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-backend-wasm']);
    expect(selected.name).toBe('cpu');
    expect(selected.detail).toMatch(
      /^cpu \(pure JavaScript, slow\); skipped @tensorflow\/tfjs-node-gpu: not installed; @tensorflow\/tfjs-node: not installed; webgpu: .+; @tensorflow\/tfjs-backend-wasm: not installed$/,
    );
  });

  it('treats a package that loads without registering a backend as unusable', async () => {
    const selected = await selectBackend(undefined, async () => ({}));
    expect(selected.name).toBe('wasm');
    expect(selected.detail).toMatch(/tfjs-node: it loaded but registered no 'tensorflow' backend/);
  });

  it('uses cpu when it is forced', async () => {
    const tried: string[] = [];
    const selected = await selectBackend('cpu', async (s) => void tried.push(s));
    expect(selected.name).toBe('cpu');
    expect(tried).toEqual([]);
  });

  it('uses wasm when it is forced', async () => {
    const selected = await selectBackend('wasm');
    expect(selected.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    await selectBackend('cpu');
  });

  it('throws a clear error when a forced native backend cannot load', async () => {
    await expect(selectBackend('tensorflow')).rejects.toThrow(
      /MAAS_BACKEND is 'tensorflow', but @tensorflow\/tfjs-node could not be loaded/,
    );
    await expect(selectBackend('tensorflow-gpu')).rejects.toThrow(/@tensorflow\/tfjs-node-gpu could not be loaded/);
    expect(tf.getBackend()).toBe('cpu');
  });

  it('rejects an unknown backend name', async () => {
    await expect(selectBackend('webgl')).rejects.toThrow(/MAAS_BACKEND is "webgl", but must be one of/);
  });
});
