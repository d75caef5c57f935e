class Broken:
    """MODEL: broken on purpose — prints a line for each request it gets, then raises."""

    def predict(self, X, features_names, meta=None):
        puid = (meta or {}).get("puid", "")
        print("Broken: got request " + puid, flush=True)
        raise RuntimeError("this model is broken on purpose")
