"""Pure business rules: standard library only (numpy/scipy allowed for model fitting)."""
