"""PREDICTIVE_UNIT_PARAMETERS to constructor keyword arguments."""

import unittest

from trantor_runtime.errors import StartupError
from trantor_runtime.parameters import parse_parameters


class ParametersTest(unittest.TestCase):
    def test_each_type_is_converted(self):
        text = (
            '[{"name":"i","value":"3","type":"INT"},{"name":"f","value":"0.5","type":"FLOAT"},'
            '{"name":"d","value":"1e3","type":"DOUBLE"},{"name":"s","value":"x","type":"STRING"},'
            '{"name":"b","value":"false","type":"BOOL"},{"name":"j","value":"{\\"k\\":[1]}","type":"JSON"}]'
        )
        self.assertEqual(parse_parameters(text, "P"), {"i": 3, "f": 0.5, "d": 1000.0, "s": "x", "b": False, "j": {"k": [1]}})

    def test_empty_text_means_no_parameters(self):
        self.assertEqual(parse_parameters("", "P"), {})
        self.assertEqual(parse_parameters(None, "P"), {})

    def test_bad_json_names_the_source(self):
        with self.assertRaises(StartupError) as caught:
            parse_parameters("[", "PREDICTIVE_UNIT_PARAMETERS")
        self.assertTrue(str(caught.exception).startswith("PREDICTIVE_UNIT_PARAMETERS: not valid JSON"))

    def test_bool_that_is_not_true_or_false_is_refused(self):
        with self.assertRaises(StartupError) as caught:
            parse_parameters('[{"name":"b","value":"maybe","type":"BOOL"}]', "P")
        self.assertIn("P[0] (b)", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
