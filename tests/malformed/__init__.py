"""Generated corpus of malformed OU-ISIR and McGill-like files (no checked-in blobs)."""

from malformed.corpus import Case, all_cases, mcgill_base, ouisir_base

__all__ = ["Case", "all_cases", "mcgill_base", "ouisir_base"]
