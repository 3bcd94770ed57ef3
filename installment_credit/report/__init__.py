from . import installment_report_aging
