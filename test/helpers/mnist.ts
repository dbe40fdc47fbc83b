import { createRequire } from 'node:module';

interface Digit {
  length: number;
  get(i: number): number[];
}
const mnist = createRequire(import.meta.url)('mnist') as Digit[];

/** Real MNIST digits `from..to-1` of every class, pixels as integers 0..255, in class order. */
export function mnistRows(from: number, to: number): { label: number; pixels: number[] }[] {
  const rows: { label: number; pixels: number[] }[] = [];
  for (let label = 0; label < 10; label++) {
    for (let i = from; i < to; i++) rows.push({ label, pixels: mnist[label]!.get(i).map((v) => Math.round(v * 255)) });
  }
  return rows;
}

/** The `label,pixel0,…,pixel783` CSV layout of those rows. */
export function mnistCsv(rows: { label: number; pixels: number[] }[]): string {
  const header = ['label', ...Array.from({ length: 784 }, (_, i) => `pixel${i}`)].join(',');
  return `${header}\n${rows.map((r) => `${r.label},${r.pixels.join(',')}`).join('\n')}\n`;
}
