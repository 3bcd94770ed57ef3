from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import CreditInvoicingCommon, InstallmentCommon


@tagged("post_install", "-at_install")
class TestReminderCallers(InstallmentCommon):
    """Issue 15, point 11: every public reminder method checks its caller."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Rule = cls.env["installment.reminder.rule"]
        Rule.sudo().search([]).action_archive()
        cls.tpl_overdue = cls.env.ref(
            "installment_credit.mail_template_installment_reminder_overdue"
        )
        for target in ("installment", "invoice"):
            Rule.create(
                {
                    "name": f"{target} after 1",
                    "target": target,
                    "offset_days": 1,
                    "mail_template_id": cls.tpl_overdue.id,
                    "company_id": cls.company.id,
                }
            )
        cls.portal_user = new_test_user(
            cls.env,
            login="guard_portal",
            groups="base.group_portal",
            email="guard.portal@example.com",
        )
        cls.customer = cls.portal_user.partner_id
        with freeze_time("2026-01-10"):
            cls.invoice = cls._invoice(900.0, partner=cls.customer)
            cls.plan = cls.invoice.create_installment_plan(
                count=3, first_due_date="2026-02-10"
            )
            cls.plain = cls._invoice(
                200.0,
                partner=cls.customer,
                invoice_payment_term_id=False,
                invoice_date_due="2026-01-20",
            )
        cls.Log = cls.env["installment.reminder.log"]

    def _call(self, method):
        """Call as over RPC: no savepoint rolls back what was written before
        the error, so the log count below sees it."""
        try:
            method()
        except AccessError as error:
            return error
        return None

    def test_portal_user_cannot_send_reminder_now(self):
        # the portal user may read their own plan and invoice
        self.assertTrue(self.plan.with_user(self.portal_user).state)
        with freeze_time("2026-02-15"):
            for record, method in (
                (self.plan, "action_send_reminder"),
                (self.invoice, "action_send_installment_reminder"),
                (self.plain, "action_send_installment_reminder"),
            ):
                error = self._call(getattr(record.with_user(self.portal_user), method))
                self.assertIsNotNone(error, method)
                self.assertIn("Installments & Credits", str(error))
                self.assertFalse(
                    self.Log.search([("partner_id", "=", self.customer.id)]),
                    "nothing is claimed before the caller is checked",
                )
            # an installment user still sends
            self.plan.action_send_reminder()
        self.assertEqual(
            len(self.Log.search([("partner_id", "=", self.customer.id)])), 1
        )

    def test_reminder_items_are_read_with_the_caller_rights(self):
        with freeze_time("2026-02-15"):
            self.plan.action_send_reminder()
        log = self.Log.search([("partner_id", "=", self.customer.id)])
        other = self.partner_b
        payload = ((other.id, tuple(log.ids)), (self.customer.id, tuple(log.ids)))
        # a log handed over for another customer is not listed
        items = other.with_context(
            installment_reminder_logs=payload
        )._installment_reminder_items()
        self.assertEqual(items["items"], [])
        items = self.customer.with_context(
            installment_reminder_logs=payload
        )._installment_reminder_items()
        self.assertEqual(len(items["items"]), 1)
        # an internal user who may not read the send log gets no amounts by
        # rendering a reminder template with log ids in the context
        employee = new_test_user(
            self.env, login="guard_employee", groups="base.group_user"
        )
        # (the mail renderer wraps the AccessError in a UserError)
        with self.assertRaisesRegex(UserError, "not allowed to access.*Reminder Send"):
            self.tpl_overdue.with_user(employee).with_context(
                installment_reminder_logs=payload
            )._render_field("body_html", self.customer.ids)

    def test_rule_template_must_render_on_the_customer(self):
        invoice_template = self.env.ref("account.email_template_edi_invoice")
        with self.assertRaisesRegex(ValidationError, "Contact"):
            self.env["installment.reminder.rule"].create(
                {
                    "name": "wrong model",
                    "offset_days": 1,
                    "mail_template_id": invoice_template.id,
                }
            )
        rule = self.env["installment.reminder.rule"].search([], limit=1)
        with self.assertRaisesRegex(ValidationError, "Contact"):
            rule.mail_template_id = invoice_template


@tagged("post_install", "-at_install")
class TestPortalReads(CreditInvoicingCommon):
    """Issue 15, point 12: over RPC a portal user reads only what the portal
    shows, on every model the portal can read."""

    INTERNAL = {
        "credit.consumption": {
            "idempotency_key",
            "reference",
            "res_model",
            "res_id",
            "reversed_uid",
            "allocation_ids",
        },
        "credit.grant": {"move_line_id", "allocation_ids"},
        "installment.plan": {"invoice_user_id"},
        "installment.plan.line": {"invoice_user_id"},
    }

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = new_test_user(
            cls.env,
            login="guard_portal_credit",
            groups="base.group_portal",
            email="guard.credit@example.com",
        )
        cls.customer = cls.portal_user.partner_id
        cls.unused_type = cls.env["credit.type"].create(
            {"name": "Never sold", "unit_name": "GB"}
        )
        with freeze_time("2026-01-10"):
            invoice = cls._sell(cls.pkg_month, partner=cls.customer)
            cls.consumption = cls.customer.consume_credits(
                cls.sms,
                5,
                reference="internal ticket 42",
                idempotency_key="api-key-1",
                description="5 SMS",
            )
            cls.reversed = cls.customer.consume_credits(cls.sms, 2)
            cls.reversed.action_reverse()
            cls.plan = invoice.create_installment_plan(
                count=2, first_due_date="2026-02-10"
            )

    def test_every_field_readable_is_public(self):
        records = {
            "credit.consumption": self.consumption | self.reversed,
            "credit.grant": self.env["credit.grant"].search(
                [("partner_id", "=", self.customer.id)]
            ),
            "installment.plan": self.plan,
            "installment.plan.line": self.plan.line_ids,
            "credit.type": self.sms,
        }
        for model, recs in records.items():
            self.assertTrue(recs, model)
            portal_recs = recs.with_user(self.portal_user)
            # Odoo's activity mixin computes some of its public fields from
            # internal ones: not this add-on's to restrict
            mixin = set(self.env["mail.activity.mixin"]._fields) - {"id"}
            readable = set(portal_recs.fields_get(attributes=["type"])) - mixin
            internal = self.INTERNAL.get(model, set())
            self.assertFalse(readable & internal, model)
            # every field the portal is told about reads without error
            portal_recs.invalidate_recordset()
            portal_recs.read(sorted(readable))
            for name in internal:
                with self.assertRaises(AccessError, msg=f"{model}.{name}"):
                    portal_recs.invalidate_recordset()
                    portal_recs.read([name])

    def test_portal_sees_only_credit_types_it_holds(self):
        CreditType = self.env["credit.type"].with_user(self.portal_user)
        self.assertEqual(CreditType.search([]), self.sms | self.minute)
        with self.assertRaises(AccessError):
            self.unused_type.with_user(self.portal_user).read(["name"])
        # the internal users still see every type of the company
        self.assertIn(self.unused_type, self.env["credit.type"].search([]))
