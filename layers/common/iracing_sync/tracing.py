"""The X-Ray Tracer of the sync functions (configured by POWERTOOLS_* env).

A module of its own: creating it loads the X-Ray SDK and patches botocore, which the slots API does without.
"""

from aws_lambda_powertools import Tracer

tracer = Tracer(service="iracing-sync")
