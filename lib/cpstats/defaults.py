"""The suite's few fixed settings, each defined once.

The embedded default run (Buckinghamshire, year ending 31 March 2017), England's code and the
small-number rule every published output follows.
"""

from __future__ import annotations

#: The embedded default run: ``cpstats report`` with no options.
DEFAULT_LA = "825"
DEFAULT_YEAR = 2017
#: England's GSS code, as the facts name it.
ENGLAND_CODE = "E92000001"
ENGLAND_NAME = "England"
#: Counts from 1 to this number derived from child-level records are suppressed (shown as ``c``).
SUPPRESS_MAX = 5
