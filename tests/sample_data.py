"""Where the shared sample lead sheets live: `../shared/data` beside the repository."""

from pathlib import Path

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
