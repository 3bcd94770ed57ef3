from . import schedule
