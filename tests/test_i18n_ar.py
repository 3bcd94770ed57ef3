"""Arabic: the translation is complete, and customers read it right to left.

``test_ar_po_covers_the_template`` is the check to run after a merge that added
terms: it lists every term of ``installment_credit.pot`` missing or empty in
``ar.po`` and every placeholder a translation lost, changed or added.
"""

import re
from collections import Counter
from pathlib import Path
from unittest import TestCase

import polib
from freezegun import freeze_time

from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged

I18N = Path(__file__).resolve().parent.parent / "installment_credit" / "i18n"

# What must come through a translation unchanged: Python format placeholders,
# inline-template expressions, QWeb attributes (t-out, t-att-href...) and the
# HTML tags. Text between tags is what gets translated.
PLACEHOLDERS = (
    re.compile(r"%\([A-Za-z_]\w*\)[sdrf]"),  # %(name)s
    re.compile(r"%[sdrf]"),  # %s
    re.compile(r"\{\{.*?\}\}", re.DOTALL),  # {{ expression }}
    re.compile(r"""\bt-[\w-]+=("[^"]*"|'[^']*')"""),  # t-out="..." etc.
    re.compile(r"</?[A-Za-z][\w-]*"),  # <div, </strong, <br
)


def placeholders(text):
    """Every placeholder of ``text``, counted (a positional %s repeated
    twice must stay twice)."""
    text = text.replace("%%", "")
    return Counter(match for regex in PLACEHOLDERS for match in regex.findall(text))


def po_problems(pot_path, po_path):
    """``(missing, broken)``: the template's terms without a translation, and
    ``(msgid, only in msgid, only in msgstr)`` for translations whose
    placeholders differ."""
    template = polib.pofile(str(pot_path))
    translated = {entry.msgid: entry for entry in polib.pofile(str(po_path))}
    missing, broken = [], []
    for entry in template:
        if entry.obsolete:
            continue
        tr = translated.get(entry.msgid)
        if tr is None or not tr.msgstr.strip() or "fuzzy" in tr.flags:
            missing.append(entry.msgid)
            continue
        want, got = placeholders(entry.msgid), placeholders(tr.msgstr)
        if want != got:
            broken.append((entry.msgid, want - got, got - want))
    return missing, broken


@tagged("post_install", "-at_install")
class TestArabicPo(TestCase):
    def test_placeholder_check_catches_broken_translations(self):
        self.assertEqual(placeholders("%(a)s and %s"), placeholders("%s و %(a)s"))
        self.assertNotEqual(placeholders("%(a)s of %(b)s"), placeholders("%(a)s"))
        self.assertNotEqual(placeholders("%s %s"), placeholders("%s"))
        self.assertNotEqual(
            placeholders('<t t-out="object.name">x</t>'),
            placeholders('<t t-out="object.nom">x</t>'),
        )
        self.assertNotEqual(placeholders("<b>x</b>"), placeholders("x"))
        self.assertEqual(
            placeholders("{{ object.name }}: x"), placeholders("س: {{ object.name }}")
        )

    def test_ar_po_covers_the_template(self):
        missing, broken = po_problems(I18N / "installment_credit.pot", I18N / "ar.po")
        report = []
        if missing:
            report.append(
                f"{len(missing)} term(s) of installment_credit.pot missing or empty "
                "in ar.po (translate them, then run this test again):"
            )
            report += [f"  msgid {msgid!r}" for msgid in missing]
        if broken:
            report.append(
                f"{len(broken)} translation(s) of ar.po whose placeholders differ "
                "from the msgid:"
            )
            for msgid, lost, added in broken:
                report.append(
                    f"  msgid {msgid[:120]!r}: lost {sorted(lost.elements())}, "
                    f"added {sorted(added.elements())}"
                )
        self.assertFalse(report, "\n" + "\n".join(report))


@tagged("post_install", "-at_install")
class TestArabicCustomer(HttpCase):
    """A customer whose language is Arabic reads the portal and the reminder
    emails in Arabic, laid out right to left."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("ar_001")
        cls.env["ir.module.module"]._load_module_terms(
            ["installment_credit"], ["ar_001"], overwrite=True
        )
        cls.portal_user = new_test_user(
            cls.env,
            login="installment_portal_ar",
            groups="base.group_portal",
            name="Arabic Portal Customer",
            email="ar.customer@example.com",
            lang="ar_001",
        )
        cls.customer = cls.portal_user.partner_id
        cls.company = cls.env.company
        with freeze_time("2026-01-10"):
            invoice = cls.env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": cls.customer.id,
                    "invoice_date": "2026-01-10",
                    "date": "2026-01-10",
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "service", "price_unit": 900.0, "tax_ids": []}
                        )
                    ],
                }
            )
            invoice.action_post()
            cls.plan = invoice.create_installment_plan(
                count=3, first_due_date="2026-02-10"
            )

    def test_portal_installments_page_in_arabic(self):
        self.authenticate("installment_portal_ar", "installment_portal_ar")
        response = self.url_open("/my/installments")
        self.assertEqual(response.status_code, 200)
        html = response.text
        self.assertIn(self.plan.move_id.name, html)
        self.assertRegex(html, r'<html[^>]*\bdir="rtl"')
        self.assertRegex(html, r'<html[^>]*\blang="ar-001"')
        # the schedule's headers and the page title come from ar.po
        self.assertIn("تاريخ الاستحقاق", html)
        self.assertIn("المتبقي", html)
        self.assertIn("الأقساط", html)
        self.assertNotIn(">Due Date<", html)

    def test_portal_page_stays_left_to_right_in_english(self):
        self.customer.lang = "en_US"
        self.authenticate("installment_portal_ar", "installment_portal_ar")
        html = self.url_open("/my/installments").text
        self.assertRegex(html, r'<html[^>]*\bdir="ltr"')
        self.assertIn(">Due Date<", html)

    def test_reminder_email_in_arabic(self):
        Rule = self.env["installment.reminder.rule"]
        Rule.sudo().search([]).action_archive()
        Rule.create(
            {
                "name": "after 3",
                "target": "installment",
                "offset_days": 3,
                "mail_template_id": self.env.ref(
                    "installment_credit.mail_template_installment_reminder_overdue"
                ).id,
                "company_id": self.company.id,
            }
        )
        with freeze_time("2026-02-13"):
            self.env["installment.reminder.run"]._cron_send_reminders()
        mail = self.env["mail.mail"].search(
            [("recipient_ids", "in", self.customer.ids)]
        )
        self.assertEqual(len(mail), 1)
        body = mail.body_html
        self.assertIn('dir="rtl"', body)
        # amounts align to the end of the line, whichever side that is
        self.assertIn("text-align: end", body)
        self.assertNotIn("text-align: right", body)
        self.assertIn("وفقًا لسجلاتنا", body)
        self.assertIn("متأخر 3 يوم/أيام", body)  # the run's status, from ar.po
        self.assertIn("القسط 1 من 3", body)  # the item label, from ar.po
        self.assertIn("دفعة متأخرة", mail.subject)
        self.assertNotIn("According to our records", body)
