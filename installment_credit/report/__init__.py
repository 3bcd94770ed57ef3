from . import installment_report_aging
from . import credit_report
from . import credit_revenue_report
