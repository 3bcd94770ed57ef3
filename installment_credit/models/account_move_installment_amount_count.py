from odoo import models
from odoo.exceptions import UserError

from ..tools import schedule

REMAINDER_MODES = ("last",)


class AccountMove(models.Model):
    """Plans made with both an installment amount and a number of
    installments: used as given when they add up to what is due, otherwise
    only when the caller says the last installment takes the difference."""

    _inherit = "account.move"

    def _installment_amount_and_count(self, count, installment_amount, remainder):
        """The amounts of ``count`` installments of ``installment_amount``.

        :param remainder: ``'last'`` to let the last installment take what
            ``count × installment_amount`` differs from the amount due;
            otherwise that difference is refused
        :raise UserError: naming the difference and the two ways out
        """
        self.ensure_one()
        env, currency = self.env, self.currency_id
        if remainder not in (None, False, *REMAINDER_MODES):
            raise UserError(
                env._(
                    "Unknown remainder %(remainder)r: use 'last' (the last "
                    "installment takes the difference) or leave it empty.",
                    remainder=remainder,
                )
            )
        total = self.amount_residual
        parts, difference = self._installment_engine(
            schedule.split_count_amount,
            total,
            count,
            installment_amount,
            currency.round,
        )
        if currency.is_zero(difference):
            return parts
        values = {
            "count": count,
            "amount": currency.format(currency.round(installment_amount)),
            "scheduled": currency.format(currency.round(installment_amount * count)),
            "due": currency.format(total),
            "invoice": self.name,
            "difference": currency.format(abs(difference)),
            "last": currency.format(parts[-1]),
        }
        if currency.compare_amounts(parts[-1], 0) <= 0:
            raise UserError(
                env._(
                    "%(count)s installments of %(amount)s (%(scheduled)s) are "
                    "%(difference)s more than what is due on %(invoice)s "
                    "(%(due)s), more than the last installment could give back. "
                    "Lower the amount or the number of installments.",
                    **values,
                )
            )
        if remainder != "last":
            message = (
                env._(
                    "%(count)s installments of %(amount)s (%(scheduled)s) leave "
                    "%(difference)s of what is due on %(invoice)s (%(due)s) "
                    "unscheduled. Correct the amount or the number of "
                    "installments, or let the last installment take the "
                    "difference (it would be %(last)s; remainder='last').",
                    **values,
                )
                if difference > 0
                else env._(
                    "%(count)s installments of %(amount)s (%(scheduled)s) are "
                    "%(difference)s more than what is due on %(invoice)s "
                    "(%(due)s). Correct the amount or the number of "
                    "installments, or let the last installment take the "
                    "difference (it would be %(last)s; remainder='last').",
                    **values,
                )
            )
            raise UserError(message)
        return parts
