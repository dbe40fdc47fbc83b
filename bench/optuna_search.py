"""Optuna's samplers on the functions of bench/search-functions.ts, for bench/search.ts.

Argument: a JSON config {functions, seeds, budgets, nStartupTrials, parallel}. Prints JSON
{sampler: {function: {budget: [regret per seed]}}} on stdout. Exits 3 when optuna cannot be
imported (Debian: apt-get install python3-optuna).
"""
import json
import math
import sys
import time

try:
    import numpy as np
    import optuna
except ImportError as e:  # the bench prints this line as its skip reason
    print(f"python3-optuna is not importable ({e}); apt-get install -y python3-optuna", file=sys.stderr)
    sys.exit(3)

optuna.logging.set_verbosity(optuna.logging.ERROR)
import warnings  # noqa: E402

warnings.filterwarnings("ignore")

BRANIN_MIN = 0.39788735772973816


def branin(x1, x2):
    b = 5.1 / (4 * math.pi**2)
    c = 5 / math.pi
    t = 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


H_ALPHA = [1.0, 1.2, 3.0, 3.2]
H_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
H_P = [
    [1312, 1696, 5569, 124, 8283, 5886],
    [2329, 4135, 8307, 3736, 1004, 9991],
    [2348, 1451, 3522, 2883, 3047, 6650],
    [4047, 8828, 8732, 5743, 1091, 381],
]


def hartmann6(x):
    total = 0.0
    for i in range(4):
        inner = sum(H_A[i][j] * (x[j] - H_P[i][j] * 1e-4) ** 2 for j in range(6))
        total += H_ALPHA[i] * math.exp(-inner)
    return -total


def f_branin(trial):
    return branin(trial.suggest_float("x1", -5, 10), trial.suggest_float("x2", 0, 15))


def f_hartmann6(trial):
    return hartmann6([trial.suggest_float(f"x{i}", 0, 1) for i in range(6)])


def f_conditional(trial):
    if trial.suggest_categorical("family", ["mlp", "cnn"]) == "mlp":
        return (branin(trial.suggest_float("mlp.x1", -5, 10), trial.suggest_float("mlp.x2", 0, 15)) - BRANIN_MIN) / 20
    lr = trial.suggest_float("cnn.lr", 1e-4, 1, log=True)
    k = trial.suggest_int("cnn.k", 1, 32)
    act = trial.suggest_categorical("cnn.act", ["relu", "tanh", "elu"])
    return (math.log10(lr) + 2) ** 2 / 4 + (k - 7) ** 2 / 64 + (0 if act == "tanh" else 0.3)


def rosenbrock(x):
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(len(x) - 1))


def f_rosenbrock4(trial):
    return rosenbrock([trial.suggest_float(f"x{i}", -2, 2) for i in range(4)])


def nn_surface(layers, lr, act, dropout, momentum):
    step = math.log10(lr) - math.log10(1 - momentum)
    target = -1.5 - 0.5 * (layers - 1)
    width = [0.9, 0.6, 0.4][layers - 1]
    base = [0.3, 0.2, 0.12][layers - 1]
    step_loss = 0.5 * (1 - math.exp(-(((step - target) / width) ** 2) / 2))
    act_loss = 0 if act == "gelu" else 0.02 if act == "relu" else 0.03 * layers
    return base + step_loss + 0.8 * (dropout - 0.1 * layers) ** 2 + act_loss + 0.05 * (momentum - 0.9) ** 2


def f_nn_surface(trial):
    # Suggested in the order of our sorted keys; the objective does not depend on it.
    act = trial.suggest_categorical("act", ["relu", "tanh", "gelu"])
    dropout = trial.suggest_float("dropout", 0, 0.5)
    layers = trial.suggest_int("layers", 1, 3)
    lr = trial.suggest_float("lr", 1e-5, 0.1, log=True)
    momentum = trial.suggest_float("momentum", 0, 0.99)
    return nn_surface(layers, lr, act, dropout, momentum)


# name: (objective, noise sd, optimum)
FUNCTIONS = {
    "branin": (f_branin, 0.0, BRANIN_MIN),
    "hartmann6": (f_hartmann6, 0.0, -3.3223680114155147),
    "conditional": (f_conditional, 0.0, 0.0),
    "noisy-branin": (f_branin, 1.0, BRANIN_MIN),
    "rosenbrock4": (f_rosenbrock4, 0.0, 0.0),
    "hartmann6-noisy": (f_hartmann6, 0.1, -3.3223680114155147),
    "nn-surface": (f_nn_surface, 0.0, 0.12),
}


def study(name, make_sampler, seed, max_budget, budgets, in_flight):
    objective, noise, optimum = FUNCTIONS[name]
    s = optuna.create_study(sampler=make_sampler(seed), direction="minimize")
    noise_rng = np.random.RandomState(seed + 1_000_000)
    clean, seen, running = [], [], []

    def finish_oldest():
        trial, value = running.pop(0)
        observed = value + noise * noise_rng.normal()
        clean[trial.number], seen[trial.number] = value, observed
        s.tell(trial, observed)

    for _ in range(max_budget):
        if len(running) >= in_flight:
            finish_oldest()
        trial = s.ask()
        value = objective(trial)  # suggests every parameter now, so running trials carry them
        clean.append(None)
        seen.append(None)
        running.append((trial, value))
    while running:
        finish_oldest()
    out = []
    for budget in budgets:
        best = min(range(budget), key=lambda n: seen[n])
        out.append(clean[best] - optimum)
    return out


def main():
    config = json.loads(sys.argv[1])
    budgets, n_startup = config["budgets"], config["nStartupTrials"]
    samplers = [
        ("tpe", lambda seed: optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_startup), 1),
        ("random", lambda seed: optuna.samplers.RandomSampler(seed=seed), 1),
    ]
    if config["parallel"]:
        samplers.append(
            ("tpe ∥4", lambda seed: optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_startup, constant_liar=True), 4)
        )
    results = {}
    for sampler_name, make, in_flight in samplers:
        results[sampler_name] = {}
        for fn in config["functions"]:
            started = time.time()
            per_budget = {b: [] for b in budgets}
            for seed in config["seeds"]:
                for b, r in zip(budgets, study(fn, make, seed, max(budgets), budgets, in_flight)):
                    per_budget[b].append(r)
            results[sampler_name][fn] = per_budget
            print(f"optuna {sampler_name} {fn}: {time.time() - started:.1f} s", file=sys.stderr, flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
