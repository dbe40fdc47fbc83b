"""Optuna's multi-objective samplers on the functions of bench/mo-search.ts, for that bench.

Argument: a JSON config {jobs: [[sampler, function], ...], seeds, trials, populationSize,
nStartupTrials, dims: {function: n}}. Prints JSON {sampler: {function: [[objective vector per
trial] per seed]}} on stdout; the hypervolume is computed by the caller, with the same code
as ours. Exits 3 when optuna cannot be imported (Debian: apt-get install python3-optuna).
"""
import json
import math
import sys
import time

try:
    import optuna
except ImportError as e:  # the bench prints this line as its skip reason
    print(f"python3-optuna is not importable ({e}); apt-get install -y python3-optuna", file=sys.stderr)
    sys.exit(3)

optuna.logging.set_verbosity(optuna.logging.ERROR)
import warnings  # noqa: E402

warnings.filterwarnings("ignore")


def xs(trial, n):
    # Suggested in the order of our sorted keys (x0..x9 for n <= 10; the bench keeps n <= 10).
    return [trial.suggest_float(f"x{i}", 0, 1) for i in range(n)]


def zdt_g(x):
    return 1 + 9 * sum(x[1:]) / (len(x) - 1)


def zdt1(x):
    g = zdt_g(x)
    return [x[0], g * (1 - math.sqrt(x[0] / g))]


def zdt2(x):
    g = zdt_g(x)
    return [x[0], g * (1 - (x[0] / g) ** 2)]


def zdt3(x):
    g = zdt_g(x)
    r = x[0] / g
    return [x[0], g * (1 - math.sqrt(r) - r * math.sin(10 * math.pi * x[0]))]


def dtlz2(x):
    g = sum((v - 0.5) ** 2 for v in x[2:])
    a, b = x[0] * math.pi / 2, x[1] * math.pi / 2
    return [(1 + g) * math.cos(a) * math.cos(b), (1 + g) * math.cos(a) * math.sin(b), (1 + g) * math.sin(a)]


FUNCTIONS = {"zdt1": zdt1, "zdt2": zdt2, "zdt3": zdt3, "dtlz2": dtlz2}


def main():
    config = json.loads(sys.argv[1])
    p, n_startup = config["populationSize"], config["nStartupTrials"]
    makers = {
        "nsga2": lambda seed: optuna.samplers.NSGAIISampler(seed=seed, population_size=p),
        "motpe": lambda seed: optuna.samplers.MOTPESampler(seed=seed, n_startup_trials=n_startup),
        "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
    }
    results = {}
    for sampler_name, fn in config["jobs"]:
        started = time.time()
        f, n = FUNCTIONS[fn], config["dims"][fn]
        n_objectives = len(f([0.5] * n))
        runs = []
        for seed in config["seeds"]:
            study = optuna.create_study(directions=["minimize"] * n_objectives, sampler=makers[sampler_name](seed))
            study.optimize(lambda t: f(xs(t, n)), n_trials=config["trials"])
            runs.append([list(t.values) for t in study.trials])
        results.setdefault(sampler_name, {})[fn] = runs
        print(f"optuna {sampler_name} {fn}: {time.time() - started:.1f} s", file=sys.stderr, flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
