"""cpstats: child protection statistics for English local authorities.

Readers turn published and child-level sources into one tidy facts table
(:mod:`cpstats.facts`); themes compute findings from it and notebooks render them.
The public API for deep dives is :class:`cpstats.Study` (``docs/api.md``).
"""

from cpstats._version import __version__

__all__ = ["Study", "__version__"]


def __getattr__(name: str) -> object:
    # Lazy, so `cpstats --help` and the readers do not pay for pandas-heavy imports.
    if name == "Study":
        from cpstats.study import Study

        return Study
    raise AttributeError(f"module 'cpstats' has no attribute {name!r}")
