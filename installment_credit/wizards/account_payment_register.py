from odoo import models


class AccountPaymentRegister(models.TransientModel):
    _inherit = "account.payment.register"

    def _get_total_amounts_to_pay(self, batch_results):
        """For one invoice with an installment plan, propose what the plan says
        is due: the late + due-today installments, else the next one."""
        values = super()._get_total_amounts_to_pay(batch_results)
        lines = self.env["account.move.line"]
        for batch in batch_results:
            lines |= batch["lines"]
        move = lines.move_id
        plan = move.installment_plan_id if len(move) == 1 else False
        if not plan or plan.state != "active":
            return values
        proposal = plan._get_payment_proposal(self.payment_date)
        if plan.currency_id.is_zero(proposal["amount"]):
            return values
        amount = plan.currency_id._convert(
            proposal["amount"], self.currency_id, self.company_id, self.payment_date
        )
        values.update(
            amount_by_default=amount,
            amount_for_difference=amount,
            installment_mode=proposal["mode"],
            lines=lines,
        )
        return values
