from markupsafe import Markup

from odoo import models


class InstallmentPlan(models.Model):
    """Emails to the customer about their plan: the schedule when the plan is
    made, what changed when it changes. Queued in Odoo's mail queue
    (``mail.mail``) from the plan's own templates, which admins can edit."""

    _inherit = "installment.plan"

    def _portal_plan_url(self):
        """The plan's portal page (customers with portal access)."""
        self.ensure_one()
        return "%s/my/installments/%s" % (self.get_base_url(), self.id)

    def _notify_change_rows(self):
        """The changes a change email lists (context ``installment_change_ids``),
        oldest first, as dicts: ``date``, ``what`` (one sentence)."""
        self.ensure_one()
        ids = self.env.context.get("installment_change_ids") or ()
        changes = (
            self.env["installment.plan.change"]
            .sudo()
            .browse(ids)
            .filtered(lambda change: change.plan_id == self.sudo())
            .sorted("id")
        )
        return [
            {"date": date, "what": what}
            for date, what in zip(
                changes.mapped("date"), changes._describe(), strict=True
            )
        ]

    def _notify_customer_created(self):
        """Email each plan's customer its schedule (PDF attached)."""
        return self._notify_customer_send(
            "installment_credit.mail_template_installment_plan_created"
        )

    def _notify_customer_changes(self, changes):
        """Email each plan's customer what ``changes`` (history rows) changed."""
        for plan in self:
            mine = changes.filtered(lambda change, p=plan: change.plan_id == p)
            if mine:
                plan.with_context(
                    installment_change_ids=tuple(mine.ids)
                )._notify_customer_send(
                    "installment_credit.mail_template_installment_plan_changed"
                )
        return True

    def _notify_customer_send(self, template_xmlid):
        template = self.env.ref(template_xmlid, raise_if_not_found=False)
        if not template:
            return self.env["mail.mail"]
        mails = self.env["mail.mail"]
        for plan in self:
            customer = plan.move_id.partner_id
            if not customer.email:
                plan.message_post(
                    body=self.env._(
                        "The customer was not emailed: %s has no email address. "
                        "Add one on the customer and send again.",
                        customer.display_name,
                    )
                )
                continue
            mail_id = template.with_company(plan.company_id).send_mail(
                plan.id, email_layout_xmlid="mail.mail_notification_light"
            )
            mail = self.env["mail.mail"].sudo().browse(mail_id)
            mails |= mail
            plan.message_post(
                body=Markup("%s <b>%s</b>")
                % (
                    self.env._("Emailed to %s:", customer.email_formatted),
                    mail.subject or template.name,
                )
            )
        return mails
