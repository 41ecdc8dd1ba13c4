"""CLV fit benchmark (issue 6): our BG/NBD + Gamma-Gamma fits against the `lifetimes` package
on the same data, in the same run.

- Synthetic: N customers (default 100,000) drawn from known CDNOW-like parameters, with
  day-granular times in weeks (as the API builds them) and spends to the fen. Both sides fit
  the same arrays: ours with `fit_bgnbd` + `fit_gamma_gamma` in this process, lifetimes with
  `BetaGeoFitter(penalizer_coef=0)` + `GammaGammaFitter(penalizer_coef=0)` in a throwaway
  virtualenv (lifetimes is not a project dependency). Prints both timings (median of
  REPEATS), the ratio (target ours/lifetimes ≤ 0.5) and the largest relative difference of
  the seven parameters (target ≤ 1e-3).
- CDNOW: the 2,357-customer CDNOW sample that lifetimes ships, fitted by both, next to the
  published estimates (Fader, Hardie & Lee 2005).

    .venv/bin/python bench/clv.py                 # N=100000 REPEATS=3
    N=20000 REPEATS=1 .venv/bin/python bench/clv.py

The virtualenv is built once under LIFETIMES_VENV (default /tmp/loyalty-bench-lifetimes)
with lifetimes 0.11.3 and the numpy and scipy versions of the project's own venv.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.domain.clv import (  # noqa: E402
    BgNbdFit,
    bgnbd_log_likelihood,
    fit_bgnbd,
    fit_gamma_gamma,
)
from app.domain.clv_simulation import simulate_bgnbd, simulate_spend  # noqa: E402

N = int(os.environ.get("N", "100000"))
REPEATS = int(os.environ.get("REPEATS", "3"))
SEED = int(os.environ.get("SEED", "20261123"))
VENV = Path(
    os.environ.get("LIFETIMES_VENV") or Path(tempfile.gettempdir()) / "loyalty-bench-lifetimes"
)
# lifetimes 0.11.3 (2020) still imports and fits with today's numpy, scipy and pandas; the
# same numpy/scipy as ours so that both sides run on the same numerics.
PINS = [
    "lifetimes==0.11.3",
    "autograd==1.9.1",
    "pandas==3.1.1",
    f"numpy=={np.__version__}",
    f"scipy=={scipy.__version__}",
]
TRUE_BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
TRUE_GG = {"p": 6.25, "q": 3.74, "v": 15.44}
PUBLISHED = {**TRUE_BG, **TRUE_GG}  # CDNOW, weeks (Fader, Hardie & Lee 2005)
NAMES = ["r", "alpha", "a", "b", "p", "q", "v"]

WORKER = r"""
import json, sys, time, warnings
import numpy as np
warnings.simplefilter("ignore")
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value

mode, path, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "cdnow":
    d = load_cdnow_summary_data_with_monetary_value()
    columns = ("frequency", "recency", "T", "monetary_value")
    x, tx, T, m = (d[c].to_numpy(dtype=float) for c in columns)
    np.savez(path, frequency=x, recency=tx, T=T, monetary=m)
else:
    data = np.load(path)
    x, tx, T, m = data["frequency"], data["recency"], data["T"], data["monetary"]
repeat = x > 0
times, bg_times, gg_times = [], [], []
for _ in range(repeats):
    t0 = time.perf_counter()
    bg = BetaGeoFitter(penalizer_coef=0.0).fit(x, tx, T)
    t1 = time.perf_counter()
    gg = GammaGammaFitter(penalizer_coef=0.0).fit(x[repeat], m[repeat])
    t2 = time.perf_counter()
    times.append(t2 - t0); bg_times.append(t1 - t0); gg_times.append(t2 - t1)
params = {k: float(v) for k, v in {**bg.params_.to_dict(), **gg.params_.to_dict()}.items()}
print(json.dumps({"seconds": times, "bg_seconds": bg_times, "gg_seconds": gg_times,
                  "params": params, "customers": int(len(x))}))
