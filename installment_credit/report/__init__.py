from . import installment_report_aging
from . import installment_report_aging_stored
from . import installment_report_aging_grouped
from . import credit_report
from . import credit_revenue_report
