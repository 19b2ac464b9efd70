"""Reference values for `cxkpi churn table` on the IBM Telco customer-churn table.

Run from this folder: `python3 telco_reference.py > telco_reference.json`
(made with scikit-learn 1.9.1, pandas 3.1.1, numpy; takes a few minutes on 2 cores).

Folds are fixed as cxkpi makes them: row i (0-based, in file order) is in fold i % 5.
Per fold, three models are trained on the other four folds and scored on it:

- `same_model`: the model cxkpi fits, rebuilt independently: numbers as they are
  (a blank as the training median plus a missing flag), each category one-hot with
  its most frequent training level left out (ties by name), every column standardised,
  logistic regression with an L2 penalty of 1 (C = 1). cxkpi must match its AUC to
  1e-6: same definition, different code.
- `tuned_logistic`: a tuned scikit-learn pipeline (median imputation with indicator,
  scaling, one-hot; LogisticRegressionCV over 30 values of C by inner 5-fold AUC).
- `tuned_boosting`: HistGradientBoostingClassifier tuned by an inner 3-fold grid
  search on AUC (learning rate, leaves, iterations, leaf size).
"""

import json

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

FOLDS = 5
table = pd.read_csv("telco_churn.csv", dtype=str, keep_default_na=False)
y = (table.pop("Churn") == "Yes").to_numpy()
table = table.drop(columns=["customerID"])


def as_number(column):
    return pd.to_numeric(column.str.strip().replace("", np.nan), errors="coerce")


def looks_numeric(column):
    """Every non-blank value a number, and at least one."""
    filled = column.str.strip() != ""
    return filled.any() and as_number(column)[filled].notna().all()


numeric = [c for c in table.columns if looks_numeric(table[c])]
categorical = [c for c in table.columns if c not in numeric]
numbers = pd.DataFrame({c: as_number(table[c]) for c in numeric})
fold = np.arange(len(table)) % FOLDS


def same_design(train, test):
    """The columns cxkpi builds, learnt on `train` rows and applied to both."""
    out = {"train": [], "test": []}
    for c in numeric:
        known = numbers.loc[train, c].dropna()
        fill = float(np.median(known))
        for part, rows in (("train", train), ("test", test)):
            out[part].append(numbers.loc[rows, c].fillna(fill).to_numpy())
            if len(known) < train.sum():
                out[part].append(numbers.loc[rows, c].isna().astype(float).to_numpy())
    for c in categorical:
        counts = table.loc[train, c][table.loc[train, c] != ""].value_counts()
        levels = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[1:13]
        for level, _ in levels:
            for part, rows in (("train", train), ("test", test)):
                out[part].append((table.loc[rows, c] == level).astype(float).to_numpy())
    return np.column_stack(out["train"]), np.column_stack(out["test"])


def tuned_logistic():
    prepare = ColumnTransformer([
        ("numeric", make_pipeline(SimpleImputer(strategy="median", add_indicator=True),
                                  StandardScaler()), numeric),
        ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
    ])
    inner = StratifiedKFold(5, shuffle=True, random_state=0)
    return make_pipeline(prepare, LogisticRegressionCV(
        Cs=np.logspace(-4, 4, 30), cv=inner, scoring="roc_auc", max_iter=5000))


def tuned_boosting():
    prepare = ColumnTransformer([
        ("numeric", "passthrough", numeric),
        ("categorical", OrdinalEncoder(handle_unknown="use_encoded_value",
                                       unknown_value=-1), categorical),
    ])
    model = HistGradientBoostingClassifier(
        categorical_features=list(range(len(numeric), len(numeric) + len(categorical))),
        random_state=0)
    grid = {
        "histgradientboostingclassifier__learning_rate": [0.03, 0.1],
        "histgradientboostingclassifier__max_leaf_nodes": [4, 8, 16],
        "histgradientboostingclassifier__max_iter": [100, 300],
        "histgradientboostingclassifier__min_samples_leaf": [20, 80],
    }
    inner = StratifiedKFold(3, shuffle=True, random_state=0)
    return GridSearchCV(make_pipeline(prepare, model), grid, cv=inner, scoring="roc_auc")


frame = pd.concat([numbers, table[categorical]], axis=1)
result = {"rows": len(table), "churned": int(y.sum()), "numeric": numeric,
          "categorical": categorical, "folds": []}
oof = {"same_model": np.zeros(len(y)), "tuned_logistic": np.zeros(len(y)),
       "tuned_boosting": np.zeros(len(y))}
for k in range(FOLDS):
    train, test = fold != k, fold == k
    xtr, xte = same_design(train, test)
    scaler = StandardScaler().fit(xtr)
    same = LogisticRegression(C=1.0, tol=1e-12, max_iter=100000)
    same.fit(scaler.transform(xtr), y[train])
    oof["same_model"][test] = same.predict_proba(scaler.transform(xte))[:, 1]
    for name, make in (("tuned_logistic", tuned_logistic), ("tuned_boosting", tuned_boosting)):
        model = make().fit(frame[train], y[train])
        oof[name][test] = model.predict_proba(frame[test])[:, 1]
    result["folds"].append({
        "fold": k, "n": int(test.sum()), "churned": int(y[test].sum()),
        **{name: roc_auc_score(y[test], p[test]) for name, p in oof.items()},
    })
result["pooled"] = {name: roc_auc_score(y, p) for name, p in oof.items()}
result["mean"] = {name: float(np.mean([f[name] for f in result["folds"]])) for name in oof}
print(json.dumps(result, indent=1))
