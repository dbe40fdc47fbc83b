import * as tf from '@tensorflow/tfjs';
import type { ModuleImporter } from './backend.ts';

interface AdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
interface Gpu {
  requestAdapter(options?: { powerPreference?: string }): Promise<{ info?: AdapterInfo } | null>;
}

export interface WebgpuAdapter {
  /** The adapter's vendor, device and description, for the log. */
  name: string;
  /** A software rasterizer (Mesa's lavapipe, SwiftShader): correct but slower than wasm. */
  software: boolean;
}

/**
 * Installs WebGPU for Node from the optional `webgpu` package (Dawn's
 * prebuilt dawn.node) as `navigator.gpu`, which the tfjs webgpu backend looks
 * for when it is imported, and reports the adapter it would get. Throws when
 * the package or an adapter is missing.
 */
export async function findWebgpuAdapter(importModule: ModuleImporter): Promise<WebgpuAdapter> {
  const nav = (globalThis as { navigator?: { gpu?: Gpu } }).navigator;
  if (!nav?.gpu) {
    const { create, globals } = (await importModule('webgpu')) as { create(flags: string[]): Gpu; globals: Record<string, unknown> };
    Object.assign(globalThis, globals);
    Object.defineProperty(globalThis, 'navigator', { value: { ...nav, gpu: create([]) }, configurable: true, writable: true });
  }
  const gpu = (globalThis as unknown as { navigator: { gpu: Gpu } }).navigator.gpu;
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('no WebGPU adapter (is a Vulkan driver installed?)');
  const info = adapter.info ?? {};
  const name = [info.vendor, info.device, info.description].filter(Boolean).join(' ') || 'unknown adapter';
  const software = info.isFallbackAdapter === true || info.architecture === 'software' || /llvmpipe|lavapipe|swiftshader/i.test(name);
  return { name, software };
}

/** Activates the tfjs webgpu backend (navigator.gpu must be installed first). */
export async function startWebgpu(importModule: ModuleImporter): Promise<void> {
  await importModule('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error(`the 'webgpu' backend did not initialize`);
  await tf.ready();
}
