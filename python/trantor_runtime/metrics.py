"""
The component's own Prometheus metrics, served on ``--metrics-port`` (or
``PREDICTIVE_UNIT_METRICS_SERVICE_PORT``) at ``/prometheus`` and ``/metrics``, as Seldon's
wrapper serves them: the model's custom metrics (COUNTER, GAUGE, TIMER from ``metrics()`` and
SeldonResponse), ``seldon_api_model_feedback`` and ``seldon_api_model_feedback_reward`` for
each feedback, and the requests answered per path and status. Every sample carries a
``worker_id`` label (the worker's pid), so the workers of ``--workers N`` are told apart as in
Seldon's; each worker writes its numbers to a shared folder and the metrics server reads them.

Recording is a dictionary update on the request's path; rendering happens only on a scrape.
"""

import json
import logging
import os

log = logging.getLogger("trantor_runtime")

FEEDBACK_KEY = "seldon_api_model_feedback"
FEEDBACK_REWARD_KEY = "seldon_api_model_feedback_reward"
REQUESTS_KEY = "trantor_component_requests_total"
# Seconds; a TIMER's value is in milliseconds, as in Seldon.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
CONTENT_TYPE = b"text/plain; version=0.0.4; charset=utf-8"


def default_labels(env):
    """Seldon's labels for every sample, from the component's environment."""
    image = env.get("PREDICTIVE_UNIT_IMAGE", "")
    name, version = image, ""
    tail = image.rsplit("/", 1)[-1]
    if ":" in tail:
        name, version = image.rsplit(":", 1)
    return {
        "deployment_name": env.get("SELDON_DEPLOYMENT_ID", ""),
        "model_name": env.get("PREDICTIVE_UNIT_ID", ""),
        "model_image": name,
        "model_version": version,
        "predictor_name": env.get("PREDICTOR_ID", ""),
    }


class Recorder:
    """One worker's metrics: ``{(type, key, tags-as-json): value}``."""

    def __init__(self):
        self.data = {}
        self.changed = False

    def request(self, path, status):
        key = ("REQUESTS", path, str(status))
        self.data[key] = self.data.get(key, 0) + 1
        self.changed = True

    def custom(self, metrics):
        """The ``meta.metrics`` of a reply (already checked by the component)."""
        data = self.data
        for metric in metrics:
            if not isinstance(metric, dict):
                continue
            kind = metric.get("type", "COUNTER")
            name = metric.get("key")
            value = metric.get("value")
            if not isinstance(name, str) or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            tags = metric.get("tags")
            key = (kind, name, json.dumps(tags, sort_keys=True) if isinstance(tags, dict) and tags else "")
            if kind == "GAUGE":
                data[key] = value
            elif kind == "TIMER":
                count, total, buckets = data.get(key, (0, 0.0, [0] * len(BUCKETS)))
                seconds = value / 1000.0
                buckets = [n + (1 if seconds <= bound else 0) for n, bound in zip(buckets, BUCKETS)]
                data[key] = (count + 1, total + seconds, buckets)
            else:
                data[key] = data.get(key, 0) + value
        self.changed = True

    def feedback(self, reward):
        self.custom([{"type": "COUNTER", "key": FEEDBACK_KEY, "value": 1},
                     {"type": "COUNTER", "key": FEEDBACK_REWARD_KEY, "value": reward}])

    def exchange(self, where, status, value, reply, is_feedback):
        """One answered call, REST or gRPC: counted under ``where``; a success's ``meta.metrics``
        recorded, and a feedback's reward (0 when it carries none)."""
        self.request(where, status)
        if status != 200 or not isinstance(reply, dict):
            return
        meta = reply.get("meta")
        metrics = meta.get("metrics") if isinstance(meta, dict) else None
        if metrics:
            self.custom(metrics)
        if is_feedback and isinstance(value, dict):
            reward = value.get("reward")
            self.feedback(reward if isinstance(reward, (int, float)) and not isinstance(reward, bool) else 0)

    def snapshot(self):
        return [[list(k), v] for k, v in self.data.items()]


def write_snapshot(recorder, folder, pid):
    """Writes this worker's numbers for the metrics server (atomically: write, then rename)."""
    if not recorder.changed:
        return
    recorder.changed = False
    path = os.path.join(folder, str(pid) + ".json")
    try:
        with open(path + ".tmp", "w", encoding="utf-8") as out:
            json.dump(recorder.snapshot(), out)
        os.replace(path + ".tmp", path)
    except OSError as exc:  # pragma: no cover - the folder is gone while stopping
        log.debug("cannot write metrics snapshot: %s", exc)


def read_snapshots(folder, skip_pid):
    """Each other worker's numbers: ``{pid: {key: value}}``."""
    out = {}
    try:
        names = os.listdir(folder)
    except OSError:
        return out
    for name in names:
        if not name.endswith(".json") or name == str(skip_pid) + ".json":
            continue
        try:
            with open(os.path.join(folder, name), encoding="utf-8") as src:
                items = json.load(src)
            out[name[:-5]] = {tuple(k): (tuple(v) if isinstance(v, list) else v) for k, v in items}
        except (OSError, ValueError, TypeError):
            continue
    return out


def _escape(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels):
    return "{" + ",".join(k + '="' + _escape(v) + '"' for k, v in labels.items()) + "}"


def _number(value):
    if isinstance(value, float):
        return repr(value) if value == value and value not in (float("inf"), float("-inf")) else ("NaN" if value != value else ("+Inf" if value > 0 else "-Inf"))
    return str(value)


def render(workers, base_labels):
    """Prometheus text for ``{worker_id: {key: value}}``."""
    families = {}
    for worker, data in sorted(workers.items()):
        for (kind, name, tags), value in data.items():
            labels = {}
            if kind == "REQUESTS":
                labels.update({"path": name, "code": tags})
                metric, kind = REQUESTS_KEY, "COUNTER"
            else:
                metric = name
                if tags:
                    try:
                        labels.update({str(k): str(v) for k, v in json.loads(tags).items()})
                    except ValueError:
                        pass
            labels.update(base_labels)
            labels["worker_id"] = str(worker)
            families.setdefault((metric, kind), []).append((labels, value))
    lines = []
    for (metric, kind), samples in sorted(families.items()):
        prom_type = {"COUNTER": "counter", "GAUGE": "gauge", "TIMER": "histogram"}.get(kind, "untyped")
        lines.append("# TYPE " + metric + " " + prom_type)
        for labels, value in samples:
            if kind == "TIMER":
                count, total, buckets = value
                for bound, n in zip(BUCKETS, buckets):
                    lines.append(metric + "_bucket" + _labels({**labels, "le": repr(bound)}) + " " + str(n))
                lines.append(metric + "_bucket" + _labels({**labels, "le": "+Inf"}) + " " + str(count))
                lines.append(metric + "_sum" + _labels(labels) + " " + _number(float(total)))
                lines.append(metric + "_count" + _labels(labels) + " " + str(count))
            else:
                lines.append(metric + _labels(labels) + " " + _number(value))
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""
