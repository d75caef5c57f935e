import numpy as np


class Average:
    """COMBINER: the element-wise mean of its children's answers."""

    def aggregate(self, Xs, features_names):
        return np.mean([np.asarray(X, dtype=float) for X in Xs], axis=0)
