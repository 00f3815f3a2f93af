"""Listings that stay true: checks, reminders and residents' problem reports. No Flask import."""
