"""Where the shared sample lead sheets live: `../shared/data` beside the repository."""

from pathlib import Path

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def resident_id(region: str = "440305", birth: str = "19900307", sequence: str = "123") -> str:
    """A well-formed ID; the check character follows ISO 7064 MOD 11-2 from its definition."""
    first17 = region + birth + sequence
    total = sum(int(digit) * pow(2, 17 - position, 11) for position, digit in enumerate(first17))
    check = (12 - total % 11) % 11
    return first17 + ("X" if check == 10 else str(check))
