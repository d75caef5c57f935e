import numpy as np

IRIS = ["setosa", "versicolor", "virginica"]


class ClassName:
    """OUTPUT_TRANSFORMER: turns each row of class probabilities into the likeliest iris name,
    answered as strData (one name per row, comma-separated), and tags the reply with them."""

    def __init__(self):
        self.last = []

    def transform_output(self, X, features_names):
        rows = np.atleast_2d(np.asarray(X, dtype=float))
        self.last = [IRIS[int(i)] for i in rows.argmax(axis=1)]
        return ",".join(self.last)

    def tags(self):
        return {"predicted": self.last[0] if len(self.last) == 1 else list(self.last)}
