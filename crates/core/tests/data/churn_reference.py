"""Reference logistic regression for cxkpi's churn model.

400 rows of 4 features (numpy seed 11) with churn drawn from a known logistic model;
fits scikit-learn's LogisticRegression (L2, C = 0.5, lbfgs, tight tolerance) on the
features standardised with their population standard deviation, as cxkpi does, so
that sklearn's penalty ||w||^2 / (2C) equals cxkpi's l2 = 1 / C = 2. Writes
churn_reference.json with the data, coefficients, intercept, probabilities and AUC.

    python3 -m pip install scikit-learn==1.9.1
    python3 crates/core/tests/data/churn_reference.py
"""
import json
import os

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

rng = np.random.default_rng(11)
n = 400
x = np.column_stack([
    rng.normal(size=n),
    rng.exponential(2.0, size=n),
    rng.integers(0, 2, size=n).astype(float),
    rng.uniform(0, 100, size=n),
])
logit = -1.0 + 0.8 * x[:, 0] - 0.4 * x[:, 1] + 1.2 * x[:, 2] + 0.01 * x[:, 3]
y = rng.uniform(size=n) < 1 / (1 + np.exp(-logit))
z = (x - x.mean(axis=0)) / x.std(axis=0)
model = LogisticRegression(C=0.5, tol=1e-12, max_iter=10000).fit(z, y)
p = model.predict_proba(z)[:, 1]
out = {"generator": "scikit-learn 1.9.1 via churn_reference.py", "l2": 2.0,
       "x": x.round(12).tolist(), "y": y.tolist(),
       "intercept": float(model.intercept_[0]), "coefficients": model.coef_[0].tolist(),
       "probabilities": p.tolist(), "auc": roc_auc_score(y, p)}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "churn_reference.json"), "w") as f:
    json.dump(out, f)
print(out["intercept"], out["coefficients"], out["auc"])
