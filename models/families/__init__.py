"""Model families, one module each, behind one interface (`base.py`)."""
