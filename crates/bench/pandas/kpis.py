"""A straightforward pandas implementation of a few cxkpi KPIs, for the speed
comparison of the KPI-engine issue. Not part of cxkpi; needs pandas (tested with
3.1.1).

    python3 crates/bench/pandas/kpis.py DEMO_DATA_DIR END_MONTH [--out FILE]

DEMO_DATA_DIR holds the CSV files `cxkpi demo` wrote (UTC workspace); END_MONTH is
the first month after the reporting window (YYYY-MM), e.g. 2026-11. Computes, with
the definitions of docs/kpis.md:
- nps by customer region by month over the 36 months before END_MONTH;
- first_response_time (median calendar hours) by ticket channel by month, 12 months;
- revenue and aov by month, 12 months.
Prints the time to read the CSV files and the time of each computation, and writes
the results as CSV (kpi, period, segment, value, n) for comparison with
`cxkpi kpi ... --format csv`.
"""
import sys
import time

import pandas as pd


def month_window(end_month, months):
    end = pd.Timestamp(end_month + "-01", tz="UTC")
    start = end - pd.DateOffset(months=months)
    return start, end


def main():
    data, end_month = sys.argv[1], sys.argv[2]
    out = sys.argv[sys.argv.index("--out") + 1] if "--out" in sys.argv else None
    t0 = time.perf_counter()
    customers = pd.read_csv(f"{data}/customers.csv", usecols=["customer_id", "region"])
    responses = pd.read_csv(
        f"{data}/responses.csv",
        usecols=["customer_id", "survey", "score", "responded_at"],
        parse_dates=["responded_at"],
    )
    tickets = pd.read_csv(
        f"{data}/tickets.csv",
        usecols=["created_at", "first_response_at", "channel"],
        parse_dates=["created_at", "first_response_at"],
    )
    orders = pd.read_csv(
        f"{data}/orders.csv", usecols=["ordered_at", "amount"], parse_dates=["ordered_at"]
    )
    load = time.perf_counter() - t0
    print(f"read CSV: {load:.2f} s "
          f"(customers {len(customers)}, responses {len(responses)}, "
          f"tickets {len(tickets)}, orders {len(orders)})")
    results = []

    # NPS by region by month, 36 months.
    t = time.perf_counter()
    start, end = month_window(end_month, 36)
    r = responses[(responses.survey == "nps") & (responses.responded_at >= start)
                  & (responses.responded_at < end)]
    r = r.merge(customers, on="customer_id", how="left")
    r["region"] = r["region"].fillna("(none)")
    r["period"] = r.responded_at.dt.strftime("%Y-%m")
    r["promoter"] = r.score >= 9
    r["detractor"] = r.score <= 6
    g = r.groupby(["period", "region"]).agg(
        n=("score", "size"), p=("promoter", "sum"), d=("detractor", "sum"))
    g["value"] = 100.0 * (g.p - g.d) / g.n
    nps_time = time.perf_counter() - t
    results += [("nps", p, s, v, n) for (p, s), v, n in zip(g.index, g.value, g.n)]

    # First response time by channel by month, 12 months (calendar hours).
    t = time.perf_counter()
    start, end = month_window(end_month, 12)
    k = tickets[(tickets.created_at >= start) & (tickets.created_at < end)
                & tickets.first_response_at.notna()].copy()
    k["hours"] = (k.first_response_at - k.created_at).dt.total_seconds() / 3600.0
    k["period"] = k.created_at.dt.strftime("%Y-%m")
    g = k.groupby(["period", "channel"]).hours.agg(["median", "size"])
    frt_time = time.perf_counter() - t
    results += [("first_response_time", p, s, v, n)
                for (p, s), v, n in zip(g.index, g["median"], g["size"])]

    # Revenue and AOV by month, 12 months.
    t = time.perf_counter()
    o = orders[(orders.ordered_at >= start) & (orders.ordered_at < end)].copy()
    o["period"] = o.ordered_at.dt.strftime("%Y-%m")
    g = o.groupby("period").amount.agg(["sum", "mean", "size"])
    orders_time = time.perf_counter() - t
    results += [("revenue", p, "", v, n) for p, v, n in zip(g.index, g["sum"], g["size"])]
    results += [("aov", p, "", v, n) for p, v, n in zip(g.index, g["mean"], g["size"])]

    print(f"nps by region by month (36): {nps_time:.3f} s")
    print(f"first_response_time by channel by month (12): {frt_time:.3f} s")
    print(f"revenue and aov by month (12): {orders_time:.3f} s")
    if out:
        pd.DataFrame(results, columns=["kpi", "period", "segment", "value", "n"]).to_csv(
            out, index=False)


if __name__ == "__main__":
    main()
