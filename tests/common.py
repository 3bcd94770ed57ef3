from odoo import Command, fields

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


class InstallmentCommon(AccountTestInvoicingCommon):
    """Invoices, payments and credit notes for the installment tests."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company.installment_working_day_policy = "keep"
        cls.currency = cls.company.currency_id

    @classmethod
    def _invoice(
        cls, amount, date="2026-01-10", partner=None, currency=None, post=True, **vals
    ):
        move = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": (partner or cls.partner_a).id,
                "invoice_date": date,
                "date": date,
                "currency_id": (currency or cls.currency).id,
                "invoice_line_ids": [
                    Command.create(
                        {"name": "service", "price_unit": amount, "tax_ids": []}
                    )
                ],
                **vals,
            }
        )
        if post:
            move.action_post()
        return move

    @classmethod
    def _pay(cls, invoices, amount, date="2026-01-15"):
        return (
            cls.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoices.ids)
            .create(
                {
                    "amount": amount,
                    "payment_date": date,
                    "payment_difference_handling": "open",
                }
            )
            ._create_payments()
        )

    @classmethod
    def _credit_note(cls, invoice, amount, date="2026-01-20"):
        refund = cls.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": invoice.partner_id.id,
                "invoice_date": date,
                "date": date,
                "currency_id": invoice.currency_id.id,
                "reversed_entry_id": invoice.id,
                "invoice_line_ids": [
                    Command.create(
                        {"name": "refund", "price_unit": amount, "tax_ids": []}
                    )
                ],
            }
        )
        refund.action_post()
        lines = (invoice | refund).line_ids.filtered(
            lambda line: line.display_type == "payment_term" and not line.reconciled
        )
        lines.reconcile()
        return refund

    def assertLines(self, plan, expected):
        """``expected``: list of (due_date, amount[, state])."""
        lines = plan.line_ids.sorted(lambda line: (line.sequence, line.due_date))
        got = []
        for line, exp in zip(lines, expected, strict=False):
            row = (fields.Date.to_string(line.due_date), line.amount)
            if len(exp) > 2:
                row += (line.state,)
            got.append(row)
        self.assertEqual(got, [tuple(e) for e in expected])
