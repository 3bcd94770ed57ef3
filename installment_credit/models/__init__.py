from . import res_company
from . import res_config_settings
from . import installment_plan
from . import installment_plan_line
from . import account_move
from . import res_partner
from . import installment_reminder_rule
from . import installment_reminder_log
