"""Stages 5 and 6, delivering: owners' and recipients' emails, reminders, the run's summary."""
