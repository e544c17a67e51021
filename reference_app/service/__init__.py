"""The posts service: the one facade routes depend on, in either mode."""
