"""Reference Shapley R² values for cxkpi's key-driver analysis.

Makes 300 rows of 5 correlated predictors and a response (numpy seed 7), computes
each predictor's Shapley share of R² by brute force with numpy's least squares over
all 32 subsets, and writes drivers_reference.json.

    python3 crates/core/tests/data/drivers_reference.py
"""
import itertools
import json
import math
import os

import numpy as np

rng = np.random.default_rng(7)
n, k = 300, 5
base = rng.normal(size=(n, k))
x = base.copy()
x[:, 1] += 0.6 * base[:, 0]
x[:, 3] += 0.4 * base[:, 2] - 0.3 * base[:, 0]
y = 2.0 * x[:, 0] + 1.0 * x[:, 1] - 0.5 * x[:, 2] + 0.2 * x[:, 4] + rng.normal(scale=2.0, size=n)


def r2(cols):
    if not cols:
        return 0.0
    design = np.column_stack([np.ones(n)] + [x[:, c] for c in cols])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ beta
    return 1.0 - resid @ resid / ((y - y.mean()) @ (y - y.mean()))


shapley = []
for i in range(k):
    others = [j for j in range(k) if j != i]
    phi = 0.0
    for size in range(k):
        for s in itertools.combinations(others, size):
            w = math.factorial(size) * math.factorial(k - size - 1) / math.factorial(k)
            phi += w * (r2(list(s) + [i]) - r2(list(s)))
    shapley.append(phi)

out = {"generator": "numpy brute force via drivers_reference.py",
       "x": x.round(12).tolist(), "y": y.round(12).tolist(),
       "r2": r2(list(range(k))), "shapley": shapley}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "drivers_reference.json"), "w") as f:
    json.dump(out, f)
print(out["r2"], shapley)
