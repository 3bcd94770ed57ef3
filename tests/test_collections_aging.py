from contextlib import contextmanager

from freezegun import freeze_time

from odoo import Command, fields
from odoo.tests import new_test_user, tagged

from .common import InstallmentCommon


@tagged("post_install", "-at_install")
class TestAgingReport(InstallmentCommon):
    """A mixed book: plans, plain invoices, partial payments, credit notes,
    unapplied payments and credit notes, a foreign-currency plan."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.eur = cls.setup_other_currency("EUR")  # 2 EUR = 1 company unit
        with freeze_time("2026-03-31"):
            # partner_a: 4 x 250 from 2026-01-31; 300 paid on 02-05; credit
            # note of 100 on 03-10 taken off the last installment
            cls.inv_plan = cls._invoice(1000.0, date="2026-01-10")
            cls.plan = cls.inv_plan.create_installment_plan(
                count=4, first_due_date="2026-01-31"
            )
            cls._pay(cls.inv_plan, 300.0, date="2026-02-05")
            cls._credit_note(cls.inv_plan, 100.0, date="2026-03-10")
            # partner_a: plain invoice due 2025-12-01, 150 paid on 03-20
            cls.inv_plain = cls._invoice(
                400.0,
                date="2025-12-01",
                invoice_payment_term_id=False,
                invoice_date_due="2025-12-01",
            )
            cls._pay(cls.inv_plain, 150.0, date="2026-03-20")
            # partner_b: invoice due 03-01, an unapplied payment and credit note
            cls.inv_b = cls._invoice(
                500.0,
                date="2026-02-01",
                partner=cls.partner_b,
                invoice_payment_term_id=False,
                invoice_date_due="2026-03-01",
            )
            cls.payment = cls.env["account.payment"].create(
                {
                    "amount": 80.0,
                    "date": "2026-03-15",
                    "payment_type": "inbound",
                    "partner_type": "customer",
                    "partner_id": cls.partner_b.id,
                }
            )
            cls.payment.action_post()
            cls.refund = cls.env["account.move"].create(
                {
                    "move_type": "out_refund",
                    "partner_id": cls.partner_b.id,
                    "invoice_date": "2026-03-05",
                    "date": "2026-03-05",
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "goodwill", "price_unit": 60.0, "tax_ids": []}
                        )
                    ],
                }
            )
            cls.refund.action_post()
            # partner_b: a plan in EUR, paid in part
            cls.inv_eur = cls._invoice(
                1000.01, date="2026-02-01", partner=cls.partner_b, currency=cls.eur
            )
            cls.plan_eur = cls.inv_eur.create_installment_plan(
                count=3, first_due_date="2026-02-15"
            )
            cls._pay(cls.inv_eur, 400.0, date="2026-02-20")

    def _report(self, date):
        return (
            self.env["installment.report.aging"]
            .with_context(installment_aging_date=date)
            .search([("company_id", "=", self.company.id)])
        )

    def _ledger(self, date, partner=None):
        domain = [
            ("company_id", "=", self.company.id),
            ("parent_state", "=", "posted"),
            ("account_id.account_type", "=", "asset_receivable"),
            ("date", "<=", date),
        ]
        if partner:
            domain.append(("partner_id", "=", partner.id))
        [(balance,)] = self.env["account.move.line"]._read_group(
            domain, aggregates=["balance:sum"]
        )
        return balance

    def assertTotalsMatchLedger(self, date):
        rows = self._report(date)
        self.assertAlmostEqual(
            sum(rows.mapped("amount_residual")), self._ledger(date), places=2
        )
        for partner in (self.partner_a, self.partner_b):
            self.assertAlmostEqual(
                sum(
                    rows.filtered(lambda r, p=partner: r.partner_id == p).mapped(
                        "amount_residual"
                    )
                ),
                self._ledger(date, partner),
                places=2,
                msg=f"{partner.name} at {date}",
            )
        # the bucket columns split the amount, nothing lost
        for row in rows:
            self.assertAlmostEqual(
                row.amount_residual,
                row.amount_not_due
                + row.amount_1_30
                + row.amount_31_60
                + row.amount_61_90
                + row.amount_90_plus,
                places=2,
            )
        return rows

    def test_total_equals_ledger_today_and_in_the_past(self):
        for date in ("2026-03-31", "2026-03-12", "2026-02-10", "2026-02-01"):
            with self.subTest(date=date):
                rows = self.assertTotalsMatchLedger(date)
                self.assertTrue(rows)
        self.assertFalse(self._report("2025-11-30"), "nothing posted yet")

    def test_rows_of_a_database_with_millions_of_lines(self):
        # Row ids combine the line id and the as-of date: they must not
        # overflow once journal items and installments number in millions
        # (sequences are not rolled back; these values only move them on).
        for table in ("account_move_line", "installment_plan_line"):
            self.env.cr.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                "GREATEST(50000000, (SELECT last_value FROM "
                "pg_sequences WHERE sequencename = %s)))",
                (table, f"{table}_id_seq"),
            )
        with freeze_time("2026-03-31"):
            invoice = self._invoice(600.0, date="2026-03-01")
            plan = invoice.create_installment_plan(count=2, first_due_date="2026-03-15")
        self.assertGreater(min(plan.line_ids.ids), 50000000)
        rows = self.assertTotalsMatchLedger("2026-03-31")
        mine = rows.filtered(lambda r: r.move_id == invoice)
        self.assertEqual(
            sorted(mine.mapped(lambda r: (r.kind, r.bucket, r.amount_residual))),
            [("installment", "0_not_due", 300.0), ("installment", "1_1_30", 300.0)],
        )
        self.assertEqual(len(set(rows.ids)), len(rows))

    def test_installments_aged_by_their_due_dates(self):
        rows = self.assertTotalsMatchLedger("2026-03-31")
        plan_rows = rows.filtered(lambda r: r.move_id == self.inv_plan)
        self.assertEqual(set(plan_rows.mapped("kind")), {"installment"})
        got = sorted(
            (r.due_date.isoformat(), r.amount_residual, r.bucket) for r in plan_rows
        )
        self.assertEqual(
            got,
            [
                ("2026-02-28", 200.0, "2_31_60"),  # 31 days late
                ("2026-03-31", 250.0, "0_not_due"),  # due on the as-of date
                ("2026-04-30", 150.0, "0_not_due"),  # reduced by the credit note
            ],
        )
        # today's rows are the plan's own residuals
        open_lines = self.plan.line_ids.filtered(lambda line: line.state != "paid")
        self.assertEqual(plan_rows.plan_line_id, open_lines)
        for row in plan_rows:
            self.assertEqual(row.amount_residual, row.plan_line_id.amount_residual)
        # plain invoice: its residual at its maturity
        plain = rows.filtered(lambda r: r.move_id == self.inv_plain)
        self.assertEqual(
            (plain.kind, plain.amount_residual, plain.bucket, plain.days_overdue),
            ("receivable", 250.0, "4_90_plus", 120),
        )
        # unapplied credits: negative and not due
        credits = rows.filtered(lambda r: r.kind == "credit")
        self.assertEqual(credits.move_id, self.payment.move_id | self.refund)
        self.assertAlmostEqual(
            sum(
                credits.filtered(lambda r: r.move_id == self.refund).mapped(
                    "amount_residual"
                )
            ),
            -60.0,
        )
        self.assertEqual(
            credits.filtered(lambda r: r.move_id != self.refund).amount_residual,
            -80.0,
        )
        self.assertEqual(set(credits.mapped("bucket")), {"0_not_due"})
        # foreign currency plan: installments add up to the company residual
        eur_rows = rows.filtered(lambda r: r.move_id == self.inv_eur)
        self.assertEqual(set(eur_rows.mapped("kind")), {"installment"})
        term_lines = self.inv_eur.line_ids.filtered(
            lambda line: line.display_type == "payment_term"
        )
        self.assertAlmostEqual(
            sum(eur_rows.mapped("amount_residual")),
            sum(term_lines.mapped("amount_residual")),
            places=2,
        )

    def test_past_date_rebuilds_amounts(self):
        rows = self.assertTotalsMatchLedger("2026-02-01")
        plan_rows = rows.filtered(lambda r: r.move_id == self.inv_plan)
        # nothing paid yet: all four installments, the first one day late
        self.assertEqual(
            sorted(
                (r.due_date.isoformat(), r.amount_residual, r.bucket) for r in plan_rows
            ),
            [
                ("2026-01-31", 250.0, "1_1_30"),
                ("2026-02-28", 250.0, "0_not_due"),
                ("2026-03-31", 250.0, "0_not_due"),
                ("2026-04-30", 250.0, "0_not_due"),
            ],
        )
        plain = rows.filtered(lambda r: r.move_id == self.inv_plain)
        self.assertEqual((plain.amount_residual, plain.bucket), (400.0, "3_61_90"))
        self.assertFalse(rows.filtered(lambda r: r.kind == "credit"), "not yet paid")
        # after the payment, before the credit note: the plan's allocation
        rows = self.assertTotalsMatchLedger("2026-03-09")
        plan_rows = rows.filtered(lambda r: r.move_id == self.inv_plan)
        self.assertEqual(
            sorted((r.due_date.isoformat(), r.amount_residual) for r in plan_rows),
            [("2026-02-28", 200.0), ("2026-03-31", 250.0), ("2026-04-30", 250.0)],
        )

    def test_bucket_boundaries(self):
        cases = [
            ("2025-12-01", "0_not_due", 0),
            ("2025-12-02", "1_1_30", 1),
            ("2025-12-31", "1_1_30", 30),
            ("2026-01-01", "2_31_60", 31),
            ("2026-01-30", "2_31_60", 60),
            ("2026-01-31", "3_61_90", 61),
            ("2026-03-01", "3_61_90", 90),
            ("2026-03-02", "4_90_plus", 91),
        ]
        for date, bucket, days in cases:
            with self.subTest(date=date):
                row = self._report(date).filtered(lambda r: r.move_id == self.inv_plain)
                self.assertEqual((row.bucket, row.days_overdue), (bucket, days))

    def test_pivot_grouping_filters_and_wizard(self):
        Report = self.env["installment.report.aging"].with_context(
            installment_aging_date="2026-03-31"
        )
        domain = [("company_id", "=", self.company.id)]
        groups = dict(Report._read_group(domain, ["bucket"], ["amount_residual:sum"]))
        self.assertAlmostEqual(sum(groups.values()), self._ledger("2026-03-31"), 2)
        self.assertEqual(groups["2_31_60"], 200.0)  # installment due 02-28
        # inv_b due 03-01 is 30 days late: still 1-30, like the EUR installment
        self.assertGreater(groups["1_1_30"], 500.0)
        self.assertEqual(
            Report.search_count(domain + [("billing_mode", "=", "postpaid")]),
            Report.search_count(domain)
            if "billing_mode" not in self.env["res.partner"]._fields
            else Report.search_count(domain + [("billing_mode", "!=", "prepaid")]),
        )
        if "billing_mode" not in self.env["res.partner"]._fields:
            self.assertFalse(
                Report.search_count(domain + [("billing_mode", "=", "prepaid")])
            )
        wizard = self.env["installment.report.aging.open"].create(
            {"date": "2026-02-01"}
        )
        action = wizard.action_open()
        self.assertEqual(action["res_model"], "installment.report.aging")
        rows = (
            self.env["installment.report.aging"]
            .with_context(**action["context"])
            .search(domain)
        )
        self.assertEqual(set(rows.mapped("as_of_date")), {rows[0].as_of_date})
        self.assertEqual(rows[0].as_of_date.isoformat(), "2026-02-01")
        # without a date: today
        with freeze_time("2026-03-31"):
            today_rows = self.env["installment.report.aging"].search(domain)
            self.assertEqual(today_rows[0].as_of_date.isoformat(), "2026-03-31")
            self.assertEqual(
                sum(today_rows.mapped("amount_residual")),
                sum(Report.search(domain).mapped("amount_residual")),
            )

    def test_other_company_user_sees_nothing(self):
        other = self.setup_other_company()["company"]
        stranger = new_test_user(
            self.env,
            login="aging_stranger",
            groups="account.group_account_invoice",
            company_id=other.id,
            company_ids=[Command.set(other.ids)],
        )
        report = (
            self.env["installment.report.aging"]
            .with_user(stranger)
            .with_context(installment_aging_date="2026-03-31")
        )
        rows = report.search([])
        self.assertFalse(rows.filtered(lambda r: r.company_id == self.company))
        self.assertFalse(rows)
        # the grouped reads (pivot) keep the company rule
        self.assertIsNotNone(
            report._aging_grouping([], ["partner_id"], ["__count"], (), None)
        )
        self.assertFalse(report._read_group([], ["partner_id"], ["__count"]))
        self.assertEqual(report._read_group([], [], ["__count"]), [(0,)])

    # Today's aging reads the stored residuals (fast) and must give exactly
    # the rows the rebuild from the reconciliations gives.
    def _rows(self, **context):
        report = self.env["installment.report.aging"].with_context(
            installment_aging_date="2026-03-31", **context
        )
        return sorted(
            report.search([("company_id", "=", self.company.id)]).mapped(
                lambda r: (
                    r.move_id.id,
                    r.plan_line_id.id,
                    r.move_line_id.id,
                    r.kind,
                    r.bucket,
                    round(r.amount_residual, 2),
                )
            )
        )

    def _uncovered_invoice(self):
        """An invoice paid in part before its plan, the payment then
        unreconciled: its plan does not cover 200 of it."""
        invoice = self._invoice(500.0, date="2026-03-01")
        self._pay(invoice, 200.0, date="2026-03-02")
        plan = invoice.create_installment_plan(count=2, first_due_date="2026-04-30")
        self.assertEqual((plan.amount_total, plan.amount_uncovered), (300.0, 0.0))
        invoice.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        ).remove_move_reconcile()
        self.env.flush_all()
        self.assertEqual((plan.amount_residual, plan.amount_uncovered), (300.0, 200.0))
        return invoice

    @freeze_time("2026-03-31")
    def test_stored_rows_equal_rebuilt_rows(self):
        Aging = self.env["installment.report.aging"]
        self.assertTrue(Aging._aging_from_stored(fields.Date.to_date("2026-03-31")))
        self.assertFalse(Aging._aging_from_stored(fields.Date.to_date("2026-03-30")))
        stored = self._rows()
        self.assertTrue(stored)
        self.assertEqual(stored, self._rows(installment_aging_rebuild=True))
        self.assertTotalsMatchLedger("2026-03-31")
        # A plan fully paid while its invoice is still open (paid before the
        # plan, then unreconciled) and an installment edited: still equal.
        self.inv_plan.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        ).remove_move_reconcile()
        self.env.flush_all()
        self.assertEqual(self._rows(), self._rows(installment_aging_rebuild=True))
        self.assertTotalsMatchLedger("2026-03-31")
        # An invoice paid in part before its plan, the payment then
        # unreconciled: the plan records what it does not cover, which the
        # report ages at the invoice's due date.
        invoice = self._uncovered_invoice()
        rows = self._rows()
        self.assertIn(
            (invoice.id, False, "receivable", "1_1_30", 200.0),
            [(m, pl, k, b, a) for m, pl, _ml, k, b, a in rows],
        )
        self.assertEqual(rows, self._rows(installment_aging_rebuild=True))
        self.assertTotalsMatchLedger("2026-03-31")

    @freeze_time("2026-03-31")
    def test_future_dated_item_falls_back_to_rebuild(self):
        future = self._invoice(200.0, date="2026-04-15")
        Aging = self.env["installment.report.aging"]
        self.assertFalse(Aging._aging_from_stored(fields.Date.to_date("2026-03-31")))
        rows = self._rows()
        self.assertNotIn(future.id, [row[0] for row in rows])
        self.assertTotalsMatchLedger("2026-03-31")

    # Grouped reads (pivot, graph, grouped lists) are aggregated under the
    # rows when they only need what a group shares: the same numbers as
    # grouping the rows.
    def _groups_from_rows(self, report, domain, groupby):
        groups = {}
        for row in report.search(domain):
            key = tuple(row[fname] for fname in groupby)
            count, total, late, days = groups.get(key, (0, 0.0, 0.0, 0))
            groups[key] = (
                count + 1,
                round(total + row.amount_residual, 2),
                round(late + row.amount_1_30, 2),
                max(days, row.days_overdue),  # a credit's (NULL) reads as 0
            )
        return groups

    @contextmanager
    def _queries(self):
        """The SQL the block runs (Odoo's own query recorder, as in
        ``assertQueries``)."""
        yield from self._patchExecute([])

    def assertGroupedEqualsRows(self, report, domain, groupby):
        aggregates = [
            "__count",
            "amount_residual:sum",
            "amount_1_30:sum",
            "days_overdue:max",
        ]
        self.assertIsNotNone(
            report._aging_grouping(domain, groupby, aggregates, (), None),
            "this read is served by the grouped table",
        )

        def rounded(groups):
            return {
                tuple(values[: len(groupby)]): (
                    values[-4],
                    round(values[-3], 2),
                    round(values[-2], 2),
                    values[-1],
                )
                for values in groups
            }

        with self._queries() as queries:
            got = rounded(report._read_group(domain, groupby, aggregates))
        # read from the grouped table (its partial counts), not the rows
        self.assertTrue(any("row_count" in query for query in queries))
        # the same read over the rows (a condition on the id needs them)
        row_domain = domain + [("id", "!=", 0)]
        self.assertIsNone(
            report._aging_grouping(row_domain, groupby, aggregates, (), None)
        )
        with self._queries() as queries:
            rows = rounded(report._read_group(row_domain, groupby, aggregates))
        self.assertFalse(any("row_count" in query for query in queries))
        self.assertEqual(got, rows)
        # and added up by hand (a credit's days overdue, NULL, reads as 0)
        self.assertEqual(
            {key: (*values[:3], values[3] or 0) for key, values in got.items()},
            self._groups_from_rows(report, domain, groupby),
        )
        return got

    def test_grouped_reads_equal_the_rows(self):
        self.inv_plan.invoice_user_id = self.env.user
        with freeze_time("2026-03-31"):
            self._uncovered_invoice()
        domain = [("company_id", "=", self.company.id)]
        for date in ("2026-03-31", "2026-02-10"):
            # today (stored residuals) and a past date (rebuilt)
            with freeze_time("2026-03-31"), self.subTest(date=date):
                report = self.env["installment.report.aging"].with_context(
                    installment_aging_date=date
                )
                self.assertEqual(
                    report._aging_from_stored(fields.Date.to_date(date)),
                    date == "2026-03-31",
                )
                for groupby in (
                    ["partner_id", "bucket"],
                    ["kind"],
                    ["invoice_user_id", "bucket"],
                    ["currency_id", "company_id"],
                    [],
                ):
                    got = self.assertGroupedEqualsRows(report, domain, groupby)
                    self.assertTrue(got)
                self.assertGroupedEqualsRows(
                    report,
                    domain + [("billing_mode", "=", "postpaid")],
                    ["partner_id"],
                )
                self.assertGroupedEqualsRows(
                    report,
                    domain + [("partner_id", "=", self.partner_b.id)],
                    ["bucket"],
                )
        # the public read_group (the pivot's) counts rows, not partial groups
        report = self.env["installment.report.aging"].with_context(
            installment_aging_date="2026-03-31"
        )
        [group] = report.read_group(
            domain + [("move_id", "=", self.inv_plan.id)],
            ["amount_residual"],
            [],
            lazy=False,
        )
        partner_group = report.read_group(
            domain + [("partner_id", "=", self.partner_a.id)],
            ["amount_residual"],
            ["partner_id"],
            lazy=False,
        )
        self.assertEqual(
            partner_group[0]["__count"],
            report.search_count(domain + [("partner_id", "=", self.partner_a.id)]),
        )
        self.assertEqual(group["__count"], 3)  # rows: the open installments
        # the partners returned by a grouped read read the rows afterwards
        [(partner, __)] = report._read_group(
            domain + [("partner_id", "=", self.partner_a.id)],
            ["partner_id"],
            ["__count"],
        )
        rows = (
            partner.env["installment.report.aging"]
            .with_context(installment_aging_date="2026-03-31")
            .search(domain + [("partner_id", "=", partner.id)])
        )
        self.assertIn(self.inv_plan, rows.move_id)

    def test_grouped_reads_that_need_rows_read_rows(self):
        report = self.env["installment.report.aging"]
        domain = [("company_id", "=", self.company.id)]
        needs_rows = [
            (domain, ["due_date:month"], ["__count"]),
            (domain, ["move_id"], ["amount_residual:sum"]),
            (domain, ["bucket"], ["amount_residual:avg"]),
            (domain, ["bucket"], ["days_overdue:sum"]),
            (domain + [("plan_id", "!=", False)], ["bucket"], ["__count"]),
        ]
        for args in needs_rows:
            with self.subTest(args=args):
                self.assertIsNone(report._aging_grouping(*args, (), None))
        self.assertIsNone(
            report._aging_grouping(domain, ["bucket"], ["__count"], (), "due_date")
        )
        # still right, from the rows
        with freeze_time("2026-03-31"):
            report = report.with_context(installment_aging_date="2026-03-31")
            plan_domain = domain + [("plan_id", "=", self.plan.id)]
            groups = dict(
                report._read_group(plan_domain, ["bucket"], ["amount_residual:sum"])
            )
            expected = {}
            for row in report.search(plan_domain):
                expected[row.bucket] = expected.get(row.bucket, 0) + row.amount_residual
        self.assertTrue(groups)
        self.assertEqual(groups, expected)
