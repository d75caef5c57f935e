class Echo:
    """A user class for Seldon's wrapper contract that returns what it was given."""

    def predict(self, X, features_names=None):
        return X
