"""Statistics on top of the facts table: disproportionality, correlation, forecasting."""
