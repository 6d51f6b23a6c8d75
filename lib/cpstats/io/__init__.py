"""Readers: each turns one published or local source, as published, into facts.

All format knowledge (markers, BOMs, column names per release, LA code changes)
lives in these modules; nothing downstream knows which file a figure came from
except through the facts ``source`` column.
"""
