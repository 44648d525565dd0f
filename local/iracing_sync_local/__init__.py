"""Local development stack for iracing-sync: CLI, DynamoDB Local, fake iRacing server, Step Functions runner.

Not shipped to Lambda (the layer holds only ``iracing_sync``).
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLES_DIR = REPO_ROOT / "data" / "iracing-samples"
LOCAL_DIR = REPO_ROOT / ".local"
