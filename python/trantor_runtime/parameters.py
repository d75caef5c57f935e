"""
Component parameters, as a SeldonDeployment's graph ``parameters`` reach the component:
a JSON list of ``{"name", "value", "type"}`` in ``PREDICTIVE_UNIT_PARAMETERS`` (or
``--parameters``), with type INT, FLOAT, DOUBLE, STRING, BOOL or JSON. They become the model
class's constructor keyword arguments.
"""

import json

from .errors import StartupError

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def _to_bool(value):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("expected true or false")


def _to_json(value):
    return json.loads(value) if isinstance(value, str) else value


def _to_int(value):
    if isinstance(value, bool):
        raise ValueError("expected an integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("expected an integer")
        return int(value)
    return int(str(value).strip())


_CONVERTERS = {
    "INT": _to_int,
    "FLOAT": float,
    "DOUBLE": float,
    "STRING": str,
    "BOOL": _to_bool,
    "JSON": _to_json,
}


def parse_parameters(text, source):
    """The keyword arguments a parameters JSON text describes; StartupError names the bad entry."""
    if text is None or text.strip() == "":
        return {}
    try:
        entries = json.loads(text)
    except ValueError as exc:
        raise StartupError(source + ": not valid JSON (" + str(exc) + ")") from None
    if entries is None:
        return {}
    if not isinstance(entries, list):
        raise StartupError(source + ": expected a JSON list of {name, value, type}")
    params = {}
    for i, entry in enumerate(entries):
        at = "%s[%d]" % (source, i)
        if not isinstance(entry, dict):
            raise StartupError(at + ": expected an object with name, value and type")
        name = entry.get("name")
        if not isinstance(name, str) or not name.isidentifier():
            raise StartupError(at + ".name: expected a Python identifier, got " + repr(name))
        kind = entry.get("type", "STRING")
        if not isinstance(kind, str) or kind.upper() not in _CONVERTERS:
            raise StartupError(
                at + ".type: expected one of " + ", ".join(_CONVERTERS) + ", got " + repr(kind)
            )
        if "value" not in entry:
            raise StartupError(at + ".value: missing")
        value = entry["value"]
        try:
            params[name] = _CONVERTERS[kind.upper()](value)
        except (TypeError, ValueError) as exc:
            raise StartupError(
                at + " (" + name + "): cannot read " + repr(value) + " as " + kind.upper() + ": " + str(exc)
            ) from None
    return params
