"""Utilisation statistics: pure numpy functions over state-change histories.

Load a :class:`~collector.stats.history.History` (``load.load_history``), then
call :func:`utilisation.utilisation`, :func:`heatmap.heatmap`,
:func:`forecast.forecast`, :func:`sessions.sessions` / :func:`sessions.daily_peaks`
or :func:`doors.door_traffic`.  See docs/statistics.md.
"""
