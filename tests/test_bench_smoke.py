"""Smoke test of the benchmark harness (bench/): every scenario runs at a
tiny size inside the test transaction and returns sane measurements. The
benchmark itself (./dev bench) is run by hand; its numbers are not judged
here."""

from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestBenchSmoke(TransactionCase):
    def test_every_scenario_runs(self):
        from bench.scenarios import SCENARIOS, SIZES

        size = SIZES["tiny"]
        plans_before = self.env["installment.plan"].search_count([])
        for label, function, target in SCENARIOS:
            with self.subTest(scenario=label):
                result = function(self.env, size)
                self.assertGreater(result["addon"], 0.0, label)
                if target is None:
                    self.assertGreater(result["rate"], 0.0, label)
                else:
                    self.assertGreater(result["reference"], 0.0, label)
                self.assertTrue(result["size"])
        # Every scenario rolled its data back.
        self.assertEqual(self.env["installment.plan"].search_count([]), plans_before)
