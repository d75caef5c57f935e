"""
An epsilon-greedy multi-armed bandit as a ROUTER node.

Each request goes to a random branch with probability ``epsilon`` (exploration), else to the
branch whose mean reward so far is the highest (exploitation; a random one among equals, and
a branch not yet rewarded counts as mean 0, so an untrained router spreads its traffic).
Feedback sent to ``/api/v1.0/feedback`` with the prediction's response reaches the router with
``routing`` = the branch it chose for that request (its entry in ``response.meta.routing``);
the reward updates that branch's count and mean.

In a manifest::

    graph:
      name: bandit
      type: ROUTER
      parameters:
      - {name: n_branches, value: "2", type: INT}
      - {name: epsilon, value: "0.1", type: FLOAT}
      children: [...]
    componentSpecs:
    - spec:
        containers:
        - name: bandit
          command: [seldon-core-microservice, trantor_runtime.routers.epsilon_greedy.EpsilonGreedy]
          args: [--service-type, ROUTER]

The state lives in the process: one replica learns on its own, and a restart starts afresh.
"""

import logging
import random
import threading

from ..errors import bad_payload

log = logging.getLogger("trantor_runtime")


class EpsilonGreedy:
    """ROUTER: epsilon-greedy choice among ``n_branches`` children, learning from feedback rewards."""

    def __init__(self, n_branches=2, epsilon=0.1, seed=None, verbose=False):
        n_branches = int(n_branches)
        epsilon = float(epsilon)
        if n_branches < 1:
            raise ValueError("n_branches must be at least 1, got %d" % n_branches)
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError("epsilon must be between 0 and 1, got %r" % epsilon)
        self.n_branches = n_branches
        self.epsilon = epsilon
        self.verbose = _truthy(verbose)
        self.seed = None if seed is None or seed == "" else int(seed)
        self._random = random.Random(self.seed)
        self.counts = [0] * n_branches
        self.values = [0.0] * n_branches
        self._lock = threading.Lock()

    def best_branch(self):
        """The branch with the highest mean reward; a random one among equals (at first, all are)."""
        best = max(self.values)
        tied = [i for i, v in enumerate(self.values) if v == best]
        return tied[0] if len(tied) == 1 else self._random.choice(tied)

    def route(self, X, names):
        with self._lock:
            if self._random.random() < self.epsilon:
                branch = self._random.randrange(self.n_branches)
                how = "explore"
            else:
                branch = self.best_branch()
                how = "exploit"
        if self.verbose:
            log.info("EpsilonGreedy: %s -> branch %d (means %s)", how, branch, self.values)
        return branch

    def send_feedback(self, X, names, reward, truth, routing=None):
        if routing is None:
            # No routing for this router in the response's meta: nothing to learn from.
            if self.verbose:
                log.info("EpsilonGreedy: feedback without a routing for this router; ignored")
            return []
        branch = _branch_of(routing)
        if branch < 0 or branch >= self.n_branches:
            raise bad_payload(
                "routing %r is not one of this router's branches 0..%d" % (routing, self.n_branches - 1)
            )
        if reward is None:
            raise bad_payload("feedback without a reward: send {\"reward\": <number>, ...}")
        with self._lock:
            self.counts[branch] += 1
            n = self.counts[branch]
            self.values[branch] += (float(reward) - self.values[branch]) / n
        if self.verbose:
            log.info("EpsilonGreedy: branch %d rewarded %s (count %d, mean %.4f)", branch, reward, n, self.values[branch])
        return []

    def tags(self):
        return {}


def _branch_of(routing):
    if isinstance(routing, bool):
        raise bad_payload("routing must be a branch index, got %r" % (routing,))
    if isinstance(routing, float):
        if not routing.is_integer():
            raise bad_payload("routing must be a branch index, got %r" % (routing,))
        return int(routing)
    try:
        return int(routing)
    except (TypeError, ValueError):
        raise bad_payload("routing must be a branch index, got %r" % (routing,)) from None


def _truthy(value):
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)
