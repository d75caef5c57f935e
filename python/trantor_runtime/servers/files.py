"""
Finding the model a prepackaged server loads: ``model_uri`` (the node's ``modelUri``, already
fetched into a local folder when it named remote storage) is a folder, a ``file://`` URI to one,
or the path of the model file itself; each server says which file names it looks for.
"""

import os
from urllib.parse import unquote, urlparse

from ..errors import StartupError

_REMOTE_HINT = "remote model storage is not supported yet; copy the model to a local folder and use its path or a file:// URI"


def _local_path(model_uri, wanted):
    if not isinstance(model_uri, str) or model_uri.strip() == "":
        raise StartupError("modelUri is missing; set the graph node's modelUri to the folder that holds " + wanted)
    uri = model_uri.strip()
    parsed = urlparse(uri)
    scheme = parsed.scheme.lower()
    if scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise StartupError("modelUri " + uri + ": a file:// URI must name a local path (file:///abs/dir)")
        path = unquote(parsed.path)
    elif scheme and len(scheme) > 1:
        raise StartupError("modelUri " + uri + ": " + _REMOTE_HINT)
    else:
        path = uri  # a plain path (a one-letter "scheme" is a Windows drive letter)
    return uri, os.path.abspath(os.path.expanduser(path))


def _either(names):
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def find_model_file(model_uri, names, save_hint, suffixes=()):
    """
    The local file to load for ``model_uri``: the first of ``names`` in the folder it names, or
    the file it names when that ends with one of ``suffixes``. A StartupError says what was looked
    for, what the folder holds instead, and ``save_hint`` (how to write the file).
    """
    wanted = _either(names)
    uri, path = _local_path(model_uri, wanted)
    if os.path.isdir(path):
        for name in names:
            candidate = os.path.join(path, name)
            if os.path.isfile(candidate):
                return candidate
        found = sorted(os.listdir(path))
        listing = ", ".join(found[:10]) + (", ..." if len(found) > 10 else "") if found else "the folder is empty"
        raise StartupError("modelUri " + uri + ": no " + wanted + " in " + path + " (found: " + listing + "); " + save_hint)
    if os.path.isfile(path):
        if not suffixes or not path.endswith(tuple(suffixes)):
            accepted = ("or a " + _either(suffixes) + " file") if suffixes else "not a file"
            raise StartupError("modelUri " + uri + ": expected a folder holding " + wanted + ", " + accepted)
        return path
    raise StartupError("modelUri " + uri + ": " + path + " does not exist")
