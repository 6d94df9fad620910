"""Services: the only code that writes orders, FRs and what sources send back about them."""
