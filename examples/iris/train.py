"""
Trains the iris classifier served by iris.yaml: a scikit-learn LogisticRegression on the
iris data set that ships with scikit-learn (no download), saved as model/model.joblib.

    python3 train.py
"""

import os

import joblib
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression


def main():
    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=1000, random_state=42)
    model.fit(X, y)
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "model")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "model.joblib")
    joblib.dump(model, path)
    print("trained on %d rows, training accuracy %.3f; saved %s" % (len(X), model.score(X, y), path))


if __name__ == "__main__":
    main()
