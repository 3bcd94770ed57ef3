import logging

from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

CRON_BATCH = 500


class CreditGrant(models.Model):
    """The daily run of the grant ledger: grants past their expiry date are
    marked expired (their unused units are the breakage), and customers are
    told once per grant entering the expiry notice window."""

    _inherit = "credit.grant"

    @api.model
    def _cron_expire_and_notify(self, batch_size=CRON_BATCH):
        """Expire grants past their expiry date, then send one "credits
        expiring" email per grant entering the notice window. Both steps work by
        batches and commit in between; running it twice does nothing more.
        Each batch runs in a savepoint: a customer whose item fails is skipped
        (noted in its chatter, processed again by the next run), the others go
        on, and the action ends as failed when one was skipped."""
        today = fields.Date.context_today(self)
        expired, failures = self._expire_grants(today, batch_size)
        notified, notice_failures = self._notify_expiring(today, batch_size)
        _logger.info("credit grants: %s expired, %s notified", expired, notified)
        self.env["installment.batch.guard"]._raise_if_skipped(
            failures + notice_failures,
            _("Credit expiry and notices"),
            done=expired + notified,
        )

    def _expire_grants(self, today, batch_size):
        """:return: (number of grants expired, failures)"""
        guard = self.env["installment.batch.guard"]
        done = 0
        failures = []
        skipped_ids = []  # grants of skipped customers: not retried in this run
        while True:
            self.flush_model()
            ids = [
                row[0]
                for row in self.env.execute_query(
                    SQL(
                        """
                    SELECT id FROM credit_grant
                     WHERE state = 'active' AND date_expiry <= %(today)s
                       AND id != ALL(%(skipped)s)
                  ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED
                        """,
                        today=today,
                        skipped=skipped_ids,
                        limit=batch_size,
                    )
                )
            ]
            if not ids:
                break
            grants = self.browse(ids)

            def expire(partners, grants=grants):
                todo = grants.filtered(lambda grant: grant.partner_id in partners)
                self.env.execute_query(
                    SQL(
                        "UPDATE credit_grant SET date_expired = %s WHERE id = ANY(%s)",
                        today,
                        todo.ids,
                    )
                )
                todo.invalidate_recordset(["date_expired"])
                todo.modified(["date_expired"])
                todo.flush_recordset()

            batch_failures = guard._run_isolated(
                grants.partner_id, expire, _("Credit expiry")
            )
            failures += batch_failures
            skipped = self.env["res.partner"].union(
                *(partner for partner, _error in batch_failures)
            )
            batch_skipped = grants.filtered(lambda g, s=skipped: g.partner_id in s)
            skipped_ids += batch_skipped.ids
            done += len(ids) - len(batch_skipped)
            remaining = self.search_count(
                [
                    ("state", "=", "active"),
                    ("date_expiry", "<=", today),
                    ("id", "not in", skipped_ids),
                ]
            )
            self.env["ir.cron"]._notify_progress(done=len(ids), remaining=remaining)
            if self.env["account.move"]._can_commit():
                self.env.cr.commit()  # pylint: disable=invalid-commit
            if len(ids) < batch_size:
                break
        return done, failures

    def _notify_expiring(self, today, batch_size):
        """:return: (number of notices queued, failures)"""
        template = self.env.ref(
            "installment_credit.credit_grant_mail_template_expiring",
            raise_if_not_found=False,
        )
        if not template:
            return 0, []
        guard = self.env["installment.batch.guard"]
        done = 0
        failures = []
        skipped_ids = []
        companies = self.env["res.company"].search(
            [("credit_expiry_notice_days", ">", 0)]
        )
        for company in companies:
            limit_date = today + relativedelta(days=company.credit_expiry_notice_days)
            domain = [
                ("company_id", "=", company.id),
                ("state", "=", "active"),
                ("expiry_notified", "=", False),
                ("date_expiry", ">", today),
                ("date_expiry", "<=", limit_date),
                ("partner_id.email", "!=", False),
            ]
            while True:
                todo_domain = domain + [("id", "not in", skipped_ids)]
                grants = self.search(todo_domain, limit=batch_size, order="id")
                if not grants:
                    break

                def notify(partners, grants=grants, company=company):
                    todo = grants.filtered(lambda grant: grant.partner_id in partners)
                    for grant in todo:
                        template.with_company(company).send_mail(grant.id)
                    todo.write({"expiry_notified": True})

                failures += guard._run_isolated(
                    grants.partner_id, notify, _("Credit expiry notice")
                )
                # the savepoint of a skipped customer rolled its flag back
                skipped_ids += grants.filtered(lambda g: not g.expiry_notified).ids
                done += len(grants.filtered("expiry_notified"))
                self.env["ir.cron"]._notify_progress(
                    done=len(grants), remaining=self.search_count(todo_domain)
                )
                if self.env["account.move"]._can_commit():
                    self.env.cr.commit()  # pylint: disable=invalid-commit
        return done, failures
