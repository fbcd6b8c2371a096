"""Reports: aggregation, trade-off plots, HTML/Markdown reports and the regression gate.

Modules (import them directly; this package imports nothing so that ``import accbench.reports`` is cheap):

- :mod:`~accbench.reports.load`: read a run folder (results table, failures, manifest); the schema and the
  readers are :mod:`accbench.results`'s, re-exported there.
- :mod:`~accbench.reports.aggregate`: mean and seeded bootstrap interval over songs per model, config, metric.
- :mod:`~accbench.reports.plots`: metric vs t_f / k, (t_f, k) heatmaps, latency-budget frontier, timing plots.
- :mod:`~accbench.reports.timeline`: the timeline figure of one simulation from its event log.
- :mod:`~accbench.reports.html`, :mod:`~accbench.reports.markdown`, :mod:`~accbench.reports.players`:
  the self-contained HTML page, the Markdown summary and the audio players.
- :mod:`~accbench.reports.build`: :func:`~accbench.reports.build.build_report` writes all of it.
- :mod:`~accbench.reports.baseline`, :mod:`~accbench.reports.gate`: baseline files and the regression gate.
"""
