"""
trantor_runtime: serves Python model classes with the Seldon component protocol over REST.

Run ``python -m trantor_runtime.microservice MLScore --service-type MODEL`` (or the
``bin/seldon-core-microservice`` shim). A model raises :class:`MicroserviceError` to answer
with its own 4xx; :func:`payload_field` names the field the current request's features
came from, for error messages.
"""

from .errors import MicroserviceError, StartupError
from .message import payload_field

__all__ = ["MicroserviceError", "StartupError", "payload_field", "__version__"]

__version__ = "0.1.0"
