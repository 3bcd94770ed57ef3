from . import installment_report_aging
from . import credit_report
