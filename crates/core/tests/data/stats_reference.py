"""Reference values for crates/core/tests/stats.rs, computed with independent
implementations: statsmodels 0.15.0 (Wilson interval, pooled two-proportion z-test,
Benjamini-Hochberg), scipy 1.17.1 (t-interval, Welch's t-test, normal CDF) and numpy
(percentiles, linear = R type 7).

Regenerate: pip install scipy statsmodels && python3 stats_reference.py > stats_reference.json
"""
import json
import numpy as np
from scipy import stats
from statsmodels.stats.proportion import proportion_confint, proportions_ztest
from statsmodels.stats.multitest import multipletests

out = {}

out["wilson"] = []
for x, n in [(0, 10), (5, 10), (10, 10), (81, 100), (1, 1), (450, 1000), (3, 29)]:
    lo, hi = proportion_confint(x, n, alpha=0.05, method="wilson")
    out["wilson"].append({"x": x, "n": n, "low": lo, "high": hi})

rng = np.random.default_rng(7)
out["mean"] = []
for n in [2, 3, 10, 31, 200]:
    a = rng.normal(4.0, 1.3, n).round(2)
    lo, hi = stats.t.interval(0.95, n - 1, loc=a.mean(), scale=a.std(ddof=1) / np.sqrt(n))
    out["mean"].append({"values": a.tolist(), "mean": a.mean(), "sd": a.std(ddof=1), "low": lo, "high": hi})

out["two_proportion"] = []
for x1, n1, x2, n2 in [(45, 100, 30, 100), (8, 40, 9, 41), (500, 1000, 540, 1000), (0, 10, 3, 12)]:
    z, p = proportions_ztest([x1, x2], [n1, n2])
    out["two_proportion"].append({"x1": x1, "n1": n1, "x2": x2, "n2": n2, "z": z, "p": p})

out["welch"] = []
for case in out["mean"][1:]:
    other = rng.normal(4.4, 0.9, len(case["values"]) + 5).round(2)
    t, p = stats.ttest_ind_from_stats(
        case["mean"], case["sd"], len(case["values"]),
        other.mean(), other.std(ddof=1), len(other), equal_var=False)
    out["welch"].append({
        "mean1": case["mean"], "sd1": case["sd"], "n1": len(case["values"]),
        "mean2": other.mean(), "sd2": other.std(ddof=1), "n2": len(other), "t": t, "p": p})

out["normal_two_sided"] = [{"z": z, "p": 2 * stats.norm.sf(abs(z))} for z in [0.0, 0.5, 1.959964, -2.5, 4.0]]

ps = [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216]
reject, _, _, _ = multipletests(ps, alpha=0.05, method="fdr_bh")
out["bh"] = {"p": ps, "reject": reject.tolist()}
ps2 = [0.04, 0.01, 0.03, 0.5]
reject2, _, _, _ = multipletests(ps2, alpha=0.05, method="fdr_bh")
out["bh2"] = {"p": ps2, "reject": reject2.tolist()}

x = [3.0, 1.0, 4.0, 1.5, 9.0, 2.6, 5.0]
out["percentile"] = [{"values": x, "q": q, "value": float(np.percentile(x, q))} for q in [0, 10, 50, 90, 100]]

print(json.dumps(out, indent=1))
