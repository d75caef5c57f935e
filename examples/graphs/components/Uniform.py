import numpy as np


class Uniform:
    """MODEL: a know-nothing baseline that gives every one of the three iris classes 1/3."""

    class_names = ["t:0", "t:1", "t:2"]

    def predict(self, X, features_names):
        rows = np.atleast_2d(np.asarray(X))
        return np.full((rows.shape[0], 3), 1.0 / 3.0)
