"""
Trains the iris classifier served by xgboost.yaml: an XGBoost XGBClassifier on the iris data set
that ships with scikit-learn (no download), saved with save_model as model/model.json.

    python3 train.py

It needs xgboost and scikit-learn (sudo apt-get install -y python3-xgboost python3-sklearn). One
thread and a fixed seed make the saved file the same on every run with the same xgboost.
"""

import os

import xgboost
from sklearn.datasets import load_iris


def main():
    X, y = load_iris(return_X_y=True)
    model = xgboost.XGBClassifier(n_estimators=4, max_depth=2, learning_rate=0.5, random_state=0, n_jobs=1)
    model.fit(X, y)
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "model")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "model.json")
    model.save_model(path)
    print("xgboost %s: trained on %d rows, training accuracy %.3f; saved %s" % (xgboost.__version__, len(X), model.score(X, y), path))


if __name__ == "__main__":
    main()
