from . import credit_type
from . import credit_package
from . import credit_grant
from . import credit_consumption
from . import res_company
from . import res_config_settings
from . import res_partner
from . import account_move
