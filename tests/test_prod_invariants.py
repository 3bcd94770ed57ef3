"""The invariants checker (``./dev check-invariants DB``): it holds on the test
database, it sees rows corrupted behind the ORM's back, and its command line
exits 0 on the committed test database."""

import os
import subprocess
import sys

from freezegun import freeze_time

from odoo.tests import tagged
from odoo.tools import SQL, config

from odoo.addons.installment_credit.tools.invariants import check_invariants

from .common import INVOICE_DATE, BillingCommon

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "installment_credit", "tools", "invariants.py")


@tagged("post_install", "-at_install")
@freeze_time("2026-01-15")
class TestInvariantsChecker(BillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A prepaid customer with money held and a settled invoice.
        topup = cls.customer._prepaid_create_topup_invoices(
            cls.company, {cls.customer.id: 500.0}
        )
        cls._register_payment(topup, INVOICE_DATE)
        cls.settled = cls._make_invoice(
            cls.customer,
            INVOICE_DATE,
            {"name": "service", "price_unit": 120.0, "tax_ids": []},
        )
        cls.settled._post(soft=False)
        # A plan on a postpaid customer's invoice, partly paid.
        invoice = cls._make_invoice(
            cls.postpaid,
            "2026-01-10",
            {"name": "service", "price_unit": 900.0, "tax_ids": []},
            date="2026-01-10",
        )
        invoice.action_post()
        cls.plan = invoice.create_installment_plan(count=3, first_due_date="2026-02-10")
        cls._register_payment(invoice, "2026-01-12", amount=200.0)
        # Credits consumed with idempotency keys.
        cls.sms = cls.env["credit.type"].create(
            {"name": "Checker SMS", "unit_name": "SMS", "code": "checker_sms"}
        )
        cls.grant = cls.env["credit.grant"].create(
            {
                "partner_id": cls.postpaid.id,
                "credit_type_id": cls.sms.id,
                "quantity": 100,
                "date_start": "2026-01-01",
                "date_expiry": "2026-03-01",
            }
        )
        cls.consumption = cls.postpaid.consume_credits(
            cls.sms, 30, idempotency_key="checker-1"
        )
        cls.postpaid.consume_credits(cls.sms, 5, idempotency_key="checker-2")

    def _violations(self):
        self.env.invalidate_all()
        return {
            name: found for name, found in check_invariants(self.env).items() if found
        }

    def test_invariants_hold(self):
        lines = []
        results = check_invariants(self.env, out=lines.append)
        self.assertEqual({name: v for name, v in results.items() if v}, {})
        self.assertGreaterEqual(len(results), 13)
        self.assertIn("ok    one consumption per idempotency key", lines)
        # the prepaid check read a customer with a balance (not vacuous)
        self.assertEqual(self._balance(), 380.0)

    def test_corrupted_rows_are_reported(self):
        cr = self.env.cr
        with cr.savepoint(flush=True) as savepoint:
            cr.execute(
                SQL(
                    "UPDATE credit_grant SET quantity_consumed = 31, "
                    "quantity_remaining = 69 WHERE id = %s",
                    self.grant.id,
                )
            )
            # a second application of key checker-1 behind the constraint
            cr.execute(
                "ALTER TABLE credit_consumption "
                "DROP CONSTRAINT credit_consumption_idempotency_key_uniq"
            )
            cr.execute(
                SQL(
                    """INSERT INTO credit_consumption (partner_id, company_id,
                       credit_type_id, quantity, date, idempotency_key, state)
                       SELECT partner_id, company_id, credit_type_id, quantity,
                              date, idempotency_key, state
                         FROM credit_consumption WHERE id = %s""",
                    self.consumption.id,
                )
            )
            line = self.plan.line_ids.sorted("sequence")[-1]
            cr.execute(
                SQL(
                    "UPDATE installment_plan_line SET amount = amount + 1 "
                    "WHERE id = %s",
                    line.id,
                )
            )
            # the aging report reads this stored difference
            cr.execute(
                SQL(
                    "UPDATE installment_plan SET amount_uncovered = 5 WHERE id = %s",
                    self.plan.id,
                )
            )
            move_line = self.settled.line_ids.filtered("debit")[:1]
            cr.execute(
                SQL(
                    "UPDATE account_move_line SET balance = balance + 10 WHERE id = %s",
                    move_line.id,
                )
            )
            cr.execute(
                SQL(
                    "UPDATE ir_cron SET failure_count = 2 WHERE id = %s",
                    self.env.ref("installment_credit.ir_cron_installment_daily").id,
                )
            )
            violations = self._violations()
            savepoint.rollback()
        self.assertEqual(
            violations["grant consumed units == allocations of its done consumptions"],
            [f"grant {self.grant.id} says 31.0 units consumed, its allocations 35.0"],
        )
        key_violation = violations["one consumption per idempotency key"]
        self.assertEqual(len(key_violation), 1)
        self.assertIn("'checker-1' applied 2 times", key_violation[0])
        self.assertIn(
            "done consumption == sum of its allocations", violations
        )  # the duplicate has no allocation
        self.assertEqual(
            violations["active plan: installments add up to the amount financed"],
            [f"plan {self.plan.id} finances 900.0, its installments add up to 901.0"],
        )
        self.assertEqual(
            violations[
                "plan: what is outside the installments == invoice residual - plan's"
            ],
            [
                (
                    f"plan {self.plan.id} says 5.0 is outside its installments, "
                    "the invoice 0.0"
                )
            ],
        )
        self.assertIn(
            f"entry {self.settled.id} ",
            violations["every posted journal entry is balanced"][0],
        )
        self.assertIn(
            "failed 2 times",
            violations["the add-on's scheduled actions are not failing"][0],
        )
        # rolled back: everything holds again
        self.assertEqual(self._violations(), {})

    def test_command_line_on_the_test_database(self):
        result = subprocess.run(
            [
                sys.executable,
                SCRIPT,
                "-c",
                config.rcfile,
                "-d",
                self.env.cr.dbname,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)),
            check=False,
        )
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("checks hold", result.stdout)
        self.assertIn("ok    one consumption per idempotency key", result.stdout)
        self.assertIn("ir_cron_installment_daily", result.stdout)
