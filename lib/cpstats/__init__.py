"""cpstats: child protection statistics for English local authorities.

Readers turn published and child-level sources into one tidy facts table
(:mod:`cpstats.facts`); themes compute findings from it and notebooks render them.
The public API for deep dives is :class:`cpstats.Study` (``docs/api.md``).
"""

__version__ = "0.1.0"
__all__ = ["Study"]


def __getattr__(name: str) -> object:
    # Lazy, so `cpstats --help` and the readers do not pay for pandas-heavy imports.
    if name == "Study":
        from cpstats.study import Study

        return Study
    raise AttributeError(f"module 'cpstats' has no attribute {name!r}")
