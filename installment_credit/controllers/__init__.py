from . import api_common
from . import api_credits
from . import api_installments
from . import portal
from . import portal_credits
