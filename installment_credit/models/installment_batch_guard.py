import logging
import sys

import psycopg2

from odoo import _, api, models, modules
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)


class InstallmentBatchGuard(models.AbstractModel):
    """One failing customer never stops a scheduled action.

    The reminder run, the auto top-up run and the credit expiry/notice run
    process a batch of customers inside a savepoint; when the batch fails,
    each of its customers is retried in its own savepoint, so only the
    customers whose item fails are skipped. Each skip is logged in the server
    log and in the customer's chatter; at the end of the run
    :meth:`_raise_if_skipped` makes the scheduled action end as failed
    (``ir.cron`` counts the failure) without rolling back what succeeded.
    """

    _name = "installment.batch.guard"
    _description = "Scheduled actions: skip a failing customer, report it"

    @api.model
    def _auto_commit(self):
        """Commit between batches only when run by the scheduler."""
        return bool(self.env.context.get("cron_id")) and not (
            modules.module.current_test
        )

    @api.model
    def _run_isolated(self, partners, func, what):
        """Run ``func(partners)``; if it fails, run ``func(partner)`` for
        each partner, each in its own savepoint, skipping those that fail.

        ``partners`` are the commercial partners of the batch (the skipped
        ones are told in their chatter). Concurrency errors are not a bad
        record: they propagate so that the scheduler retries the job.

        :param what: what the run does, for the failure message
            ("Payment reminder")
        :return: the failures, a list of ``(partner, error)``
        """
        try:
            with self.env.cr.savepoint():
                func(partners)
            return []
        except psycopg2.OperationalError:
            raise
        except Exception:  # noqa: BLE001  # pylint: disable=broad-except
            if len(partners) <= 1:
                return self._record_failures(partners, what)
        failures = []
        for partner in partners:
            try:
                with self.env.cr.savepoint():
                    func(partner)
            except psycopg2.OperationalError:
                raise
            except Exception:  # noqa: BLE001  # pylint: disable=broad-except
                failures += self._record_failures(partner, what)
        return failures

    def _record_failures(self, partners, what):
        """Log the current exception and note it on each customer's chatter
        (called from an ``except`` block, after the savepoint rolled back)."""
        error = self._error_text()
        failures = []
        for partner in partners:
            _logger.exception(
                "%s skipped for customer %s (id %s)", what, partner.name, partner.id
            )
            partner.sudo()._message_log(
                body=_(
                    "%(what)s skipped by the scheduled action: %(error)s. Fix the "
                    "cause (email template, accounts, configuration); the next run "
                    "processes this customer again.",
                    what=what,
                    error=error,
                )
            )
            failures.append((partner, error))
        return failures

    @staticmethod
    def _error_text():
        error = sys.exc_info()[1]
        if isinstance(error, UserError):
            return error.args[0]
        return f"{type(error).__name__}: {error}"

    @api.model
    def _raise_if_skipped(self, failures, what, done=0):
        """End the scheduled action as failed when a customer was skipped.

        Only when run by the scheduler (``cron_id`` in the context): what
        succeeded is committed first, and the progress is reported as
        complete so that ``ir.cron`` counts a failure instead of re-running
        the job at once (it would meet the same bad record). Outside the
        scheduler the failures are only logged and noted in the chatter.
        """
        if not failures or not self.env.context.get("cron_id"):
            return
        self.env["ir.cron"]._notify_progress(done=done, remaining=0)
        if self._auto_commit():
            self.env.cr.commit()  # pylint: disable=invalid-commit
        raise UserError(
            _(
                "%(what)s: %(count)s customer(s) skipped, the others were "
                "processed. See the chatter of: %(partners)s.",
                what=what,
                count=len(failures),
                partners=", ".join(
                    partner.display_name for partner, _error in failures
                ),
            )
        )
