from odoo import api, fields, models
from odoo.tools import format_amount

from .installment_reminder_log import ReminderFormatter


class ResPartner(models.Model):
    _inherit = "res.partner"

    installment_no_reminder = fields.Boolean(
        string="Exclude from Reminders",
        help="No payment reminder is emailed to this customer, neither by the "
        "daily run nor by hand.",
    )

    @api.model
    def _commercial_fields(self):
        return super()._commercial_fields() + ["installment_no_reminder"]

    def _installment_reminder_items(self):
        """What a reminder email lists for this customer.

        Reads the send logs handed over by the reminder run in the context
        key ``installment_reminder_logs`` (``((partner_id, (log_id, ...)),
        ...)``). Returns a dict: ``items`` (one dict per target: ``label``,
        ``due_date``, ``amount``, ``status``), ``totals`` (formatted amount
        per currency) and ``company``.
        """
        self.ensure_one()
        raw_payload = self.env.context.get("installment_reminder_logs") or ()
        extra = self.env.context.get("installment_reminder_extra") or ()
        # A template calls this for its subject, sender and body, once per
        # customer of the batch: the first call computes every customer of the
        # payload rendered in this language, the others read the cursor's
        # cache (it lives as long as the run).
        cache = self.env.cr.cache.setdefault("installment_reminder_items", {})
        # per user too: the logs are read with the caller's rights
        key = (raw_payload, extra, self.env.lang, self.env.uid, self.env.su)
        per_partner = cache.setdefault(key, {})
        if self.id not in per_partner:
            per_partner.update(
                self._installment_reminder_items_batch(raw_payload, extra)
            )
        return per_partner[self.id]

    def _installment_reminder_items_batch(self, raw_payload, extra=()):
        """``{partner id: items}`` for ``self`` and the other customers of the
        payload whose emails are rendered in the same language."""
        payload = dict(raw_payload)
        partners = self.browse(list(payload)).exists()
        env_lang = self.env.lang
        partners = self | partners.filtered(
            lambda partner: (partner.lang or env_lang) == (self.lang or env_lang)
        )
        return partners._installment_reminder_items_compute(raw_payload, extra)

    def _installment_reminder_extra_entries(self, extra, skip=frozenset()):
        """``{partner id: [entry, ...]}`` of the open items listed without a
        log of theirs (context key ``installment_reminder_extra``, set by a
        manual send: everything owed on the document now), as of today,
        except the ``(model, id)`` in ``skip`` (listed by a log)."""
        today = fields.Date.context_today(self)
        per_partner = dict(extra)
        refs = [ref for partner in self for ref in per_partner.get(partner.id, ())]
        lines = self.env["installment.plan.line"].browse(
            [res_id for model, res_id in refs if model == "installment.plan.line"]
        )
        moves = self.env["account.move"].browse(
            [res_id for model, res_id in refs if model == "account.move"]
        )
        labels = self.env["installment.reminder.log"]._plan_line_labels(lines)
        entries = {}
        for partner in self:
            for model, res_id in per_partner.get(partner.id, ()):
                if (model, res_id) in skip:
                    continue
                if model == "installment.plan.line":
                    line = lines.browse(res_id)
                    entry = (labels[res_id], line.due_date, line.amount_residual)
                    currency = line.currency_id
                else:
                    move = moves.browse(res_id)
                    label = self.env._("Invoice %s", move.name)
                    entry = (label, move.invoice_date_due, move.amount_residual)
                    currency = move.currency_id
                entries.setdefault(partner.id, []).append((*entry, currency, today))
        return entries

    def _installment_reminder_items_compute(self, raw_payload, extra=()):
        """``{partner id: items}`` (see :meth:`_installment_reminder_items`)
        for every customer of ``self``."""
        payload = dict(raw_payload)
        all_ids = [log_id for ids in payload.values() for log_id in ids]
        # Read with the caller's rights (the run renders as superuser): the
        # ids come from the context, which any caller can set.
        all_logs = self.env["installment.reminder.log"].browse(all_ids)
        mine = all_logs.browse(
            [log_id for partner in self for log_id in payload.get(partner.id, ())]
        ).with_prefetch(all_ids)
        extra_entries = {}
        if extra:
            skip = {("installment.plan.line", line.id) for line in mine.plan_line_id}
            skip |= {("account.move", move.id) for move in mine.invoice_id}
            extra_entries = self._installment_reminder_extra_entries(extra, skip)
        labels = mine._reminder_labels()
        formatters = {}
        result = {}
        for partner in self:
            logs = (
                all_logs.browse(payload.get(partner.id, ()))
                .with_prefetch(all_ids)
                .filtered(lambda log, partner=partner: log.partner_id == partner)
            )
            lang = partner.lang or self.env.lang
            if lang not in formatters:
                formatters[lang] = ReminderFormatter(self.env, lang)
            fmt = formatters[lang]
            items, totals = [], {}
            # (label, due date, amount, currency, as of)
            entries = [
                (
                    labels[log.id],
                    log.due_date,
                    log.amount_residual,
                    log.currency_id,
                    # As of the day the reminder was sent (the run's date, which
                    # a catch-up run sets in the past), not of the rendering.
                    log.date,
                )
                for log in logs.sorted(lambda log: (log.due_date, log.id))
            ] + extra_entries.get(partner.id, [])
            entries.sort(key=lambda entry: entry[1])
            for label, due_date, amount, currency, as_of in entries:
                days = (as_of - due_date).days
                if days > 0:
                    status = self.env._("%s day(s) overdue", days)
                elif days == 0:
                    status = self.env._("due today")
                else:
                    status = self.env._("due in %s day(s)", -days)
                items.append(
                    {
                        "label": label,
                        "due_date": fmt.date(due_date),
                        "amount": fmt.amount(amount, currency),
                        "status": status,
                        "overdue": days > 0,
                    }
                )
                totals[currency] = totals.get(currency, 0.0) + amount
            result[partner.id] = {
                "items": items,
                "totals": [
                    format_amount(self.env, amount, currency, lang)
                    for currency, amount in totals.items()
                ],
                "company": logs.company_id[:1] or self.env.company,
            }
        return result
