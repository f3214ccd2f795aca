"""Reports: periods and figures, their definitions, and the daily roll-up."""
