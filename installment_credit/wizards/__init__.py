from . import installment_plan_create
from . import installment_payment_register
from . import account_payment_register
from . import credit_limit_override
from . import prepaid_balance_topup
from . import prepaid_balance_withdraw
from . import installment_report_aging_open
