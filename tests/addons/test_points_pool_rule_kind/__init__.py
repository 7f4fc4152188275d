from . import kind, models
