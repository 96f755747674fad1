"""Networks of the workbench: configurations, builders, training and saving."""
