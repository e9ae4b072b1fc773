"""Builds demo-data/nycflights13_flights_v2.parquet: the flights model retrained on April to June.

Version v1 of the demo's flights model was trained on January to March. This script trains the
same kind of model (scikit-learn HistGradientBoostingClassifier, max_iter=200, random_state=0)
on the same features of April to June and scores April to December, so the demo has a second
version to compare with the first on the same production days.

Run from the repository root with scikit-learn, pandas and pyarrow installed:
    python scripts/demo-data/flights_v2.py
"""

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.preprocessing import OrdinalEncoder

SOURCE = "demo-data/nycflights13_flights.parquet"
TARGET = "demo-data/nycflights13_flights_v2.parquet"
NUMERIC = ["dep_delay", "distance", "sched_dep_time", "sched_arr_time", "hour"]
CATEGORICAL = ["carrier", "origin", "dest"]

flights = pd.read_parquet(SOURCE)
flights = flights[flights["month"] >= 4].reset_index(drop=True)

encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan)
training = flights["month"] <= 6
encoder.fit(flights.loc[training, CATEGORICAL])
inputs = pd.concat(
    [flights[NUMERIC].astype(float), pd.DataFrame(encoder.transform(flights[CATEGORICAL]), columns=CATEGORICAL)],
    axis=1,
)
is_categorical = [False] * len(NUMERIC) + [True] * len(CATEGORICAL)

model = HistGradientBoostingClassifier(max_iter=200, random_state=0, categorical_features=is_categorical)
model.fit(inputs[training], flights.loc[training, "delayed"])

output = flights[["id", "time_hour", "month"] + NUMERIC + CATEGORICAL + ["delayed"]].copy()
output["y_pred_proba"] = model.predict_proba(inputs)[:, 1]
output["y_pred"] = (output["y_pred_proba"] >= 0.5).astype("int64")
output.to_parquet(TARGET, compression="zstd", index=False)

for name, rows in [("April to June", training), ("July to December", ~training)]:
    accuracy = (output.loc[rows, "y_pred"] == output.loc[rows, "delayed"]).mean()
    print(f"{name}: {rows.sum()} rows, accuracy {accuracy:.4f}")
