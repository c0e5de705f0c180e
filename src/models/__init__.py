"""Lightning modules, their data modules, and the one training path (`fit.py`)."""
