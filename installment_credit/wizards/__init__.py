from . import credit_limit_override
from . import prepaid_balance_topup
from . import prepaid_balance_withdraw
