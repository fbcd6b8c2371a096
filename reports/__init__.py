"""Reports: aggregation, trade-off plots, HTML/Markdown reports and the regression gate."""
