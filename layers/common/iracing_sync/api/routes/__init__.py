"""The HTTP API's routes by resource; importing a module registers its routes on ``api.resolver.app``."""
