"""What a forecast of children on plans means for conference chairs."""

from __future__ import annotations

import pandas as pd


def chair_capacity(forecast: pd.DataFrame, fte: float, target: float) -> pd.DataFrame:
    """What a forecast of children on plans means for conference chairs.

    ``fte`` and ``target`` are the LA's own service figures (its report, or a ``--service``
    settings file): there is no default, since they differ from one council to the next.

    Parameters
    ----------
    forecast
        Rows with ``point`` and interval bounds (children on plans).
    fte
        Full-time-equivalent chairs in post.
    target
        Children per full-time chair the service aims for.

    Returns
    -------
    pandas.DataFrame
        ``forecast`` plus ``per_fte`` (children per FTE chair at the point forecast),
        ``per_fte_lower_80``/``per_fte_upper_80``, ``fte_needed`` (FTE to meet the target at
        the point), ``fte_needed_upper_80`` (to meet it at the upper 80% bound) and
        ``fte_gap`` (``fte_needed`` minus ``fte``; positive = more chairs needed).
    """
    if fte <= 0 or target <= 0:
        raise ValueError("fte and target must be positive")
    return forecast.assign(
        per_fte=forecast["point"] / fte,
        per_fte_lower_80=forecast["lower_80"] / fte,
        per_fte_upper_80=forecast["upper_80"] / fte,
        fte_needed=forecast["point"] / target,
        fte_needed_upper_80=forecast["upper_80"] / target,
        fte_gap=forecast["point"] / target - fte,
    )
