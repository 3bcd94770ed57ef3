from . import credit_consumption_register
from . import credit_package_sell
