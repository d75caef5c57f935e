class Tagger:
    """MODEL: passes its input on unchanged and tags the reply with {"common": common, name: "yes"}."""

    def __init__(self, name="model", common=0):
        self.name = name
        self.common = int(common)

    def predict(self, X, features_names):
        return X

    def tags(self):
        return {"common": self.common, self.name: "yes"}
