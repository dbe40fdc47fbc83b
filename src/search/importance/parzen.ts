/**
 * Densities over a grid, fitted to counts of observations per cell: PED-ANOVA's Parzen
 * estimators (Watanabe et al. 2023), as Optuna's `_ScottParzenEstimator` builds them.
 *
 * Each observed cell gets a kernel weighted by its count, and a wide prior kernel of weight
 * `priorWeight` keeps every cell's probability above zero (a divergence divides by it).
 * Numeric kernels are normals discretised to the grid, truncated to its ends, with one width
 * from Scott's rule: Optuna's TPE widths are too wide for this comparison. Categorical kernels
 * are one-hot counts smoothed toward uniform, as TPE's are.
 */
import { logGaussMass } from '../samplers/truncnorm.ts';

/**
 * The probabilities of the `counts.length` cells of an ordered grid (a numeric parameter's
 * scaled range). `counts` must have at least one cell.
 */
export function numericPmf(counts: readonly number[], priorWeight: number): number[] {
  const size = counts.length;
  const cells: number[] = [];
  const weights: number[] = [];
  counts.forEach((c, i) => {
    if (c > 0) {
      cells.push(i);
      weights.push(c);
    }
  });
  const n = weights.reduce((a, b) => a + b, 0);
  const sigma = scottWidth(cells, weights, n);
  const kernels = cells.map((mu, i) => ({ mu, sigma, weight: weights[i] as number }));
  // The prior: centred on the grid and as wide as it, so it is nearly flat.
  kernels.push({ mu: (size - 1) / 2, sigma: size, weight: priorWeight });
  const total = n + priorWeight;
  const pmf = new Array<number>(size).fill(0);
  for (const k of kernels) {
    // Truncated to the grid's ends, each cell taking the mass within half a step of it.
    const logNorm = logGaussMass((-0.5 - k.mu) / k.sigma, (size - 0.5 - k.mu) / k.sigma);
    for (let x = 0; x < size; x++) {
      pmf[x] = (pmf[x] as number) + (k.weight / total) * Math.exp(logGaussMass((x - 0.5 - k.mu) / k.sigma, (x + 0.5 - k.mu) / k.sigma) - logNorm);
    }
  }
  return pmf;
}

/**
 * Scott's rule, 1.059 · min(IQR / 1.34, σ) · n^(-1/5), in grid steps; never under 0.5 / 1.64
 * steps, so that 90% of a kernel's mass stays within its own cell rather than vanishing
 * between grid points. An empty sample (no counts) gets the floor.
 */
function scottWidth(cells: readonly number[], weights: readonly number[], n: number): number {
  const floor = 0.5 / 1.64;
  if (n === 0) return floor;
  const mean = cells.reduce((s, x, i) => s + x * (weights[i] as number), 0) / n;
  const sd = Math.sqrt(cells.reduce((s, x, i) => s + (x - mean) ** 2 * (weights[i] as number), 0) / Math.max(1, n - 1));
  // Quartiles of the weighted sample: the first cell whose running count reaches n/4, the first past 3n/4.
  let running = 0;
  let q25 = -1;
  let q75 = -1;
  cells.forEach((_, i) => {
    running += weights[i] as number;
    if (q25 < 0 && running >= Math.floor(n / 4)) q25 = i;
    if (q75 < 0 && running > Math.floor((3 * n) / 4)) q75 = i;
  });
  const last = cells.length - 1;
  const iqr = (cells[q75 < 0 ? last : Math.min(last, q75)] as number) - (cells[Math.max(0, q25)] as number);
  return Math.max(floor, 1.059 * Math.min(iqr / 1.34, sd) * n ** -0.2);
}

/** The probabilities of the `counts.length` choices of a categorical parameter. */
export function categoricalPmf(counts: readonly number[], priorWeight: number): number[] {
  const m = counts.length;
  const observed = counts.filter((c) => c > 0).length;
  const n = counts.reduce((a, b) => a + b, 0);
  // Each observed choice's kernel: a one-hot at it plus priorWeight / kernels on every choice, normalised.
  const smoothing = priorWeight / (observed + 1);
  const kernelTotal = smoothing * m + 1;
  const total = n + priorWeight;
  return counts.map((c) => {
    // Every observed kernel puts smoothing / kernelTotal here; the one at this choice adds 1 / kernelTotal.
    const fromKernels = (n * smoothing + c) / kernelTotal;
    return (fromKernels + priorWeight / m) / total;
  });
}

/**
 * The Pearson divergence of `p` from `q`, Σ q · (p/q − 1)², both over the same cells. A tiny
 * constant is added to both, as Optuna does, so that a cell neither estimator gives any
 * probability cannot divide by zero.
 */
export function pearsonDivergence(p: readonly number[], q: readonly number[]): number {
  let sum = 0;
  p.forEach((pi, i) => {
    const qi = (q[i] as number) + 1e-12;
    sum += qi * ((pi + 1e-12) / qi - 1) ** 2;
  });
  return sum;
}
