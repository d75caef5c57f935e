"""The epsilon-greedy bandit router: its choices, its learning from feedback, and serving it."""

import json
import unittest

from trantor_runtime.component import Component
from trantor_runtime.errors import MicroserviceError
from trantor_runtime.routers.epsilon_greedy import EpsilonGreedy

from .support import Server

X = [[5.1, 3.5, 1.4, 0.2]]


class EpsilonGreedyTest(unittest.TestCase):
    def test_defaults(self):
        router = EpsilonGreedy()
        self.assertEqual(router.n_branches, 2)
        self.assertEqual(router.epsilon, 0.1)
        self.assertEqual(router.counts, [0, 0])
        self.assertEqual(router.values, [0.0, 0.0])

    def test_without_exploration_it_picks_the_best_mean(self):
        router = EpsilonGreedy(n_branches=3, epsilon=0)
        # All means equal: a random one among them.
        self.assertEqual({router.route(X, []) for _ in range(200)}, {0, 1, 2})
        router.send_feedback(X, [], 1.0, None, routing=2)
        self.assertEqual(router.route(X, []), 2)
        router.send_feedback(X, [], 0.0, None, routing=2)  # branch 2's mean is now 0.5
        router.send_feedback(X, [], 1.0, None, routing=1)  # branch 1's mean is 1
        self.assertEqual(router.route(X, []), 1)

    def test_feedback_keeps_count_and_mean_per_branch(self):
        router = EpsilonGreedy(n_branches=2, epsilon=0)
        for reward in (1, 0, 1, 1):
            router.send_feedback(X, [], reward, None, routing=1)
        self.assertEqual(router.counts, [0, 4])
        self.assertAlmostEqual(router.values[1], 0.75)
        self.assertEqual(router.values[0], 0.0)

    def test_feedback_without_routing_changes_nothing(self):
        router = EpsilonGreedy()
        self.assertEqual(router.send_feedback(X, [], 1, None), [])
        self.assertEqual(router.counts, [0, 0])

    def test_bad_feedback_is_an_error(self):
        router = EpsilonGreedy(n_branches=2)
        for routing, reward in ((2, 1), (-1, 1), (0.5, 1), ("x", 1), (0, None)):
            with self.assertRaises(MicroserviceError) as raised:
                router.send_feedback(X, [], reward, None, routing=routing)
            self.assertEqual(raised.exception.status_code, 400)
        self.assertEqual(router.counts, [0, 0])

    def test_bad_parameters_are_refused(self):
        with self.assertRaises(ValueError):
            EpsilonGreedy(n_branches=0)
        with self.assertRaises(ValueError):
            EpsilonGreedy(epsilon=1.5)

    def test_explores_with_probability_epsilon(self):
        router = EpsilonGreedy(n_branches=2, epsilon=0.2, seed=7)
        router.send_feedback(X, [], 1, None, routing=0)
        picks = [router.route(X, []) for _ in range(10000)]
        # Exploration picks either branch: branch 1 comes up about epsilon / 2 of the time.
        share = picks.count(1) / len(picks)
        self.assertGreater(share, 0.08)
        self.assertLess(share, 0.12)

    def test_a_seed_repeats_the_choices(self):
        a = EpsilonGreedy(n_branches=4, epsilon=0.5, seed="3")
        b = EpsilonGreedy(n_branches=4, epsilon=0.5, seed=3)
        self.assertEqual([a.route(X, []) for _ in range(50)], [b.route(X, []) for _ in range(50)])

    def test_learns_the_better_branch(self):
        router = EpsilonGreedy(n_branches=2, epsilon=0.1, seed=1)
        for _ in range(300):
            branch = router.route(X, [])
            router.send_feedback(X, [], 1 if branch == 1 else 0, None, routing=branch)
        picks = [router.route(X, []) for _ in range(1000)]
        self.assertGreater(picks.count(1), 900)

    def test_the_component_passes_this_units_routing(self):
        router = EpsilonGreedy(n_branches=2, epsilon=0)
        component = Component(router, unit_id="bandit")
        reply = component.route({"data": {"ndarray": X}})
        self.assertIn(reply["data"]["ndarray"], ([[0]], [[1]]))
        feedback = {
            "request": {"data": {"ndarray": X}},
            "response": {"data": {"ndarray": [[1]]}, "meta": {"routing": {"bandit": 1, "other": 0}}},
            "reward": 1,
        }
        component.send_feedback(feedback)
        self.assertEqual(router.counts, [0, 1])
        self.assertEqual(component.route({"data": {"ndarray": X}})["data"]["ndarray"], [[1]])


class EpsilonGreedyServedTest(unittest.TestCase):
    """Served by its dotted name, with parameters, as a manifest's container would."""

    @classmethod
    def setUpClass(cls):
        parameters = json.dumps([
            {"name": "n_branches", "value": "3", "type": "INT"},
            {"name": "epsilon", "value": "0", "type": "FLOAT"},
        ])
        cls.server = Server(
            "trantor_runtime.routers.epsilon_greedy.EpsilonGreedy",
            args=("--service-type", "ROUTER"),
            env={"PREDICTIVE_UNIT_PARAMETERS": parameters, "PREDICTIVE_UNIT_ID": "bandit"},
        )

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def route(self):
        status, body = self.server.post_json("/route", {"data": {"ndarray": X}})
        self.assertEqual(status, 200, body)
        return body["data"]["ndarray"][0][0]

    def test_routes_and_learns_from_feedback(self):
        self.assertIn(self.route(), (0, 1, 2))
        feedback = {
            "request": {"data": {"ndarray": X}},
            "response": {"data": {"ndarray": [[1]]}, "meta": {"routing": {"bandit": 2}}},
            "reward": 1,
        }
        status, body = self.server.post_json("/send-feedback", feedback)
        self.assertEqual(status, 200, body)
        self.assertEqual(self.route(), 2)

    def test_a_routing_out_of_range_is_a_bad_request(self):
        feedback = {"request": {"data": {"ndarray": X}}, "response": {"meta": {"routing": {"bandit": 7}}}, "reward": 1}
        status, body = self.server.post_json("/send-feedback", feedback)
        self.assertEqual(status, 400, body)


if __name__ == "__main__":
    unittest.main()
