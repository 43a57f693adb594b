"""Observe Glance, diff against the desired catalog, plan, and apply."""
