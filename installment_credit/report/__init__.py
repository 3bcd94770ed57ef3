from . import credit_report
