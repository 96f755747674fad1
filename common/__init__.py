"""Shared pieces of the workbench: data, run log, plots, prompts and terminal output."""
