from . import installment_plan_create
from . import installment_payment_register
from . import account_payment_register
from . import installment_report_aging_open
