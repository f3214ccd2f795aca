"""Phone hours: calendar, schedule, timeline, status, working days and deadlines."""
