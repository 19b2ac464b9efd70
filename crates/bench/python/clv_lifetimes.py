"""The Python `lifetimes` package (0.11.3) on the same customer summaries as
`cxkpi clv`, for the speed comparison of the customer-models issue. Not part of
cxkpi.

    cxkpi -w WS clv fit
    cxkpi -w WS clv predict --horizon 12m > summaries.csv
    python3 crates/bench/python/clv_lifetimes.py summaries.csv [--rows N]

Fits BetaGeoFitter and GammaGammaFitter on frequency/recency/T/monetary_value (time
in weeks, as cxkpi's default), predicts 52-week expected purchases and a 12-month
CLV (monthly discount 0.01), and prints the time of each step and the parameters.
"""
import sys
import time

import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter

path = sys.argv[1]
rows = int(sys.argv[sys.argv.index("--rows") + 1]) if "--rows" in sys.argv else None
data = pd.read_csv(path, nrows=rows)
print(f"{len(data)} customers")
t = time.perf_counter()
bg = BetaGeoFitter(penalizer_coef=0.0)
bg.fit(data["frequency"], data["recency"], data["T"])
fit_bg = time.perf_counter() - t
print(f"BG/NBD fit {fit_bg:.1f} s: {bg.params_.to_dict()}")
repeat = data[(data.frequency > 0) & (data.monetary_value > 0)]
t = time.perf_counter()
gg = GammaGammaFitter(penalizer_coef=0.0)
gg.fit(repeat["frequency"], repeat["monetary_value"])
fit_gg = time.perf_counter() - t
print(f"Gamma-Gamma fit {fit_gg:.1f} s: {gg.params_.to_dict()}")
t = time.perf_counter()
expected = bg.conditional_expected_number_of_purchases_up_to_time(
    52, data["frequency"], data["recency"], data["T"])
clv = gg.customer_lifetime_value(
    bg, data["frequency"], data["recency"], data["T"], data["monetary_value"],
    time=12, discount_rate=0.01, freq="W")
predict = time.perf_counter() - t
print(f"predict {predict:.1f} s; total {fit_bg + fit_gg + predict:.1f} s")
