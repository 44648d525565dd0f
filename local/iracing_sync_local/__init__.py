"""Local development stack for iracing-sync: CLI, DynamoDB Local, fake iRacing server, Step Functions runner.

Not shipped to Lambda (the layer holds only ``iracing_sync``).
"""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLES_DIR = REPO_ROOT / "data" / "iracing-samples"
# Downloaded tools (the DynamoDB Local jar) stay in the checkout, wherever its data goes.
TOOLS_DIR = REPO_ROOT / ".local" / "tools"
# The local stack's data: DynamoDB files, the raw archive, the fake iRacing's tokens. IRACING_SYNC_LOCAL_DIR
# moves it (the tests run the CLI against a temporary one); by default it is the checkout's .local.
LOCAL_DIR = Path(os.environ.get("IRACING_SYNC_LOCAL_DIR") or REPO_ROOT / ".local").resolve()
