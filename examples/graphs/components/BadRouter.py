class BadRouter:
    """ROUTER that is wrong on purpose: it always answers route 5, whatever its children."""

    def route(self, X, features_names):
        return 5