"""


def ensure_venv() -> Path:
    python = VENV / "bin" / "python"
    marker = VENV / ".pins"
    wanted = "\n".join(PINS)
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    print(f"building {VENV} with {' '.join(PINS)} ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *PINS],
        check=True,
    )
    marker.write_text(wanted)
    return python


def lifetimes_fit(python: Path, mode: str, path: Path, repeats: int) -> dict:
    out = subprocess.run(
        [str(python), "-c", WORKER, mode, str(path), str(repeats)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def ours_fit(x, tx, T, m, repeats: int) -> dict:
    times, bg_times, gg_times = [], [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        bg = fit_bgnbd(x, tx, T)
        t1 = time.perf_counter()
        gg = fit_gamma_gamma(x, m)
        t2 = time.perf_counter()
        times.append(t2 - t0)
        bg_times.append(t1 - t0)
        gg_times.append(t2 - t1)
    params = {"r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b, "p": gg.p, "q": gg.q, "v": gg.v}
    return {
        "seconds": times,
        "bg_seconds": bg_times,
        "gg_seconds": gg_times,
        "params": params,
        "bg": bg,
        "gg": gg,
    }


def synthetic(n: int, seed: int) -> dict[str, np.ndarray]:
    """CDNOW-like customers: first purchases spread over 12 weeks before a 39-week end, days
    as the unit of observation (times = whole days / 7), spends rounded to the fen."""
    rng = np.random.default_rng(seed)
    days = rng.integers(27 * 7, 39 * 7 + 1, n)  # T in whole days
    sim = simulate_bgnbd(n, *TRUE_BG.values(), days / 7, rng)
    recency = np.minimum(np.ceil(sim.recency * 7), days) / 7  # the day of the last purchase
    spend, _ = simulate_spend(sim.frequency, *TRUE_GG.values(), rng)
    return {
        "frequency": sim.frequency,
        "recency": recency,
        "T": days / 7,
        "monetary": np.round(spend, 2),
    }


def median(values: list[float]) -> float:
    return float(np.median(values))


def table(rows: list[tuple[str, dict[str, float]]]) -> None:
    print(f"{'':<22}" + "".join(f"{n:>11}" for n in NAMES))
    for label, params in rows:
        print(f"{label:<22}" + "".join(f"{params[n]:>11.4f}" for n in NAMES))


def compare(label: str, ours: dict, theirs: dict, data: dict) -> None:
    diffs = {n: abs(ours["params"][n] / theirs["params"][n] - 1) for n in NAMES}
    worst = max(diffs, key=diffs.get)
    t_ours, t_theirs = median(ours["seconds"]), median(theirs["seconds"])
    repeaters = int((data["frequency"] > 0).sum())
    print(f"\n== {label}: {len(data['frequency']):,} customers, {repeaters:,} repeat buyers")
    for name, run in (("ours", ours), ("lifetimes", theirs)):
        print(
            f"{name:<9} {median(run['seconds']):8.3f} s  (BG/NBD {median(run['bg_seconds']):.3f}"
            f" s, Gamma-Gamma {median(run['gg_seconds']):.3f} s; median of {len(run['seconds'])})"
        )
    print(f"time ratio ours/lifetimes: {t_ours / t_theirs:.4f}  (target ≤ 0.5)")
    print(f"max relative parameter difference: {diffs[worst]:.2e} on {worst}  (target ≤ 1e-3)")
    args = (data["frequency"], data["recency"], data["T"])
    theirs_bg = BgNbdFit(*(theirs["params"][n] for n in ("r", "alpha", "a", "b")), 0, True, 0, "")
    gain = ours["bg"].log_likelihood - bgnbd_log_likelihood(theirs_bg, *args)
    print(f"BG/NBD log-likelihood, ours minus at lifetimes' parameters: {gain:+.2e}")
    table([("ours", ours["params"]), ("lifetimes", theirs["params"])])


def main() -> None:
    python = ensure_venv()
    print(f"machine: {os.cpu_count()} cores; numpy {np.__version__}, scipy {scipy.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synthetic.npz"
        data = synthetic(N, SEED)
        np.savez(path, **data)
        ours = ours_fit(data["frequency"], data["recency"], data["T"], data["monetary"], REPEATS)
        theirs = lifetimes_fit(python, "synthetic", path, REPEATS)
        compare("synthetic", ours, theirs, data)
        table([("true parameters", {**TRUE_BG, **TRUE_GG})])

        cdnow_path = Path(tmp) / "cdnow.npz"
        theirs_cdnow = lifetimes_fit(python, "cdnow", cdnow_path, REPEATS)
        cdnow = dict(np.load(cdnow_path))
        columns = (cdnow[c] for c in ("frequency", "recency", "T", "monetary"))
        ours_cdnow = ours_fit(*columns, REPEATS)
        compare("CDNOW sample (lifetimes.datasets)", ours_cdnow, theirs_cdnow, cdnow)
        table([("published (FHL 2005)", PUBLISHED)])


if __name__ == "__main__":
    main()
