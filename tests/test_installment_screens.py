"""One truth on every screen: what Odoo's own screens (the invoice, its list
and filters, the PDF, the portal, the installments list, the aging report)
say about an invoice agrees with its installment plan."""

from freezegun import freeze_time
from lxml import etree

from odoo import fields
from odoo.tests import tagged
from odoo.tools.safe_eval import datetime, safe_eval

from .common import InstallmentCommon


def iso(dates):
    return [fields.Date.to_string(d) for d in dates]


class FrozenTime:
    """``time`` of a filter's domain, on the test's frozen date."""

    @staticmethod
    def strftime(fmt):
        return fields.Date.today().strftime(fmt)


@tagged("post_install", "-at_install")
@freeze_time("2026-11-30")
class TestInstallmentScreens(InstallmentCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.term = cls.env["account.payment.term"].create(
            {
                "name": "Four monthly installments",
                "installment_enabled": True,
                "installment_count": 4,
                "installment_first_type": "after_days",
                "installment_first_days": 15,
                "installment_interval_unit": "month",
            }
        )

    def _term_invoice(self, amount=1000.0):
        return self._invoice(
            amount, date="2026-11-30", invoice_payment_term_id=self.term.id
        )

    def _terms(self, invoice):
        return invoice.line_ids.filtered(
            lambda line: line.display_type == "payment_term"
        ).sorted(lambda line: (line.date_maturity, line.id))

    def _filter_domain(self, name):
        """The domain of a filter of the invoices' search view, as the web
        client evaluates it today."""
        view = self.env.ref("account.view_account_invoice_filter")
        arch = etree.fromstring(
            self.env["account.move"].get_views([(view.id, "search")])["views"][
                "search"
            ]["arch"]
        )
        node = arch.xpath(f"//filter[@name='{name}']")[0]
        return safe_eval(
            node.get("domain"),
            {
                "time": FrozenTime,
                "datetime": datetime,
                "context_today": lambda: fields.Date.context_today(self.env.user),
            },
        )

    # point 2 ------------------------------------------------------------

    def test_due_date_follows_wizard_plan(self):
        invoice = self._invoice(900.0, date="2026-11-30")
        self.assertEqual(iso([invoice.invoice_date_due]), ["2026-11-30"])
        plan = invoice.create_installment_plan(count=3, first_due_date="2026-12-20")
        self.assertEqual(iso([invoice.invoice_date_due]), ["2027-02-20"])
        # edited: the last installment moves, the due date follows
        plan.line_ids.sorted()[-1].due_date = "2027-03-05"
        self.assertEqual(iso([invoice.invoice_date_due]), ["2027-03-05"])
        # the journal items were not touched
        self.assertEqual(
            iso(self._terms(invoice).mapped("date_maturity")), ["2026-11-30"]
        )
        # cancelled: the receivable's own date again; replaced: the new plan's
        plan.action_cancel()
        self.assertEqual(iso([invoice.invoice_date_due]), ["2026-11-30"])
        invoice.create_installment_plan(count=2, first_due_date="2027-01-10")
        self.assertEqual(iso([invoice.invoice_date_due]), ["2027-02-10"])
        # back to draft: the plan is history, the due date is the invoice's
        invoice.button_draft()
        self.assertEqual(iso([invoice.invoice_date_due]), ["2026-11-30"])

    def test_term_plan_edit_moves_receivable_maturities(self):
        invoice = self._term_invoice()
        plan = invoice.installment_plan_id
        self.assertEqual(plan.source, "payment_term")
        dates = ["2026-12-15", "2027-01-15", "2027-02-15", "2027-03-15"]
        self.assertEqual(iso(plan.line_ids.sorted().mapped("due_date")), dates)
        self.assertEqual(iso([invoice.invoice_date_due]), ["2027-03-15"])
        balances = self._terms(invoice).mapped("balance")
        lines = plan.line_ids.sorted()
        lines[1].due_date = "2027-01-20"
        lines[3].due_date = "2027-04-01"
        terms = self._terms(invoice)
        self.assertEqual(
            iso(terms.mapped("date_maturity")),
            ["2026-12-15", "2027-01-20", "2027-02-15", "2027-04-01"],
        )
        self.assertEqual(terms.mapped("balance"), balances)  # amounts never change
        self.assertEqual(iso([invoice.invoice_date_due]), ["2027-04-01"])
        # Odoo's own installments (payment-term table, Register Payment, portal)
        native = [
            (
                fields.Date.to_string(data["date_maturity"]),
                data["amount_residual_currency"],
            )
            for data in terms._get_installments_data()
        ]
        self.assertEqual(
            native,
            [
                ("2026-12-15", 250.0),
                ("2027-01-20", 250.0),
                ("2027-02-15", 250.0),
                ("2027-04-01", 250.0),
            ],
        )
        self.assertEqual(
            invoice._get_invoice_next_payment_values()["next_due_date"],
            fields.Date.to_date("2026-12-15"),
        )

    # point 1 ------------------------------------------------------------

    def test_late_installment_makes_invoice_overdue(self):
        late = self._invoice(1500.0, date="2026-09-30")
        late.create_installment_plan(count=3, first_due_date="2026-10-30")
        # a hand-typed plan whose first installment fell due on 11/20
        typed = self._invoice(600.0, date="2026-11-01")
        typed.create_installment_plan(
            lines=[("2026-11-20", 200.0), ("2026-12-20", 400.0)]
        )
        on_time = self._invoice(600.0, date="2026-11-30")
        on_time.create_installment_plan(count=2, first_due_date="2026-12-30")
        plain = self._invoice(100.0, date="2026-11-30")
        self.assertEqual(iso([late.installment_next_due_date]), ["2026-10-30"])
        self.env["installment.plan"]._cron_installment_daily()
        self.assertEqual(late.installment_amount_late, 500.0)
        self.assertEqual(typed.installment_amount_late, 200.0)
        invoices = late | typed | on_time | plain
        Move = self.env["account.move"]
        overdue = Move.search(
            self._filter_domain("late") + [("id", "in", invoices.ids)]
        )
        self.assertEqual(overdue, late | typed)
        flagged = Move.search(
            self._filter_domain("installment_late") + [("id", "in", invoices.ids)]
        )
        self.assertEqual(flagged, late | typed)
        # paid up to date: no longer overdue
        self._pay(typed, 200.0, date="2026-11-30")
        self.assertEqual(iso([typed.installment_next_due_date]), ["2026-12-20"])
        overdue = Move.search(
            self._filter_domain("late") + [("id", "in", invoices.ids)]
        )
        self.assertEqual(overdue, late)

    # point 3 ------------------------------------------------------------

    def test_pdf_prints_one_schedule_next_to_the_reference(self):
        invoice = self._term_invoice()
        self._pay(invoice, 100.0, date="2026-11-30")
        html, _format = self.env["ir.actions.report"]._render_qweb_html(
            "account.report_invoice", invoice.ids
        )
        html = html.decode()
        self.assertNotIn("Installment of", html)
        self.assertEqual(html.count('id="installment_schedule"'), 1)
        schedule = html.index('id="installment_schedule"')
        reference = html.index('name="payment_communication"')
        self.assertLess(schedule, reference)
        self.assertEqual(html.count("o_installment_schedule"), 1)
        self.assertIn(">150.00<", html[schedule:reference])  # remaining of #1
        # without a plan Odoo's installment lines are still printed
        invoice.installment_plan_id.action_cancel()
        html, _format = self.env["ir.actions.report"]._render_qweb_html(
            "account.report_invoice", invoice.ids
        )
        html = html.decode()
        self.assertIn("Installment of", html)
        self.assertNotIn('id="installment_schedule"', html)

    # point 9 ------------------------------------------------------------

    def test_installments_list_oldest_due_first(self):
        # the late plan is the older one: the model's order (plans newest
        # first) would list it last
        second = self._invoice(500.0, date="2026-09-30")
        second.create_installment_plan(count=1, first_due_date="2026-10-30")
        first = self._invoice(600.0, date="2026-11-30")
        first.create_installment_plan(count=2, first_due_date="2027-01-15")
        self.env["installment.plan"]._cron_installment_daily()
        view = self.env.ref("installment_credit.installment_plan_line_view_list")
        order = etree.fromstring(view.arch).get("default_order")
        lines = self.env["installment.plan.line"].search(
            [("move_id", "in", (first | second).ids)], order=order
        )
        self.assertEqual(
            iso(lines.mapped("due_date")), ["2026-10-30", "2027-01-15", "2027-02-15"]
        )
        self.assertEqual(lines[0].state, "late")

    # point 10 -----------------------------------------------------------

    def test_aging_title_and_credits_days(self):
        invoice = self._invoice(
            300.0,
            date="2026-11-01",
            invoice_date_due="2026-11-10",
            invoice_payment_term_id=False,
        )
        payment = self.env["account.payment"].create(
            {
                "amount": 80.0,
                "date": "2026-11-10",
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.partner_b.id,
            }
        )
        payment.action_post()
        wizard = self.env["installment.report.aging.open"].create(
            {"date": "2026-11-25"}
        )
        action = wizard.action_open()
        self.assertEqual(action["display_name"], "Receivables Aging as of 11/25/2026")
        self.assertEqual(action["name"], action["display_name"])
        rows = (
            self.env["installment.report.aging"]
            .with_context(**action["context"])
            .search([("move_id", "in", (invoice | payment.move_id).ids)])
        )
        credit = rows.filtered(lambda r: r.kind == "credit")
        self.assertEqual((credit.bucket, credit.days_overdue), ("0_not_due", 0))
        self.assertEqual(
            rows.filtered(lambda r: r.kind == "receivable").days_overdue, 15
        )
        # the list hides it for credits
        view = self.env.ref("installment_credit.installment_report_aging_view_list")
        node = etree.fromstring(view.arch).xpath("//field[@name='days_overdue']")[0]
        self.assertEqual(node.get("invisible"), "kind == 'credit'")

    # point 11 -----------------------------------------------------------

    def test_portal_due_now_one_figure(self):
        invoice = self._invoice(1500.0, date="2026-09-30")
        plan = invoice.create_installment_plan(count=3, first_due_date="2026-10-30")
        self.env["installment.plan"]._cron_installment_daily()
        values = invoice._get_invoice_next_payment_values()
        self.assertEqual(values["installment_state"], "overdue")
        self.assertEqual(values["next_amount_to_pay"], 1000.0)
        self.assertEqual(
            values["installment_due_label"],
            "Due now: $\xa01,000.00 — $\xa0500.00 late since 10/30/2026, "
            "$\xa0500.00 due today",
        )
        proposal = plan._get_payment_proposal()
        self.assertEqual(
            (proposal["amount_late"], proposal["amount_due_today"]), (500.0, 500.0)
        )
        self.assertEqual(plan.amount_late, proposal["amount_late"])
        # nothing due: the next installment, said as such
        self._pay(invoice, 1000.0, date="2026-11-30")
        values = invoice._get_invoice_next_payment_values()
        self.assertEqual(values["installment_state"], "next")
        self.assertEqual(
            values["installment_due_label"],
            "Next installment: $\xa0500.00 on 12/30/2026",
        )
