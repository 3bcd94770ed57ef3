"""Browser tours: what the invoice list, the portal invoice page and the
receivables aging show agrees with the installment plans (issue 17)."""

from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestScreensTours(HttpCase):
    """The browser runs on the real clock: dates are set around today."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # "Today" of the pages is the user's (context_today): in UTC, the
        # clock the dates below are set on, else between midnight in the
        # user's time zone and midnight UTC the installment due "today" is
        # already late.
        cls.env.ref("base.user_admin").tz = "UTC"
        cls.today = fields.Date.today()

    def _days(self, days):
        return self.today + relativedelta(days=days)

    def _invoice(self, partner, amount, date):
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": date,
                "date": date,
                "invoice_payment_term_id": False,
                "invoice_line_ids": [
                    Command.create(
                        {"name": "service", "price_unit": amount, "tax_ids": []}
                    )
                ],
            }
        )
        move.action_post()
        return move

    def _late_invoice(self, partner):
        """500 late for 31 days, 500 due today, 500 next month."""
        invoice = self._invoice(partner, 1500.0, self._days(-61))
        invoice.create_installment_plan(
            lines=[
                (self._days(-31), 500.0),
                (self.today, 500.0),
                (self._days(30), 500.0),
            ]
        )
        return invoice

    def test_tour_invoice_list_overdue(self):
        late = self._late_invoice(
            self.env["res.partner"].create({"name": "Screens Late Customer"})
        )
        # the due date is the last installment, in the future, yet overdue
        self.assertEqual(late.invoice_date_due, self._days(30))
        on_time = self._invoice(
            self.env["res.partner"].create({"name": "Screens On Time Customer"}),
            600.0,
            self.today,
        )
        on_time.create_installment_plan(count=2, first_due_date=self._days(30))
        self.start_tour(
            "/odoo/action-account.action_move_out_invoice_type",
            "installment_credit_invoice_list_overdue",
            login="admin",
        )

    def test_tour_portal_due_now(self):
        portal_user = new_test_user(
            self.env,
            login="screens_portal",
            groups="base.group_portal",
            name="Screens Portal Customer",
            email="screens.portal@example.com",
            tz="UTC",
        )
        invoice = self._late_invoice(portal_user.partner_id)
        self.start_tour(
            invoice.get_portal_url(),
            "installment_credit_portal_due_now",
            login="screens_portal",
        )

    def test_tour_aging_title(self):
        self.start_tour(
            "/odoo/action-installment_credit.installment_report_aging_open_action",
            "installment_credit_aging_title",
            login="admin",
        )

    def test_tour_status_graph_colors(self):
        """Issue 17, point 12: Late is red and Pending blue in the graph."""
        self._late_invoice(
            self.env["res.partner"].create({"name": "Screens Graph Customer"})
        )
        self.start_tour(
            "/odoo/action-installment_credit.installment_plan_line_action",
            "installment_credit_status_graph_colors",
            login="admin",
        )
