"""Two daily runs charging the same late installment at once.

Commit-based: the fixture is committed in the main company so that both
cursors see it, and removed again in the cleanup.
"""

from psycopg2.errors import SerializationFailure

from odoo import SUPERUSER_ID, Command, api, fields
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.installment_credit.models.installment_plan import plan_service

from .common import TwoCursorsMixin

TODAY = fields.Date.to_date("2026-02-20")


@tagged("post_install", "-at_install")
class TestLateFeeConcurrency(TwoCursorsMixin, TransactionCase):
    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.ref("base.main_company")
            self.saved_config = {
                name: company[name]
                for name in (
                    "installment_late_fee_enabled",
                    "installment_late_fee_type",
                    "installment_late_fee_amount",
                    "installment_late_fee_grace_days",
                    "installment_late_fee_repeat_days",
                    "installment_late_fee_max_count",
                    "installment_late_fee_product_id",
                )
            }
            self.saved_config["installment_late_fee_product_id"] = (
                company.installment_late_fee_product_id.id
            )
            product = env["product.product"].create(
                {
                    "name": "Race late fee",
                    "type": "service",
                    "taxes_id": [Command.clear()],
                }
            )
            company.write(
                {
                    "installment_late_fee_enabled": True,
                    "installment_late_fee_type": "fixed",
                    "installment_late_fee_amount": 10.0,
                    "installment_late_fee_grace_days": 0,
                    "installment_late_fee_repeat_days": 0,
                    "installment_late_fee_max_count": 1,
                    "installment_late_fee_product_id": product.id,
                }
            )
            partner = env["res.partner"].create({"name": "Race late customer"})
            invoice = env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": "2026-01-10",
                    "date": "2026-01-10",
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "service", "price_unit": 300.0, "tax_ids": []}
                        )
                    ],
                }
            )
            invoice.action_post()
            plan = invoice.create_installment_plan(count=1, first_due_date="2026-02-10")
            env["installment.plan.line"]._flip_late_installments(today=TODAY)
            self.company_id = company.id
            self.product_id = product.id
            self.partner_id = partner.id
            self.invoice_id = invoice.id
            self.plan_id = plan.id
        self.addCleanup(self._remove_fixture)

    def _remove_fixture(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            cr.execute(
                "DELETE FROM installment_late_fee WHERE plan_id = %s", [self.plan_id]
            )
            moves = env["account.move"].search([("partner_id", "=", self.partner_id)])
            env["mail.message"].search(
                [("model", "=", "account.move"), ("res_id", "in", moves.ids)]
            ).unlink()
            moves.filtered(lambda m: m.state == "posted").button_draft()
            plan_service(env["installment.plan"].browse(self.plan_id)).unlink()
            moves.with_context(force_delete=True).unlink()
            env.ref("base.main_company").write(self.saved_config)
            env["res.partner"].browse(self.partner_id).unlink()
            env["product.product"].browse(self.product_id).product_tmpl_id.unlink()

    def _charge(self, cr):
        env = api.Environment(
            cr, SUPERUSER_ID, {"allowed_company_ids": [self.company_id]}
        )
        failures = env["installment.late.fee.run"]._cron_charge_late_fees(today=TODAY)
        self.assertFalse(failures)
        return env["installment.late.fee"].search([("plan_id", "=", self.plan_id)]).ids

    def test_second_run_waits_then_charges_nothing(self):
        with self.registry.cursor() as cr1, self.registry.cursor() as cr2:
            first = self._charge(cr1)
            self.assertEqual(len(first), 1)
            with mute_logger("odoo.sql_db"):
                outcome = self._second_waits(
                    cr1,
                    cr2,
                    "fees",
                    lambda: self._charge(cr2),
                    "the second run waits for the first one's claim",
                )
            # Its claim conflicts with a row committed after its snapshot: the
            # transaction fails to serialize (not skipped as a bad customer)
            # and the scheduler retries it on a fresh snapshot...
            self.assertIsInstance(outcome.get("error"), SerializationFailure)
            cr2.rollback()
            # ... where the fee is claimed already: nothing more is charged
            self.assertEqual(self._charge(cr2), first)
            cr2.commit()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            fee_moves = env["account.move"].search(
                [("installment_fee_plan_id", "=", self.plan_id)]
            )
            self.assertEqual(len(fee_moves), 1, "one fee invoice, not two")
