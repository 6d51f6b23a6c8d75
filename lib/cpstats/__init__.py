"""cpstats: child protection statistics for English local authorities.

Readers turn published and child-level sources into one tidy facts table
(:mod:`cpstats.facts`); measures, statistics and notebooks build on it.
"""

__version__ = "0.1.0"
