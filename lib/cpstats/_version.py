"""cpstats' version: a module of its own, so code that keys on it imports nothing else."""

__version__ = "0.1.0"
