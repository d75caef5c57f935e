"""Prepackaged model servers (SKLEARN_SERVER, ...), each a Seldon model class."""
