"""Regression on scikit-learn's diabetes data: fastnet beside MLPRegressor and LinearRegression.

Run: ``pip install -e ".[examples]" && python examples/diabetes.py``. Prints the test
mean absolute error (in the target's units) and the training time of each model.
"""

from __future__ import annotations

import time
import warnings

from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler

import fastnet as fn


def main() -> None:
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=42)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    mean, std = y_train.mean(), y_train.std()  # the network learns a standardised target

    results = []
    start = time.perf_counter()
    model = fn.Sequential(
        [fn.Dense(10, 32, "relu", seed=0), fn.Dense(32, 1, "identity", seed=1)],
        loss="mse",
        optimizer=fn.Adam(learning_rate=1e-3),
        seed=0,
    )
    model.fit(X_train, (y_train - mean) / std, epochs=200, batch_size=16, verbose=0)
    prediction = model.predict(X_test)[:, 0] * std + mean
    results.append(("fastnet 10-32-1 relu, Adam", mean_absolute_error(y_test, prediction), time.perf_counter() - start))

    start = time.perf_counter()
    warnings.filterwarnings("ignore", message="Stochastic Optimizer")  # 200 epochs, as fastnet's
    mlp = MLPRegressor(
        hidden_layer_sizes=(32,), learning_rate_init=1e-3, batch_size=16, max_iter=200, random_state=0
    ).fit(X_train, (y_train - mean) / std)
    prediction = mlp.predict(X_test) * std + mean
    results.append(
        ("scikit-learn MLPRegressor (32,)", mean_absolute_error(y_test, prediction), time.perf_counter() - start)
    )

    start = time.perf_counter()
    linear = LinearRegression().fit(X_train, y_train)
    results.append(
        (
            "scikit-learn LinearRegression",
            mean_absolute_error(y_test, linear.predict(X_test)),
            time.perf_counter() - start,
        )
    )

    print(f"diabetes: {len(X_train)} training and {len(X_test)} test patients, 10 features")
    print(f"{'model':<36} {'test MAE':>9} {'time':>8}")
    for name, mae, seconds in results:
        print(f"{name:<36} {mae:>9.2f} {seconds:>7.2f}s")


if __name__ == "__main__":
    main()
