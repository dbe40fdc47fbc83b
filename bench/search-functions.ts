/**
 * Test functions with known optima for bench/search.ts, each with its search space (the
 * same definitions are in bench/optuna_search.py). All are minimized; regret = value -
 * optimum, taken on the noiseless value.
 */
import type { Params } from '../src/domain.ts';
import type { SearchSpace } from '../src/search/index.ts';

export interface BenchFunction {
  name: string;
  space: SearchSpace;
  /** The noiseless value. */
  value(params: Params): number;
  /** Standard deviation of Gaussian noise added to what the sampler sees. @defaultValue 0 */
  noise?: number;
  optimum: number;
}

const BRANIN_MIN = 0.39788735772973816;

export function branin(x1: number, x2: number): number {
  const b = 5.1 / (4 * Math.PI ** 2);
  const c = 5 / Math.PI;
  const t = 1 / (8 * Math.PI);
  return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10;
}

const H_ALPHA = [1.0, 1.2, 3.0, 3.2];
const H_A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const H_P = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
];

export function hartmann6(x: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < 4; i++) {
    let inner = 0;
    for (let j = 0; j < 6; j++) inner += H_A[i]![j]! * (x[j]! - H_P[i]![j]! * 1e-4) ** 2;
    sum += H_ALPHA[i]! * Math.exp(-inner);
  }
  return -sum;
}

export function rosenbrock(x: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i + 1 < x.length; i++) sum += 100 * (x[i + 1]! - x[i]! ** 2) ** 2 + (1 - x[i]!) ** 2;
  return sum;
}

/**
 * A validation loss as deep-learning searches see it. Deeper nets reach a lower loss but
 * only in a narrower window of the effective step lr / (1 - momentum), which moves down
 * with depth; the best dropout grows with depth, tanh suffers more the deeper the net.
 * A random trial most often finds a good point at 1 or 2 layers, so a sampler must leave
 * the int value of its first good trial to reach the optimum: 3 layers, gelu, dropout 0.3,
 * momentum 0.9, lr 10^-3.5 (loss 0.12).
 */
export function nnSurface(layers: number, lr: number, act: string, dropout: number, momentum: number): number {
  const step = Math.log10(lr) - Math.log10(1 - momentum);
  const target = -1.5 - 0.5 * (layers - 1);
  const width = [0.9, 0.6, 0.4][layers - 1]!;
  const base = [0.3, 0.2, 0.12][layers - 1]!;
  const stepLoss = 0.5 * (1 - Math.exp(-(((step - target) / width) ** 2) / 2));
  const actLoss = act === 'gelu' ? 0 : act === 'relu' ? 0.02 : 0.03 * layers;
  return base + stepLoss + 0.8 * (dropout - 0.1 * layers) ** 2 + actLoss + 0.05 * (momentum - 0.9) ** 2;
}

const NN_MIN = 0.12;

const braninSpace: SearchSpace = {
  families: ['mlp'],
  params: { mlp: { x1: { type: 'float', low: -5, high: 10 }, x2: { type: 'float', low: 0, high: 15 } } },
};

export const FUNCTIONS: BenchFunction[] = [
  {
    name: 'branin',
    space: braninSpace,
    value: (p) => branin(p.x1 as number, p.x2 as number),
    optimum: BRANIN_MIN,
  },
  {
    name: 'hartmann6',
    space: {
      families: ['mlp'],
      params: { mlp: Object.fromEntries([0, 1, 2, 3, 4, 5].map((i) => [`x${i}`, { type: 'float', low: 0, high: 1 }])) },
    },
    value: (p) => hartmann6([0, 1, 2, 3, 4, 5].map((i) => p[`x${i}`] as number)),
    optimum: -3.3223680114155147,
  },
  {
    // A choice between two sub-functions with their own parameters, both reaching 0: a
    // scaled Branin, and a bowl over a log-scale float, an int and a categorical.
    name: 'conditional',
    space: {
      families: ['mlp', 'cnn'],
      params: {
        mlp: { x1: { type: 'float', low: -5, high: 10 }, x2: { type: 'float', low: 0, high: 15 } },
        cnn: {
          lr: { type: 'float', low: 1e-4, high: 1, log: true },
          k: { type: 'int', low: 1, high: 32 },
          act: { type: 'categorical', choices: ['relu', 'tanh', 'elu'] },
        },
      },
    },
    value: (p) => p.family === 'mlp'
      ? (branin(p.x1 as number, p.x2 as number) - BRANIN_MIN) / 20
      : (Math.log10(p.lr as number) + 2) ** 2 / 4 + ((p.k as number) - 7) ** 2 / 64 + (p.act === 'tanh' ? 0 : 0.3),
    optimum: 0,
  },
  {
    name: 'noisy-branin',
    space: braninSpace,
    value: (p) => branin(p.x1 as number, p.x2 as number),
    noise: 1,
    optimum: BRANIN_MIN,
  },
  {
    name: 'rosenbrock4',
    space: {
      families: ['mlp'],
      params: { mlp: Object.fromEntries([0, 1, 2, 3].map((i) => [`x${i}`, { type: 'float', low: -2, high: 2 }])) },
    },
    value: (p) => rosenbrock([0, 1, 2, 3].map((i) => p[`x${i}`] as number)),
    optimum: 0,
  },
  {
    // sd 0.1 is about half of TPE's median regret after 100 trials (0.2) and 3% of the
    // function's range (3.3): enough that the best observed trial is often not the best one,
    // as with a validation loss measured once, yet far from drowning the signal.
    name: 'hartmann6-noisy',
    space: {
      families: ['mlp'],
      params: { mlp: Object.fromEntries([0, 1, 2, 3, 4, 5].map((i) => [`x${i}`, { type: 'float', low: 0, high: 1 }])) },
    },
    value: (p) => hartmann6([0, 1, 2, 3, 4, 5].map((i) => p[`x${i}`] as number)),
    noise: 0.1,
    optimum: -3.3223680114155147,
  },
  {
    name: 'nn-surface',
    space: {
      families: ['mlp'],
      params: {
        mlp: {
          layers: { type: 'int', low: 1, high: 3 },
          lr: { type: 'float', low: 1e-5, high: 0.1, log: true },
          act: { type: 'categorical', choices: ['relu', 'tanh', 'gelu'] },
          dropout: { type: 'float', low: 0, high: 0.5 },
          momentum: { type: 'float', low: 0, high: 0.99 },
        },
      },
    },
    value: (p) => nnSurface(p.layers as number, p.lr as number, p.act as string, p.dropout as number, p.momentum as number),
    optimum: NN_MIN,
  },
];
