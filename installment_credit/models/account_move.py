"""Posting orchestration of the add-on's capabilities on ``account.move``.

Each capability keeps its own logic in its own file (``account_move_<capability>.py``);
this file only states the order in which they act on a document's lifecycle.
"""

from odoo import models

# Context key: a manager's override of the credit limit (billing). Only
# ``action_post_override_limit`` sets it, to an object no RPC context can carry.
OVERRIDE_LIMIT_KEY = "installment_credit_override_limit"
# Context key: do not create automatic top-up invoices after posting (billing).
NO_AUTO_TOPUP_KEY = "installment_credit_no_auto_topup"


class AccountMove(models.Model):
    _inherit = "account.move"

    def _post(self, soft=True):
        """The add-on's one posting hook, in this order:

        1. checks, before anything is written: credit limits and prepaid
           balances (billing), credit packages sold, payment-term schedules;
           the prepaid customers of journal entries (payments, reversals,
           entries typed by hand) locked and their balances read;
        2. Odoo's posting, then those entries refused if they brought a
           prepaid balance below minus the customer's credit limit (as
           un-posting one is);
        3. installment plans of invoices whose payment term has a scheme;
        4. credit grants of the packages sold (and units taken back by credit
           notes);
        5. prepaid settlement, after the plan exists: it counts as a payment
           and fills the first installments.
        """
        self._billing_check_limits(soft=soft)
        self._credit_check_packages()
        scheduled = self._installment_check_term_schedules()
        entries = self.filtered(lambda move: move.move_type == "entry")
        balances = entries._billing_lock_balances(posted_only=False)
        posted = super()._post(soft=soft)
        entries._billing_check_balances(balances)
        (scheduled & posted)._installment_plans_from_terms()
        posted._credit_after_post()
        posted._billing_after_post()
        return posted

    def button_draft(self):
        # Prepaid customers are locked first, as for settlement and withdrawal:
        # un-posting a payment, top-up or settlement may lower their balance.
        balances = self._billing_lock_balances()
        # Refused when sold credits were already consumed; nothing written then.
        self._credit_release_on_draft()
        # A plan overlays a posted invoice: back to draft, the plan is history.
        self._installment_cancel_plans()
        result = super().button_draft()
        self._billing_check_balances(balances)
        return result

    def button_cancel(self):
        self._installment_cancel_plans()
        return super().button_cancel()
