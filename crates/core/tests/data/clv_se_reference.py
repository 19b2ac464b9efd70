"""Standard errors of the CDNOW fits from the Python package `lifetimes` 0.11.3 (its
autograd Hessian of the negative log-likelihood), for `tests/clv.rs`:

    pip install lifetimes==0.11.3
    python3 crates/core/tests/data/clv_se_reference.py

lifetimes' bundled CDNOW summary rounds recency and T to 0.01 weeks; the tests fit
the raw transactions, so they compare to 0.2%.
"""
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.datasets import (load_cdnow_summary,
                                load_cdnow_summary_data_with_monetary_value)

d = load_cdnow_summary(index_col=[0])
bg = BetaGeoFitter().fit(d["frequency"], d["recency"], d["T"])
print("BG/NBD", bg.summary[["coef", "se(coef)"]].round(6).to_dict())
m = load_cdnow_summary_data_with_monetary_value()
repeat = m[m.frequency > 0]
gg = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
print("Gamma-Gamma", gg.summary[["coef", "se(coef)"]].round(6).to_dict())
