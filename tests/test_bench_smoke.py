"""Smoke test of the benchmark harness (bench/): the small dataset is built
inside the test transaction, it holds what the scenarios rely on, and every
scenario runs on it and returns sane measurements. The benchmark itself
(./dev bench) is run by hand; its numbers are not judged here."""

from freezegun import freeze_time

from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL


@tagged("post_install", "-at_install")
class TestBenchSmoke(TransactionCase):
    def test_dataset_and_every_scenario(self):
        from bench.scenario_credits import TODAY

        # The benchmark runs on its dataset's day (see bench/run.py).
        with freeze_time(TODAY, tick=True):
            self._check_dataset_and_every_scenario()

    def _check_dataset_and_every_scenario(self):
        from bench.dataset import CUSTOMER_PREFIX, ensure_dataset
        from bench.scenario_credits import TODAY
        from bench.scenarios import SCENARIOS, SIZES

        dataset = ensure_dataset(self.env, "small")
        invoices = dataset["customers"] * dataset["invoices_per_customer"]
        self.env.flush_all()
        # Every copied invoice is a posted receivable with its own plan, and
        # each plan's installments add up to what its invoice still owes.
        self.env.cr.execute(
            SQL(
                """
                SELECT COUNT(DISTINCT m.id), COUNT(DISTINCT p.id),
                       COUNT(*) FILTER (WHERE p.amount_residual != m.amount_residual
                                          OR lines.total != m.amount_residual),
                       SUM(lines.count)
                  FROM account_move m
                  JOIN res_partner c ON c.id = m.partner_id AND c.name LIKE %s
                  JOIN installment_plan p ON p.move_id = m.id
                  JOIN LATERAL (
                       SELECT SUM(amount_residual) AS total, COUNT(*) AS count
                         FROM installment_plan_line WHERE plan_id = p.id) lines ON TRUE
                 WHERE m.state = 'posted' AND m.move_type = 'out_invoice'
                """,
                CUSTOMER_PREFIX + "%",
            )
        )
        moves, plans, mismatched, lines = self.env.cr.fetchone()
        self.assertEqual((moves, plans, mismatched), (invoices, invoices, 0))
        self.assertEqual(lines, invoices * 10)
        # The aging report of the copied invoices adds up to their ledger.
        customers = self.env["res.partner"].search(
            [("name", "=like", CUSTOMER_PREFIX + "%")]
        )
        aging = (
            self.env["installment.report.aging"]
            .with_context(installment_aging_date=TODAY)
            ._read_group(
                [("partner_id", "in", customers.ids)], [], ["amount_residual:sum"]
            )[0][0]
        )
        receivable = self.env["account.move.line"]._read_group(
            [
                ("partner_id", "in", customers.ids),
                ("account_id.account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
            ],
            [],
            ["amount_residual:sum"],
        )[0][0]
        self.assertAlmostEqual(aging, receivable, places=2)
        self.assertAlmostEqual(aging, invoices * 1000.0, places=2)

        size = SIZES["small"]
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
