"""
Trains the iris classifier served by mlflow.yaml and saves it as an MLflow model (the scikit-learn
flavour, loadable as a pyfunc answering predict_proba) in model/: a LogisticRegression fitted on a
DataFrame with named columns, so the model's signature names them and MLFLOW_SERVER's xtype
DataFrame applies.

    ~/.cache/trantor-ci/mlflow-venv/bin/python train.py

It needs mlflow (mlflow-skinny is enough), pandas and scikit-learn; docs/servers.md says how to make
such a Python. The model is pickled with cloudpickle, which mlflow-skinny has without skops.
"""

import os
import shutil

import mlflow.sklearn
import pandas as pd
from mlflow.models import infer_signature
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def main():
    X, y = load_iris(return_X_y=True)
    frame = pd.DataFrame(X, columns=COLUMNS)
    model = LogisticRegression(max_iter=1000, random_state=0).fit(frame, y)
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "model")
    shutil.rmtree(folder, ignore_errors=True)  # save_model refuses an existing folder
    mlflow.sklearn.save_model(
        model,
        folder,
        serialization_format="cloudpickle",
        pyfunc_predict_fn="predict_proba",  # the pyfunc answers the class probabilities
        signature=infer_signature(frame, model.predict_proba(frame)),
    )
    print("trained on %d rows, training accuracy %.3f; saved %s" % (len(X), model.score(frame, y), folder))


if __name__ == "__main__":
    main()
